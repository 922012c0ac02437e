#!/usr/bin/env bash
# RULE.md's figures on the tune parts: stability and attributes, WIDER tune AP, cost (run alone: it times).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
PARTS=${PARTS:-runs/settled-box/parts}
HERE=experiments/2026-12-05-settled-box
mkdir -p "$PARTS/.hydra"  # the age run's recorded config defines UTKFace's tune part
cp experiments/2026-12-04-age-gpu/device-runs/age-lite0-gpu-tune85/hydra/config.yaml "$PARTS/.hydra/"
export PYTHONPATH=. OMP_NUM_THREADS=2
$PY $HERE/settle.py stability --run "$PARTS" --chips 300 --files 400 --out $HERE/stability-tune.json
$PY $HERE/settle.py wider --part tune --out $HERE/wider-tune.json
$PY $HERE/settle.py cost --out $HERE/cost.json
# the diagnostics of README.md: which faces make the tails, and the face head on their boxes
$PY $HERE/tails.py --run "$PARTS" --chips 300 --out $HERE/tails-tune.json
$PY $HERE/nested.py --tails $HERE/tails-tune.json --out $HERE/nested-tune.json
