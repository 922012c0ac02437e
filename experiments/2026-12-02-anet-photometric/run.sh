#!/usr/bin/env bash
# ANet trained on dark, bright, gray, blurred and re-saved crops (RULE.md, README.md), from the repository root.
#   run.sh tune   -- the candidate, its refitted heads, and the tune comparison
#   run.sh        -- val once, the bundle before beside it in the same scripts
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-02-anet-photometric
R=runs/anet-photometric
PY=${PYTHON:-.venv/bin/python}
L=$(ls ../shared/datasets/wider_face_train/wider_face_split/*_bbx_gt.txt | head -1)
B=$R/photometric.lnetanet
HEADS=$B:$R/box_head.safetensors:$R/face_head.safetensors
mkdir -p $R   # the bundle and heads before (42028de), with which both parts compare
for f in default.lnetanet box_head.safetensors face_head.safetensors; do git show 42028de:lnet_anet/assets/$f > $R/before-$f; done
BEFORE=$R/before-default.lnetanet:$R/before-box_head.safetensors:$R/before-face_head.safetensors
if [ "${1:-val}" = tune ]; then
  $PY -m lnet_anet.cli.lnet_boxes ../shared/datasets/celeba_hq128/img_celeba_hq --out $R/celeba-hq128-lnet-boxes.csv
  $PY -m lnet_anet.cli.train_anet experiment=anet_photometric data.boxes=$R/celeba-hq128-lnet-boxes.csv \
      paths.datasets=$(realpath ../shared/datasets) train.progress=false
  # the bundle with the new ANet, first without the two heads tied to ANet's feature (a Predictor of a bundle
  # that refines boxes or rescues faces needs heads that fit its ANet), then with them on again
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/before-default.lnetanet \
      --anet runs/anet-photometric-celeba_hq128 --note 'ANet trained on photometric draws (experiments/2026-12-02-anet-photometric)' --out $R/anet.lnetanet
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/anet.lnetanet --lnet-input '{"refine_boxes": false, "rescue_faces": null, "rescue_frame": null, "verify_faces": null}' \
      --note 'heads off while they are fitted' --out $R/no-heads.lnetanet
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/no-heads.lnetanet --lnet-input '{"refine_boxes": true, "rescue_faces": [0.0, 0.7]}' \
      --note 'ANet trained on photometric draws (experiments/2026-12-02-anet-photometric)' --out $B
  # the three heads on ANet's feature, by their shipped recipes (box-head-views, face-verifier, upright)
  $PY -m lnet_anet.cli.fit_box_head --labels $L --part tune --invariance 1 --bundle $R/no-heads.lnetanet --out $R/box_head.safetensors
  [ -f runs/face-verifier/faces-fit.txt ] || $PY experiments/2026-12-02-face-verifier/fit_lists.py --out runs/face-verifier
  $PY -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt --face-free runs/face-verifier/free-fit.txt \
      --c 1.0 --bundle $R/no-heads.lnetanet --out $R/face_head.safetensors
  [ -f runs/upright/fit-wider-tune.txt ] || $PY experiments/2026-12-01-upright/lists.py --n 600 --out runs/upright
  $PY -m lnet_anet.cli.fit_upright runs/upright/fit-celeba_hq128-train.txt runs/upright/fit-utkface-train.txt \
      runs/upright/fit-wider-tune.txt --bundle $R/no-heads.lnetanet --out $R/upright_head.safetensors
  $PY $E/compare.py --part tune --bundle before=$BEFORE photometric=$HEADS --out $E/tune
  for h in before photometric; do
    args=(--bundle $R/before-default.lnetanet --box-head $R/before-box_head.safetensors --face-head $R/before-face_head.safetensors)
    [ $h = photometric ] && args=(--bundle $B --box-head $R/box_head.safetensors --face-head $R/face_head.safetensors)
    $PY benchmarks/bench_detection.py --part tune --face-free --detectors lnet_anet,lnet_anet_shipped "${args[@]}" \
        --threads 2 --work $R/wider-tune-$h --out $E/tune/wider-$h
  done
  exit 0
fi
$PY $E/compare.py --part val --flip-chips 300 --bundle before=$BEFORE photometric=$HEADS --out $E/val
