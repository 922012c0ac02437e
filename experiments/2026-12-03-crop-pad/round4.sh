#!/usr/bin/env bash
# Round 4 of RULE.md (session 36): edge, every region the heads judge read filled black (predictor.JUDGE_PAD).
# From the repository root. WIDER tune's baseline is round 2's wider-black (the same code path for black).
#   round4.sh tune | val | ship
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2 LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(realpath ../shared/datasets)}
PY=${PYTHON:-.venv/bin/python}
R=runs/crop-pad
E=experiments/2026-12-03-crop-pad
B=${BASELINE:-lnet_anet/assets}  # the shipped (black) bundle and heads
mkdir -p $R
[ -f $R/edge.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle $B/default.lnetanet --crop-pad edge --out $R/edge.lnetanet
case "${1:-tune}" in
tune)
  $PY $E/pad.py --part tune --bundle black=$B/default.lnetanet edge4=$R/edge.lnetanet --out $E/tune-round4
  $PY benchmarks/bench_detection.py --part tune --face-free --detectors lnet_anet_shipped --bundle $R/edge.lnetanet \
      --threads 2 --work $R/wider-tune-edge4 --out $E/tune-round4/wider-edge4 ;;
val)
  $PY $E/pad.py --part val --files 0 --chips 2000 --bundle black=$B/default.lnetanet edge4=$R/edge.lnetanet --out $E/val-round4
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $R/edge.lnetanet \
      --threads 2 --work $R/wider-val-edge4 --out $E/val-round4/wider-edge4 ;;
ship)  # the shipping measurements (lines 4-5), each bundle with the shipped heads
  $PY benchmarks/bench_end_to_end.py --part val --limit 2000 --scut 0 --stability 200 --probe-train 0 --framings 0 \
      --bundle black=$B/default.lnetanet edge4=$R/edge.lnetanet \
      --age-descriptor-head black=$B/age_descriptor.safetensors edge4=$B/age_descriptor.safetensors \
      --out $E/ship/end-to-end
  $PY experiments/2026-12-03-anet-block1/attractiveness.py --same black=$B/default.lnetanet edge4=$R/edge.lnetanet \
      --out $E/ship ;;
esac
echo "ROUND4 $1 DONE"
