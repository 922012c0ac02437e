#!/usr/bin/env bash
# The box head (README.md), from the repository root: tune choice, the shipped head and bundle,
# then val once (WIDER val part with face-free crops, and the CelebA-HQ val grids), the bundle
# before beside it; every detector the full Predictor (the box head needs ANet's feature).
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-02-box-head
R=runs/box-head
PY=${PYTHON:-.venv/bin/python}
L=$(ls ../shared/datasets/wider_face_train/wider_face_split/*_bbx_gt.txt | head -1)
if [ "${1:-val}" = tune ]; then
  $PY $E/choose.py runs/face-verifier/tune.npz --out $E     # needs the face-verifier study's tune.npz
  $PY -m lnet_anet.cli.fit_box_head --labels $L --part tune --out $R/box_head.safetensors   # -> lnet_anet/assets/
  cp lnet_anet/assets/default.lnetanet $R/before.lnetanet
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/before.lnetanet --lnet-input '{"refine_boxes": true}' \
      --note 'box head (experiments/2026-12-02-box-head)' --out $R/refine.lnetanet
  exit 0
fi
[ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
for b in before refine; do
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet,lnet_anet_shipped \
      --bundle $R/$b.lnetanet --threads 2 --work $R/wider-$b --out $R/wider-val-$b
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv \
      --detectors lnet_anet,lnet_anet_shipped --bundle $R/$b.lnetanet --threads 2 --work $R/grids-$b --out $R/grids-val-$b
done
