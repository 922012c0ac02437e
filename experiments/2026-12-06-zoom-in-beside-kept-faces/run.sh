#!/usr/bin/env bash
# A picture with a refused face read at the zoom-in scale too (issue 14). RULE.md says what is judged.
#   bash experiments/2026-12-06-zoom-in-beside-kept-faces/run.sh tune   # round 1's tune lines (~15 min; the code then
#                                                                       # counted the check's refusals too: git db7333a)
#   bash experiments/2026-12-06-zoom-in-beside-kept-faces/run.sh tune2  # round 2's, the same lines (~15 min)
#   bash experiments/2026-12-06-zoom-in-beside-kept-faces/run.sh val    # once, if tune holds (~40 min)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
E=experiments/2026-12-06-zoom-in-beside-kept-faces
R=runs/zoom-in-beside-kept
PY=${PYTHON:-.venv/bin/python}
SHIPPED=${SHIPPED:-lnet_anet/assets/default.lnetanet}  # the bundle before (val after shipping: the record's copy)
mkdir -p $R
round=${1:?tune, tune2 or val}
case $round in tune|tune2|val) ;; *) echo "usage: run.sh tune|tune2|val" >&2; exit 2 ;; esac
part=${round%2}
CAND=$R/candidate-$round.lnetanet
$PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --lnet-input '{"zoom_in_refused_any": true}' \
    --note "a picture with a refused face read at the zoom-in scales too (experiments/2026-12-06-zoom-in-beside-kept-faces)" \
    --out $CAND
[ -f runs/face-grids/$part/faces.csv ] || $PY benchmarks/make_face_grids.py --part $part --out runs/face-grids/$part
if [ $part = tune ]; then
  [ -f runs/lnet-wild/choose.csv ] || $PY experiments/2026-12-02-lnet-wild/wild.py labels  # the choose half
  wider=(--format csv --labels runs/lnet-wild/choose.csv --part all)
else
  wider=(--part val)
fi
for b in shipped candidate; do
  path=$SHIPPED; [ $b = candidate ] && path=$CAND
  $PY benchmarks/bench_detection.py "${wider[@]}" --face-free --detectors lnet_anet_shipped --bundle $path \
      --threads 2 --work $R/wider-$round-$b --out $E/$round/wider-$b
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/$part/faces.csv --detectors lnet_anet_shipped \
      --bundle $path --threads 2 --work $R/grids-$round-$b --out $E/$round/grids-$b
done
$PY benchmarks/bench_end_to_end.py --part $part --limit 500 --stability 0 --probe-train 0 --framings 0 \
    --bundle shipped=$SHIPPED candidate=$CAND --out $E/$round/e2e
$PY benchmarks/bench_localize_speed.py --before $SHIPPED --after $CAND --calls 30 --out $E/$round/localize-speed.json
