#!/usr/bin/env bash
# RULE.md's figures. `run.sh tune` (default): the tune parts, WIDER tune AP, stability and attributes, cost (last: it
# times). Rule 1 ran "shipped,arbitrate" (*-tune.json, cost.json); rule 2 "shipped,arbitrate large" (*-rule2.json);
# rule 3 "shipped,arbitrate whole" (*-rule3.json; its stability only when its WIDER line holds); rule 4
# "shipped,arbitrate whole + picture" (*-rule4.json, WIDER at both thresholds; arbitrate.py's PictureInMerge re-creates
# it). `run.sh tails`: tails.py's diagnostic under rule 3. `run.sh val`: rule 4 scored once on val, beside shipped
# (RULE.md, "Rule 4 on val"). `run.sh face-free`: false alarms on WIDER tune's face-free crops (rule 4's diagnosis).
# `run.sh tune5` / `val5`: rule 5, its candidate alone (RULE.md: its shipped column is rule 4's runs').
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
PARTS=${PARTS:-runs/nested-faces/parts}
HERE=experiments/2026-12-05-nested-faces
# The bundle before rule 5 shipped (main at 9b2e08b). arbitrate.py's policies set the arbitration themselves, so
# its "shipped" is that bundle's reading with today's embedded one too (they differ only in the two settings).
SHIPPED=${SHIPPED:-runs/nested-faces/before.lnetanet}
export PYTHONPATH=. OMP_NUM_THREADS=2
mkdir -p "$PARTS/.hydra" runs/nested-faces  # the age run's recorded config defines UTKFace's tune part
[ -f "$SHIPPED" ] || git show 9b2e08b:lnet_anet/assets/default.lnetanet > "$SHIPPED"
cp experiments/2026-12-04-age-gpu/device-runs/age-lite0-gpu-tune85/hydra/config.yaml "$PARTS/.hydra/"
case "${1:-tune}" in
tune)
    for rule in 1 2 3 4; do
        case $rule in
            1) P="shipped,arbitrate"; S=tune; C=cost ;;
            2) P="shipped,arbitrate large"; S=rule2; C=cost-rule2 ;;
            3) P="shipped,arbitrate whole"; S=rule3; C=cost-rule3 ;;
            4) P="shipped,arbitrate whole + picture"; S=rule4; C=cost-rule4 ;;
        esac
        $PY $HERE/arbitrate.py wider --part tune --policies "$P" --out $HERE/wider-$S.json
        [ $rule = 4 ] && $PY $HERE/arbitrate.py wider --part tune --threshold shipped --policies "$P" \
            --out $HERE/wider-$S-shipped-threshold.json
        $PY $HERE/arbitrate.py stability --run "$PARTS" --chips 300 --files 400 --policies "$P" --out $HERE/stability-$S.json
        $PY $HERE/arbitrate.py cost --policies "$P" --out $HERE/$C.json
    done
    # which faces rule 2 moved on WIDER tune, and whether they lost their match
    $PY $HERE/wider_diff.py --out $HERE/wider-diff-tune.json ;;
tails)  # rule 3's p95 tails (experiments/2026-12-05-settled-box/tails.py with the arbitration on), then a few chips
    $PY $HERE/tails_rule3.py --run "$PARTS" --chips 300 --out $HERE/tails-rule3.json
    $PY $HERE/probe.py 14_1_0_20170109204200483 30_1_1_20170112215057720 71_0_0_20170104213311644 \
        25_1_1_20170116223020576 2_1_0_20170109191752762
    $PY $HERE/shares.py --limit 300 ;;
face-free)
    $PY $HERE/face_free.py --part tune --policies "shipped,arbitrate whole,arbitrate whole + picture" \
        --out $HERE/face-free-tune.json ;;
tune5)
    P="arbitrate whole + picture (decided)"
    $PY $HERE/face_free.py --part tune --policies "$P" --out $HERE/face-free-tune-rule5.json
    $PY $HERE/arbitrate.py wider --part tune --threshold shipped --policies "$P" --out $HERE/wider-rule5-shipped-threshold.json
    $PY $HERE/arbitrate.py wider --part tune --policies "$P" --out $HERE/wider-rule5.json
    $PY $HERE/arbitrate.py stability --run "$PARTS" --chips 300 --files 400 --policies "$P" --out $HERE/stability-rule5.json
    $PY $HERE/arbitrate.py cost --policies "shipped,$P" --out $HERE/cost-rule5.json ;;
val5)  # the library's placement (rule 5) in a bundle of its own; val-rule4/ holds shipped's figures
    R=runs/nested-faces
    $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED \
        --lnet-input '{"arbitrate_nested": 0.8, "arbitrate_picture": true}' --out $R/rule5.lnetanet
    $PY benchmarks/bench_end_to_end.py --part val --limit 2000 --scut 0 --stability 200 --probe-train 0 --framings 0 \
        --bundle rule5=$R/rule5.lnetanet --out $HERE/val-rule5
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet,lnet_anet_shipped \
        --bundle $R/rule5.lnetanet --threads 2 --work $R/wider-val-rule5 --out $HERE/val-rule5/wider-rule5 ;;
val)  # run at db26ae8, whose library judged the lone part right after the merge (rule 4); today's library gives rule 5
    R=runs/nested-faces
    $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED \
        --lnet-input '{"arbitrate_nested": 0.8, "arbitrate_picture": true}' --out $R/rule4.lnetanet
    $PY benchmarks/bench_end_to_end.py --part val --limit 2000 --scut 0 --stability 200 --probe-train 0 --framings 0 \
        --bundle shipped=$SHIPPED rule4=$R/rule4.lnetanet --out $HERE/val-rule4
    for h in shipped rule4; do
        B=$SHIPPED; [ $h = rule4 ] && B=$R/rule4.lnetanet
        $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet,lnet_anet_shipped --bundle $B \
            --threads 2 --work $R/wider-val-$h --out $HERE/val-rule4/wider-$h
    done ;;
esac
