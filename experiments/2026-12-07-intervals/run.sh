#!/usr/bin/env bash
# The shipped bundle's headline figures with their 95% bootstrap intervals (lnet_anet.metrics.intervals),
# end to end through Predictor on the val parts' files. Nothing is chosen here: the bundle and every
# setting are as shipped; each part is read once.
#   bash experiments/2026-12-07-intervals/run.sh wider | grids | attributes | age | all
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
E=experiments/2026-12-07-intervals
R=runs/intervals
PY=${PYTHON:-.venv/bin/python}
mkdir -p $R
step() {
  case $1 in
  wider)  # WIDER val part (30% of the shared train photos by name hash), peers in the same run, face-free crops
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped,mtcnn,dlib_hog,haar \
        --threads 2 --work $R/wider-val --out $E/wider-val ;;
  grids)  # composed grids of CelebA-HQ val faces, a diagnostic
    [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        --threads 2 --work $R/grids-val --out $E/grids-val ;;
  attributes)  # every celeba_hq128 val file, every SCUT val-fold image (faces found), the linear probe beside
    $PY benchmarks/bench_end_to_end.py --part val --sets attributes --stability 0 --framings 0 --out $E/attributes ;;
  age)  # every UTKFace val chip (without the byte copies of training chips), stability on 300 of them
    $PY benchmarks/bench_end_to_end.py --part val --sets age --scut 0 --stability 300 --probe-train 0 --framings 0 \
        --out $E/age ;;
  *) echo "usage: run.sh wider | grids | attributes | age | all" >&2; exit 2 ;;
  esac
}
if [ "${1:-}" = all ]; then for s in wider grids attributes age; do step $s; done; else step "${1:?}"; fi
