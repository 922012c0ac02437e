#!/usr/bin/env bash
# Box steps (RULE.md, README.md), from the repository root.
#   run.sh tune  -- shipped bundle vs crowd_box_steps 2 and 3 on the tune grids and WIDER's tune part (~30 min on 2 cores)
#   run.sh val STEPS -- the chosen setting through Predictor on the val grids and WIDER's val part (~6 min)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-06-box-steps
R=runs/box-steps
PY=${PYTHON:-.venv/bin/python}
mkdir -p $R
bundle() {  # bundle STEPS -> path
  if [ "$1" = 1 ]; then echo lnet_anet/assets/default.lnetanet; return; fi
  [ -f $R/steps$1.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet \
      --lnet-input "{\"crowd_box_steps\": $1}" --out $R/steps$1.lnetanet >&2
  echo $R/steps$1.lnetanet
}
case "${1:-}" in
tune)
  [ -f runs/face-grids/tune/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --out runs/face-grids/tune
  for k in 1 2 3; do
    b=$(bundle $k)
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
        --bundle $b --threads 2 --work $R/grids-tune-$k --out $E/tune/grids-steps$k
    $PY benchmarks/bench_detection.py --part tune --detectors lnet_anet_shipped --bundle $b --threads 2 \
        --work $R/wider-tune-$k --out $E/tune/wider-steps$k
  done
  ;;
val)
  k=${2:?usage: run.sh val STEPS}
  b=$(bundle $k)
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
      --bundle $b --threads 2 --work $R/grids-val-$k --out $E/val/grids-steps$k
  $PY benchmarks/bench_detection.py --part val --detectors lnet_anet_shipped --bundle $b --threads 2 \
      --work $R/wider-val-$k --out $E/val/wider-steps$k
  ;;
*) echo "usage: run.sh tune | val STEPS" >&2; exit 2 ;;
esac
