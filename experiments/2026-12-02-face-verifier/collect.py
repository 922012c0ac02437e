"""Collect the localizer's candidate faces with ANet's feature of each, for the face-verifier
study (issue 14; README beside this file). Every candidate goes through Predictor.analyse on the
image file, the localizer's threshold lowered to --threshold so that the verifier has candidates
below the shipped threshold to rescue.

    python experiments/2026-12-02-face-verifier/collect.py --part tune --out runs/face-verifier/tune.npz

Sources, each of the chosen part only:
  wider    WIDER FACE train photos (hash_part), every candidate with its IoU-0.5 label against
           WIDER's boxes (1 hit, 0 false alarm, -1 don't care: label_detections) -- for scoring only;
  free     one face-free crop per WIDER photo of the part (bench_detection.face_free_crops);
  celeba   --aligned celeba_hq128 files of the split (train for tune, val for val), every candidate;
  utk      --aligned UTKFace chips likewise.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_default import data_cfg  # noqa: E402
from bench_detection import face_free_crops  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, mark_small, read_wider_txt  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.metrics.detection import label_detections, truth_from_table  # noqa: E402


def opened_predictor(threshold: float, bundle=None) -> Predictor:
    pred = Predictor.load(bundle)
    loc = pred.localizer
    loc.threshold, loc.min_relative_score, loc.max_faces, loc.max_peaks = threshold, 0.0, 100, 200
    return keep_features(pred)


def keep_features(pred: Predictor) -> Predictor:
    """pred, its face features hook keeping ANet's patch-average feature of each face it
    analyses in the face's record (as "_feature")."""
    inner = pred._face_features

    def hook(faces, *args, **kwargs):  # _face_features(faces, pad=None) since session 44
        out = inner(faces, *args, **kwargs)
        for (*_, face), f in zip(faces, out[0].mean(1), strict=True):
            face["_feature"] = np.asarray(f, np.float32)
        return out

    pred._face_features = hook
    return pred


def candidates(pred: Predictor, paths: list[str], desc: str):
    rows = []
    for i, path in enumerate(tqdm(paths, desc=desc, mininterval=10)):
        rec = pred.analyse(path).record
        if rec.get("error"):
            print(f"{path}: {rec['error']}", file=sys.stderr)
            continue
        for rank, f in enumerate(rec["faces"]):
            rows.append((i, rank, f["score"], f["box"], f["_feature"]))
    return rows


def pack(rows, n_images: int, labels=None) -> dict:
    d = {"image": np.array([r[0] for r in rows], np.int32), "rank": np.array([r[1] for r in rows], np.int32),
         "score": np.array([r[2] for r in rows], np.float64),
         "box": np.array([r[3] for r in rows], np.float64).reshape(-1, 4),
         "feature": np.stack([r[4] for r in rows]).astype(np.float32), "n_images": np.int32(n_images)}
    if labels is not None:
        d["label"] = labels
    return d


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("tune", "val"), required=True)
    ap.add_argument("--threshold", type=float, default=0.2)
    ap.add_argument("--aligned", type=int, default=1000)
    ap.add_argument("--wider-limit", type=int, default=None)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    t0 = time.time()
    datasets = datasets_root()
    pred = opened_predictor(args.threshold)
    out = {}

    table = read_wider_txt(next((datasets / "wider_face_train" / "wider_face_split").glob("*_bbx_gt.txt")))
    table["part"] = hash_part(table["name"])
    df = mark_small(table[table["part"] == args.part].reset_index(drop=True), 24.0)
    if args.wider_limit:
        df = df.iloc[: args.wider_limit].reset_index(drop=True)
    truth = truth_from_table(df)
    rows = candidates(pred, list(df["path"]), "wider")
    labels = np.zeros(len(rows), np.int8)
    by_image: dict[int, list[int]] = {}
    for k, r in enumerate(rows):
        by_image.setdefault(r[0], []).append(k)
    for i, ks in by_image.items():  # label_detections sorts by score; our rows are in rank (score) order
        boxes = np.array([rows[k][3] for k in ks]).reshape(-1, 4)
        scores = np.array([rows[k][2] for k in ks])
        order = np.argsort(-scores, kind="stable")
        _, lab = label_detections(boxes, scores, truth[i][0], truth[i][1])
        labels[np.array(ks)[order]] = lab
    out |= {f"wider_{k}": v for k, v in pack(rows, len(df), labels).items()}
    out["wider_names"] = np.array(list(df["name"]))

    free = face_free_crops(df, REPO / "runs" / "face-verifier" / f"free-{args.part}")
    out |= {f"free_{k}": v for k, v in pack(candidates(pred, free, "free"), len(free)).items()}
    # the photo each crop was cut from (its name is "<event>__<file>__x_y_side.png")
    out["free_names"] = np.array([Path(f).name.rsplit("__", 1)[0].replace("__", "/") + ".jpg" for f in free])

    split = "train" if args.part == "tune" else "val"
    for name, cfg in (("celeba", "celeba_hq"), ("utk", "utkface")):
        files = split_of(build_index(data_cfg(cfg, datasets)), split)
        files = files.sample(n=min(args.aligned, len(files)), random_state=7)["path"].tolist()
        out |= {f"{name}_{k}": v for k, v in pack(candidates(pred, files, name), len(files)).items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
