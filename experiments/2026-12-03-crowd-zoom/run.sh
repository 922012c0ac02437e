#!/usr/bin/env bash
# Weak faces ask for the zoom-in in crowds (RULE.md, README.md), from the repository root.
#   run.sh tune   -- base and k = 1, 2, 3 on the tune data (~45 min on 2 cores)
#   run.sh        -- val once: base and the chosen k in the same scripts (CHOSEN=k; not run: none chosen)
#   run.sh detail -- round 2 on tune; run.sh detail-val (CHOSEN=ratio) val once
#   run.sh fixes  -- the fixes of sections 2 and 4 on tune, then val once beside session 28's code (~25 min)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-03-crowd-zoom
F=experiments/2026-12-03-face-filter
S=experiments/2026-12-03-secondary
R=runs/crowd-zoom
PY=${PYTHON:-.venv/bin/python}
mkdir -p $R
[ -f $R/base.lnetanet ] || git show 9ed48b5:lnet_anet/assets/default.lnetanet > $R/base.lnetanet  # session 28's bundle
for k in 1 2 3; do
  [ -f $R/k$k.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle $R/base.lnetanet \
      --lnet-input "{\"zoom_in_weak\": $k}" --note "zoom_in_weak $k ($E)" --out $R/k$k.lnetanet
done
if [ "${1:-val}" = tune ]; then
  [ -f runs/face-grids/tune/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --out runs/face-grids/tune
  for b in base k1 k2 k3; do
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
        --bundle $R/$b.lnetanet --threads 2 --work $R/grids-tune-$b --out $E/tune/grids-$b
    [ -f $R/$b.pkl ] || $PY $F/collect.py --part tune --bundle $R/$b.lnetanet --work $R --out $R/$b.pkl
    $PY $F/simulate.py $R/$b.pkl --only none --out $E/tune/pass-$b.json
  done
  $PY $S/extra.py --base $R/base.pkl --passes k1=$R/k1.pkl k2=$R/k2.pkl k3=$R/k3.pkl --out $E/tune/extra.json
  $PY $E/zoom_share.py --part tune --n 300 --work $R --bundle base=$R/base.lnetanet k1=$R/k1.lnetanet \
      k2=$R/k2.lnetanet k3=$R/k3.lnetanet --out $E/tune/zoom-share.json
  for k in 1 2 3; do
    $PY benchmarks/bench_localize_speed.py --before $R/base.lnetanet --after $R/k$k.lnetanet --calls 30 \
        --out $E/tune/localize-speed-k$k.json
  done
  exit 0
fi
if [ "${1:-val}" = detail ] || [ "${1:-val}" = detail-val ]; then
  # round 2 (RULE.md): the detail pass on by default; (a) a phone photo's face, (b) issue 14's line
  part=tune; ratios=none,0.25,0.35,0.5; [ "$1" = detail-val ] && { part=val; ratios=none,${CHOSEN:?set CHOSEN}; }
  $PY benchmarks/bench_large_photo.py --part $part --n 20 --size 4000x3000 --face 240 --ratios $ratios \
      --work runs/large-photo/phone --out $E/$part/detail-phone
  $PY benchmarks/bench_large_photo.py --part $part --n 20 --ratios $ratios --work runs/large-photo/photos \
      --out $E/$part/detail-large
  exit 0
fi
if [ "${1:-val}" = fixes ]; then
  # sections 2, 4, 5: the tune pass of the code after the fixes (embedded bundle unchanged), the gate,
  # then val once: session 28's code (a worktree at 9ed48b5) and this code, same scripts, same files
  [ -f $R/fixed.pkl ] || $PY $F/collect.py --part tune --bundle $R/base.lnetanet --work $R --out $R/fixed.pkl
  $PY $F/simulate.py $R/fixed.pkl --only none --out $E/tune/pass-fixed.json
  $PY $S/extra.py --base $R/base.pkl --passes fixed=$R/fixed.pkl --out $E/tune/extra-fixed.json
  $PY $E/flat_gate.py --part tune --out $E/tune/flat-gate-after.json
  $PY $E/flat_gate.py --part val --out $E/val/flat-gate.json
  [ -d $R/before-code ] || git worktree add --detach $R/before-code 9ed48b5
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  for code in before after; do
    root=.; [ $code = before ] && root=$R/before-code
    PYTHONPATH=$root $PY $root/benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped \
        --bundle $R/base.lnetanet --threads 2 --work $R/wider-val-$code --out $E/val/wider-$code
    PYTHONPATH=$root $PY $root/benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv \
        --detectors lnet_anet_shipped --bundle $R/base.lnetanet --threads 2 --work $R/grids-val-$code --out $E/val/grids-$code
  done
  $PY benchmarks/bench_large_photo.py --part val --n 20 --ratios none,0.5 --work runs/large-photo/photos \
      --out $E/val/large-photo
  exit 0
fi
[ "${1:-val}" = val ] || { echo "usage: run.sh [tune|val|fixes]" >&2; exit 2; }
C=${CHOSEN:?set CHOSEN to the chosen k, e.g. CHOSEN=2}
$PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
    --bundle base=$R/base.lnetanet crowd=$R/k$C.lnetanet --out $E/val/e2e
[ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
for b in base k$C; do
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $R/$b.lnetanet \
      --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
      --bundle $R/$b.lnetanet --threads 2 --work $R/grids-val-$b --out $E/val/grids-$b
done
$PY benchmarks/bench_localize_speed.py --before $R/base.lnetanet --after $R/k$C.lnetanet --calls 30 \
    --out $E/val/localize-speed.json
