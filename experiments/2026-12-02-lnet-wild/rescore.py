"""Round 3 (RULE.md): the photo-trained face map as a second opinion on the shipped bundle's faces.

    PYTHONPATH=. python experiments/2026-12-02-lnet-wild/rescore.py [--part choose|val]

Reads the shipped bundle's `lnet_anet` detections from bench_detection's work folder
(runs/lnet-wild/det-work-shipped for the choose half), runs the shipped Predictor on the same
face-free crops, scores every box again with the photo-trained map (w: the largest ReLU'd face-map
value whose cell centre lies in the box, at scale 1 and 2 of LNet's canvas) and writes
rescore-<part>.json: AP50, recall at 0.1 / 1 false alarms per image and face-free false alarms at
the shipped operating point's recall, per exponent a of s x (w + 0.01)^a.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detection import make_detector, run_detector  # noqa: E402
from wild import RUN, wider_tune_halves  # noqa: E402

from lnet_anet.data.readers.detection import mark_small  # noqa: E402
from lnet_anet.inference.bundle import load_bundle  # noqa: E402
from lnet_anet.lnet.multiscale import place  # noqa: E402
from lnet_anet.metrics.detection import FPPI, evaluate_detections, truth_from_table  # noqa: E402

EXPONENTS = (0.0, 0.25, 0.5, 1.0, 2.0)
SCALES = tuple(float(s) for s in os.environ.get("SECOND_SCALES", "1,2").split(","))


class SecondOpinion:
    """w of boxes in a photo from the photo-trained LNet's face map (ReLU'd), at SCALES."""

    def __init__(self, bundle_path: Path):
        b = load_bundle(bundle_path)
        self.lnet = b.lnet.eval()
        pre = b.config["preprocessing"]["lnet"]
        self.size = tuple(pre["input_size"])
        self.mean, self.std = np.asarray(pre["mean"], np.float32), np.asarray(pre["std"], np.float32)

    @torch.no_grad()
    def __call__(self, path: str, boxes: np.ndarray) -> np.ndarray:
        img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        w = np.zeros(len(boxes))
        for scale in SCALES:
            canvas, where = place(img, self.size, scale)
            x = (canvas.astype(np.float32) / 255 - self.mean) / self.std
            m = torch.relu(self.lnet.attribute_maps(torch.from_numpy(x.transpose(2, 0, 1)[None].copy()))[0, -1]).numpy()
            cell_y, cell_x = canvas.shape[0] / m.shape[0], canvas.shape[1] / m.shape[1]
            cy = (np.arange(m.shape[0]) + 0.5) * cell_y
            cx = (np.arange(m.shape[1]) + 0.5) * cell_x
            for k, b in enumerate(np.asarray(boxes, np.float64).reshape(-1, 4)):
                x0, y0 = b[0] * where.kx + where.x0, b[1] * where.ky + where.y0
                x1, y1 = b[2] * where.kx + where.x0, b[3] * where.ky + where.y0
                rows, cols = (cy >= y0) & (cy < y1), (cx >= x0) & (cx < x1)
                if not rows.any():  # a box narrower than a cell: the cell holding its centre
                    rows = np.arange(m.shape[0]) == min(m.shape[0] - 1, int((y0 + y1) / 2 / cell_y))
                if not cols.any():
                    cols = np.arange(m.shape[1]) == min(m.shape[1] - 1, int((x0 + x1) / 2 / cell_x))
                w[k] = max(w[k], float(m[np.ix_(rows, cols)].max()))
        return w


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("choose",), default="choose")
    ap.add_argument("--work", type=Path, default=RUN / "det-work-shipped")
    ap.add_argument("--bundle", type=Path, default=ROOT / "lnet_anet" / "assets" / "default.lnetanet")
    ap.add_argument("--second", type=Path, default=RUN / "wild.lnetanet")
    args = ap.parse_args(argv)
    _, choose = wider_tune_halves()
    df = mark_small(choose, 24.0)
    truth = truth_from_table(df)
    stored = {d["name"]: d for d in json.loads((args.work / "detections_lnet_anet.json").read_text())}
    dets = [(np.asarray(stored[n]["boxes"]).reshape(-1, 4), np.asarray(stored[n]["scores"])) for n in df["path"]]
    detect = make_detector("lnet_anet", args.bundle)
    threshold = detect.settings["shipped_threshold"]
    free_paths = sorted(str(p) for p in (args.work / "face_free").glob("*.png"))
    free, _, _ = run_detector(detect, free_paths)
    second = SecondOpinion(args.second)
    w_photo = [second(p, b) for p, (b, _) in zip(df["path"], dets, strict=True)]
    w_free = [second(p, b) for p, (b, _) in zip(free_paths, free, strict=True)]

    np.savez(RUN / f"rescore-{args.part}-{args.second.stem}.npz", w_photo=np.concatenate(w_photo), w_free=np.concatenate(w_free),
             s_photo=np.concatenate([s for _, s in dets]), s_free=np.concatenate([s for _, s in free]),
             photo_index=np.concatenate([np.full(len(s), i) for i, (_, s) in enumerate(dets)]))
    shipped = evaluate_detections([(b, s) for b, s in dets], truth, iou=0.5, fppi=FPPI, bands=None)
    op = [(b[s > threshold], s[s > threshold]) for b, s in dets]
    op_recall = evaluate_detections(op, truth, iou=0.5, fppi=FPPI, bands=None)["max_recall"]
    rows = {}
    for a in EXPONENTS:
        new = [(b, s * (w + 0.01) ** a) for (b, s), w in zip(dets, w_photo, strict=True)]
        res = evaluate_detections(new, truth, iou=0.5, fppi=FPPI, bands=None)
        # the threshold that keeps the shipped operating point's recall, then face-free false alarms there
        kept = sorted(np.concatenate([s for _, s in new]))[::-1]
        t_op = None
        for t in kept:
            r = evaluate_detections([(b[s >= t], s[s >= t]) for b, s in new], truth, iou=0.5, fppi=(), bands=None)
            if r["max_recall"] >= op_recall:
                t_op = t
                break
        free_scores = [s * (w + 0.01) ** a for (_, s), w in zip(free, w_free, strict=True)]
        fa = float(np.mean([(fs >= t_op).sum() for fs in free_scores])) if t_op is not None else None
        rows[str(a)] = {"ap": res["ap"], "recall_at_0.1_fppi": res["recall_at_0.1_fppi"],
                        "recall_at_1_fppi": res["recall_at_1_fppi"], "op_threshold": t_op,
                        "face_free_false_alarms_per_crop": fa}  # fmt: skip
        print(a, json.dumps(rows[str(a)]), flush=True)
    record = {"part": args.part, "photos": len(df), "face_free_crops": len(free_paths), "shipped_threshold": threshold,
              "shipped_op_recall": op_recall, "shipped": {k: shipped[k] for k in ("ap", "recall_at_0.1_fppi", "recall_at_1_fppi")},
              "shipped_face_free_false_alarms_per_crop": float(np.mean([(s > threshold).sum() for _, s in free])),
              "by_exponent": rows}  # fmt: skip
    (RUN / f"rescore-{args.part}-{args.second.stem}.json").write_text(json.dumps(record, indent=1))
    print(json.dumps({k: v for k, v in record.items() if k != "by_exponent"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
