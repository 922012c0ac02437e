"""Score every face-filter setting of RULE.md from collect.py's pass, and apply the rule.

    PYTHONPATH=. python experiments/2026-12-03-face-filter/simulate.py runs/face-filter/tune.pkl \\
        --out experiments/2026-12-03-face-filter/tune/grid.json
    PYTHONPATH=. python experiments/2026-12-03-face-filter/simulate.py runs/face-filter/real.pkl --only none \\
        --out experiments/2026-12-03-face-filter/tune/real.json   # a real run, scored as it is

A setting (s_high, p_min) keeps a face the Predictor returned before the rescue when its LNet score
>= s_high or the face head's P(face) > p_min. A picture whose faces all fail goes to the rescue,
taken to fail (its strongest candidate is the strongest face refused: P <= p_min <= 0.7), then to
the frame try: kept when the frame's P(face) > the bundle's rescue_frame, its box the whole picture.
Pictures the rescue or the frame try gave a face to are unchanged.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import sys
from pathlib import Path

import numpy as np

from lnet_anet.metrics.detection import FPPI, SIZE_BANDS, evaluate_detections

S_HIGH = (1.5, 2.0, 3.0, 4.0, 6.0, math.inf)
P_MIN = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
FOUND = ("utkface", "celeba_hq", "scut")


def filtered(row: dict, s_high: float | None, p_min: float, frame_bar: float | None) -> list[dict]:
    """The faces a picture keeps under the setting (s_high None: the bundle as collected)."""
    faces = row["faces"]
    if s_high is None or not faces or faces[0]["rescued"]:
        return faces
    kept = [f for f in faces if f["score"] >= s_high or f["p"] > p_min]
    if kept:
        return kept
    if frame_bar is not None and row["frame_p"] is not None and row["frame_p"] > frame_bar:
        h, w = row["hw"]
        return [{"box": [0.0, 0.0, float(w), float(h)], "score": -1.0, "rescued": True, "frame": True, "p": row["frame_p"]}]
    return []


def score(data: dict, s_high: float | None, p_min: float) -> dict:
    frame_bar = data["lnet_input"].get("rescue_frame")
    sets = data["sets"]
    out: dict = {}
    for name in FOUND:
        s = sets[name]
        held = [r for r, fitted in zip(s["rows"], s["fitted"], strict=True) if not fitted]
        out[f"found_{name}"] = float(np.mean([bool(filtered(r, s_high, p_min, frame_bar)) for r in held]))
        out[f"n_{name}"] = len(held)
    free = sets["free"]
    counts = np.array([len(filtered(r, s_high, p_min, frame_bar)) for r in free["rows"]])
    fitted = np.array(free["fitted"], bool)
    out["false_alarms_held_out"] = float(counts[~fitted].mean())
    out["false_alarms_in_sample"] = float(counts[fitted].mean()) if fitted.any() else None
    out["n_free_held_out"], out["n_free_in_sample"] = int((~fitted).sum()), int(fitted.sum())
    wider = sets["wider"]
    dets = []
    for r in wider["rows"]:
        faces = filtered(r, s_high, p_min, frame_bar)
        dets.append((np.array([f["box"] for f in faces], np.float64).reshape(-1, 4),
                     np.array([f["score"] for f in faces], np.float64)))  # fmt: skip
    res = evaluate_detections(dets, wider["truth"], iou=0.5, fppi=FPPI, bands=SIZE_BANDS)
    out["wider_ap50"], out["wider_recall_at_0.1_fppi"] = res["ap"], res["recall_at_0.1_fppi"]
    out["wider_boxes_per_image"] = float(np.mean([len(d[1]) for d in dets]))
    return out


def qualifies(r: dict, before: dict) -> bool:
    """RULE.md's qualification: faces found, WIDER AP50 and recall held against `before`."""
    return (all(r[f"found_{n}"] >= before[f"found_{n}"] - 0.002 for n in FOUND)
            and r["wider_ap50"] >= before["wider_ap50"] - 0.005
            and r["wider_recall_at_0.1_fppi"] >= before["wider_recall_at_0.1_fppi"] - 0.01)  # fmt: skip


def write_record(path: Path, record: dict) -> None:
    """The record as JSON, an infinite s_high written "inf"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, default=lambda v: None if v == math.inf else v)
                    .replace("Infinity", '"inf"'))  # fmt: skip


def choose(before: dict, grid: list[dict]) -> dict:
    """RULE.md's qualification, choice and ship line."""
    ok = [r for r in grid if qualifies(r, before)]
    if not ok:
        return {"qualified": 0, "chosen": None, "ship": False}
    best = min(r["false_alarms_held_out"] for r in ok)
    tied = [r for r in ok if r["false_alarms_held_out"] <= best + 0.002]
    chosen = sorted(tied, key=lambda r: (-r["s_high"], r["p_min"]))[0]
    line = 0.75 * before["false_alarms_held_out"]
    return {"qualified": len(ok), "chosen": chosen, "ship_line": line, "ship": chosen["false_alarms_held_out"] <= line}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("collected", type=Path)
    ap.add_argument("--only", choices=("none",), default=None, help="none: score the pass as it is (no filter)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    data = pickle.loads(args.collected.read_bytes())
    before = score(data, None, 0.0)
    record = {"collected": str(args.collected), "bundle": data["bundle"], "lnet_input": data["lnet_input"],
              "as_collected": before}  # fmt: skip
    print("as collected", json.dumps(before))
    if args.only is None:
        grid = []
        for s_high in S_HIGH:
            for p_min in P_MIN:
                r = {"s_high": s_high, "p_min": p_min, **score(data, s_high, p_min)}
                grid.append(r)
                print(json.dumps(r), flush=True)
        record["grid"] = grid
        record["choice"] = choose(before, grid)
        print("choice", json.dumps(record["choice"]))
    write_record(args.out, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
