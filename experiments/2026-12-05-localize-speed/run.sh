#!/usr/bin/env bash
# Timing before (91f4d7e) and after (this commit's code), taking turns, nothing else running:
#   git worktree add /tmp/before 91f4d7e && BEFORE=/tmp/before bash experiments/2026-12-05-localize-speed/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=$PWD/experiments/2026-12-05-localize-speed
PY=${PY:-$PWD/.venv/bin/python}
BEFORE=${BEFORE:?a worktree of 91f4d7e}
B=lnet_anet/assets/default.lnetanet
export PYTHONPATH=. OMP_NUM_THREADS=2 LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$PWD/../shared/datasets}
for i in 1 2; do
    for tree in before after; do
        dir=$PWD; [ $tree = before ] && dir=$BEFORE
        (cd "$dir" && $PY $HERE/timing.py --out $HERE/timing/$tree-$i.json > /dev/null)
        # bench_localize_speed compares bundles within one tree: the same bundle twice, MTCNN beside it
        (cd "$dir" && $PY benchmarks/bench_localize_speed.py --before $B --after $B --calls 30 \
            --out $HERE/timing/localize-$tree-$i.json > /dev/null 2>&1)
    done
done
$PY $HERE/summarise.py $HERE/timing > $HERE/timing/summary.md
