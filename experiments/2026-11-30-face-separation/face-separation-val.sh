#!/bin/bash
# issue 14 val runs, one after the other (timings undisturbed by each other)
set -x
cd /work/main
export PYTHONPATH=. OMP_NUM_THREADS=2
NEW=runs/bundles/separation.lnetanet
OLD=runs/bundles/before-separation.lnetanet
OUT=experiments/2026-11-30-face-separation
.venv/bin/python benchmarks/make_face_grids.py --part val --out runs/face-grids/val
.venv/bin/python benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/boxes.csv \
    --detectors lnet_anet_localize,baseline_localize,mtcnn,dlib_hog,haar --bundle $NEW --baseline $OLD \
    --threads 2 --work runs/bench_grids_val --out $OUT/grids-val
.venv/bin/python benchmarks/bench_detection.py --part val --face-free \
    --detectors lnet_anet_localize,lnet_anet_localize_open,baseline_localize,mtcnn,dlib_hog,haar --bundle $NEW --baseline $OLD \
    --threads 2 --work runs/bench_wider_val_sep --out $OUT/wider-val
.venv/bin/python benchmarks/bench_end_to_end.py --part val --limit 1500 --scut 400 --stability 200 --probe-train 0 \
    --framings 0 --bundle before=$OLD separation=$NEW --out runs/e2e-separation
echo DONE
