#!/usr/bin/env bash
# The v2 face head (RULE.md, README.md), from the repository root.
#   run.sh fit    -- the lists, the shipped recipe reproduced (v1), the candidate head (v2) (~20 min on 2 cores)
#   run.sh tune   -- the passes, the filter grid, the real run, photometric copies, end to end (~40 min)
#   run.sh val    -- val once, the bundle before beside it in the same scripts
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-05-face-head-v2
F=experiments/2026-12-03-face-filter
R=runs/face-head-v2
PY=${PYTHON:-.venv/bin/python}
B=lnet_anet/assets/default.lnetanet
mkdir -p $R
case "${1:-val}" in
fit)
  $PY experiments/2026-12-02-face-verifier/fit_lists.py --out runs/face-verifier
  [ -f runs/frame-rescue/utk-fit.txt ] || $PY experiments/2026-12-02-frame-rescue/lists.py --out runs/frame-rescue/utk-fit.txt
  $PY $E/lists.py --out $R
  # the shipped head's recipe on the shipped bundle: does it give the shipped head back?
  $PY -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt runs/frame-rescue/utk-fit.txt \
      --face-free runs/face-verifier/free-fit.txt --frames --c 1.0 --bundle $B --out $R/v1.safetensors
  $PY -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt runs/frame-rescue/utk-fit.txt \
      $R/faces-photometric.txt --face-free runs/face-verifier/free-fit.txt $R/free-more.txt --frames --c 1.0 \
      --bundle $B --out $R/v2.safetensors ;;
fit3)  # round 3: photometric copies of the face-free crops too
  $PY $E/free_copies.py --lists runs/face-verifier/free-fit.txt $R/free-more.txt --out $R
  $PY -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt runs/frame-rescue/utk-fit.txt \
      $R/faces-photometric.txt --face-free runs/face-verifier/free-fit.txt $R/free-more.txt $R/free-photometric.txt \
      --frames --c 1.0 --bundle $B --out $R/v3.safetensors ;;
tune)
  $PY $F/collect.py --part tune --bundle $B --out $R/tune-shipped.pkl
  $PY $F/collect.py --part tune --bundle $B --face-head $R/v2.safetensors --out $R/tune-v2.pkl
  $PY $E/choose.py --shipped $R/tune-shipped.pkl --candidate $R/tune-v2.pkl --out $E/tune/grid.json ;;
tune-real)  # the chosen setting run for real: run.sh tune-real S_HIGH P_MIN (or none)
  if [ "$2" = none ]; then cp $B $R/chosen.lnetanet; else
    $PY -m lnet_anet.cli.build_bundle --from-bundle $B --lnet-input "{\"verify_faces\": [$2, $3]}" \
        --note "verify_faces [$2, $3] with the v2 face head (experiments/2026-12-05-face-head-v2)" --out $R/chosen.lnetanet
  fi
  $PY $F/collect.py --part tune --bundle $R/chosen.lnetanet --face-head $R/v2.safetensors --out $R/tune-real.pkl
  $PY $E/choose.py --shipped $R/tune-shipped.pkl --candidate $R/tune-real.pkl --only none --out $E/tune/real.json
  $PY $E/photometric.py --part tune --bundle shipped=$B chosen=$R/chosen.lnetanet::$R/v2.safetensors \
      --out $E/tune/photometric.json
  $PY benchmarks/bench_end_to_end.py --part tune --limit 1000 --scut 0 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$B chosen=$R/chosen.lnetanet --face-head chosen=$R/v2.safetensors --out $E/tune/e2e ;;
val)  # once, after tune-real passed every line of RULE.md
  $PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
      --bundle before=$B chosen=$R/chosen.lnetanet --face-head chosen=$R/v2.safetensors --out $E/val/e2e
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $B \
      --threads 2 --work $R/wider-val-before --out $E/val/wider-before
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $R/chosen.lnetanet \
      --face-head $R/v2.safetensors --threads 2 --work $R/wider-val-chosen --out $E/val/wider-chosen
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
      --bundle $B --threads 2 --work $R/grids-before --out $E/val/grids-before
  $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
      --bundle $R/chosen.lnetanet --face-head $R/v2.safetensors --threads 2 --work $R/grids-chosen --out $E/val/grids-chosen
  $PY $E/photometric.py --part val --bundle before=$B chosen=$R/chosen.lnetanet::$R/v2.safetensors \
      --work $R --out $E/val/photometric.json ;;
*) echo "usage: run.sh fit|tune|val" >&2; exit 2 ;;
esac
