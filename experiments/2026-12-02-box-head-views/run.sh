#!/usr/bin/env bash
# The box head taught to ignore the exposure (RULE.md), from the repository root: tune rounds, the
# refit on the whole tune part, then val once beside the shipped head (and MTCNN, the peer).
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-02-box-head-views
R=runs/box-head-views
PY=${PYTHON:-.venv/bin/python}
L=$(ls ../shared/datasets/wider_face_train/wider_face_split/*_bbx_gt.txt | head -1)
if [ "${1:-val}" = tune ]; then
  [ -f runs/region-head/views.npz ] || $PY experiments/2026-12-02-region-head/region.py collect --fit 1500 --out runs/region-head
  $PY $E/views.py collect --out $R
  $PY $E/views.py choose --out $R              # round 1 -> $R/choose.json
  $PY $E/views.py choose --round 2 --out $R    # round 2 -> $R/choose-round2.json
  git show 6171250:lnet_anet/assets/box_head.safetensors > $R/box_head_before.safetensors   # the head shipped before
  $PY -m lnet_anet.cli.fit_box_head --labels $L --part tune --invariance 1 --out $R/box_head.safetensors
  exit 0
fi
$PY $E/stability_val.py --heads before=$R/box_head_before.safetensors invariant=$R/box_head.safetensors \
    --out $E/stability-val.json
[ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
for h in before invariant; do
  f=$R/box_head.safetensors; [ $h = before ] && f=$R/box_head_before.safetensors
  d=lnet_anet,lnet_anet_shipped; [ $h = invariant ] && d=lnet_anet,lnet_anet_shipped,mtcnn
  $PY benchmarks/bench_detection.py --part val --detectors $d --box-head $f --threads 2 \
      --work $R/wider-$h --out $E/wider-val-$h
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv \
      --detectors lnet_anet,lnet_anet_shipped --box-head $f --threads 2 --work $R/grids-$h --out $E/grids-val-$h
done
