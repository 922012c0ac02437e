#!/usr/bin/env bash
# A small lone face asks for the zoom-in (issue 14). RULE.md says what is judged.
#   bash experiments/2026-12-06-small-lone-face-zoom/run.sh tune      # L1-L2 for v 20 / 28 / 36 (~20 min)
#   bash experiments/2026-12-06-small-lone-face-zoom/run.sh lines V   # L3-L5 for the chosen v (~8 min)
#   bash experiments/2026-12-06-small-lone-face-zoom/run.sh val V     # once, if tune holds (~12 min)
#   round 2 (RULE.md): run.sh tune2 (v 96; v 10000 is probe/), lines2 V, val2 V
#   round 3 (RULE.md): run.sh tune3 (p 0.1 / 0.3 / 0.5 / 0.8 and the embedded bundle today, ~50 min),
#                      lines3 P, same3 (L6: the setting off against BASE, the code before), val3 P
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
export LNET_ANET_DATASETS=${LNET_ANET_DATASETS:-$(cd ../shared/datasets && pwd)}
E=experiments/2026-12-06-small-lone-face-zoom
R=runs/small-lone-face-zoom
PY=${PYTHON:-.venv/bin/python}
SHIPPED=${SHIPPED:-lnet_anet/assets/default.lnetanet}  # the bundle before
mkdir -p $R
build() {  # build V OUT
  $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --lnet-input "{\"zoom_in_lone_below\": $1}" \
      --note "a small lone face asks for the zoom-in (experiments/2026-12-06-small-lone-face-zoom)" --out $2
}
case "${1:-}" in
tune)
  [ -f runs/lnet-wild/choose.csv ] || $PY experiments/2026-12-02-lnet-wild/wild.py labels  # the choose half
  for v in 20 28 36; do
    build $v $R/v$v.lnetanet
    $PY benchmarks/bench_detection.py --format csv --labels runs/lnet-wild/choose.csv --part all --face-free \
        --detectors lnet_anet_shipped --bundle $R/v$v.lnetanet --threads 2 --work $R/wider-tune-v$v --out $E/tune/wider-v$v
  done
  ;;
lines)
  v=${2:?the chosen v}
  [ -f runs/face-grids/tune/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --out runs/face-grids/tune
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
      --bundle $R/v$v.lnetanet --threads 2 --work $R/grids-tune-v$v --out $E/tune/grids-v$v
  $PY benchmarks/bench_end_to_end.py --part tune --limit 500 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$SHIPPED candidate=$R/v$v.lnetanet --out $E/tune/e2e
  $PY benchmarks/bench_localize_speed.py --before $SHIPPED --after $R/v$v.lnetanet --calls 30 --out $E/tune/localize-speed.json
  ;;
val)
  v=${2:?the chosen v}
  CAND=$R/val-v$v.lnetanet
  build $v $CAND
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  for b in shipped candidate; do
    path=$SHIPPED; [ $b = candidate ] && path=$CAND
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $path \
        --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        --bundle $path --threads 2 --work $R/grids-val-$b --out $E/val/grids-$b
  done
  $PY benchmarks/bench_end_to_end.py --part val --limit 500 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$SHIPPED candidate=$CAND --out $E/val/e2e
  ;;
tune2)
  [ -f $R/every-lone.lnetanet ] || build 10000 $R/every-lone.lnetanet  # the probe: probe/wider-every-lone
  build 96 $R/v96.lnetanet
  $PY benchmarks/bench_detection.py --format csv --labels runs/lnet-wild/choose.csv --part all --face-free \
      --detectors lnet_anet_shipped --bundle $R/v96.lnetanet --threads 2 --work $R/wider-tune-v96 --out $E/tune2/wider-v96
  ;;
lines2)
  v=${2:?the chosen v}
  B=$R/v$v.lnetanet; [ $v = 10000 ] && B=$R/every-lone.lnetanet
  $PY benchmarks/bench_localize_speed.py --before $SHIPPED --after $B --calls 30 --out $E/tune2/localize-speed.json
  $PY $E/portraits.py --part tune --bundle shipped=$SHIPPED candidate=$B --out $E/tune2/portraits.json
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
      --bundle $B --threads 2 --work $R/grids-tune2-v$v --out $E/tune2/grids-v$v
  $PY benchmarks/bench_end_to_end.py --part tune --limit 500 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$SHIPPED candidate=$B --out $E/tune2/e2e
  ;;
