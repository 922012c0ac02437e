#!/usr/bin/env bash
# A picture left with no face read at the zoom-in scales (issue 14). RULE.md says what is judged.
#   bash experiments/2026-12-06-filter-small-faces/run.sh diag   # the filter's refusals by size (~10 min)
#   bash experiments/2026-12-06-filter-small-faces/run.sh tune   # the rule's tune lines (~40 min)
#   bash experiments/2026-12-06-filter-small-faces/run.sh round2          # round 2's choice: p 0.1 / 0.3 / 0.5 (~25 min)
#   bash experiments/2026-12-06-filter-small-faces/run.sh round2-lines P  # L3-L5 for the chosen p (~15 min)
#   bash experiments/2026-12-06-filter-small-faces/run.sh val P           # once, if tune holds
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
E=experiments/2026-12-06-filter-small-faces
R=runs/filter-small-faces
PY=${PYTHON:-.venv/bin/python}
SHIPPED=lnet_anet/assets/default.lnetanet
CAND=$R/candidate.lnetanet
mkdir -p $R
case "${1:-}" in
diag)
  $PY $E/diag.py --out $E/diag-choose.json
  $PY $E/diag.py --zoom --out $E/diag-choose-zoom.json
  ;;
tune|val)
  part=$1
  if [ $part = val ]; then  # round 2's chosen p
    p=${2:?the chosen p}
    CAND=$R/val-p$p.lnetanet
    $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --lnet-input "{\"zoom_in_refused\": true, \"zoom_in_refused_p\": $p}" \
        --note "a picture left with no face read at the zoom-in scales (experiments/2026-12-06-filter-small-faces)" --out $CAND
  else  # round 1
    $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --lnet-input '{"zoom_in_refused": true}' \
        --note "a picture left with no face read at the zoom-in scales (experiments/2026-12-06-filter-small-faces)" --out $CAND
  fi
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
        --threads 2 --work $R/wider-$part-$b --out $E/$part/wider-$b
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/$part/faces.csv --detectors lnet_anet_shipped \
        --bundle $path --threads 2 --work $R/grids-$part-$b --out $E/$part/grids-$b
  done
  $PY benchmarks/bench_end_to_end.py --part $part --limit 500 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$SHIPPED candidate=$CAND --out $E/$part/e2e
  $PY benchmarks/bench_localize_speed.py --before $SHIPPED --after $CAND --calls 30 --out $E/$part/localize-speed.json
  ;;
round2)
  [ -f runs/lnet-wild/choose.csv ] || $PY experiments/2026-12-02-lnet-wild/wild.py labels
  for p in 0.1 0.3 0.5; do
    $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --lnet-input "{\"zoom_in_refused\": true, \"zoom_in_refused_p\": $p}" \
        --note "round 2 of experiments/2026-12-06-filter-small-faces" --out $R/round2-p$p.lnetanet
    $PY benchmarks/bench_detection.py --format csv --labels runs/lnet-wild/choose.csv --part all --face-free \
        --detectors lnet_anet_shipped --bundle $R/round2-p$p.lnetanet --threads 2 --work $R/wider-round2-p$p \
        --out $E/tune/round2/wider-p$p
  done
  ;;
round2-lines)
  p=${2:?the chosen p}
  B=$R/round2-p$p.lnetanet
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
      --bundle $B --threads 2 --work $R/grids-tune-round2 --out $E/tune/round2/grids-p$p
  $PY benchmarks/bench_end_to_end.py --part tune --limit 500 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$SHIPPED candidate=$B --out $E/tune/round2/e2e
  $PY benchmarks/bench_localize_speed.py --before $SHIPPED --after $B --calls 30 --out $E/tune/round2/localize-speed.json
  ;;
*) echo "usage: run.sh diag|tune|round2|round2-lines P|val P" >&2; exit 2 ;;
esac
