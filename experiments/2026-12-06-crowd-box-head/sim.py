"""Diagnostic (tune only): the MLP box head on photos with >= k faces, the default head otherwise,
simulated from box-head-v2's per-image detections of both heads."""
import json, sys
import numpy as np
sys.path.insert(0, "benchmarks")
import argparse
from bench_detection import read_labels, hash_part, mark_small, FPPI, SIZE_BANDS
from lnet_anet.metrics.detection import evaluate_detections, truth_from_table
R = "runs/box-head-v2"
L = "../shared/datasets/wider_face_train/wider_face_split/wider_face_train_bbx_gt.txt"
for kind, fmt, labels in (("wider", "wider", L), ("grids", "csv", "runs/face-grids/tune/faces.csv")):
    table = read_labels(fmt, labels, None)
    table["part"] = hash_part(table["name"])
    df = table if kind == "grids" else table[table["part"] == "tune"].reset_index(drop=True)
    df = mark_small(df, 24)
    truth = truth_from_table(df)
    runs = {h: {d["name"]: d for d in json.load(open(f"{R}/{kind}-tune-{h}/detections_lnet_anet_shipped.json"))} for h in ("before", "mlp")}
    for k in (None, 2, 3, 4, 1):
        dets = []
        for name in df["name"]:
            b, m = runs["before"][name], runs["mlp"][name]
            assert len(b["boxes"]) == len(m["boxes"])
            use = m if (k is not None and len(b["boxes"]) >= k) else b
            dets.append((np.array(use["boxes"]).reshape(-1, 4), np.array(use["scores"])))
        r = evaluate_detections(dets, truth, iou=0.5, fppi=FPPI, bands=SIZE_BANDS)
        print(kind, "k", k, {x: round(r[x], 4) for x in ("ap", "recall_at_0.1_fppi", "max_recall") if x in r})
