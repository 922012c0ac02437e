#!/usr/bin/env bash
# Box steps (RULE.md, README.md), from the repository root.
#   run.sh tune  -- shipped bundle vs crowd_box_steps 2 and 3 on the tune grids and WIDER's tune part (~30 min on 2 cores)
#   run.sh val STEPS -- the chosen setting through Predictor on the val grids and WIDER's val part (~6 min)
#   run.sh tune2 -- round 2: every face by the MLP head (crowd_box_head 1), 3 steps and 1, against the embedded bundle
#   run.sh tune3 -- round 3: small lone faces by the crowd head too (crowd_box_small 0.25, 0.3), against the embedded bundle
#   run.sh val3 F -- round 3's choice on val, the embedded bundle beside it
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
tune2)
  for k in 1 3; do
    [ -f $R/every$k.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet \
        --lnet-input "{\"crowd_box_head\": 1, \"crowd_box_steps\": $k}" --out $R/every$k.lnetanet >&2
  done
  $PY $E/stability.py --part tune --bundles R1=lnet_anet/assets/default.lnetanet E3=$R/every3.lnetanet E1=$R/every1.lnetanet \
      --out $E/tune2/stability.json
  for b in R1=lnet_anet/assets/default.lnetanet E3=$R/every3.lnetanet E1=$R/every1.lnetanet; do
    $PY benchmarks/bench_detection.py --part tune --detectors lnet_anet_shipped --bundle ${b#*=} --threads 2 \
        --work $R/wider-tune2-${b%%=*} --out $E/tune2/wider-${b%%=*}
  done
  ;;
tune3|val3)
  part=${1%3}
  B="R1=lnet_anet/assets/default.lnetanet"
  for f in ${2:-0.25 0.3}; do
    [ -f $R/small$f.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet \
        --lnet-input "{\"crowd_box_small\": $f}" --out $R/small$f.lnetanet >&2
    B="$B S$f=$R/small$f.lnetanet"
  done
  [ -f runs/face-grids/$part/faces.csv ] || $PY benchmarks/make_face_grids.py --part $part --out runs/face-grids/$part
  $PY $E/stability.py --part $part --bundles $B --out $E/$1/stability.json
  for b in $B; do
    $PY benchmarks/bench_detection.py --part $part --detectors lnet_anet_shipped --bundle ${b#*=} --threads 2 \
        --work $R/wider-$1-${b%%=*} --out $E/$1/wider-${b%%=*}
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/$part/faces.csv --detectors lnet_anet_shipped \
        --bundle ${b#*=} --threads 2 --work $R/grids-$1-${b%%=*} --out $E/$1/grids-${b%%=*}
  done
  $PY $E/stability.py --part $part --chips 200 --wider-lone $R/wider-$1-R1/detections_lnet_anet_shipped.json --bundles $B \
      --out $E/$1/stability-wider-lone.json
  ;;
*) echo "usage: run.sh tune | val STEPS | tune2 | tune3 | val3 F" >&2; exit 2 ;;
esac
