"""Fit DLIB_BOX_MAP (lnet_anet.dldl.descriptor): where dlib's HOG detector puts the face that the
Predictor's localizer boxed, as a centre shift and side relative to the localizer box's side.

    PYTHONPATH=. python experiments/2026-12-01-descriptor-onnx/fit_box_map.py --images runs/distill/extra.txt \
        --faces 2000 --out experiments/2026-12-01-descriptor-onnx/box_map.json

Images: a seeded sample of a list of UTKFace and CelebA-HQ *training* faces (no SCUT image). The
map is fitted (medians) on the even rows, and checked on the odd rows: the 5 landmarks found
from the mapped box, and from the raw box, against those found from HOG's box, in units of the
eye distance."""

import argparse
import json
from pathlib import Path

import dlib
import numpy as np
from tqdm import tqdm

from lnet_anet.data.images import load_image
from lnet_anet.dldl.descriptor import FaceDescriptor
from lnet_anet.inference.predictor import Predictor

parser = argparse.ArgumentParser()
parser.add_argument("--images", required=True)
parser.add_argument("--faces", type=int, default=2000)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()

paths = Path(args.images).read_text().split()
paths = [paths[i] for i in np.random.default_rng(args.seed).choice(len(paths), args.faces, replace=False)]
predictor = Predictor.load()
hog = FaceDescriptor(refine="hog")
rows = []  # box, hog box, image index
images = {}
located = 0
for start in tqdm(range(0, len(paths), 16), desc="faces"):
    batch = [load_image(p) for p in paths[start : start + 16]]
    for j, (image, faces) in enumerate(zip(batch, predictor.locate_many(batch, 16, kind="face"), strict=True)):
        if not faces:
            continue
        located += 1
        box = np.asarray(faces[0][0], np.float64)
        r = hog._dlib_box(image, box)
        found = (r.left(), r.top(), r.right(), r.bottom())
        if found != tuple(int(round(v)) for v in box):  # HOG found the face near the box
            rows.append((start + j, box, np.array(found, np.float64)))
            images[start + j] = image


def params(box, other):
    side = max(box[2] - box[0], box[3] - box[1])
    c, oc = (box[:2] + box[2:]) / 2, (other[:2] + other[2:]) / 2
    return [(oc[0] - c[0]) / side, (oc[1] - c[1]) / side, (other[2] - other[0]) / side]


p = np.array([params(b, h) for _, b, h in rows])
fit, check = p[0::2], rows[1::2]
dx, dy, scale = np.median(fit, axis=0)


def landmarks(image, rect):
    s = hog._landmarks(image, rect)
    return np.array([[s.part(i).x, s.part(i).y] for i in range(5)], np.float64)


def rect(box, shift=(0.0, 0.0, 1.0)):
    side = max(box[2] - box[0], box[3] - box[1])
    cx, cy = (box[0] + box[2]) / 2 + shift[0] * side, (box[1] + box[3]) / 2 + shift[1] * side
    half = shift[2] * side / 2
    return dlib.rectangle(*(int(round(v)) for v in (cx - half, cy - half, cx + half, cy + half)))


errors = {"raw box": [], "mapped box": []}
for i, box, hog_box in check:
    ref = landmarks(images[i], dlib.rectangle(*(int(v) for v in hog_box)))
    eyes = np.linalg.norm(ref[0:2].mean(0) - ref[2:4].mean(0))  # 5-point model: 0-1 one eye, 2-3 the other, 4 nose
    for name, shift in (("raw box", (0.0, 0.0, 1.0)), ("mapped box", (dx, dy, scale))):
        errors[name].append(np.linalg.norm(landmarks(images[i], rect(box, shift)) - ref, axis=1).mean() / eyes)
out = {
    "command": "python experiments/2026-12-01-descriptor-onnx/fit_box_map.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()),
    "images": len(paths), "localizer_found": located, "hog_found_near_box": len(rows),
    "fitted_on": len(fit), "checked_on": len(check),
    "map": {"dx": round(float(dx), 4), "dy": round(float(dy), 4), "scale": round(float(scale), 4)},
    "spread_iqr": {k: [round(float(v), 4) for v in np.quantile(fit[:, j], [0.25, 0.75])]
                   for j, k in enumerate(("dx", "dy", "scale"))},
    "landmark_error_vs_hog_box_eye_units": {k: {"mean": round(float(np.mean(v)), 4), "p90": round(float(np.quantile(v, 0.9)), 4)}
                                            for k, v in errors.items()},
}
args.out.parent.mkdir(parents=True, exist_ok=True)
args.out.write_text(json.dumps(out, indent=2))
print(json.dumps(out, indent=2))
