#!/usr/bin/env bash
# RULE.md: the detail pass at 0.5 before (66fbe02, a git worktree) and after this change, on
#   A: 6000 x 4000 photos with one 100 px face; B: 4032 x 3024 photos with one 250 px face.
#   bash experiments/2026-12-06-detail-levels/run.sh tune|val     (~12 min on 2 cores)
set -euo pipefail
part=${1:?usage: run.sh tune|val}
here=experiments/2026-12-06-detail-levels
base=${BASE_TREE:-/tmp/base-66fbe02}
root=$(pwd)
py=$root/.venv/bin/python
export OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
[ -d "$base" ] || git worktree add -f "$base" 66fbe02
for set in A B; do
  if [ $set = A ]; then size=6000x4000; face=100; else size=4032x3024; face=250; fi
  work=$root/runs/large-photo/photos-$set
  (cd "$base" && PYTHONPATH=. "$py" "$root/benchmarks/bench_large_photo.py" --part "$part" --n 20 --size $size \
     --face $face --ratios none,0.5 --work "$work" --out "$root/$here/$part-$set-before")
  PYTHONPATH=. "$py" benchmarks/bench_large_photo.py --part "$part" --n 20 --size $size --face $face --ratios 0.5 \
     --work "$work" --out "$here/$part-$set-after"
done
