#!/bin/bash
# The 5 fold runs of one setting (issue 17, session 9), from the repository root:
#   bash experiments/2026-11-30-attractiveness-scut/session9/run_folds.sh LABEL [hydra overrides...]
# e.g. LABEL=seed1 train.seed=1; LABEL=aug3 augmented_views=3; LABEL=fs2 model.frozen_stages=2.
# Each fold run scores its held-out fold on the crops of the shipped bundle's LNet boxes
# (runs/sweep/LABEL-f{k}/predictions.csv); the runs share the trunk cache runs/scut-trunk-e11.
label=$1; shift
for k in 1 2 3 4 5; do
  [ -f runs/sweep/$label-f$k/predictions.csv ] && continue
  python -m lnet_anet.cli.train_anet_dldl --config-name train_attractiveness_anet paths.datasets=../shared/datasets \
    "data.fold={k: $k, n: 5, seed: 0}" name=sweep/$label-f$k "$@" > runs/sweep/$label-f$k.log 2>&1
done
