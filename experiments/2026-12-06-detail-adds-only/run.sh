#!/usr/bin/env bash
# RULE.md: set C (large_faces.py) and sets A, B (bench_large_photo.py) with the code before this
# change (ecf653e, a git worktree) and after, each setting in its own process.
#   bash experiments/2026-12-06-detail-adds-only/run.sh tune|val before|after     (~8 min each on 2 cores)
set -euo pipefail
part=${1:?usage: run.sh tune|val before|after}
which=${2:?usage: run.sh tune|val before|after}
here=$(pwd)/experiments/2026-12-06-detail-adds-only
root=$(pwd)
py=$root/.venv/bin/python
export OMP_NUM_THREADS=2 PYTHONPATH=.
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
tree=$root
if [ "$which" = before ]; then tree=${BASE_TREE:-/tmp/base-ecf653e}; [ -d "$tree" ] || git worktree add -f "$tree" ecf653e; fi
[ -f runs/detail-adds/C/$part.json ] || $py "$here/large_faces.py" make --part "$part"
cd "$tree"
for setting in none 0.5 0.35; do
  "$py" "$here/large_faces.py" score --part "$part" --setting $setting --work "$root/runs/detail-adds/C" \
    --out "$here/$part-$which${ROUND:+-$ROUND}/C-$setting.json"
done
if [ "$which" = after ]; then  # A and B before: experiments/2026-12-06-detail-confirm (the same code as ecf653e)
  "$py" "$root/benchmarks/bench_large_photo.py" --part "$part" --n 20 --size 6000x4000 --face 100 --ratios none,0.35,0.5 \
    --work "$root/runs/large-photo/photos" --out "$here/$part-after${ROUND:+-$ROUND}/A"
  "$py" "$root/benchmarks/bench_large_photo.py" --part "$part" --n 20 --size 4032x3024 --face 250 --ratios none,0.35,0.5 \
    --work "$root/runs/large-photo/photos-B" --out "$here/$part-after${ROUND:+-$ROUND}/B"
fi
