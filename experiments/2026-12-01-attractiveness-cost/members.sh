#!/usr/bin/env bash
# Section 7: the joint descriptor head as the mean of 3 networks (seeds 0-2) against 1, end to end
# through Predictor, 5-fold CV inside SCUT-FBP5500's training list, with the fold runs of the shipped
# recipe (runs/scut/e11x16-f{1..5}, regenerated in session 16). Then the shipped head refitted on all
# 3,300 faces. Repository root; the project venv active; pip install -e ".[descriptor]".
set -euo pipefail
X=experiments/2026-12-01-attractiveness-cost
D=${LNET_ANET_DATASETS:-../shared/datasets}
R=runs/members
mkdir -p $R
for k in 1 2 3 4 5; do
  for m in 1 3; do
    python -m lnet_anet.cli.fit_descriptor_head --root $D/scut_fbp5500_train --cache $R/scut-joint.npz \
        --fold $k --members $m --out $R/joint$m-f$k.safetensors
  done
done
B="--runs runs/scut/e11x16-f{k} --base lnet_anet/assets/default.lnetanet --enlarge 1.1 --paste 0 --timing-faces 0 --threads 2"
python benchmarks/bench_attractiveness.py $B --descriptor-heads "$R/joint3-f{k}.safetensors" --out $X/members-3
python benchmarks/bench_attractiveness.py $B --descriptor-heads "$R/joint1-f{k}.safetensors" --out $X/members-1
python benchmarks/bench_attractiveness.py $B --out $X/members-plain
python -m lnet_anet.cli.fit_descriptor_head --root $D/scut_fbp5500_train --cache $R/scut-joint.npz \
    --members 3 --out $R/joint3-all.safetensors
