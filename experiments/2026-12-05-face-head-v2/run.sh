#!/usr/bin/env bash
# The v2 face head (RULE.md, README.md), from the repository root.
#   run.sh fit    -- the lists, the shipped recipe reproduced (v1), round 1's head (v2) (~20 min on 2 cores)
#   run.sh tune   -- round 1: both heads' passes and the filter grid (~20 min)
#   run.sh tune2  -- round 2: photometric copies, darkened / washed-out face-free crops, end to end (~25 min)
#   run.sh fit3   -- round 3's head (v3): photometric copies of the face-free crops too (~20 min)
#   run.sh tune3  -- round 3's lines (~25 min)
#   run.sh fit4   -- round 4's MLP head from the capacity diagnostic's feature cache (capacity.py first; seconds)
#   run.sh fit4-check -- fit_face_head --hidden 128 on round 3's lists (~20 min): the same head as fit4's (digests compared)
#   run.sh tune4  -- round 4: the MLP head's pass and the filter grid (~13 min)
#   run.sh real4  -- round 4: the chosen setting's real run and lines L1-L5 (S=s_high P=p_min; ~35 min)
#   run.sh tune5  -- round 5: real passes of the MLP head with the filter at (1e6, 0.02) and (1e6, 0.05) (~30 min)
#   run.sh real5  -- round 5: lines L3-L5 of the chosen setting (P=p_min; ~25 min)
#   run.sh val4   -- round 4's val, once: the bundle before beside the MLP head with its filter (after real4)
#   run.sh val    -- val once, the bundle before beside the candidate head in the same scripts (V=head file)
# Rounds 1-5 ran at c0e4802, before round 5 shipped: "shipped" ($B) is that commit's embedded bundle and
# face head. Since 5e62e01 lnet_anet/assets holds round 5's; to rerun a round as recorded, run this from a
# worktree of c0e4802's assets (git worktree add /tmp/before c0e4802; copy runs/ there) or set B=$B_BEFORE
# and pass the old face head (git show c0e4802:lnet_anet/assets/face_head.safetensors).
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-05-face-head-v2
F=experiments/2026-12-03-face-filter
R=runs/face-head-v2
PY=${PYTHON:-.venv/bin/python}
B=lnet_anet/assets/default.lnetanet
V=${V:-$R/v3.safetensors}
# the embedded bundle before round 5 shipped (c0e4802): the bundle the heads of rounds 1-5 were fitted and judged on
B_BEFORE=${B_BEFORE:-$R/before.lnetanet}
[ -f "$B_BEFORE" ] || git show c0e4802:lnet_anet/assets/default.lnetanet > "$B_BEFORE"
mkdir -p $R
case "${1:-}" in
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
tune)
  $PY $F/collect.py --part tune --bundle $B --out $R/tune-shipped.pkl
  $PY $F/collect.py --part tune --bundle $B --face-head $R/v2.safetensors --out $R/tune-v2.pkl
  $PY $E/choose.py --shipped $R/tune-shipped.pkl --candidate $R/tune-v2.pkl --out $E/tune/grid.json
  $PY $E/choose.py --shipped $R/tune-shipped.pkl --candidate $R/tune-shipped.pkl --out $E/tune/grid-shipped-head.json ;;
tune2)
  $PY -m lnet_anet.cli.build_bundle --from-bundle $B --lnet-input '{"verify_faces": [2.0, 0.1]}' \
      --note 'verify_faces [2, 0.1] (experiments/2026-12-05-face-head-v2, diagnostic)' --out $R/verify-2-0.1.lnetanet
  $PY $E/photometric.py --part tune --bundle shipped=$B v1-filter=$R/verify-2-0.1.lnetanet \
      v2-filter=$R/verify-2-0.1.lnetanet::$R/v2.safetensors v2=$B::$R/v2.safetensors \
      --out $E/tune/photometric-diagnostic.json
  $PY $E/exposed_free.py --part tune --bundle shipped=$B v2=$B::$R/v2.safetensors --out $E/tune/exposed-free.json
  $PY benchmarks/bench_end_to_end.py --part tune --limit 1000 --scut 0 --stability 0 --probe-train 0 --framings 0 \
      --bundle shipped=$B v2=$B --face-head v2=$R/v2.safetensors --out $E/tune/e2e ;;
