"""Diagnostic (issue 14, tune parts only): the further faces the embedded Predictor reports beside
a picture's best face, and where they lie relative to the stronger faces.

    PYTHONPATH=. python experiments/2026-12-04-split-faces/diagnose.py --out runs/split-faces/tune.json

Per further face (every face after the first of a record), against each stronger face of the same
picture: whether its centre lies inside the stronger face's reported box grown by 1.0 / 1.25 / 1.5
about its centre, the intersection over the smaller box (IoMin), its size ratio and score. Each
further face is labelled by the data:
- UTKFace chips (the tune sample of bench_end_to_end: random train-part chips, seed 1): a chip
  holds one face, so a further face is a false one (a part of the face, or clutter);
- WIDER tune photos (hash_part "tune"): a further face at IoU >= 0.5 with a labelled face (any
  size, don't-care included) is a true face, else a false one;
- grids of CelebA-HQ train-partition faces (benchmarks/make_face_grids.py --part tune): a further
  face at IoU >= 0.5 with a tile's face box is a true face.
Nothing here reads a val part.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torchvision.ops import box_iou

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_default import data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, read_wider_txt  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

GROW = (1.0, 1.25, 1.5)


def grown(box: np.ndarray, g: float) -> np.ndarray:
    c, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) / 2 * g
    return np.concatenate([c - half, c + half])


def further_faces(faces: list[dict], truth: np.ndarray | None, label_all: bool | None) -> list[dict]:
    """One row per further face: its relation to the stronger faces and its label (True: a
    face of its own)."""
    boxes = np.array([f["box"] for f in faces], dtype=np.float64)
    rows = []
    for k in range(1, len(faces)):
        b = boxes[k]
        c = (b[:2] + b[2:]) / 2
        stronger = boxes[:k]
        inside = {f"centre_in_{g:g}": bool(any((grown(s, g)[:2] <= c).all() and (c < grown(s, g)[2:]).all()
                                            for s in stronger)) for g in GROW}  # fmt: skip
        inter = np.clip(np.minimum(stronger[:, 2:], b[2:]) - np.maximum(stronger[:, :2], b[:2]), 0, None).prod(1)
        areas = (stronger[:, 2:] - stronger[:, :2]).prod(1)
        area = float((b[2:] - b[:2]).prod())
        iomin = float((inter / np.minimum(areas, area)).max())
        if truth is None:
            label = bool(label_all)
        else:
            label = bool(len(truth) and box_iou(torch.tensor(b[None]), torch.tensor(truth)).max() >= 0.5)
        rows.append({"k": k, "score": faces[k].get("score"), "best_score": faces[0].get("score"),
                     "size_ratio": float(np.sqrt(area / areas.max())), "iomin": iomin, "face": label, **inside})  # fmt: skip
    return rows


def run(predictor: Predictor, name: str, paths: list[str], truths: list[np.ndarray | None], label_all=None) -> dict:
    rows, counts = [], []
    for path, rec, truth in zip(paths, predictor.predict_many(paths), truths, strict=True):
        counts.append(len(rec["faces"]))
        for r in further_faces(rec["faces"], truth, label_all):
            rows.append({"set": name, "image": path, **r})
    counts = np.array(counts)
    print(f"{name}: {len(paths)} images, faces per image {counts.mean():.4f}, with >1 face {(counts > 1).mean():.4f}, "
          f"further faces {len(rows)} (true {sum(r['face'] for r in rows)})", flush=True)  # fmt: skip
    return {"images": len(paths), "faces_per_image": float(counts.mean()), "share_over_one": float((counts > 1).mean()),
            "rows": rows}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--chips", type=int, default=1000)
    ap.add_argument("--wider", type=int, default=400)
    ap.add_argument("--grids", type=Path, default=None, help="make_face_grids.py --part tune output folder")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    predictor = Predictor.load()
    results = {}
    utk = build_index(data_cfg("utkface", args.datasets))
    chips = split_of(utk, "train").sample(n=args.chips, random_state=1)["path"].tolist()
    results["utkface_tune"] = run(predictor, "utkface_tune", chips, [None] * len(chips), label_all=False)
    root = args.datasets / "wider_face_train"
    wider = read_wider_txt(next(root.glob("wider_face_split/*_bbx_gt.txt")))
    wider = wider[hash_part(wider["name"]) == "tune"].iloc[: args.wider]
    results["wider_tune"] = run(predictor, "wider_tune", wider["path"].tolist(),
                                [np.asarray(b, np.float64).reshape(-1, 4) for b in wider["boxes"]])  # fmt: skip
    if args.grids is not None:
        faces = pd.read_csv(args.grids / "faces.csv")
        by_path = {p: g[["x0", "y0", "x1", "y1"]].to_numpy(np.float64) for p, g in faces.groupby("path")}
        names = sorted(by_path)  # faces.csv names images relative to its folder
        results["grids_tune"] = run(predictor, "grids_tune", [str(args.grids / n) for n in names],
                                    [by_path[n] for n in names])  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
