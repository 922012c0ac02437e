#!/usr/bin/env bash
# RULE.md's figures on the tune parts: WIDER tune AP, stability and attributes, cost (last: it times).
# Rule 1 ran "shipped,arbitrate" (*-tune.json, cost.json); rule 2 "shipped,arbitrate large" (*-rule2.json);
# rule 3 "shipped,arbitrate whole" (*-rule3.json; its stability only when its WIDER line holds).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
PARTS=${PARTS:-runs/nested-faces/parts}
HERE=experiments/2026-12-05-nested-faces
mkdir -p "$PARTS/.hydra"  # the age run's recorded config defines UTKFace's tune part
cp experiments/2026-12-04-age-gpu/device-runs/age-lite0-gpu-tune85/hydra/config.yaml "$PARTS/.hydra/"
export PYTHONPATH=. OMP_NUM_THREADS=2
for rule in 1 2 3; do
    case $rule in
        1) P="shipped,arbitrate"; S=tune; C=cost ;;
        2) P="shipped,arbitrate large"; S=rule2; C=cost-rule2 ;;
        3) P="shipped,arbitrate whole"; S=rule3; C=cost-rule3 ;;
    esac
    $PY $HERE/arbitrate.py wider --part tune --policies "$P" --out $HERE/wider-$S.json
    $PY $HERE/arbitrate.py stability --run "$PARTS" --chips 300 --files 400 --policies "$P" --out $HERE/stability-$S.json
    $PY $HERE/arbitrate.py cost --policies "$P" --out $HERE/$C.json
done
# which faces rule 2 moved on WIDER tune, and whether they lost their match
$PY $HERE/wider_diff.py --out $HERE/wider-diff-tune.json
