"""Diagnostic: dlib's descriptor of every SCUT-FBP5500 training-list face through the ported network,
with the landmark box from HOG (refine="hog") or from the fitted box map (refine="map"), the network
in float or int8 (precision), and a
DLDL-v2 descriptor head per fold on each (5-fold CV, the folds of every attractiveness record;
cached descriptors, the descriptor head alone: not an end-to-end figure).

    PYTHONPATH=. python experiments/2026-12-01-descriptor-onnx/scut_descriptors.py --root ../shared/datasets/scut_fbp5500_train \
        --dlib-cache runs/distill/scut-descriptors.npz --out runs/onnx-desc/scut.npz --record experiments/2026-12-01-descriptor-onnx/scut-policies.json
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from scut_folds import metrics, scut_training_list
from tqdm import tqdm

from lnet_anet.data.images import load_image
from lnet_anet.dldl.descriptor import DescriptorHead, FaceDescriptor
from lnet_anet.inference.predictor import Predictor

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, required=True)
parser.add_argument("--dlib-cache", type=Path, help="fit_descriptor_head's cache made with dlib's own network")
parser.add_argument("--out", type=Path, required=True)
parser.add_argument("--record", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

index, names, scores, folds = scut_training_list(args.root)
paths = index["path"].astype(str).tolist()
refines = ("hog-fp32", "map-fp32", "map-int8")  # the landmark box, the network's precision
if args.out.exists():
    z = np.load(args.out)
    boxes, desc, ms = z["boxes"], {r: z[r] for r in refines}, {r: z[f"{r}_ms"] for r in refines}
else:
    predictor = Predictor.load()
    describe = {r: FaceDescriptor(refine=r.split("-")[0], precision=r.split("-")[1]) for r in refines}
    boxes = np.full((len(paths), 4), np.nan)
    desc = {r: np.full((len(paths), 128), np.nan, np.float32) for r in refines}
    ms = {r: np.full(len(paths), np.nan) for r in refines}
    for start in tqdm(range(0, len(paths), 8), desc="SCUT faces"):
        images = [load_image(p) for p in paths[start : start + 8]]
        for j, (image, faces) in enumerate(zip(images, predictor.locate_many(images, 8, kind="face"), strict=True)):
            if faces:
                boxes[start + j] = faces[0][0]
                for r in refines:
                    t0 = time.perf_counter()
                    desc[r][start + j] = describe[r](image, [faces[0][0]])[0]
                    ms[r][start + j] = 1000 * (time.perf_counter() - t0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, names=np.array(names), boxes=boxes, **desc, **{f"{r}_ms": ms[r] for r in refines})

found = np.isfinite(boxes).all(1)
record = {"images": len(paths), "faces": int(found.sum()),
          "ms_per_face_median": {r: round(float(np.nanmedian(ms[r])), 2) for r in refines}}
if args.dlib_cache and args.dlib_cache.exists():  # the port against dlib's own network, same HOG boxes
    z = np.load(args.dlib_cache)
    ref = dict(zip(z["names"].tolist(), z["descriptors"], strict=True))
    both = [i for i in np.flatnonzero(found) if names[i] in ref]
    diff = np.array([np.abs(desc["hog-fp32"][i] - ref[names[i]]).max() for i in both])
    record["port_vs_dlib_hog"] = {"faces": len(both), "max_abs_diff_median": float(np.median(diff)),
                                  "share_within_1e-4": round(float((diff < 1e-4).mean()), 4)}
for r in refines[1:]:
    a, b = desc["hog-fp32"], desc[r]
    cos = np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    record[f"cosine_hog-fp32_vs_{r}"] = {"median": round(float(np.nanmedian(cos)), 4), "p10": round(float(np.nanquantile(cos, 0.1)), 4)}
for r in refines:
    pred = np.full(len(paths), np.nan)
    for k in range(1, 6):
        train, test = found & (folds != k), found & (folds == k)
        pred[test] = DescriptorHead.fit(desc[r][train], scores[train]).regress(desc[r][test])
    record[f"descriptor_head_alone_{r}"] = metrics(pred[found], scores[found])
args.record.write_text(json.dumps(record, indent=2))
print(json.dumps(record, indent=2))
