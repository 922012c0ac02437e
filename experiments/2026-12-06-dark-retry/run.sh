#!/usr/bin/env bash
# RULE.md: the shipped bundle against retry_weaker_than 1e6 (every dark or over-exposed photo read
# again), end to end through Predictor on WIDER photos as they are (with face-free crops) and x0.1.
#   bash experiments/2026-12-06-dark-retry/run.sh tune|val     (~10 min on 2 cores)
set -euo pipefail
part=${1:?usage: run.sh tune|val}
export PYTHONPATH=. OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
E=experiments/2026-12-06-dark-retry
R=runs/dark-retry
PY=${PYTHON:-.venv/bin/python}
mkdir -p $R
[ -f $R/always.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet \
    --lnet-input '{"retry_weaker_than": 1000000}' --out $R/always.lnetanet
[ -d $R/$part-x0.1 ] || $PY $E/make_dark.py --part $part --gain 0.1 --out $R/$part-x0.1
limit=300; [ "$part" = val ] && limit=100000
for b in shipped=lnet_anet/assets/default.lnetanet always=$R/always.lnetanet; do
  n=${b%%=*}; f=${b#*=}
  $PY benchmarks/bench_detection.py --part $part --limit $limit --face-free --detectors lnet_anet_shipped --bundle $f \
      --threads 2 --work $R/$part-plain-$n --out $E/$part-plain-$n
  $PY benchmarks/bench_detection.py --part $part --limit $limit --detectors lnet_anet_shipped --bundle $f --threads 2 \
      --labels $R/$part-x0.1/wider_face_split/wider_face_train_bbx_gt.txt --work $R/$part-dark-$n --out $E/$part-dark-$n
done
for f in $E/$part-*/results.md; do echo "$f: $(grep 'lnet_anet_shipped |' $f)"; done
