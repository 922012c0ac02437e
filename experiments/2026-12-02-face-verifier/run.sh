#!/usr/bin/env bash
# The face-verifier study (README.md), from the repository root. Tune: collect, three rounds of
# choice; the shipped head and bundle; val once, the bundle before beside it in the same scripts.
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-02-face-verifier
R=runs/face-verifier
PY=${PYTHON:-.venv/bin/python}
if [ "${1:-val}" = tune ]; then
  $PY $E/collect.py --part tune --aligned 1500 --threshold=-1e9 --out $R/tune.npz
  $PY $E/choose.py $R/tune.npz --out $E/round1
  $PY $E/choose.py $R/tune.npz --bypass --out $E/round2
  $PY $E/rescue.py $R/tune.npz --out $E/round3
  $PY $E/fit_lists.py --out $R
  $PY -m lnet_anet.cli.fit_face_head --faces $R/faces-fit.txt --face-free $R/free-fit.txt --c 1.0 \
      --out $R/face_head.safetensors   # copied to lnet_anet/assets/face_head.safetensors
  cp lnet_anet/assets/default.lnetanet $R/before.lnetanet
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/before.lnetanet --lnet-input '{"rescue_faces": [0.0, 0.7]}' \
      --note 'face rescue (experiments/2026-12-02-face-verifier, round 3)' --out $R/rescue.lnetanet
  exit 0
fi
$PY benchmarks/bench_end_to_end.py --part val --limit 4000 --stability 0 --probe-train 0 --framings 0 \
    --bundle before=$R/before.lnetanet rescue=$R/rescue.lnetanet --out $R/val-end-to-end
OMP_NUM_THREADS=1 $PY benchmarks/bench_detection.py --part val --face-free --threads 1 \
    --detectors lnet_anet_shipped,lnet_anet_localize,baseline_localize --bundle $R/rescue.lnetanet \
    --baseline $R/before.lnetanet --work $R/wider-val --out $R/wider-val/out
