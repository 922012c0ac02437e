"""The box-head-v2 choice of RULE.md, on tune data only (collect.py's dump and pairs).

    PYTHONPATH=. python experiments/2026-12-05-box-head-v2/choose.py runs/box-head-v2/dump.pkl \\
        runs/box-head-v2/pairs-fit.npz --out experiments/2026-12-05-box-head-v2/choose.json

Each candidate head is fitted on the fit pairs (BoxHead.fit, invariance 1 on the WIDER candidates'
exposure changes) and scored on the dump: the box it would report for each face the embedded
bundle returned (scores and faces unchanged), on the choose half of the WIDER tune photos and on
the tune grids.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_detection import box_shapes  # noqa: E402

from lnet_anet.inference.box_head import BoxHead  # noqa: E402
from lnet_anet.metrics.detection import evaluate_detections  # noqa: E402

DATA = {"cand+jit": ("wider_candidate", "wider_jitter"),
        "cand+jit+grid": ("wider_candidate", "wider_jitter", "grid_candidate", "grid_jitter")}  # fmt: skip
ALPHAS, SHRINKS = (10.0, 100.0, 1000.0, 10000.0), (0.5, 0.75, 1.0)
SOURCES = ("wider_candidate", "wider_jitter", "grid_candidate", "grid_jitter")  # collect.py's


def figures(head: BoxHead | None, rows: list[dict]) -> dict:
    """AP50, recall at 0.1 false alarms per image, max recall and boxes over two faces of the
    boxes `head` reports for the dumped faces (None: the fixed face boxes)."""
    dets, truth = [], []
    for r in rows:
        h, w = r["hw"]
        boxes = r["fixed"] if head is None or not len(r["fixed"]) else head.correct(r["fixed"], r["features"])
        dets.append((np.clip(boxes, 0, [w, h, w, h]).reshape(-1, 4), r["scores"]))
        truth.append(r["truth"])
    res = evaluate_detections(dets, truth, bands=None)
    return {"ap50": round(res["ap"], 4), "recall_at_0.1_fppi": round(res["recall_at_0.1_fppi"], 4),
            "found": round(res["max_recall"], 4),
            "over_two": round(box_shapes(dets, truth)["share_boxes_over_two_faces"], 4)}  # fmt: skip


def read_study(dump: Path, pairs: Path) -> tuple[dict, dict, dict]:
    """collect.py's dump, its choose sets (the WIDER tune photos of the choose half; the tune
    grids) and the fit pairs."""
    d = pickle.loads(dump.read_bytes())
    choose = [r for r, half in zip(d["wider"], d["wider_half"], strict=True) if half == "val"]
    return d, {"wider_choose": choose, "grids_tune": d["grids"]}, dict(np.load(pairs))


def choice(table: dict, candidates: list[str], steady=lambda v: True) -> tuple[list[str], str | None, bool]:
    """RULE.md's choice among `candidates` (keys of table) against table["B0 shipped"]: the
    eligible ones (recall at 0.1 on the WIDER choose half and tune grids found not under B0's, and
    steady(figures)), the one with the highest choose-half AP50, and whether it qualifies (AP50
    +0.01, grids found +0.01, boxes over two faces not above B0's + 0.005 on either set)."""
    b0 = table["B0 shipped"]
    eligible = [k for k in candidates if steady(table[k])
                and table[k]["wider_choose"]["recall_at_0.1_fppi"] >= b0["wider_choose"]["recall_at_0.1_fppi"]
                and table[k]["grids_tune"]["found"] >= b0["grids_tune"]["found"]]  # fmt: skip
    chosen = max(eligible, key=lambda k: table[k]["wider_choose"]["ap50"]) if eligible else None
    qualifies = chosen is not None and (
        table[chosen]["wider_choose"]["ap50"] >= b0["wider_choose"]["ap50"] + 0.01
        and table[chosen]["grids_tune"]["found"] >= b0["grids_tune"]["found"] + 0.01
        and all(table[chosen][s]["over_two"] <= b0[s]["over_two"] + 0.005 for s in ("wider_choose", "grids_tune")))  # fmt: skip
    return sorted(eligible), chosen, qualifies


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", type=Path)
    ap.add_argument("pairs", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    d, sets, p = read_study(args.dump, args.pairs)
    choose = sets["wider_choose"]
    score = lambda head: {name: figures(head, rows) for name, rows in sets.items()}  # noqa: E731
    table = {"B0 shipped": score(BoxHead.load(None)), "fixed face box": score(None)}
    cand = p["source"] == SOURCES.index("wider_candidate")
    fit = lambda m, alpha, shrink: BoxHead.fit(p["boxes"][m], p["features"][m], p["targets"][m], alpha=alpha,  # noqa: E731
                                               shrink=shrink, feature_changes=p["changes"], invariance=1.0)
    table["B1 shipped recipe, fit half"] = score(fit(cand, 1000.0, 0.5))
    for (data, sources), alpha, shrink in itertools.product(DATA.items(), ALPHAS, SHRINKS):
        m = np.isin(p["source"], [SOURCES.index(s) for s in sources])
        table[f"{data} alpha {alpha:g} shrink {shrink:g}"] = score(fit(m, alpha, shrink))
        print(f"{data} alpha {alpha:g} shrink {shrink:g}", table[f"{data} alpha {alpha:g} shrink {shrink:g}"], flush=True)
    eligible, chosen, qualifies = choice(table, [k for k in table if k not in (
        "B0 shipped", "fixed face box", "B1 shipped recipe, fit half")])  # fmt: skip
    counts = {s: int(np.sum(p["source"] == i)) for i, s in enumerate(SOURCES)}
    out = {"pairs": counts, "changes": len(p["changes"]), "choose_photos": len(choose), "grids": len(d["grids"]),
           "table": table, "eligible": eligible, "chosen": chosen, "qualifies": qualifies}  # fmt: skip
    args.out.write_text(json.dumps(out, indent=1))
    for k, v in table.items():
        print(f"{k:40s} " + "  ".join(f"{s}: " + " ".join(f"{m} {x}" for m, x in f.items()) for s, f in v.items()))
    print("chosen:", chosen, "qualifies:", qualifies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
