#!/usr/bin/env bash
# The diagnostic of README.md: both policies through Predictor on UTKFace's tune part and CelebA-HQ train files.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
PARTS=${PARTS:-runs/stretched-heads/parts}
mkdir -p "$PARTS/.hydra"  # diagnose.py reads the tune part from the age run's recorded config
cp experiments/2026-12-04-age-gpu/device-runs/age-lite0-gpu-tune85/hydra/config.yaml "$PARTS/.hydra/"
PYTHONPATH=. $PY experiments/2026-12-05-stretched-heads/diagnose.py --run "$PARTS" --chips 400 --files 400 \
    --out experiments/2026-12-05-stretched-heads/tune.json
PYTHONPATH=. $PY experiments/2026-12-05-stretched-heads/fixed_box.py --run "$PARTS" --chips 400 \
    --out experiments/2026-12-05-stretched-heads/fixed_box.json
PYTHONPATH=. $PY experiments/2026-12-05-stretched-heads/fixed_box.py --run "$PARTS" --chips 400 --no-refine-boxes \
    --out experiments/2026-12-05-stretched-heads/fixed_box-no-refine.json
PYTHONPATH=. $PY experiments/2026-12-05-stretched-heads/fixed_box.py --run "$PARTS" --chips 400 --box-jitter \
    --out experiments/2026-12-05-stretched-heads/fixed_box-box-jitter.json
