#!/usr/bin/env bash
# The val comparison of RULE.md: the code before (bde44fb, a git worktree) and after, each setting
# in its own process, then MTCNN (the peer), one after another on an otherwise idle machine.
#   bash experiments/2026-12-06-large-photo-speed/run.sh val
set -euo pipefail
part=${1:-val}
here=experiments/2026-12-06-large-photo-speed
base=${BASE_TREE:-/tmp/base-bde44fb}
[ -d "$base" ] || git worktree add -f "$base" bde44fb
py=$(pwd)/.venv/bin/python
export OMP_NUM_THREADS=2
(cd "$base" && PYTHONPATH=. "$py" benchmarks/bench_large_photo.py --part "$part" --n 20 --ratios none,0.5 \
   --work "$OLDPWD/runs/large-photo/photos" --out "$OLDPWD/$here/$part-before")
PYTHONPATH=. "$py" benchmarks/bench_large_photo.py --part "$part" --n 20 --ratios none,0.5,mtcnn --out "$here/$part-after"
