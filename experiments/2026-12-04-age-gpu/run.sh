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
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
PY=.venv/bin/python
REC=experiments/2026-12-04-age-gpu
PRIOR=experiments/2026-12-02-age-prior
LITE=experiments/2026-12-03-age-lite0
OUT=runs/age-gpu
SHIPPED=lnet_anet/assets/default.lnetanet
mkdir -p "$OUT"
case "${1:?tune, photos or detail}" in
tune)
    $PY -m lnet_anet.cli.ensemble_dldl runs/age-lite0-gpu-tune85 runs/age-lite0bal-gpu-tune85 --out runs/age-lite0-gpu-ens-tune85
    for net in plain:age-lite0-gpu-tune85 balanced:age-lite0bal-gpu-tune85 ensemble:age-lite0-gpu-ens-tune85; do
        label=${net%%:*}; run=runs/${net#*:}
        $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --age $run --out "$OUT/$label.lnetanet"
        $PY $PRIOR/capture.py --bundle "$OUT/$label.lnetanet" --run runs/age-lite0-gpu-tune85 --part tune \
            --out "$OUT/tune-$label.npz"
        $PY $PRIOR/choose.py "$OUT/tune-$label.npz" --floors 0.1 0.01 --out $REC/choose-$label.json
    done
    ;;
photos)
    $PY $REC/proxy.py --bundle shipped=$SHIPPED ensemble=$OUT/ensemble.lnetanet plain=$OUT/plain.lnetanet \
        balanced=$OUT/balanced.lnetanet --files 1000 --out $REC/proxy.json
    $PY $LITE/photos.py --bundle shipped=$SHIPPED ensemble=$OUT/ensemble.lnetanet member1=$OUT/plain.lnetanet \
        member2=$OUT/balanced.lnetanet --photos 120 --out $REC/photos.json
    ;;
detail)
    $PY $REC/proxy.py --bundle shipped=$SHIPPED ensemble=$OUT/ensemble.lnetanet --files 1000 --soften 2 \
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
    $PY $REC/proxy.py --bundle shipped=$SHIPPED round5=$OUT/ensemble-detail.lnetanet --files 1000 \
        --out $REC/proxy-round5.json
    $PY $LITE/photos.py --bundle shipped=$SHIPPED round5=$OUT/ensemble-detail.lnetanet --photos 120 \
        --out $REC/photos-round5.json
    $PY $LITE/cost.py --bundle shipped=$SHIPPED round5=$OUT/ensemble-detail.lnetanet --out $REC/cost-round5.json
    ;;
esac
