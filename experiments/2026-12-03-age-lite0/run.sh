#!/usr/bin/env bash
# Session 30: a whole EfficientNet-Lite0 as the DLDL-v2 age net (RULE.md). From the repository root:
#   bash experiments/2026-12-03-age-lite0/run.sh tune    # train on 85% of UTKFace train, score the other 15% end to end
#   bash experiments/2026-12-03-age-lite0/run.sh tune2   # round 2: band-weighted loss
#   bash experiments/2026-12-03-age-lite0/run.sh val     # after the rule chose: the shipped bundle beside the new one
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
PY=.venv/bin/python
REC=experiments/2026-12-03-age-lite0
PRIOR=experiments/2026-12-02-age-prior
OUT=runs/age-lite0
mkdir -p "$OUT"
case "${1:?tune or val}" in
tune)
    [ -f runs/age-lite0-tune85/weights.safetensors ] || [ -f runs/age-lite0-tune85/model.safetensors ] || \
    $PY -m lnet_anet.cli.train_age experiment=age_lite0_photo "tune_split={frac: 0.15, seed: 1}" \
        name=age-lite0-tune85 train.progress=false
    $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet --age runs/age-lite0-tune85 \
        --out "$OUT/tune-net.lnetanet"
    $PY $PRIOR/capture.py --bundle "$OUT/tune-net.lnetanet" --run runs/age-lite0-tune85 --part tune --out "$OUT/tune.npz"
    $PY $PRIOR/choose.py "$OUT/tune.npz" --floors 0.1 0.01 --out $REC/choose.json
    # the shipped bundle on the same chips: in sample (its age net learnt from them), a reference only
    $PY $PRIOR/capture.py --bundle lnet_anet/assets/default.lnetanet --run runs/age-lite0-tune85 --part tune \
        --out "$OUT/tune-shipped.npz"
    $PY $PRIOR/choose.py "$OUT/tune-shipped.npz" --taus 0 0.25 --out $REC/choose-shipped-in-sample.json
    $PY $REC/cost.py --bundle shipped=lnet_anet/assets/default.lnetanet lite0=$OUT/tune-net.lnetanet --out $REC/cost.json
    ;;
tune2)  # round 2 (RULE.md): the same with the loss weighted by age band
    RUN=runs/age-lite0bal-tune85
    [ -f $RUN/model.safetensors ] || \
    $PY -m lnet_anet.cli.train_age experiment=age_lite0_photo "tune_split={frac: 0.15, seed: 1}" \
        name=age-lite0bal-tune85 train.progress=false "balance={edges: [0, 13, 20, 40, 60, 117], power: 0.5}"
    $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet --age $RUN \
        --out "$OUT/tune-net2.lnetanet"
    $PY $PRIOR/capture.py --bundle "$OUT/tune-net2.lnetanet" --run $RUN --part tune --out "$OUT/tune2.npz"
    $PY $PRIOR/choose.py "$OUT/tune2.npz" --floors 0.1 0.01 --out $REC/choose-round2.json
    ;;
val)
    $PY benchmarks/bench_end_to_end.py --part val --limit 2000 --scut 0 --stability 200 --probe-train 0 \
        --framings 0 --bundle shipped=runs/age-lite0/before.lnetanet lite0=lnet_anet/assets/default.lnetanet \
        --out $REC/val
    ;;
esac
