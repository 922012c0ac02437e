"""The MLP box head on faces of pictures with >= k faces found, the default head on the others,
simulated from box-head-v2's per-image detections of both heads (bench_detection's --work files:
the box head moves boxes, it neither adds nor drops a face, so each picture has the same faces and
scores under both). Scored by bench_detection's own code (evaluate_detections, box_shapes).

    PYTHONPATH=. python experiments/2026-12-06-crowd-box-head/sim.py --part tune
    PYTHONPATH=. python experiments/2026-12-06-crowd-box-head/sim.py --part val --k 2 --out experiments/2026-12-06-crowd-box-head/sim-val.json
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "benchmarks")
from bench_detection import FPPI, SIZE_BANDS, box_shapes, hash_part, mark_small, read_labels  # noqa: E402

from lnet_anet.metrics.detection import evaluate_detections, truth_from_table  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--part", choices=("tune", "val"), required=True)
parser.add_argument("--k", type=int, nargs="+", default=[2, 3, 4, 1])
parser.add_argument("--runs", type=Path, default=Path("runs/box-head-v2"))
parser.add_argument("--wider-labels", default="../shared/datasets/wider_face_train/wider_face_split/wider_face_train_bbx_gt.txt")
parser.add_argument("--out", type=Path, default=None)
args = parser.parse_args()

results = {}
for kind, fmt, labels in (("wider", "wider", args.wider_labels), ("grids", "csv", f"runs/face-grids/{args.part}/faces.csv")):
    table = read_labels(fmt, labels, None)
    table["part"] = hash_part(table["name"])
    df = table if kind == "grids" else table[table["part"] == args.part].reset_index(drop=True)
    truth = truth_from_table(mark_small(df, 24))
    heads = {h: {d["name"]: d for d in json.loads((args.runs / f"{kind}-{args.part}-{h}" / "detections_lnet_anet_shipped.json").read_text())}
             for h in ("before", "mlp")}  # fmt: skip
    for k in [None, *args.k]:
        dets = []
        for name in df["name"]:
            before, mlp = heads["before"][name], heads["mlp"][name]
            assert len(before["boxes"]) == len(mlp["boxes"]) and before["scores"] == mlp["scores"], name
            use = mlp if k is not None and len(before["boxes"]) >= k else before
            dets.append((np.array(use["boxes"], float).reshape(-1, 4), np.array(use["scores"], float)))
        r = evaluate_detections(dets, truth, iou=0.5, fppi=FPPI, bands=SIZE_BANDS) | box_shapes(dets, truth)
        row = {x: round(float(r[x]), 4) for x in ("ap", "recall_at_0.1_fppi", "max_recall", "share_boxes_over_two_faces")}
        results[f"{kind} {'default head' if k is None else f'k={k}'}"] = row
        print(kind, "default head" if k is None else f"k={k}", row, flush=True)
if args.out:
    args.out.write_text(json.dumps(results, indent=1) + "\n")
