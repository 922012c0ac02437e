#!/usr/bin/env bash
# A lone face that leaves no room skips the zoom-in reading (RULE.md).
#   bash experiments/2026-12-07-lone-zoom-room/run.sh tune      # round 1: shipped and s 0.5 / 0.6 / 0.7 on the WIDER choose half (~25 min)
#   bash experiments/2026-12-07-lone-zoom-room/run.sh lines S [DIR]  # T1-T3 for the chosen s into DIR (default tune; round 2: tune2) (~15 min)
#   bash experiments/2026-12-07-lone-zoom-room/run.sh val S     # V1-V5, once (~30 min)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
E=experiments/2026-12-07-lone-zoom-room
R=runs/lone-zoom-room
PY=${PYTHON:-.venv/bin/python}
SHIPPED=${SHIPPED:-lnet_anet/assets/default.lnetanet}
PORTRAITS=experiments/2026-12-06-small-lone-face-zoom/portraits.py
mkdir -p $R
build() {  # build S OUT
  $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --lnet-input "{\"zoom_in_lone_skip_share\": $1}" \
      --note "a lone face that leaves no room skips the zoom-in (experiments/2026-12-07-lone-zoom-room)" --out $2
}
wider() {  # wider BUNDLE NAME: the choose half and its face-free crops
  $PY benchmarks/bench_detection.py --format csv --labels runs/lnet-wild/choose.csv --part all --face-free \
      --detectors lnet_anet_shipped --bundle $1 --threads 2 --work $R/wider-tune-$2 --out $E/tune/wider-$2
}
case "${1:-}" in
tune)
  [ -f runs/lnet-wild/choose.csv ] || $PY experiments/2026-12-02-lnet-wild/wild.py labels
  wider $SHIPPED shipped
  for s in 0.5 0.6 0.7; do build $s $R/s$s.lnetanet; wider $R/s$s.lnetanet s$s; done
  ;;
lines)
  s=${2:?the chosen s}; T=$E/${3:-tune}
  [ -f runs/upright/fit-utkface-train.txt ] || $PY experiments/2026-12-01-upright/lists.py --out runs/upright
  [ -f runs/face-grids/tune/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --out runs/face-grids/tune
  $PY $PORTRAITS --part tune --bundle shipped=$SHIPPED candidate=$R/s$s.lnetanet --out $T/portraits.json
  for b in shipped s$s; do
    path=$SHIPPED; [ $b != shipped ] && path=$R/$b.lnetanet
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
        --bundle $path --threads 2 --work $R/grids-tune-$b --out $T/grids-$b
  done
  $PY benchmarks/bench_localize_speed.py --before $SHIPPED --after $R/s$s.lnetanet --calls 30 --out $T/localize-speed.json
  ;;
val)
  s=${2:?the chosen s}
  CAND=$R/val-s$s.lnetanet
  build $s $CAND
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  for b in shipped candidate; do
    path=$SHIPPED; [ $b = candidate ] && path=$CAND
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $path \
        --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        --bundle $path --threads 2 --work $R/grids-val-$b --out $E/val/grids-$b
  done
  $PY $PORTRAITS --part val --bundle shipped=$SHIPPED candidate=$CAND --out $E/val/portraits.json
  $PY benchmarks/bench_end_to_end.py --part val --limit 500 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$SHIPPED candidate=$CAND --out $E/val/e2e
  ;;
*) echo "usage: run.sh tune | lines S | val S" >&2; exit 2 ;;
esac
