#!/usr/bin/env bash
# Box head v2 (RULE.md, README.md), from the repository root.
#   run.sh choose -- the tune data and both rounds' choices (~10 min on 2 cores)
#   run.sh fit    -- the chosen recipe refitted on the whole WIDER tune part and the fit grids
#   run.sh tune   -- real passes through Predictor on the tune data: the embedded head beside the new one
#   run.sh val    -- val once: WIDER val (with face-free crops), val grids, box stability on UTKFace val chips
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-05-box-head-v2
R=runs/box-head-v2
PY=${PYTHON:-.venv/bin/python}
L=$(ls ../shared/datasets/wider_face_train/wider_face_split/*_bbx_gt.txt | head -1)
NEW=$R/box_head_mlp.safetensors
OLD=lnet_anet/assets/box_head.safetensors   # the head shipped before this study (commit f282b77)
mkdir -p $R
[ -f $R/box_head_before.safetensors ] || git show f282b77:$OLD > $R/box_head_before.safetensors
OLD=$R/box_head_before.safetensors
case "${1:-}" in
choose)
  [ -f runs/face-grids/tune/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --out runs/face-grids/tune
  [ -f $R/fit-grids/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --skip-faces 1620 --out $R/fit-grids
  $PY $E/collect.py dump --out $R/dump.pkl
  $PY $E/collect.py pairs --part fit --out $R/pairs-fit.npz
  $PY $E/choose.py $R/dump.pkl $R/pairs-fit.npz --out $E/choose.json          # round 1
  $PY $E/choose_mlp.py $R/dump.pkl $R/pairs-fit.npz --out $E/choose_mlp.json  # round 2
  ;;
fit)
  $PY -m lnet_anet.cli.fit_box_head --labels $L --part tune --hidden 256 --alpha 0.001 --shrink 0.5 --jitter 12 \
      --more-labels $R/fit-grids/faces.csv --more-jitter 4 --out $NEW
  ;;
tune)
  for h in before mlp; do
    f=$NEW; [ $h = before ] && f=$OLD
    $PY benchmarks/bench_detection.py --part tune --detectors lnet_anet_shipped --box-head $f --threads 2 \
        --work $R/wider-tune-$h --out $E/tune/wider-$h
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
        --box-head $f --threads 2 --work $R/grids-tune-$h --out $E/tune/grids-$h
  done
  ;;
val)
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  for h in before mlp; do
    f=$NEW; [ $h = before ] && f=$OLD
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --box-head $f --threads 2 \
        --work $R/wider-val-$h --out $E/val/wider-$h
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        --box-head $f --threads 2 --work $R/grids-val-$h --out $E/val/grids-$h
  done
  $PY experiments/2026-12-02-box-head-views/stability_val.py --heads before=$OLD mlp=$NEW --out $E/val/stability.json
  ;;
*) echo "usage: run.sh choose|fit|tune|val" >&2; exit 2 ;;
esac
