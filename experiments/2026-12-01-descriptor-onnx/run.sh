#!/usr/bin/env bash
# Issue 17: dlib's face-recognition descriptor, ported (lnet_anet.models.dlib_resnet) and run int8 on ONNX Runtime,
# with the landmark box mapped from the localizer's box instead of dlib's HOG detector. Run from the repository root;
# everything written goes to runs/onnx-desc (not committed) except this folder's records and the shipped assets.
# Needs: the project venv active, pip install -e ".[descriptor]", the shared datasets, runs/distill/extra.txt and
# extra-boxes.csv (UTKFace / CelebA-HQ training faces and their localizer boxes: ../2026-12-01-attractiveness-distill/run.sh
# step 1), and the fold runs of the shipped recipe (runs/scut/e11x16-f{1..5}: ../2026-11-30-attractiveness-scut/session9).
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
X=experiments/2026-12-01-descriptor-onnx
D=../shared/datasets
mkdir -p runs/onnx-desc

# 1. The box map (LNet's box -> dlib's HOG box) and the int8 ranges, both on UTKFace / CelebA-HQ training faces.
python $X/fit_box_map.py --images runs/distill/extra.txt --faces 2000 --out $X/box_map.json
python $X/calibrate_int8.py --images runs/distill/extra.txt --boxes runs/distill/extra-boxes.csv --faces 300 \
    --out lnet_anet/assets/dlib_resnet_int8_ranges.json

# 2. Diagnostic on cached descriptors: the port against dlib's own network, and the descriptor head alone per setting.
python $X/scut_descriptors.py --root $D/scut_fbp5500_train --dlib-cache runs/distill/scut-descriptors.npz \
    --out runs/onnx-desc/scut.npz --record $X/scut-policies.json

# 3. The descriptor alone (the previous record's head, with this record's descriptor): one head per fold.
for k in 1 2 3 4 5; do
  python -m lnet_anet.cli.fit_descriptor_head --root $D/scut_fbp5500_train --cache runs/onnx-desc/scut-descriptors.npz \
      --inputs descriptor --fold $k --out runs/onnx-desc/desc-f$k.safetensors
done

# 4. Which inputs: the descriptor alone, or ANet's feature joined to it, chosen by nested CV inside each fold's
#    training part (cached; the bundle fold heads' out-of-fold scores only to report the outer mixed figure).
python $X/anet_features.py --runs 'runs/scut/e11x16-f{k}' --out runs/onnx-desc/anet-feats.npz
python $X/choose_inputs.py --descriptors runs/onnx-desc/scut.npz --features runs/onnx-desc/anet-feats.npz \
    --out $X/choose_inputs.json

# 5. The chosen joint heads (the CLI's default --inputs anet+descriptor): one per fold, and the shipped one.
for k in 1 2 3 4 5; do
  python -m lnet_anet.cli.fit_descriptor_head --root $D/scut_fbp5500_train --cache runs/onnx-desc/scut-joint.npz \
      --fold $k --out runs/onnx-desc/joint-f$k.safetensors
done
python -m lnet_anet.cli.fit_descriptor_head --root $D/scut_fbp5500_train --cache runs/onnx-desc/scut-joint.npz \
    --out runs/onnx-desc/joint-all.safetensors
cp runs/onnx-desc/joint-all.safetensors lnet_anet/assets/attractiveness_descriptor.safetensors   # the shipped head

# 6. End to end through Predictor, the same script: the joint heads and the descriptor-alone heads, each mixed with the
#    shipped recipe's fold heads, and the plain fold heads beside them. Then the parts' times.
B="--runs runs/scut/e11x16-f{k} --base lnet_anet/assets/default.lnetanet --enlarge 1.1 --paste 0 --timing-faces 0 --threads 2"
python benchmarks/bench_attractiveness.py $B --descriptor-heads 'runs/onnx-desc/joint-f{k}.safetensors' --out $X/predictor-joint
python benchmarks/bench_attractiveness.py $B --descriptor-heads 'runs/onnx-desc/desc-f{k}.safetensors' --out $X/predictor-descriptor
python benchmarks/bench_attractiveness.py $B --out $X/predictor-plain
python $X/timing.py --boxes runs/onnx-desc/scut.npz --out $X/timing.json
# The face inside a larger photo: the same benches with 300 pasted faces (their CV figures repeat the above).
P="${B/--paste 0/--paste 300}"
python benchmarks/bench_attractiveness.py $P --descriptor-heads 'runs/onnx-desc/joint-f{k}.safetensors' --out $X/paste-joint
python benchmarks/bench_attractiveness.py $P --out $X/paste-plain

# 7. A lead for issue 15 (diagnostic): the joint input for age on UTKFace chips (train part -> val part, scored once).
python $X/age_diagnostic.py 6000 > $X/age_diagnostic.json

# 8. The opt-in age descriptor head (shipped): fitted on 6,000 seeded chips of UTKFace's train part, then the
#    end-to-end bench on the val part with and without it, in the same script.
python -m lnet_anet.cli.fit_descriptor_head --target age --limit 6000 --cache runs/age-desc/utk-train-6000.npz \
    --out runs/age-desc/age-head.safetensors
cp runs/age-desc/age-head.safetensors lnet_anet/assets/age_descriptor.safetensors
python benchmarks/bench_end_to_end.py --limit 1500 --scut 0 --probe-train 0 --framings 0 --stability 200 \
    --age-descriptor-head lnet_anet/assets/age_descriptor.safetensors --out $X/age-end-to-end

# 9. Diagnostic for issue 15: the descriptor for attributes (no gain; not shipped).
python $X/attributes_diagnostic.py 5000 > $X/attributes_diagnostic.json

# 10. Diagnostic for the cost: smaller chips (fp32, cached features and bundle scores from step 4).
python $X/chip_size.py --features runs/onnx-desc/anet-feats.npz --out $X/chip_size.json
