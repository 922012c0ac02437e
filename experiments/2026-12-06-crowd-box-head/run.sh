#!/usr/bin/env bash
# Crowd box head (RULE.md, README.md), from the repository root.
#   run.sh sim   -- the simulation from box-head-v2's detections (needs its run.sh tune / val work folders)
#   run.sh val   -- the gated bundle run for real through Predictor on the val data (~5 min on 2 cores)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-06-crowd-box-head
R=runs/crowd-box-head
PY=${PYTHON:-.venv/bin/python}
mkdir -p $R
case "${1:-}" in
sim)
  $PY $E/sim.py --part tune --out $E/sim-tune.json
  $PY $E/sim.py --part val --k 2 --out $E/sim-val.json
  ;;
val)
  [ -f $R/crowd2.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet \
      --lnet-input '{"crowd_box_head": 2}' --out $R/crowd2.lnetanet
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $R/crowd2.lnetanet \
      --threads 2 --work $R/wider-val --out $E/val/wider
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
      --bundle $R/crowd2.lnetanet --threads 2 --work $R/grids-val --out $E/val/grids
  ;;
*) echo "usage: run.sh sim|val" >&2; exit 2 ;;
esac
