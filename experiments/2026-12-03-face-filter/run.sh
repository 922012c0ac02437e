#!/usr/bin/env bash
# The face filter (RULE.md, README.md), from the repository root.
#   run.sh tune   -- round 1: one pass, the grid, the chosen setting's real run; round 2 (~25 min)
#   run.sh        -- val once (round 1): the bundle before and the filter's, in the same scripts (~15 min)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-03-face-filter
R=runs/face-filter
PY=${PYTHON:-.venv/bin/python}
mkdir -p $R
[ -f $R/before.lnetanet ] || git show 9a55508:lnet_anet/assets/default.lnetanet > $R/before.lnetanet  # session 27's bundle
$PY -m lnet_anet.cli.build_bundle --from-bundle $R/before.lnetanet --lnet-input '{"verify_faces": [2.0, 0.01]}' \
    --note 'verify_faces [2, 0.01] (experiments/2026-12-03-face-filter)' --out $R/verify.lnetanet
if [ "${1:-val}" = tune ]; then
  $PY $E/collect.py --part tune --bundle $R/before.lnetanet --out $R/tune.pkl
  $PY $E/simulate.py $R/tune.pkl --out $E/tune/grid.json
  $PY $E/collect.py --part tune --bundle $R/verify.lnetanet --out $R/real.pkl   # the chosen setting, run for real
  $PY $E/simulate.py $R/real.pkl --only none --out $E/tune/real.json
  # round 2: dark, over-exposed and gray copies; the filter on normally exposed pictures only
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/verify.lnetanet --lnet-input '{"verify_luma": [50, 200]}' \
      --note 'verify_faces on pictures of mean luma 50-200 (experiments/2026-12-03-face-filter, round 2)' \
      --out $R/verify-luma.lnetanet
  $PY $E/photometric.py --part tune --bundle none=$R/before.lnetanet filter=$R/verify.lnetanet \
      luma=$R/verify-luma.lnetanet --out $E/tune/photometric.json
  exit 0
fi
[ "${1:-val}" = val ] || { echo "usage: run.sh [tune|val]" >&2; exit 2; }
$PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
    --bundle before=$R/before.lnetanet verify=$R/verify.lnetanet --out $E/val/e2e
for b in before verify; do
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $R/$b.lnetanet \
      --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
done
[ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
for b in before verify; do
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
      --bundle $R/$b.lnetanet --threads 2 --work $R/grids-$b --out $E/val/grids-$b
done
