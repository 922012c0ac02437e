"""The box-head grid of RULE.md on the tune part (the face-verifier study's collect.py npz).

    python experiments/2026-12-02-box-head/choose.py runs/face-verifier/tune.npz --out experiments/2026-12-02-box-head
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-02-face-verifier"))
from choose import SHIPPED_T, op_recall, wider_truth  # noqa: E402

from lnet_anet.data.readers.detection import hash_part  # noqa: E402
from lnet_anet.inference.box_head import decode_boxes as decode  # noqa: E402
from lnet_anet.inference.box_head import encode_boxes as encode  # noqa: E402
from lnet_anet.metrics.detection import evaluate_detections  # noqa: E402

ALPHAS, SHRINKS = (1.0, 10.0, 100.0, 1000.0), (0.5, 1.0)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x0, y0 = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    x1, y1 = np.minimum(a[:, 2], b[:, 2]), np.minimum(a[:, 3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def main() -> int:
    from sklearn.linear_model import Ridge

    ap = argparse.ArgumentParser()
    ap.add_argument("npz", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    d = dict(np.load(args.npz))
    names, img, box, feat, score = d["wider_names"], d["wider_image"], d["wider_box"], d["wider_feature"], d["wider_score"]
    half = hash_part(names, 0.5, seed="lnet_anet-face-verifier-v1")
    truth = wider_truth(names)
    # each candidate's face: the one face (that counts) whose box holds the candidate's centre
    target, has = np.zeros_like(box), np.zeros(len(box), bool)
    for k, (b, i) in enumerate(zip(box, img, strict=True)):
        g, dc = truth[i]
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        inside = (g[:, 0] <= cx) & (cx < g[:, 2]) & (g[:, 1] <= cy) & (cy < g[:, 3])
        if inside.sum() == 1 and not dc[inside][0]:
            target[k], has[k] = g[inside][0], True
    fit = has & (half[img] == "tune")
    choose_img = np.flatnonzero(half == "val")
    chosen_truth = [truth[i] for i in choose_img]
    mean, scale = feat[fit].mean(0), feat[fit].std(0) + 1e-6
    x = np.concatenate([(feat - mean) / scale, np.log(box[:, 2:] - box[:, :2])], 1)

    def figures(boxes):
        dets = [(boxes[img == i], score[img == i]) for i in choose_img]
        ops = [(boxes[(img == i) & (score > SHIPPED_T)], score[(img == i) & (score > SHIPPED_T)]) for i in choose_img]
        held = has & (half[img] == "val")
        return {"ap50": evaluate_detections(dets, chosen_truth)["ap"], "op_recall": op_recall(ops, chosen_truth),
                "median_iou": float(np.median(box_iou(boxes[held], target[held]))),
                "iou_at_least_0.5": float(np.mean(box_iou(boxes[held], target[held]) >= 0.5))}

    fixed = figures(box)
    print("fixed face box", json.dumps({k: round(v, 4) for k, v in fixed.items()}), f"fit pairs {int(fit.sum())}")
    rows = []
    for alpha in ALPHAS:
        model = Ridge(alpha=alpha).fit(x[fit], encode(box[fit], target[fit]))
        t = model.predict(x)
        for s in SHRINKS:
            row = {"alpha": alpha, "shrink": s, **figures(decode(box, s * t))}
            rows.append(row)
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}))
    best = max(rows, key=lambda r: r["ap50"])
    best["ships"] = bool(best["ap50"] >= fixed["ap50"] + 0.02 and best["op_recall"] >= fixed["op_recall"] + 0.02)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "choose.json").write_text(json.dumps({"fixed": fixed, "rows": rows, "chosen": best,
                                                      "fit_pairs": int(fit.sum())}, indent=1))
    print("chosen", best)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
