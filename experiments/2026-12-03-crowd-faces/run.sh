#!/usr/bin/env bash
# Crowd faces (RULE.md, README.md), from the repository root.
#   run.sh tune   -- round 1: the shipped bundle and each candidate on the tune data (~40 min on 2 cores)
#   run.sh tune2  -- round 2 (RULE.md): the shipped bundle and round 2's candidates, round 2's code (~25 min)
#   run.sh cost   -- localization speed of the chosen candidate beside the shipped bundle
#   run.sh val    -- val once: the shipped bundle and the chosen candidate in the same scripts (~25 min)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-03-crowd-faces
F=experiments/2026-12-03-face-filter
S=experiments/2026-12-03-secondary
R=runs/crowd
PY=${PYTHON:-.venv/bin/python}
T=0.6624905531191163  # the bundle's image-level threshold
mkdir -p $R
[ -f $R/shipped.lnetanet ] || git show 5d11b47:lnet_anet/assets/default.lnetanet > $R/shipped.lnetanet
build() {  # name share bar
  [ -f $R/$1.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle $R/shipped.lnetanet \
      --localizer "{\"crowd\": [$2, $3]}" --note "crowd [$2, $3] ($E)" --out $R/$1.lnetanet
}
build c35 0.35 $T
build c50 0.5 $T
build c35b 0.35 1.0
# round 2 (RULE.md): the same settings, read by round 2's rule (a clear best face, read as shipped)
[ -f $R/shipped2.lnetanet ] || cp $R/shipped.lnetanet $R/shipped2.lnetanet
build r2c35 0.35 $T
build r2c50 0.5 $T
case "${1:-}" in
tune2)
  for b in shipped2 r2c35 r2c50; do
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
        --bundle $R/$b.lnetanet --threads 2 --work $R/grids-tune-$b --out $E/tune/grids-$b
    [ -f $R/$b.pkl ] || $PY $F/collect.py --part tune --bundle $R/$b.lnetanet --work $R --out $R/$b.pkl
    $PY $F/simulate.py $R/$b.pkl --only none --out $E/tune/pass-$b.json
  done
  $PY $S/extra.py --base $R/shipped2.pkl --passes r2c35=$R/r2c35.pkl r2c50=$R/r2c50.pkl --out $E/tune/extra-round2.json
  ;;
tune)
  [ -f runs/face-grids/tune/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --out runs/face-grids/tune
  for b in shipped c35 c50 c35b; do
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
        --bundle $R/$b.lnetanet --threads 2 --work $R/grids-tune-$b --out $E/tune/grids-$b
    [ -f $R/$b.pkl ] || $PY $F/collect.py --part tune --bundle $R/$b.lnetanet --work $R --out $R/$b.pkl
    $PY $F/simulate.py $R/$b.pkl --only none --out $E/tune/pass-$b.json
  done
  $PY $S/extra.py --base $R/shipped.pkl --passes c35=$R/c35.pkl c50=$R/c50.pkl c35b=$R/c35b.pkl --out $E/tune/extra.json
  ;;
cost)
  C=${CHOSEN:?set CHOSEN to the chosen candidate, e.g. CHOSEN=c35}
  $PY benchmarks/bench_localize_speed.py --before $R/shipped.lnetanet --after $R/$C.lnetanet --calls 30 \
      --out $E/tune/localize-speed.json
  ;;
val)
  C=${CHOSEN:?set CHOSEN to the chosen candidate, e.g. CHOSEN=c35}
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  for b in shipped $C; do
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $R/$b.lnetanet \
        --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        --bundle $R/$b.lnetanet --threads 2 --work $R/grids-val-$b --out $E/val/grids-$b
  done
  $PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$R/shipped.lnetanet crowd=$R/$C.lnetanet --out $E/val/e2e
  ;;
*) echo "usage: run.sh tune|tune2|cost|val" >&2; exit 2 ;;
esac
