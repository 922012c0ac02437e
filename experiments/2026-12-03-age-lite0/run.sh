#!/usr/bin/env bash
# Session 30: a whole EfficientNet-Lite0 as the DLDL-v2 age net (RULE.md). From the repository root:
#   bash experiments/2026-12-03-age-lite0/run.sh tune    # train on 85% of UTKFace train, score the other 15% end to end
#   bash experiments/2026-12-03-age-lite0/run.sh tune2   # round 2: band-weighted loss
#   bash experiments/2026-12-03-age-lite0/run.sh tune3   # round 3: rounds 1 and 2 averaged (after tune, tune2)
#   bash experiments/2026-12-03-age-lite0/run.sh val     # after the rule chose: the shipped bundle beside the new one
#   bash experiments/2026-12-03-age-lite0/run.sh photos  # round 3 on WIDER tune photos (no ages): why it was withdrawn
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
tune3)  # round 3 (RULE.md): the two nets' distributions averaged, nothing trained
    RUN=runs/age-lite0-ens-tune85
    $PY -m lnet_anet.cli.ensemble_dldl runs/age-lite0-tune85 runs/age-lite0bal-tune85 --out $RUN
    $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet --age $RUN \
        --out "$OUT/tune-net3.lnetanet"
    $PY $PRIOR/capture.py --bundle "$OUT/tune-net3.lnetanet" --run runs/age-lite0-tune85 --part tune --out "$OUT/tune3.npz"
    $PY $PRIOR/choose.py "$OUT/tune3.npz" --floors 0.1 0.01 --out $REC/choose-round3.json
    $PY $REC/cost.py --bundle shipped=lnet_anet/assets/default.lnetanet ensemble=$OUT/tune-net3.lnetanet \
        --out $REC/cost-round3.json
    ;;
val)  # round 3 passed on tune: its prior strength and std scale chosen there (RULE.md), then val once
    $PY $PRIOR/std_scale.py "$OUT/tune3.npz" --tau 0.25 --scales 1.0 0.95 0.9 0.85 0.8 0.75 0.7 \
        --out $REC/std_scale-round3.json
    $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet --age runs/age-lite0-ens-tune85 \
        --out "$OUT/ens.lnetanet"
    $PY -m lnet_anet.cli.build_bundle --from-bundle "$OUT/ens.lnetanet" --age-prior 0.25 --age-std-scale 0.75 \
        --out "$OUT/ens-cal.lnetanet"
    $PY benchmarks/bench_end_to_end.py --part val --limit 2000 --scut 0 --stability 200 --probe-train 0 \
        --framings 0 --bundle shipped=lnet_anet/assets/default.lnetanet ensemble=$OUT/ens-cal.lnetanet \
        --out $REC/val
    ;;
photos)
    $PY $REC/photos.py --bundle before=lnet_anet/assets/default.lnetanet ensemble=$OUT/ens-cal.lnetanet \
        member1=$OUT/tune-net.lnetanet member2=$OUT/tune-net2.lnetanet --photos 120 --out $REC/photos.json
    ;;
esac
