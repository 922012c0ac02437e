#!/usr/bin/env bash
# Issue 17: a face-recognition descriptor for attractiveness: the teacher diagnostic, distillation into the
# bundle's head (not kept), and the opt-in descriptor head through Predictor. Run from the repository root;
# everything written goes to runs/distill (not committed).
# Needs: the project venv active, pip install -e ".[descriptor]" (dlib-bin, face_recognition_models), the shared datasets,
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
#    This record trained the students of folds 1-2 only (no gain; stopped), and the teachers of all 5.
for k in 1 2 3 4 5; do
  python $X/teacher.py --fold $k --head-run runs/scut/e11x16-f$k --scut-emb runs/distill/scut-emb.npz \
      --extra-emb runs/distill/extra-emb-0.npz runs/distill/extra-emb-1.npz \
      --extra-boxes runs/distill/extra-boxes.csv --out runs/distill/teacher-f$k.csv
  python -m lnet_anet.cli.train_anet_dldl --config-name train_attractiveness_anet "data.fold={k: $k, n: 5, seed: 0}" \
      name=distill/s-f$k "soft_labels={faces: runs/distill/teacher-f$k.csv, boxes: runs/distill/extra-boxes.csv}"
done

# 4. The opt-in descriptor head (lnet_anet.dldl.descriptor), through Predictor: one descriptor head per
#    fold (a DLDL-v2 head on dlib's descriptor of each training image's best face box, found by the bundle's
#    localizer; cached once), mixed 0.5 / 0.5 with the shipped recipe's fold heads; the plain fold heads
#    beside it in the same script.
for k in 1 2 3 4 5; do
  python -m lnet_anet.cli.fit_descriptor_head --root $D/scut_fbp5500_train --cache runs/distill/scut-descriptors.npz \
      --fold $k --out runs/distill/desc-f$k.safetensors
done
python -m lnet_anet.cli.fit_descriptor_head --root $D/scut_fbp5500_train --cache runs/distill/scut-descriptors.npz \
    --out runs/distill/desc-all.safetensors
cp runs/distill/desc-all.safetensors lnet_anet/assets/attractiveness_descriptor.safetensors   # the shipped head
B="--runs runs/scut/e11x16-f{k} --base lnet_anet/assets/default.lnetanet --enlarge 1.1 --paste 0 --timing-faces 0 --threads 2"
python benchmarks/bench_attractiveness.py $B --descriptor-heads 'runs/distill/desc-f{k}.safetensors' --out $X/predictor-descriptor
python benchmarks/bench_attractiveness.py $B --out $X/predictor-plain
python $X/summarize.py --runs runs --out $X
