#!/usr/bin/env bash
# Session 39: the round 3 age nets trained 30 epochs on a lent GPU (RULE.md). From the repository root:
#   the device part (needs the lent GPU; the data is prepared here, see device_prep.py):
#     PYTHONPATH=. python experiments/2026-12-04-age-gpu/device_prep.py   # writes .device/
#     bash .device/train.sh 30 OUT   (on the device; device_train.sh is its copy)
#   then, on the CPU, with runs/age-lite0-gpu-tune85 and runs/age-lite0bal-gpu-tune85 unpacked:
#     bash experiments/2026-12-04-age-gpu/run.sh tune      # ensemble, bundles, tune capture, choose
#     bash experiments/2026-12-04-age-gpu/run.sh photos    # RULE line 4: CelebA-HQ train proxy and WIDER tune photos
#     bash experiments/2026-12-04-age-gpu/run.sh detail    # why photos read older: softened files, focus measure
#     bash experiments/2026-12-04-age-gpu/run.sh detail-above   # softened only where sharper than the chips
#     bash experiments/2026-12-04-age-gpu/run.sh round5    # RULE.md round 5: that as a bundle setting
#   session 40, on the CPU alone, from the committed ensemble-fp16/ (no runs/ needed; $BEFORE, the bundle before
#   round 6 shipped, is taken from git):
#     bash experiments/2026-12-04-age-gpu/run.sh round6    # RULE.md round 6: the bar set on the predictor's crops
#     bash experiments/2026-12-04-age-gpu/run.sh round6-val   # if round 6's lines hold: prior, std scale, val once
#     bash experiments/2026-12-04-age-gpu/run.sh round6-ship  # val held too: the embedded bundle replaced
#     bash experiments/2026-12-04-age-gpu/run.sh round6-descriptor  # then --age-descriptor with either age head
#     bash experiments/2026-12-04-age-gpu/run.sh round6-options     # and the cost of --mirror / --box-jitter
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
PY=.venv/bin/python
REC=experiments/2026-12-04-age-gpu
PRIOR=experiments/2026-12-02-age-prior
LITE=experiments/2026-12-03-age-lite0
OUT=runs/age-gpu
SHIPPED=lnet_anet/assets/default.lnetanet
mkdir -p "$OUT"
BEFORE=$OUT/before-session40.lnetanet  # the embedded bundle before round 6 shipped (rounds 4-6 were scored beside it)
[ -f $BEFORE ] || git show f8b6211:lnet_anet/assets/default.lnetanet > $BEFORE
case "${1:?tune, photos or detail}" in
tune)
    $PY -m lnet_anet.cli.ensemble_dldl runs/age-lite0-gpu-tune85 runs/age-lite0bal-gpu-tune85 --out runs/age-lite0-gpu-ens-tune85
    for net in plain:age-lite0-gpu-tune85 balanced:age-lite0bal-gpu-tune85 ensemble:age-lite0-gpu-ens-tune85; do
        label=${net%%:*}; run=runs/${net#*:}
        $PY -m lnet_anet.cli.build_bundle --from-bundle $BEFORE --age $run --out "$OUT/$label.lnetanet"
        $PY $PRIOR/capture.py --bundle "$OUT/$label.lnetanet" --run runs/age-lite0-gpu-tune85 --part tune \
            --out "$OUT/tune-$label.npz"
        $PY $PRIOR/choose.py "$OUT/tune-$label.npz" --floors 0.1 0.01 --out $REC/choose-$label.json
    done
    ;;
photos)
    $PY $REC/proxy.py --bundle shipped=$BEFORE ensemble=$OUT/ensemble.lnetanet plain=$OUT/plain.lnetanet \
        balanced=$OUT/balanced.lnetanet --files 1000 --out $REC/proxy.json
    $PY $LITE/photos.py --bundle shipped=$BEFORE ensemble=$OUT/ensemble.lnetanet member1=$OUT/plain.lnetanet \
        member2=$OUT/balanced.lnetanet --photos 120 --out $REC/photos.json
    ;;
detail)
    $PY $REC/proxy.py --bundle shipped=$BEFORE ensemble=$OUT/ensemble.lnetanet --files 1000 --soften 2 \
        --out $REC/proxy-soften2.json
    $PY $PRIOR/capture.py --bundle "$OUT/ensemble.lnetanet" --run runs/age-lite0-gpu-tune85 --part tune --soften 2 \
        --out "$OUT/tune-ensemble-soften2.npz"
    $PY $PRIOR/choose.py "$OUT/tune-ensemble-soften2.npz" --floors 0.1 0.01 --out $REC/choose-ensemble-soften2.json
    $PY $REC/detail.py --files 500 --out $REC/detail.json
    ;;
detail-above)  # soften only faces sharper than 90% of UTKFace's train chips (detail.json's p90, 5052)
    $PY $PRIOR/capture.py --bundle "$OUT/ensemble.lnetanet" --run runs/age-lite0-gpu-tune85 --part tune --soften 2 \
        --soften-above 5052 --out "$OUT/tune-ensemble-soften2-above.npz"
    $PY $PRIOR/choose.py "$OUT/tune-ensemble-soften2-above.npz" --floors 0.1 0.01 \
        --out $REC/choose-ensemble-soften2-above.json
    $PY $REC/proxy.py --bundle ensemble=$OUT/ensemble.lnetanet --files 1000 --soften 2 --soften-above 5052 \
        --out $REC/proxy-soften2-above.json
    ;;
