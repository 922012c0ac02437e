#!/bin/bash
# A variant bundle on the val grids, the WIDER val part and end to end, beside the bundle before.
# Run as:  face-separation-val-variant.sh runs/bundles/separation-s3.lnetanet s3 "separation=runs/bundles/separation.lnetanet separation-s3"
#          face-separation-val-variant.sh runs/bundles/separation-s3-lone.lnetanet lone shipped
set -x
cd /work/main
export PYTHONPATH=. OMP_NUM_THREADS=2
NEW=$1; TAG=$2; LABELS=$3  # LABELS: the end-to-end run's bundles after "before", the last one labelled for $NEW
OLD=runs/bundles/before-separation.lnetanet
OUT=experiments/2026-11-30-face-separation
.venv/bin/python benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/boxes.csv \
    --detectors lnet_anet_localize --bundle $NEW --threads 2 --work runs/bench_grids_val_$TAG --out $OUT/grids-val-$TAG
.venv/bin/python benchmarks/grid_centre_scores.py runs/face-grids/val/boxes.csv runs/bench_grids_val_$TAG --out $OUT/grids-val-$TAG/centres.json
.venv/bin/python benchmarks/bench_detection.py --part val --face-free \
    --detectors lnet_anet_localize,baseline_localize --bundle $NEW --baseline $OLD \
    --threads 2 --work runs/bench_wider_val_$TAG --out $OUT/wider-val-$TAG
.venv/bin/python benchmarks/bench_end_to_end.py --part val --limit 1500 --scut 400 --stability 200 --probe-train 0 \
    --framings 0 --bundle before=$OLD $LABELS=$NEW --out runs/e2e-separation-$TAG
echo DONE
