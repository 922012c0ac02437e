#!/bin/bash
# The fallback scale (0.3, read when no scale found a face) beside the bundle without it.
set -x
cd /work/main
export PYTHONPATH=. OMP_NUM_THREADS=2
NEW=runs/bundles/shipped-fallback.lnetanet
OLD=runs/bundles/shipped-separation.lnetanet
OUT=experiments/2026-11-30-face-separation
.venv/bin/python benchmarks/bench_detection.py --part val --face-free \
    --detectors lnet_anet_localize,baseline_localize --bundle $NEW --baseline $OLD \
    --threads 2 --work runs/bench_wider_val_fallback --out $OUT/wider-val-fallback
.venv/bin/python benchmarks/bench_end_to_end.py --part val --limit 1500 --scut 400 --stability 0 --probe-train 0 \
    --framings 0 --bundle before-fallback=$OLD fallback=$NEW --out runs/e2e-separation-fallback
echo DONE
