#!/usr/bin/env bash
# Shipping the block-1 ANet (session 34): the figures that change with it, the bundle before beside it in the same
# scripts. Run from a tree whose lnet_anet/assets hold the new bundle and heads (the ship commit); BEFORE is the
# tree before it (8ceb64e), whose assets are the bundle and heads of 5626478.
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-03-anet-block1
PY=${PYTHON:-.venv/bin/python}
BEFORE=${BEFORE:?the tree before the ship commit, e.g. a worktree of 8ceb64e}
A=$BEFORE/lnet_anet/assets
R=${RUNS:-runs/ship}
mkdir -p $R
case "${1:-all}" in
end-to-end)  # attributes, age, stability on val; each bundle with its own age descriptor head too
  $PY benchmarks/bench_end_to_end.py --part val --limit 2000 --scut 0 --stability 200 --probe-train 0 --framings 0 \
      --bundle before=$A/default.lnetanet block1=lnet_anet/assets/default.lnetanet \
      --box-head before=$A/box_head.safetensors --face-head before=$A/face_head.safetensors \
      --age-descriptor-head before=$A/age_descriptor.safetensors block1=lnet_anet/assets/age_descriptor.safetensors \
      --out $E/ship/end-to-end ;;
attractiveness)  # the old ANet's descriptor inputs (fit_descriptor_head's cache; the head it writes is not used)
  [ -f $R/scut-map-before.npz ] || (cd $BEFORE && $PY -m lnet_anet.cli.fit_descriptor_head \
      --cache $OLDPWD/$R/scut-map-before.npz --out $OLDPWD/$R/before-attractiveness_descriptor.safetensors)
  $PY $E/attractiveness.py --same before=$A/default.lnetanet:$A/box_head.safetensors:$A/face_head.safetensors \
      block1=lnet_anet/assets/default.lnetanet \
      --caches before=$R/scut-map-before.npz block1=${BLOCK1_CACHE:-runs/anet-block1/scut-map.npz} --out $E/ship ;;
rotations)  # bench_rotations reads the embedded bundle: once in each tree, the same lists
  lists=(runs/upright/score-wider-val.txt runs/upright/score-celeba_hq128-val.txt runs/upright/score-utkface-val.txt
         runs/upright/score-scut.txt)
  $PY benchmarks/bench_rotations.py "${lists[@]}" --n 150 --out $E/ship/rotations-block1
  (cd $BEFORE && $PY benchmarks/bench_rotations.py "${lists[@]/#/$OLDPWD/}" --n 150 --out $OLDPWD/$E/ship/rotations-before) ;;
grids)  # composed grids of CelebA-HQ val faces (a diagnostic)
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val \
      --celeba-hq ${LNET_ANET_DATASETS:-../shared/datasets}/celeba_hq128
  for h in before block1; do
    args=(--bundle $A/default.lnetanet --box-head $A/box_head.safetensors --face-head $A/face_head.safetensors)
    [ $h = block1 ] && args=(--bundle lnet_anet/assets/default.lnetanet)
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        "${args[@]}" --threads 2 --work $R/grids-val-$h --out $E/ship/grids-$h
  done ;;
all) for s in end-to-end attractiveness rotations grids; do bash $0 $s; done ;;
esac
