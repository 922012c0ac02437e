#!/usr/bin/env bash
# Round 2 (RULE.md): the check localizer adds faces (preprocessing.lnet.find_on_check), from the repository root.
#   run.sh fit    -- the check localizer fitted on the fit half of WIDER's tune part (~12 min on 2 cores)
#   run.sh tune   -- the candidate and the embedded bundle on every tune line of RULE.md (~35 min)
#   run.sh val    -- val once, the same lines (only after tune holds every line)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
E=experiments/2026-12-06-every-face-map
R=runs/find-on-check
W=experiments/2026-12-02-lnet-wild
PY=${PYTHON:-.venv/bin/python}
SHIPPED=lnet_anet/assets/default.lnetanet
CAND=$R/candidate.lnetanet
mkdir -p $R
case "${1:-}" in
fit)
  $PY $E/fit_tree.py --out $R/fit-tree  # a WIDER label file of the fit half; its images: a link to the shared copy
  $PY -m lnet_anet.cli.fit_localizer --wider $R/fit-tree --check-map --out $CAND
  ;;
tune|val)
  part=$1
  [ -f $CAND ] || { echo "run.sh fit first" >&2; exit 1; }
  [ -f runs/face-grids/$part/faces.csv ] || $PY benchmarks/make_face_grids.py --part $part --out runs/face-grids/$part
  if [ $part = tune ]; then
    [ -f runs/lnet-wild/choose.csv ] || $PY $W/wild.py labels  # the choose half of WIDER's tune part
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
*) echo "usage: run.sh fit|tune|val" >&2; exit 2 ;;
esac
