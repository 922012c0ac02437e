#!/usr/bin/env bash
# Round 2 of RULE.md: edge with the face and box heads refitted, on tune (~30 min on 2 cores)
set -e
# from the repository root; round 1: pad.py with black/edge/reflect (README); runs/anet-block1/no-heads.lnetanet
# (the bundle with the steps that read fitted heads off) is made by experiments/2026-12-03-anet-block1/run.sh tune
export PYTHONPATH=. OMP_NUM_THREADS=2 LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(realpath ../shared/datasets)}
PY=.venv/bin/python
R=runs/crop-pad
L=$LNET_ANET_DATASETS/wider_face_train/wider_face_split/wider_face_train_bbx_gt.txt
E=experiments/2026-12-03-crop-pad
$PY -m lnet_anet.cli.build_bundle --from-bundle runs/anet-block1/no-heads.lnetanet --crop-pad edge --out $R/edge-no-heads.lnetanet
$PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet --crop-pad edge --out $R/edge.lnetanet
$PY -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt runs/anet-block1/utk-fit.txt \
    --face-free runs/face-verifier/free-fit.txt --frames --c 1.0 --bundle $R/edge-no-heads.lnetanet --out $R/edge-face_head.safetensors
$PY -m lnet_anet.cli.fit_box_head --labels $L --part tune --invariance 1 --bundle $R/edge-no-heads.lnetanet --out $R/edge-box_head.safetensors
$PY $E/pad.py --part tune --bundle black=lnet_anet/assets/default.lnetanet edge2=$R/edge.lnetanet:$R/edge-box_head.safetensors:$R/edge-face_head.safetensors --out $E/tune-round2
for h in black edge2; do
  args=(--bundle lnet_anet/assets/default.lnetanet)
  [ $h = edge2 ] && args=(--bundle $R/edge.lnetanet --box-head $R/edge-box_head.safetensors --face-head $R/edge-face_head.safetensors)
  $PY benchmarks/bench_detection.py --part tune --face-free --detectors lnet_anet_shipped "${args[@]}" --threads 2 --work $R/wider-tune-$h --out $E/tune-round2/wider-$h
done
echo ROUND2 DONE
