#!/usr/bin/env bash
# RULE.md: the detail pass at 0.35 with and without detail_confirm, beside --detail 0.5, on
#   A: 6000 x 4000 photos with one 100 px face; B: 4032 x 3024 photos with one 250 px face
#   (composed by bench_large_photo.py from the WIDER part asked for; each setting in its own process).
#   bash experiments/2026-12-06-detail-confirm/run.sh tune          # b in {-1, 0, 1}, ~12 min on 2 cores
#   bash experiments/2026-12-06-detail-confirm/run.sh val B         # the chosen b only, with none and 0.5
#   bash experiments/2026-12-06-detail-confirm/run.sh val2          # round 2: none, 0.35, 0.5 (MTCNN on B), no bundle built
set -euo pipefail
part=${1:?usage: run.sh tune | run.sh val B | run.sh val2}
if [ "$part" = val2 ]; then
  export OMP_NUM_THREADS=2 PYTHONPATH=.
  export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
  .venv/bin/python benchmarks/bench_large_photo.py --part val --n 20 --size 6000x4000 --face 100 --ratios none,0.35,0.5 \
    --work runs/large-photo/photos --out experiments/2026-12-06-detail-confirm/val2-A
  .venv/bin/python benchmarks/bench_large_photo.py --part val --n 20 --size 4032x3024 --face 250 --ratios none,0.35,0.5,mtcnn \
    --work runs/large-photo/photos-B --out experiments/2026-12-06-detail-confirm/val2-B
  exit 0
fi
here=experiments/2026-12-06-detail-confirm
bundles=runs/large-cascade/bundles
py=.venv/bin/python
export OMP_NUM_THREADS=2 PYTHONPATH=.
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
if [ "$part" = tune ]; then choices="-1 0 1"; baseline=0.35,0.5; else choices=${2:?val needs the chosen b}; baseline=none,0.5; fi
mkdir -p $bundles
for b in $choices; do
  [ -f $bundles/confirm$b.lnetanet ] || $py -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet \
    --lnet-input "{\"detail_confirm\": [$b, 0.5]}" --out $bundles/confirm$b.lnetanet
done
for set in A B; do
  if [ $set = A ]; then size=6000x4000; face=100; work=runs/large-photo/photos; else size=4032x3024; face=250; work=runs/large-photo/photos-B; fi
  $py benchmarks/bench_large_photo.py --part "$part" --n 20 --size $size --face $face --ratios $baseline \
    --work $work --out "$here/$part-$set-shipped"
  for b in $choices; do
    $py benchmarks/bench_large_photo.py --part "$part" --n 20 --size $size --face $face --ratios 0.35 \
      --bundle $bundles/confirm$b.lnetanet --work $work --out "$here/$part-$set-confirm$b"
  done
done
