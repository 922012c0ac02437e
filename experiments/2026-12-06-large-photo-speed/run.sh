#!/usr/bin/env bash
# RULE.md's val comparison: the code before (bde44fb, a git worktree) and after, each setting in its
# own process, MTCNN (the peer) with the code after, one after another on an otherwise idle machine.
#   bash experiments/2026-12-06-large-photo-speed/run.sh val          # before, then after
#   bash experiments/2026-12-06-large-photo-speed/run.sh val after    # after only
set -euo pipefail
part=${1:-val}
which=${2:-both}
here=experiments/2026-12-06-large-photo-speed
base=${BASE_TREE:-/tmp/base-bde44fb}
py=$(pwd)/.venv/bin/python
export OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
if [ "$which" != after ]; then
  [ -d "$base" ] || git worktree add -f "$base" bde44fb
  (cd "$base" && PYTHONPATH=. "$py" benchmarks/bench_large_photo.py --part "$part" --n 20 --ratios none,0.5 \
     --work "$OLDPWD/runs/large-photo/photos" --out "$OLDPWD/$here/$part-before")
fi
PYTHONPATH=. "$py" benchmarks/bench_large_photo.py --part "$part" --n 20 --ratios none,0.5,mtcnn --out "$here/$part-after"
