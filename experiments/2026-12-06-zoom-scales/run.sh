#!/usr/bin/env bash
# RULE.md round 1: the embedded bundle and larger zoom-in scales, end to end through Predictor on
# the first 300 WIDER tune photos and their face-free crops (a probe; tune only).
#   bash experiments/2026-12-06-zoom-scales/run.sh probe     (~25 min on 2 cores)
set -euo pipefail
step=${1:?usage: run.sh probe}
export PYTHONPATH=. OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
E=experiments/2026-12-06-zoom-scales
R=runs/zoom-scales
PY=${PYTHON:-.venv/bin/python}
mkdir -p $R
declare -A SCALES=([z23]="[2.0, 3.0]" [z24]="[2.0, 4.0]" [z3]="[3.0]" [z4]="[4.0]")
for n in "${!SCALES[@]}"; do
  [ -f $R/$n.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet \
      --lnet-input "{\"zoom_in_scales\": ${SCALES[$n]}}" --out $R/$n.lnetanet
done
if [ "$step" = probe ]; then
  for n in shipped z23 z24 z3 z4; do
    b=$R/$n.lnetanet; [ $n = shipped ] && b=lnet_anet/assets/default.lnetanet
    $PY benchmarks/bench_detection.py --part tune --limit 300 --face-free --detectors lnet_anet_shipped --bundle $b \
        --threads 2 --work $R/probe-$n --out $E/probe-$n
  done
  for f in $E/probe-*/results.md; do echo "$f: $(grep 'lnet_anet_shipped |' $f)"; done
fi
