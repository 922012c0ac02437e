#!/usr/bin/env bash
# The LNet-in-the-wild study (RULE.md, README.md), from the repository root.
#   run.sh tune   -- rounds 1-7 on the tune parts (the fit half trains, the choose half chooses)
#   run.sh        -- val once: the shipped bundle and the chosen one (round 7) in the same scripts
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-02-lnet-wild
R=runs/lnet-wild
PY=${PYTHON:-.venv/bin/python}
if [ "${1:-val}" = tune ]; then
  $PY $E/wild.py labels                      # the fit / choose halves of WIDER's tune part; choose.csv
  $PY $E/wild.py cache                       # the lower part's maps: fit-half photos, face-free crops, composed scenes
  $PY $E/wild.py train                       # rounds 1-3: photos vs face-free crops
  $PY $E/wild.py bundle                      # round 2's bundle (and shipped-fit)
  $PY $E/wild.py cache_masked
  $PY $E/wild.py train name=masked negatives=masked    # rounds 4-7: photos vs the same photos, faces filled
  $PY $E/wild.py bundle name=masked
  git show 5b3820c:lnet_anet/assets/default.lnetanet > $R/shipped.lnetanet   # the bundle before the check map
  for b in wild shipped-fit shipped masked; do
    $PY benchmarks/bench_detection.py --format csv --labels $R/choose.csv --part all --face-free \
        --detectors lnet_anet,lnet_anet_localize_open,lnet_anet_localize --bundle $R/$b.lnetanet --threads 2 \
        --work $R/det-work-$b --out $R/det-choose-$b
  done
  $PY $E/rescore.py --second $R/wild-scaled.lnetanet         # round 3 (needs det-work-shipped)
  $PY $E/rescore.py --second $R/masked-scaled.lnetanet       # round 4
  $PY benchmarks/bench_end_to_end.py --part tune --limit 400 --scut 400 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$R/shipped.lnetanet masked=$R/masked.lnetanet --out $R/e2e-tune              # round 5
  for c in 0.5 1 2; do                                                                             # rounds 6-7
    $PY $E/wild.py check_bundle check_faces=$c
    $PY benchmarks/bench_detection.py --format csv --labels $R/choose.csv --part all --face-free --detectors lnet_anet \
        --bundle $R/check-$c.lnetanet --threads 2 --work $R/det-work-check-$c --out $R/det-choose-check-$c
  done
  for c in 2 1; do
    $PY benchmarks/bench_end_to_end.py --part tune --limit 400 --scut 400 --stability 0 --probe-train 0 --framings 0 \
        --bundle shipped=$R/shipped.lnetanet check$c=$R/check-$c.lnetanet --out $R/e2e-tune-check$c
  done
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/check-1.lnetanet --lnet-input '{"check_rescue": true}' \
      --note "the rescue checked too (experiments/2026-12-02-lnet-wild, round 8)" --out $R/check-rescue.lnetanet
  for b in check-1 check-rescue; do                                                               # round 8
    $PY benchmarks/bench_detection.py --format csv --labels $R/choose.csv --part all --face-free \
        --detectors lnet_anet_shipped --bundle $R/$b.lnetanet --threads 2 --work $R/det-work-r8-$b --out $R/det-choose-r8-$b
  done
  $PY benchmarks/bench_end_to_end.py --part tune --limit 400 --scut 400 --stability 0 --probe-train 0 --framings 0 \
      --bundle check1=$R/check-1.lnetanet rescue=$R/check-rescue.lnetanet --out $R/e2e-tune-r8
  exit 0
fi
[ -f $R/shipped.lnetanet ] || git show 5b3820c:lnet_anet/assets/default.lnetanet > $R/shipped.lnetanet
[ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
$PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet,mtcnn --bundle $R/shipped.lnetanet \
    --threads 2 --work $R/wider-work-shipped --out $R/wider-val-shipped
$PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet --bundle $R/check-1.lnetanet \
    --threads 2 --work $R/wider-work-check --out $R/wider-val-check
for b in shipped check-1; do
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet \
      --bundle $R/$b.lnetanet --threads 2 --work $R/grids-work-$b --out $R/grids-val-$b
done
$PY benchmarks/bench_end_to_end.py --part val --limit 1000 --scut 1000 --stability 0 --probe-train 0 --framings 0 \
    --bundle shipped=$R/shipped.lnetanet check=$R/check-1.lnetanet --out $R/e2e-val
