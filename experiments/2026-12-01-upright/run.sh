#!/usr/bin/env bash
# `--rotations` reads photos upright (issue 14's orientation item; a new user's report). From the repository root,
# with the project venv and ../shared/datasets. Lists and the fitted head go to runs/upright (not committed).
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
X=experiments/2026-12-01-upright
python $X/lists.py --n 600 --out runs/upright                                   # train/tune parts to fit, val parts to score
python -m lnet_anet.cli.fit_upright runs/upright/fit-celeba_hq128-train.txt runs/upright/fit-utkface-train.txt \
    runs/upright/fit-wider-tune.txt --out runs/upright/upright_head.safetensors
python $X/choose_rule.py --head runs/upright/upright_head.safetensors --n 200 --out $X/choose_rule.json   # tune parts
# diagnostics on the same tune images, not used: a head fitted on each turn's 3 strongest faces; the same regions turned
python -m lnet_anet.cli.fit_upright runs/upright/fit-celeba_hq128-train.txt runs/upright/fit-utkface-train.txt \
    runs/upright/fit-wider-tune.txt --faces 3 --out runs/upright/upright_head_top3.safetensors
python $X/choose_rule.py --head runs/upright/upright_head_top3.safetensors --n 200 --out $X/choose_rule_top3fit.json
python $X/same_region.py --n 200 --out $X/same_region.json
cp runs/upright/upright_head.safetensors lnet_anet/assets/upright_head.safetensors
python benchmarks/bench_rotations.py runs/upright/score-wider-val.txt runs/upright/score-celeba_hq128-val.txt \
    runs/upright/score-utkface-val.txt runs/upright/score-scut.txt --n 150 --out $X/val