val2)
  v=${2:?the chosen v}
  CAND=$R/val2-v$v.lnetanet
  build $v $CAND
  for b in shipped candidate; do
    path=$SHIPPED; [ $b = candidate ] && path=$CAND
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $path \
        --threads 2 --work $R/wider-val2-$b --out $E/val2/wider-$b
  done
  $PY $E/portraits.py --part val --bundle shipped=$SHIPPED candidate=$CAND --out $E/val2/portraits.json
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
      --bundle $CAND --threads 2 --work $R/grids-val2-candidate --out $E/val2/grids-candidate
  $PY benchmarks/bench_end_to_end.py --part val --limit 500 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$SHIPPED candidate=$CAND --out $E/val2/e2e
  ;;
tune3)
  for p in 0.1 0.3 0.5 0.8; do
    $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --lnet-input "{\"zoom_in_lone_p\": $p}" \
        --note "round 3 (experiments/2026-12-06-small-lone-face-zoom)" --out $R/p$p.lnetanet
    $PY benchmarks/bench_detection.py --format csv --labels runs/lnet-wild/choose.csv --part all --face-free \
        --detectors lnet_anet_shipped --bundle $R/p$p.lnetanet --threads 2 --work $R/wider-tune3-p$p --out $E/tune3/wider-p$p
  done
  $PY benchmarks/bench_detection.py --format csv --labels runs/lnet-wild/choose.csv --part all --face-free \
      --detectors lnet_anet_shipped --bundle $SHIPPED --threads 2 --work $R/wider-tune3-shipped --out $E/tune3/wider-shipped
  ;;
lines3)
  p=${2:?the chosen p}
  B=$R/p$p.lnetanet
  $PY benchmarks/bench_localize_speed.py --before $SHIPPED --after $B --calls 30 --out $E/tune3/localize-speed.json
  $PY $E/portraits.py --part tune --bundle shipped=$SHIPPED candidate=$B --out $E/tune3/portraits.json
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
      --bundle $B --threads 2 --work $R/grids-tune3-p$p --out $E/tune3/grids-p$p
  ;;
same3)  # L6: records with the setting off, this code against BASE (a worktree of the code before)
  base=${BASE:?BASE=a worktree of the code before}
  files="$(cut -d, -f1 runs/face-grids/tune/faces.csv | tail -n +2 | sort -u | sed -n 1,20p | sed "s|^|$PWD/runs/face-grids/tune/|")
$(cut -d, -f1 runs/lnet-wild/choose.csv | tail -n +2 | sort -u | sed -n 1,20p)"
  $PY -m lnet_anet.predict $files --json --bundle $(realpath $SHIPPED) > $R/same3-now.jsonl
  py=$(cd "$(dirname $PY)" && pwd)/$(basename $PY) shipped=$(realpath $SHIPPED) out=$(realpath $R)  # py: the venv's own path, not its target
  (cd $base && PYTHONPATH=. $py -m lnet_anet.predict $files --json --bundle $shipped > $out/same3-before.jsonl)
  cmp $R/same3-now.jsonl $R/same3-before.jsonl && echo "L6: identical records on $(echo $files | wc -w) files" | tee $E/tune3/same.txt
  ;;
val3)
  p=${2:?the chosen p}
  CAND=$R/val3-p$p.lnetanet
  $PY -m lnet_anet.cli.build_bundle --from-bundle $SHIPPED --lnet-input "{\"zoom_in_lone_p\": $p}" \
      --note "round 3 (experiments/2026-12-06-small-lone-face-zoom)" --out $CAND
  for b in shipped candidate; do
    path=$SHIPPED; [ $b = candidate ] && path=$CAND
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $path \
        --threads 2 --work $R/wider-val3-$b --out $E/val3/wider-$b
  done
  $PY $E/portraits.py --part val --bundle shipped=$SHIPPED candidate=$CAND --out $E/val3/portraits.json
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
      --bundle $CAND --threads 2 --work $R/grids-val3-candidate --out $E/val3/grids-candidate
  $PY benchmarks/bench_end_to_end.py --part val --limit 500 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$SHIPPED candidate=$CAND --out $E/val3/e2e
  ;;
*) echo "usage: run.sh tune | lines V | val V | tune2 | lines2 V | val2 V | tune3 | lines3 P | same3 | val3 P" >&2; exit 2 ;;
esac
