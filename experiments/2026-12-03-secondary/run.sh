#!/usr/bin/env bash
# Secondary threshold re-study (RULE.md, README.md), from the repository root.
#   run.sh tune   -- each candidate and the shipped bundle on the tune data (~20 min on 2 cores)
#   run.sh        -- val once (only if the rule ships a candidate; round 1 shipped none)
#   run.sh tune2  -- round 2: weak_threshold on the bundle without the face filter (~25 min)
#   run.sh val2   -- round 2's val, once: base and the chosen w 1.5 in the same scripts (~20 min)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-03-secondary
F=experiments/2026-12-03-face-filter
R=runs/secondary
PY=${PYTHON:-.venv/bin/python}
mkdir -p $R
[ -f $R/s3.0.lnetanet ] || git show 0230b41:lnet_anet/assets/default.lnetanet > $R/s3.0.lnetanet  # shipped: 3.0
for s in 2.0 1.5 1.0; do
  [ -f $R/s$s.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle $R/s3.0.lnetanet \
      --localizer "{\"secondary_threshold\": $s}" --note "secondary_threshold $s ($E)" --out $R/s$s.lnetanet
done
[ -f $R/base.lnetanet ] || git show 9a55508:lnet_anet/assets/default.lnetanet > $R/base.lnetanet  # without the face filter
for w in 2.0 1.5 1.0; do
  [ -f $R/w$w.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle $R/base.lnetanet \
      --localizer "{\"weak_threshold\": $w}" --note "weak_threshold $w ($E, round 2)" --out $R/w$w.lnetanet
done
if [ "${1:-val}" = tune2 ]; then
  for b in base w2.0 w1.5 w1.0; do
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
        --bundle $R/$b.lnetanet --threads 2 --work $R/grids-tune-$b --out $E/tune/grids-$b
    [ -f $R/$b.pkl ] || $PY $F/collect.py --part tune --bundle $R/$b.lnetanet --work $R --out $R/$b.pkl
    $PY $F/simulate.py $R/$b.pkl --only none --out $E/tune/pass-$b.json
  done
  $PY $E/extra.py --base $R/base.pkl --passes w2.0=$R/w2.0.pkl w1.5=$R/w1.5.pkl w1.0=$R/w1.0.pkl --out $E/tune/extra-round2.json
  exit 0
fi
if [ "${1:-val}" = val2 ]; then
  $PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
      --bundle base=$R/base.lnetanet weak=$R/w1.5.lnetanet --out $E/val/e2e
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  for b in base w1.5; do
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $R/$b.lnetanet \
        --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        --bundle $R/$b.lnetanet --threads 2 --work $R/grids-val-$b --out $E/val/grids-$b
  done
  $PY benchmarks/bench_localize_speed.py --before $R/base.lnetanet --after $R/w1.5.lnetanet --calls 30 \
      --out $E/val/localize-speed.json
  exit 0
fi
if [ "${1:-val}" = tune ]; then
  [ -f runs/face-grids/tune/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --out runs/face-grids/tune
  for s in 3.0 2.0 1.5 1.0; do
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
        --bundle $R/s$s.lnetanet --threads 2 --work $R/grids-tune-s$s --out $E/tune/grids-s$s
    [ -f $R/s$s.pkl ] || $PY $F/collect.py --part tune --bundle $R/s$s.lnetanet --work $R --out $R/s$s.pkl
    $PY $F/simulate.py $R/s$s.pkl --only none --out $E/tune/pass-s$s.json
  done
  $PY $E/extra.py --base $R/s3.0.pkl --passes s2.0=$R/s2.0.pkl s1.5=$R/s1.5.pkl s1.0=$R/s1.0.pkl --out $E/tune/extra.json
  exit 0
fi
[ "${1:-val}" = val ] || { echo "usage: run.sh [tune|val]" >&2; exit 2; }
C=${CHOSEN:?set CHOSEN to the chosen threshold, e.g. CHOSEN=2.0}
$PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
    --bundle shipped=$R/s3.0.lnetanet chosen=$R/s$C.lnetanet --out $E/val/e2e
[ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
for b in s3.0 s$C; do
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $R/$b.lnetanet \
      --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
      --bundle $R/$b.lnetanet --threads 2 --work $R/grids-val-$b --out $E/val/grids-$b
done