fit3)
  $PY $E/free_copies.py --lists runs/face-verifier/free-fit.txt $R/free-more.txt --out $R
  $PY -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt runs/frame-rescue/utk-fit.txt \
      $R/faces-photometric.txt --face-free runs/face-verifier/free-fit.txt $R/free-more.txt $R/free-photometric.txt \
      --frames --c 1.0 --bundle $B --out $R/v3.safetensors ;;
tune3)  # the shipped head's columns are round 1-2's runs of the same scripts on the same data
  $PY $F/collect.py --part tune --bundle $B --face-head $R/v3.safetensors --out $R/tune-v3.pkl
  $PY $E/choose.py --shipped $R/tune-shipped.pkl --candidate $R/tune-v3.pkl --only none --out $E/tune/round3/t1-t3.json
  $PY $E/photometric.py --part tune --bundle v3=$B::$R/v3.safetensors --out $E/tune/round3/photometric.json
  $PY $E/exposed_free.py --part tune --bundle v3=$B::$R/v3.safetensors --out $E/tune/round3/exposed-free.json
  $PY benchmarks/bench_end_to_end.py --part tune --limit 1000 --scut 0 --stability 0 --probe-train 0 --framings 0 \
      --bundle v3=$B --face-head v3=$R/v3.safetensors --out $E/tune/round3/e2e ;;
val)  # once, for a head that passed its round's tune lines; the bundle is the embedded one in both columns
  $PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
      --bundle before=$B head=$B --face-head head=$V --out $E/val/e2e
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $B \
      --threads 2 --work $R/wider-val-before --out $E/val/wider-before
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $B \
      --face-head $V --threads 2 --work $R/wider-val-head --out $E/val/wider-head
  $PY $E/photometric.py --part val --bundle before=$B head=$B::$V --work $R --out $E/val/photometric.json
  $PY $E/exposed_free.py --part val --bundle before=$B head=$B::$V --work $R --out $E/val/exposed-free.json
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  for h in before head; do
    args=(--bundle $B); [ $h = head ] && args+=(--face-head $V)
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        "${args[@]}" --threads 2 --work $R/grids-$h --out $E/val/grids-$h
  done ;;
fit4)
  $PY $E/fit_mlp.py --out $R/mlp.safetensors ;;
fit4-check)
  $PY -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt runs/frame-rescue/utk-fit.txt \
      $R/faces-photometric.txt --face-free runs/face-verifier/free-fit.txt $R/free-more.txt $R/free-photometric.txt \
      --frames --hidden 128 --bundle $B_BEFORE --out $R/mlp-cli.safetensors
  $PY -c "import sys; from lnet_anet.inference.face_head import FaceHead as H; a, b = (H.load(f) for f in sys.argv[1:]); \
print(a.digest, b.digest, 'same' if a.digest == b.digest else 'DIFFERENT')" $R/mlp.safetensors $R/mlp-cli.safetensors ;;
tune4)
  $PY $F/collect.py --part tune --bundle $B --face-head $R/mlp.safetensors --out $R/tune-mlp.pkl
  $PY $E/choose.py --shipped $R/tune-shipped.pkl --candidate $R/tune-mlp.pkl --p-min 0.01 0.02 0.05 0.1 0.2 0.3 0.5 0.7 \
      --out $E/tune/round4/grid.json ;;
