#!/usr/bin/env bash
# --detail 0.5 before and after its scales' canvases were cut from the same copy as without it
# (README.md), on the composed 6000 x 4000 photos of bench_large_photo, tune then val, each code in
# its own process, one after another.
#   bash experiments/2026-12-06-detail-same-pixels/run.sh     (~15 min on 2 cores)
set -euo pipefail
here=experiments/2026-12-06-detail-same-pixels
base=${BASE_TREE:-/tmp/base-f7798ef}
root=$(pwd)
py=$root/.venv/bin/python
export OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
[ -d "$base" ] || git worktree add -f "$base" f7798ef
for part in tune val; do
  (cd "$base" && PYTHONPATH=. "$py" "$root/benchmarks/bench_large_photo.py" --part $part --n 20 --ratios none,0.5 \
     --work "$root/runs/large-photo/photos" --out "$root/$here/$part-before")
  PYTHONPATH=. "$py" benchmarks/bench_large_photo.py --part $part --n 20 --ratios none,0.5 \
     --work runs/large-photo/photos --out "$here/$part-after"
done
