#!/usr/bin/env bash
# Panoramas read on canvases as long as they are (RULE.md).
#   bash experiments/2026-12-07-wide-canvas/run.sh tune     # round 1: shipped and most 3 / 4 / 6 (~60 min on 2 cores)
#   bash experiments/2026-12-07-wide-canvas/run.sh tune2    # round 2: start 3, most 3 / 4 / 6 (~40 min)
#   bash experiments/2026-12-07-wide-canvas/run.sh val M START  # V1-V4, once (~30 min)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
E=experiments/2026-12-07-wide-canvas
R=runs/wide-canvas
PY=${PYTHON:-.venv/bin/python}
mkdir -p $R
if [ -z "${SHIPPED:-}" ]; then  # the bundle before this change: the embedded one has wide_canvas since session 66
  SHIPPED=$R/before.lnetanet
  [ -f $SHIPPED ] || $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet \
      --lnet-input '{"wide_canvas": null}' --out $SHIPPED
fi
build() {  # build MOST OUT [START]
  $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --lnet-input "{\"wide_canvas\": [${3:-2.0}, $1]}" \
      --note "panoramas read on canvases as long as they are (experiments/2026-12-07-wide-canvas)" --out $2
}
panoramas() {  # panoramas BUNDLE NAME PART [DETECTORS]
  $PY benchmarks/bench_detection.py --format csv --labels $R/$3/faces.csv --detectors ${4:-lnet_anet_shipped} \
      --bundle $1 --threads 2 --work $R/pano-$3-$2 --out $E/${OUT:-$3}/panoramas-$2
}
case "${1:-}" in
tune)
  [ -f runs/lnet-wild/choose.csv ] || $PY experiments/2026-12-02-lnet-wild/wild.py labels
  [ -f $R/tune/faces.csv ] || $PY $E/panoramas.py --part tune --out $R/tune
  for m in 3 4 6; do build $m $R/most$m.lnetanet; done
  for b in shipped most3 most4 most6; do
    path=$SHIPPED; [ $b != shipped ] && path=$R/$b.lnetanet
    panoramas $path $b tune
    $PY benchmarks/bench_detection.py --format csv --labels runs/lnet-wild/choose.csv --part all --face-free \
        --detectors lnet_anet_shipped --bundle $path --threads 2 --work $R/wider-tune-$b --out $E/tune/wider-$b
  done
  ;;
tune2)
  for m in 3 4 6; do build $m $R/start3-most$m.lnetanet 3.0; OUT=tune2 panoramas $R/start3-most$m.lnetanet start3-most$m tune; done
  for m in 3 4; do  # most 6 reads every choose-half photo as most 4 does (none is wider than 4:1)
    $PY benchmarks/bench_detection.py --format csv --labels runs/lnet-wild/choose.csv --part all --face-free \
        --detectors lnet_anet_shipped --bundle $R/start3-most$m.lnetanet --threads 2 --work $R/wider-tune-start3-most$m \
        --out $E/tune2/wider-start3-most$m
  done
  ;;
val)
  m=${2:?the chosen most}
  CAND=$R/val-most$m.lnetanet
  build $m $CAND ${3:?the chosen start}
  [ -f $R/val/faces.csv ] || $PY $E/panoramas.py --part val --out $R/val
  panoramas $SHIPPED shipped val lnet_anet_shipped,mtcnn
  panoramas $CAND candidate val
  for b in shipped candidate; do
    path=$SHIPPED; [ $b = candidate ] && path=$CAND
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $path \
        --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
  done
  ;;
*) echo "usage: run.sh tune | tune2 | val M START" >&2; exit 2 ;;
esac
