#!/usr/bin/env bash
# Section 9: the joint descriptor head reading dlib's last map (256 x 2 x 2) beside its descriptor, end to
# end through Predictor, 5-fold CV inside SCUT-FBP5500's training list, with the fold runs of the shipped
# recipe (runs/scut/e11x16-f{1..5}); the bundle head on all 9 patches and on the centre one; the shipped
# joint head's fold heads (members.sh) on the centre patch as the peer. Then the head refitted on all
# 3,300 faces. Repository root; the project venv active; pip install -e ".[descriptor]".
set -euo pipefail
X=experiments/2026-12-01-attractiveness-cost
D=${LNET_ANET_DATASETS:-../shared/datasets}
R=runs/map
mkdir -p $R
for k in 1 2 3 4 5; do   # the defaults: 3 networks, inputs anet+map+descriptor
  python -m lnet_anet.cli.fit_descriptor_head --root $D/scut_fbp5500_train --cache $R/scut-map.npz \
      --fold $k --out $R/map3-f$k.safetensors
done
B="--runs runs/scut/e11x16-f{k} --base lnet_anet/assets/default.lnetanet --enlarge 1.1 --paste 0 --timing-faces 0 --threads 2"
python benchmarks/bench_attractiveness.py ${B/--paste 0/--paste 300} --descriptor-heads "$R/map3-f{k}.safetensors" --patches centre \
    --out $X/map-3-centre   # the shipped opt-in mode; with the paste gap (run again so, the same scores)
python benchmarks/bench_attractiveness.py $B --descriptor-heads "$R/map3-f{k}.safetensors" --out $X/map-3
python benchmarks/bench_attractiveness.py $B --descriptor-heads "runs/members/joint3-f{k}.safetensors" --patches centre \
    --out $X/members-3-centre
python -m lnet_anet.cli.fit_descriptor_head --root $D/scut_fbp5500_train --cache $R/scut-map.npz \
    --out $R/map3-all.safetensors
