#!/usr/bin/env bash
# Issue 15 on the lent GPU: two DLDL-v2 Lite0 age nets (the age_lite0_photo recipe, plain and
# band-weighted) trained in parallel on the fit part of UTKFace train. Run from the repo root:
#   bash .device/train.sh EPOCHS OUT_DIR [extra overrides...]
set -u
EPOCHS=${1:?epochs}; DEST=${2:?out dir}; shift 2
D=${DEV_TMP:-/tmp/dev}; mkdir -p $D && tar -xzf .device/data.tgz -C $D && tar -xzf .device/site.tgz -C $D || exit 1
export PYTHONPATH=$PWD:$D/site PYTHONUNBUFFERED=1 LNET_ANET_DATASETS=$D
python3 -c "import torch, timm, PIL; print('torch', torch.__version__, 'timm', timm.__version__, 'PIL', PIL.__version__, 'cuda', torch.cuda.is_available())"
nproc; nvidia-smi -L 2>/dev/null
common=(experiment=age_lite0_photo "tune_split={frac: 0.15, seed: 1}" train.epochs=$EPOCHS train.batch_size=64
        train.num_workers=${WORKERS:-7} train.num_threads=1 train.progress=false
        model.pretrained=$PWD/.device/lite0_timm.pth data.eval_split=train paths.runs=$PWD/runs "$@")
timeout ${LIMIT:-470} python3 -m lnet_anet.cli.train_age "${common[@]}" name=age-lite0-gpu-tune85 \
    > "$DEST/plain.log" 2>&1 &
timeout ${LIMIT:-470} python3 -m lnet_anet.cli.train_age "${common[@]}" name=age-lite0bal-gpu-tune85 \
    "balance={edges: [0, 13, 20, 40, 60, 117], power: 0.5}" > "$DEST/balanced.log" 2>&1 &
wait; echo "trained in ${SECONDS}s"
for run in age-lite0-gpu-tune85 age-lite0bal-gpu-tune85; do
    tail -3 runs/$run/train.log 2>/dev/null
    tar -C runs -czf "$DEST/$run.tgz" --exclude checkpoints $run
done
ls -la "$DEST"
