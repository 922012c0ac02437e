#!/bin/bash
# Issue 14: the face box. Fit on WIDER's tune part, then score the val part and the val grids once.
set -ex
export PYTHONPATH=. OMP_NUM_THREADS=2
OUT=experiments/2026-12-01-face-box
cp lnet_anet/assets/default.lnetanet runs/before-face-box.lnetanet   # run on the commit before 9209ce9
.venv/bin/python -m lnet_anet.cli.fit_localizer --wider ../shared/datasets/wider_face_train --face-box-only \
    --bundle runs/before-face-box.lnetanet --out runs/face-box/bundle.lnetanet
cp runs/face-box/bundle.lnetanet.fit.json $OUT/fit.json   # fit.json before session 38
.venv/bin/python benchmarks/bench_detection.py --part val --face-free \
    --detectors lnet_anet_localize,baseline_localize,mtcnn,dlib_hog,haar \
    --bundle runs/face-box/bundle.lnetanet --baseline runs/before-face-box.lnetanet \
    --threads 2 --work runs/bench_wider_val_facebox --out $OUT/wider-val
.venv/bin/python benchmarks/make_face_grids.py --part val --out runs/face-grids/val   # adds faces.csv
.venv/bin/python benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv \
    --detectors lnet_anet_localize,baseline_localize,mtcnn,dlib_hog,haar \
    --bundle runs/face-box/bundle.lnetanet --baseline runs/before-face-box.lnetanet \
    --threads 2 --work runs/bench_grids_val_facebox --out $OUT/grids-val
.venv/bin/python $OUT/same_heads.py runs/before-face-box.lnetanet runs/face-box/bundle.lnetanet > $OUT/same_heads.json
