#!/usr/bin/env bash
# Issue 17: the attractiveness head distilled from a teacher that also reads dlib's face-recognition
# descriptor. Run from the repository root; everything written goes to runs/distill (not committed).
# Needs: pip install dlib-bin face_recognition_models==0.3.0 (training time only), the shared datasets,
# and the fold runs of the shipped recipe (runs/scut/e11x16-f{1..5}, e11x16-all: session9/run_folds.sh).
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
X=experiments/2026-12-01-attractiveness-distill
D=../shared/datasets
mkdir -p runs/distill

# 1. The extra faces (no attractiveness label): UTKFace train part, White or Asian, 16-45 years,
#    and 4,000 CelebA-HQ train-partition faces (seed 0); LNet's boxes of each.
python $X/pick_extra_faces.py --datasets $D --out runs/distill/extra.txt
mkdir -p runs/distill/extra-images && xargs -a runs/distill/extra.txt ln -sft runs/distill/extra-images
python -m lnet_anet.cli.lnet_boxes runs/distill/extra-images --out runs/distill/extra-boxes.csv

# 2. dlib's descriptor of every SCUT training-list face and every extra face (two processes).
ls $D/scut_fbp5500_train/SCUT-FBP5500_v2/Images/*.jpg > runs/distill/scut.txt
python $X/embed_dlib.py --images runs/distill/scut.txt --boxes runs/scut/lnet-boxes.csv --out runs/distill/scut-emb.npz
for p in 0 1; do
  python $X/embed_dlib.py --images runs/distill/extra.txt --part $p --parts 2 --out runs/distill/extra-emb-$p.npz &
done; wait

# 3. Per fold: the teacher's targets for the extra faces, then the student (the shipped recipe + soft labels).
for k in 1 2 3 4 5; do
  python $X/teacher.py --fold $k --head-run runs/scut/e11x16-f$k --scut-emb runs/distill/scut-emb.npz \
      --extra-emb runs/distill/extra-emb-0.npz runs/distill/extra-emb-1.npz \
      --extra-boxes runs/distill/extra-boxes.csv --out runs/distill/teacher-f$k.csv
  python -m lnet_anet.cli.train_anet_dldl --config-name train_attractiveness_anet "data.fold={k: $k, n: 5, seed: 0}" \
      name=distill/s-f$k "soft_labels={faces: runs/distill/teacher-f$k.csv, boxes: runs/distill/extra-boxes.csv}"
done
