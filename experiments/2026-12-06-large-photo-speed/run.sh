#!/usr/bin/env bash
# RULE.md's val comparison: the code before (bde44fb, a git worktree) and after, each setting in its
# own process, MTCNN (the peer) with the code after, one after another on an otherwise idle machine.
#   bash experiments/2026-12-06-large-photo-speed/run.sh val            # before, then after (locate_many)
#   bash experiments/2026-12-06-large-photo-speed/run.sh val after      # after only, with MTCNN
#   bash experiments/2026-12-06-large-photo-speed/run.sh val predict    # Predictor.predict, before and after
set -euo pipefail
part=${1:-val}
which=${2:-both}
here=experiments/2026-12-06-large-photo-speed
base=${BASE_TREE:-/tmp/base-bde44fb}
root=$(pwd)
py=$root/.venv/bin/python
export OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
[ "$which" = after ] || [ -d "$base" ] || git worktree add -f "$base" bde44fb
if [ "$which" = predict ]; then  # this bench script on either package (PYTHONPATH=. picks the worktree's)
  (cd "$base" && PYTHONPATH=. "$py" "$root/benchmarks/bench_large_photo.py" --part "$part" --n 20 --ratios none \
     --call predict --work "$root/runs/large-photo/photos" --out "$root/$here/$part-predict-before")
  PYTHONPATH=. "$py" benchmarks/bench_large_photo.py --part "$part" --n 20 --ratios none --call predict \
     --out "$here/$part-predict-after"
  exit 0
fi
if [ "$which" != after ]; then
  (cd "$base" && PYTHONPATH=. "$py" benchmarks/bench_large_photo.py --part "$part" --n 20 --ratios none,0.5 \
     --work "$root/runs/large-photo/photos" --out "$root/$here/$part-before")
fi
PYTHONPATH=. "$py" benchmarks/bench_large_photo.py --part "$part" --n 20 --ratios none,0.5,mtcnn --out "$here/$part-after"
