#!/usr/bin/env bash
# Tune grids only: the shipped bundle and three variants of its scale policy / localizer.
#   bash experiments/2026-12-06-grid-misses/variants.sh   (~8 min on 2 cores)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-06-grid-misses
R=runs/grids-diag
PY=${PYTHON:-.venv/bin/python}
[ -f runs/face-grids/tune/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --out runs/face-grids/tune
mkdir -p $R
B=lnet_anet/assets/default.lnetanet
$PY -m lnet_anet.cli.build_bundle --from-bundle $B --lnet-input '{"zoom_in_scales": [2.0, 3.0]}' --out $R/z23.lnetanet
$PY -m lnet_anet.cli.build_bundle --from-bundle $B --lnet-input '{"zoom_in_scales": [2.5]}' --out $R/z25.lnetanet
$PY -m lnet_anet.cli.build_bundle --from-bundle $B --localizer '{"peak_kernel": 3}' --out $R/pk3.lnetanet
for n in shipped z23 z25 pk3; do
  b=$R/$n.lnetanet; [ $n = shipped ] && b=$B
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
      --bundle $b --threads 2 --work $R/tune-$n --out $E/tune-$n
done
$PY $E/misses.py runs/face-grids/tune $R/tune-shipped/detections_lnet_anet_shipped.json > $E/misses.json
