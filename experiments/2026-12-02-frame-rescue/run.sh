#!/usr/bin/env bash
# The whole picture as the rescue's last try (RULE.md, README.md), from the repository root.
#   run.sh tune   -- rounds 1-5 on the tune parts
#   run.sh        -- val once: the bundle before and round 4's, in the same scripts
set -euo pipefail
export PYTHONPATH=. OMP_NUM_THREADS=2
E=experiments/2026-12-02-frame-rescue
R=runs/frame-rescue
PY=${PYTHON:-.venv/bin/python}
C=experiments/2026-12-02-anet-photometric/compare.py
H=$R/face_head_frames.safetensors
mkdir -p $R
git show 42028de:lnet_anet/assets/default.lnetanet > $R/before.lnetanet   # the bundle before (session 26)
frame() {  # frame NAME P NOTE: the bundle before with rescue_frame P
  $PY -m lnet_anet.cli.build_bundle --from-bundle $R/before.lnetanet --lnet-input "{\"rescue_frame\": $2}" \
      --note "rescue_frame $2 (experiments/2026-12-02-frame-rescue, $3)" --out $R/$1.lnetanet
}
if [ "${1:-val}" = tune ]; then
  # round 1: the frame on the rescue's bar (0.7), the shipped face head
  frame frame 0.7 "round 1"
  $PY $C --part tune --flips 0 --bundle before=$R/before.lnetanet frame=$R/frame.lnetanet --out $E/tune
  for b in before frame; do
    $PY benchmarks/bench_detection.py --part tune --face-free --detectors lnet_anet_shipped --bundle $R/$b.lnetanet \
        --threads 2 --work $R/wider-tune-$b --out $E/tune/wider-$b
  done
  # round 2: the frame's own bar, the shipped face head
  $PY $E/frame_bar.py --bundle $R/before.lnetanet --free $R/wider-tune-before/face_free --line 0.067 \
      --out $E/tune/frame_bar.json
  # round 3: a face head that learnt frames too (UTKFace chips not scored as extra faces)
  $PY $E/lists.py --out $R/utk-fit.txt
  $PY -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt $R/utk-fit.txt \
      --face-free runs/face-verifier/free-fit.txt --frames --c 1.0 --bundle $R/before.lnetanet --out $H
  frame frame3 0.7 "round 3"
  $PY $C --part tune --flips 0 --bundle before=$R/before.lnetanet frame3=$R/frame3.lnetanet::$H --out $E/tune/round3
  $PY benchmarks/bench_detection.py --part tune --face-free --detectors lnet_anet_shipped --bundle $R/frame3.lnetanet \
      --face-head $H --threads 2 --work $R/wider-tune-frame3 --out $E/tune/wider-frame3
  $PY $E/held_out.py --free $R/wider-tune-before/face_free --fit-list runs/face-verifier/free-fit.txt \
      --bundle before=$R/before.lnetanet frame3=$R/frame3.lnetanet::$H --out $E/tune/round3/face_free_held_out.json
  # round 4: round 3's head, the frame's bar chosen on the held-out crops and the chips
  $PY $E/frame_bar.py --bundle $R/before.lnetanet::$H --free $R/wider-tune-before/face_free \
      --exclude runs/face-verifier/free-fit.txt --line 0.0883 --min-found 0.9825 --out $E/tune/round4/frame_bar.json
  frame frame4 0.95 "round 4"
  $PY $C --part tune --flips 0 --bundle before=$R/before.lnetanet frame4=$R/frame4.lnetanet::$H --out $E/tune/round4
  $PY benchmarks/bench_detection.py --part tune --face-free --detectors lnet_anet_shipped --bundle $R/frame4.lnetanet \
      --face-head $H --threads 2 --work $R/wider-tune-frame4 --out $E/tune/wider-frame4
  $PY $E/held_out.py --free $R/wider-tune-before/face_free --fit-list runs/face-verifier/free-fit.txt \
      --bundle frame4=$R/frame4.lnetanet::$H --out $E/tune/round4/face_free_held_out.json
  # round 5: the rescue's bar and the frame's together, round 4's bundle and head
  $PY $E/bars.py --bundle $R/frame4.lnetanet::$H --free $R/wider-tune-before/face_free \
      --exclude runs/face-verifier/free-fit.txt --out $E/tune/round5/bars.json
  exit 0
fi
$PY benchmarks/bench_end_to_end.py --part val --stability 0 --probe-train 0 --framings 0 \
    --bundle before=$R/before.lnetanet frame=$R/frame4.lnetanet --face-head frame=$H --out $E/val/e2e
for b in before frame; do
  args=(--bundle $R/before.lnetanet); [ $b = frame ] && args=(--bundle $R/frame4.lnetanet --face-head $H)
  $PY benchmarks/bench_detection.py --part val --face-free --detectors lnet_anet_shipped "${args[@]}" \
      --threads 2 --work $R/wider-val-$b --out $E/val/wider-$b
done
