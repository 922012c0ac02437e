#!/usr/bin/env bash
# Crowd faces with the face filter (RULE.md, README.md), from the repository root.
#   run.sh tune   -- the embedded bundle and K1-K3 on the tune data (~45 min on 2 cores)
#   run.sh tune2  -- round 2 (RULE.md): K4 on the same tune data (~12 min), beside round 1's embedded pass
#   run.sh cost   -- localization speed of the chosen candidate beside the embedded bundle (CHOSEN=K1|K2|K3)
#   run.sh val    -- val once: the embedded bundle and the chosen candidate in the same scripts (~30 min)
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-05-crowd-filter
F=experiments/2026-12-03-face-filter
S=experiments/2026-12-03-secondary
R=runs/crowd-filter
PY=${PYTHON:-.venv/bin/python}
T=0.6624905531191163  # the bundle's image-level threshold
mkdir -p $R $E/tune $E/val
# the embedded bundle as this study started (5f9f32f); its face head is lnet_anet/assets/face_head.safetensors
[ -f $R/embedded.lnetanet ] || git show 5f9f32f:lnet_anet/assets/default.lnetanet > $R/embedded.lnetanet
build() {  # name localizer-json
  [ -f $R/$1.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle $R/embedded.lnetanet \
      --localizer "$2" --note "localizer $2 ($E)" --out $R/$1.lnetanet
}
build K1 "{\"crowd\": [0.5, $T]}"
build K2 "{\"crowd\": [0.5, $T], \"secondary_threshold\": 2.0}"
build K3 "{\"crowd\": [0.5, 0.3], \"secondary_threshold\": 2.0}"
# round 2: K1 with a crowd's weak blobs asking no zoom-in (LNetInput.zoom_in_crowd)
[ -f $R/K4.lnetanet ] || $PY -m lnet_anet.cli.build_bundle --from-bundle $R/K1.lnetanet \
    --lnet-input '{"zoom_in_crowd": false}' --note "K1 and zoom_in_crowd false ($E, round 2)" --out $R/K4.lnetanet
case "${1:-}" in
tune2)
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
      --bundle $R/K4.lnetanet --threads 2 --work $R/grids-tune-K4 --out $E/tune/grids-K4
  [ -f $R/K4.pkl ] || $PY $F/collect.py --part tune --bundle $R/K4.lnetanet --out $R/K4.pkl
  $PY $F/simulate.py $R/K4.pkl --only none --out $E/tune/pass-K4.json
  $PY $S/extra.py --base $R/embedded.pkl --passes K4=$R/K4.pkl --out $E/tune/extra-round2.json
  ;;
tune)
  [ -f runs/face-grids/tune/faces.csv ] || $PY benchmarks/make_face_grids.py --part tune --out runs/face-grids/tune
  for b in embedded K1 K2 K3; do
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/tune/faces.csv --detectors lnet_anet_shipped \
        --bundle $R/$b.lnetanet --threads 2 --work $R/grids-tune-$b --out $E/tune/grids-$b
    [ -f $R/$b.pkl ] || $PY $F/collect.py --part tune --bundle $R/$b.lnetanet --out $R/$b.pkl
    $PY $F/simulate.py $R/$b.pkl --only none --out $E/tune/pass-$b.json
  done
  $PY $S/extra.py --base $R/embedded.pkl --passes K1=$R/K1.pkl K2=$R/K2.pkl K3=$R/K3.pkl --out $E/tune/extra.json
  ;;
cost)
  C=${CHOSEN:?set CHOSEN to the chosen candidate, e.g. CHOSEN=K1}
  $PY benchmarks/bench_localize_speed.py --before $R/embedded.lnetanet --after $R/$C.lnetanet --calls 30 \
      --out $E/tune/localize-speed.json
  ;;
val)
  C=${CHOSEN:?set CHOSEN to the chosen candidate, e.g. CHOSEN=K1}
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  for b in embedded $C; do
    $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $R/$b.lnetanet \
        --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        --bundle $R/$b.lnetanet --threads 2 --work $R/grids-val-$b --out $E/val/grids-$b
  done
  $PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
      --bundle embedded=$R/embedded.lnetanet crowd=$R/$C.lnetanet --out $E/val/e2e
  ;;
*) echo "usage: run.sh tune|tune2|cost|val" >&2; exit 2 ;;
esac
