#!/usr/bin/env bash
# Round 3 of RULE.md: edge, the frame try judged on black-filled crops (predictor.FRAME_PAD), the shipped heads.
# From the repository root. WIDER tune's baseline is round 2's wider-black (the same code path for black).
set -e
export PYTHONPATH=. OMP_NUM_THREADS=2 LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(realpath ../shared/datasets)}
PY=.venv/bin/python
R=runs/crop-pad
E=experiments/2026-12-03-crop-pad
[ -f $R/edge.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet --crop-pad edge --out $R/edge.lnetanet
case "${1:-tune}" in
tune)
  $PY $E/pad.py --part tune --bundle black=lnet_anet/assets/default.lnetanet edge3=$R/edge.lnetanet --out $E/tune-round3
  $PY benchmarks/bench_detection.py --part tune --face-free --detectors lnet_anet_shipped --bundle $R/edge.lnetanet \
      --threads 2 --work $R/wider-tune-edge3 --out $E/tune-round3/wider-edge3 ;;
val)
  $PY $E/pad.py --part val --files 0 --chips 2000 --bundle black=lnet_anet/assets/default.lnetanet edge3=$R/edge.lnetanet --out $E/val
  for h in black edge3; do
    b=lnet_anet/assets/default.lnetanet; [ $h = edge3 ] && b=$R/edge.lnetanet
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $b \
        --threads 2 --work $R/wider-val-$h --out $E/val/wider-$h
  done ;;
esac
echo "ROUND3 $1 DONE"
