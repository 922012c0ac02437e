#!/usr/bin/env bash
# ANet with block 1 trained too, on photometric draws (RULE.md, README.md), from the repository root.
#   run.sh train  -- the candidate ANet (~55 min on 2 cores)
#   run.sh tune   -- its bundle, its refitted heads, and the tune comparison beside the bundle before
#   run.sh val    -- val once, the bundle before beside it in the same scripts
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-03-anet-block1
P=experiments/2026-12-02-anet-photometric   # its compare.py scores both bundles end to end
R=runs/anet-block1
PY=${PYTHON:-.venv/bin/python}
L=$(ls ../shared/datasets/wider_face_train/wider_face_split/*_bbx_gt.txt | head -1)
B=$R/block1.lnetanet
HEADS=$B:$R/box_head.safetensors:$R/face_head.safetensors
mkdir -p $R   # the bundle and heads before (5626478), with which both parts compare
for f in default.lnetanet box_head.safetensors face_head.safetensors; do git show 5626478:lnet_anet/assets/$f > $R/before-$f; done
BEFORE=$R/before-default.lnetanet:$R/before-box_head.safetensors:$R/before-face_head.safetensors
case "${1:-val}" in
train)
  [ -f runs/celeba-hq128-lnet-boxes.csv ] || \
    $PY -m lnet_anet.cli.lnet_boxes ../shared/datasets/celeba_hq128/img_celeba_hq --out runs/celeba-hq128-lnet-boxes.csv
  $PY -m lnet_anet.cli.train_anet experiment=anet_photometric model.frozen_stages=2 finetune.epochs=12 \
      name=anet-block1-photometric data.boxes=runs/celeba-hq128-lnet-boxes.csv \
      paths.datasets=$(realpath ../shared/datasets) train.progress=false ;;
tune)
  # the bundle with the new ANet: build_bundle turns off the steps that read heads fitted on the old ANet's
  # feature (refine_boxes, rescue_faces, rescue_frame); they go back on, as shipped, with the refitted heads
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/before-default.lnetanet --anet runs/anet-block1-photometric \
      --note 'ANet block 1 trained, photometric draws (experiments/2026-12-03-anet-block1)' --out $R/no-heads.lnetanet
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/no-heads.lnetanet \
      --lnet-input '{"refine_boxes": true, "rescue_faces": [0.0, 0.7], "rescue_frame": 0.95}' \
      --note 'ANet block 1 trained, photometric draws (experiments/2026-12-03-anet-block1)' --out $B
  # the three heads on ANet's feature, by their shipped recipes (box-head-views, face-verifier, upright)
  $PY -m lnet_anet.cli.fit_box_head --labels $L --part tune --invariance 1 --bundle $R/no-heads.lnetanet --out $R/box_head.safetensors
  [ -f runs/face-verifier/faces-fit.txt ] || $PY experiments/2026-12-02-face-verifier/fit_lists.py --out runs/face-verifier
  # the face head as shipped since the frame rescue: the face-verifier lists, 1,500 more UTKFace train chips, frames
  [ -f $R/utk-fit.txt ] || $PY experiments/2026-12-02-frame-rescue/lists.py --out $R/utk-fit.txt
  $PY -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt $R/utk-fit.txt \
      --face-free runs/face-verifier/free-fit.txt --frames --c 1.0 --bundle $R/no-heads.lnetanet --out $R/face_head.safetensors
  [ -f runs/upright/fit-wider-tune.txt ] || $PY experiments/2026-12-01-upright/lists.py --n 600 --out runs/upright
  $PY -m lnet_anet.cli.fit_upright runs/upright/fit-celeba_hq128-train.txt runs/upright/fit-utkface-train.txt \
      runs/upright/fit-wider-tune.txt --bundle $R/no-heads.lnetanet --out $R/upright_head.safetensors
  $PY $P/compare.py --part tune --bundle before=$BEFORE block1=$HEADS --out $E/tune
  for h in before block1; do
    args=(--bundle $R/before-default.lnetanet --box-head $R/before-box_head.safetensors --face-head $R/before-face_head.safetensors)
    [ $h = block1 ] && args=(--bundle $B --box-head $R/box_head.safetensors --face-head $R/face_head.safetensors)
    $PY benchmarks/bench_detection.py --part tune --face-free --detectors lnet_anet,lnet_anet_shipped "${args[@]}" \
        --threads 2 --work $R/wider-tune-$h --out $E/tune/wider-$h
  done
  $PY experiments/2026-12-03-age-lite0/cost.py --bundle before=$BEFORE block1=$HEADS --calls 20 --out $E/tune/cost.json ;;
val)
  $PY $P/compare.py --part val --flip-chips 300 --bundle before=$BEFORE block1=$HEADS --out $E/val
  for h in before block1; do
    args=(--bundle $R/before-default.lnetanet --box-head $R/before-box_head.safetensors --face-head $R/before-face_head.safetensors)
    [ $h = block1 ] && args=(--bundle $B --box-head $R/box_head.safetensors --face-head $R/face_head.safetensors)
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet,lnet_anet_shipped "${args[@]}" \
        --threads 2 --work $R/wider-val-$h --out $E/val/wider-$h
  done ;;
esac