real4)  # the setting choose.py chose in tune4 (S, P); the shipped head's columns are round 1-2's runs
  $PY -m lnet_anet.cli.build_bundle --from-bundle $B --lnet-input "{\"verify_faces\": [$S, $P]}" \
      --note "verify_faces [$S, $P] with the MLP face head (experiments/2026-12-05-face-head-v2, round 4)" --out $R/mlp-filter.lnetanet
  $PY $F/collect.py --part tune --bundle $R/mlp-filter.lnetanet --face-head $R/mlp.safetensors --out $R/tune-mlp-real.pkl
  $PY $E/choose.py --shipped $R/tune-shipped.pkl --candidate $R/tune-mlp-real.pkl --only none --out $E/tune/round4/l1-l2.json
  $PY $E/photometric.py --part tune --bundle mlp=$R/mlp-filter.lnetanet::$R/mlp.safetensors --out $E/tune/round4/photometric.json
  $PY $E/exposed_free.py --part tune --bundle mlp=$R/mlp-filter.lnetanet::$R/mlp.safetensors --out $E/tune/round4/exposed-free.json
  $PY benchmarks/bench_end_to_end.py --part tune --limit 1000 --scut 0 --stability 0 --probe-train 0 --framings 0 \
      --bundle mlp=$R/mlp-filter.lnetanet --face-head mlp=$R/mlp.safetensors --out $E/tune/round4/e2e ;;
tune5)
  for P in 0.02 0.05; do
    $PY -m lnet_anet.cli.build_bundle --from-bundle $B --lnet-input "{\"verify_faces\": [1e6, $P]}" \
        --note "verify_faces [1e6, $P] with the MLP face head (experiments/2026-12-05-face-head-v2, round 5)" \
        --out $R/mlp-filter-$P.lnetanet
    $PY $F/collect.py --part tune --bundle $R/mlp-filter-$P.lnetanet --face-head $R/mlp.safetensors --out $R/tune-mlp-$P.pkl
    $PY $E/choose.py --shipped $R/tune-shipped.pkl --candidate $R/tune-mlp-$P.pkl --only none --out $E/tune/round5/real-$P.json
  done ;;
real5)  # L3-L5 of round 5's chosen setting
  M=$R/mlp-filter-$P.lnetanet
  $PY $E/photometric.py --part tune --bundle mlp=$M::$R/mlp.safetensors --out $E/tune/round5/photometric.json
  $PY $E/exposed_free.py --part tune --bundle mlp=$M::$R/mlp.safetensors --out $E/tune/round5/exposed-free.json
  $PY benchmarks/bench_end_to_end.py --part tune --limit 1000 --scut 0 --stability 0 --probe-train 0 --framings 0 \
      --bundle mlp=$M --face-head mlp=$R/mlp.safetensors --out $E/tune/round5/e2e ;;
val4)  # once, for round 4's head and filter (real4's bundle); the bundle before in the same scripts
  M=${M:-$R/mlp-filter.lnetanet} H=$R/mlp.safetensors
  $PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
      --bundle before=$B mlp=$M --face-head mlp=$H --out $E/val/round4/e2e
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $B \
      --threads 2 --work $R/wider-val-before --out $E/val/round4/wider-before
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped --bundle $M \
      --face-head $H --threads 2 --work $R/wider-val-mlp --out $E/val/round4/wider-mlp
  $PY $E/photometric.py --part val --bundle before=$B mlp=$M::$H --work $R --out $E/val/round4/photometric.json
  $PY $E/exposed_free.py --part val --bundle before=$B mlp=$M::$H --work $R --out $E/val/round4/exposed-free.json
  [ -f runs/face-grids/val/faces.csv ] || $PY benchmarks/make_face_grids.py --part val --out runs/face-grids/val
  for h in before mlp; do
    args=(--bundle $B); [ $h = mlp ] && args=(--bundle $M --face-head $H)
    $PY benchmarks/bench_detection.py --format csv --labels runs/face-grids/val/faces.csv --detectors lnet_anet_shipped \
        "${args[@]}" --threads 2 --work $R/grids-$h --out $E/val/round4/grids-$h
  done ;;
*) echo "usage: run.sh fit|tune|tune2|fit3|tune3|fit4|fit4-check|tune4|real4|tune5|real5|val|val4" >&2; exit 2 ;;
esac