round5)  # RULE.md round 5: round 4's ensemble reading crops sharper than the chips softened x2
    $PY -m lnet_anet.cli.build_bundle --from-bundle $OUT/ensemble.lnetanet \
        --age-input '{"soften": 2, "soften_above": 5052}' --out $OUT/ensemble-detail.lnetanet
    $PY $PRIOR/capture.py --bundle "$OUT/ensemble-detail.lnetanet" --run runs/age-lite0-gpu-tune85 --part tune \
        --out "$OUT/tune-ensemble-detail.npz"
    $PY $PRIOR/choose.py "$OUT/tune-ensemble-detail.npz" --floors 0.1 0.01 --out $REC/choose-round5.json
    $PY $REC/proxy.py --bundle shipped=$BEFORE round5=$OUT/ensemble-detail.lnetanet --files 1000 \
        --out $REC/proxy-round5.json
    $PY $LITE/photos.py --bundle shipped=$BEFORE round5=$OUT/ensemble-detail.lnetanet --photos 120 \
        --out $REC/photos-round5.json
    $PY $LITE/cost.py --bundle shipped=$BEFORE round5=$OUT/ensemble-detail.lnetanet --out $REC/cost-round5.json
    ;;
round6)  # RULE.md round 6: the bar is the p90 of the focus of the predictor's age crops of UTKFace train chips
    $PY -m lnet_anet.cli.build_bundle --from-bundle $BEFORE --age $REC/ensemble-fp16 --out $OUT/ensemble.lnetanet
    $PY -m lnet_anet.cli.build_bundle --from-bundle $OUT/ensemble.lnetanet \
        --age-input '{"soften": 2, "soften_above": 5052}' --out $OUT/ensemble-detail.lnetanet
    $PY $REC/detail.py --files 500 --crops $OUT/ensemble-detail.lnetanet --out $REC/detail-crops.json
    BAR=$($PY -c "import json; print(json.load(open('$REC/detail-crops.json'))['crops']['bar (p90, nearest 10)'])")
    $PY -m lnet_anet.cli.build_bundle --from-bundle $OUT/ensemble.lnetanet \
        --age-input "{\"soften\": 2, \"soften_above\": $BAR}" --out $OUT/round6.lnetanet
    PARTS=$OUT/parts/.hydra  # capture.py reads the tune part from a run's config: the plain net's, as recorded
    mkdir -p $PARTS && cp $REC/device-runs/age-lite0-gpu-tune85/hydra/config.yaml $PARTS/
    $PY $PRIOR/capture.py --bundle "$OUT/round6.lnetanet" --run $OUT/parts --part tune --out "$OUT/tune-round6.npz"
    $PY $PRIOR/choose.py "$OUT/tune-round6.npz" --floors 0.1 0.01 --out $REC/choose-round6.json
    $PY $LITE/cost.py --bundle shipped=$BEFORE round6=$OUT/round6.lnetanet --out $REC/cost-round6.json
    $PY $REC/proxy.py --bundle shipped=$BEFORE round6=$OUT/round6.lnetanet --files 1000 --out $REC/proxy-round6.json
    $PY $LITE/photos.py --bundle shipped=$BEFORE round6=$OUT/round6.lnetanet --photos 120 \
        --out $REC/photos-round6.json
    ;;
round6-val)  # round 6's lines held: tau and std scale chosen on the tune capture (round 3's procedure), then val once
    # the lowest band-balanced MAE within 0.10 years of tau 0's, at the floor the bundle's correction uses (0.1)
    TAU=$($PY -c 'import json; rows = {k.split()[0][4:]: v for k, v in json.load(open("'$REC'/choose-round6.json"))["settings"].items() if k.endswith("floor=0.1")}; print(min((k for k in rows if rows[k]["mae"] <= rows["0"]["mae"] + 0.10), key=lambda k: rows[k]["band_mae"]))')
    $PY $PRIOR/std_scale.py "$OUT/tune-round6.npz" --tau $TAU --scales 1.0 0.95 0.9 0.85 0.8 0.75 0.7 \
        --out $REC/std_scale-round6.json
    SCALE=$($PY -c "import json; print(json.load(open('$REC/std_scale-round6.json'))['chosen'])")
    echo "round 6: tau $TAU, std scale $SCALE" | tee $REC/round6-choice.txt
    $PY -m lnet_anet.cli.build_bundle --from-bundle $OUT/round6.lnetanet --age-prior $TAU --age-std-scale $SCALE \
        --out $OUT/round6-cal.lnetanet
    $PY benchmarks/bench_end_to_end.py --part val --limit 2000 --scut 0 --stability 200 --probe-train 0 \
        --framings 0 --bundle shipped=$BEFORE round6=$OUT/round6-cal.lnetanet --out $REC/val-round6
    ;;
round6-descriptor)  # after shipping: the opt-in --age-descriptor mixes its expectation with the bundle head's
    $PY benchmarks/bench_end_to_end.py --part val --limit 2000 --scut 0 --stability 0 --probe-train 0 --framings 0 \
        --bundle before=$BEFORE round6=$SHIPPED \
        --age-descriptor-head lnet_anet/assets/age_descriptor.safetensors --out $REC/val-round6-descriptor
    ;;
round6-options)  # what --mirror and --box-jitter cost with either age head
    $PY $LITE/cost.py --bundle before=$BEFORE now=$SHIPPED --calls 15 \
        --options plain mirror box_jitter --out $REC/options-cost.json
    ;;
round6-ship)  # val held the rule's conditions (README, round 6): the calibrated bundle becomes the embedded one
    cp $OUT/round6-cal.lnetanet $SHIPPED
    ;;
esac
