"""Diagnostic (issue 15): LNet's own attribute evidence for each celeba_hq128 train face, to be
mixed with ANet's SVM scores (attributes.py). LNet (the embedded bundle's) was fine-tuned with
the 40 attribute tags as image-level tags (Liu et al., ICCV 2015, Sec. 3.1): its 40 tag maps say
where each attribute's evidence lies. Two readings per face, from the same LNet boxes the SVMs
were fitted on (runs/celeba-hq128-lnet-boxes.csv, the ANet region; a face without a box uses the
whole image):

- region: the picture on each of LNet's canvases of the bundle's scales (1.0: letterbox to 224;
  0.45: zoomed out), placed as the Predictor places it, the 40 maps averaged over the region (torchvision's roi_align, 4x4 samples, then the mean):
  free at prediction time, the maps being computed to find the face;
- crop: ANet's crop of the region (enlarged 1.1) resized to --crop-size and read by LNet, the
  maps' global average (LNet's own logits): one more small LNet pass per face.

    PYTHONPATH=. python experiments/2026-12-03-lnet-attributes/lnet_features.py \
        --boxes runs/celeba-hq128-lnet-boxes.csv --out runs/attr-lnet/lnet.npz
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torchvision.ops import roi_align

from lnet_anet.data.from_config import split_fit_tune, split_of
from lnet_anet.data.preprocess import Normalize
from lnet_anet.data.readers.celeba import read_celeba
from lnet_anet.data.transforms import resize as resize_image
from lnet_anet.inference.bundle import load_bundle
from lnet_anet.inference.graphs import Normalized
from lnet_anet.lnet.multiscale import place

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/celeba_hq128"))
parser.add_argument("--boxes", type=Path, required=True)
parser.add_argument("--crop-size", type=int, default=128)
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--partition", default="tune", help="fit / tune (parts of train) or a split")
parser.add_argument("--limit", type=int, default=None)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

bundle = load_bundle("lnet_anet/assets/default.lnetanet")
lnet = bundle.lnet.eval()
prep = bundle.preprocessing["lnet"]
norm = Normalized(Normalize(mean=tuple(prep["mean"]), std=tuple(prep["std"])))
enlarge = bundle.preprocessing["anet"]["enlarge"]
SCALES = tuple(prep["scales"])  # the canvases every picture is read on (1.0: letterbox; 0.45: zoomed out)
frame = read_celeba(args.root, coords="none")
frame["row"] = np.arange(len(frame))
if args.partition in ("fit", "tune"):  # fit_svms' (and train_lnet's) identity-disjoint parts of train
    rows = split_fit_tune(split_of(frame, "train"), frac=0.1, seed=0)[args.partition == "tune"]["row"].to_numpy()
else:
    rows = np.flatnonzero((frame["split"] == args.partition).to_numpy())
rows = rows[: args.limit]
paths = frame["path"].to_numpy()[rows]
names = [Path(p).name for p in paths]
boxes = pd.read_csv(args.boxes).set_index("name")
print(f"{len(rows)} faces of partition {args.partition}")


def enlarged(box):
    cx, cy, bw, bh = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]
    bw, bh = bw * enlarge, bh * enlarge
    return [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]


region_out, crop_out = np.zeros((len(rows), len(SCALES), 40), np.float32), np.zeros((len(rows), 40), np.float32)
start = time.time()
for s in range(0, len(rows), args.batch):
    canvases, rois, crops = [[] for _ in SCALES], [[] for _ in SCALES], []
    for i, name in enumerate(names[s:s + args.batch]):
        img = np.asarray(Image.open(paths[s + i]).convert("RGB"))
        h, w = img.shape[:2]
        r = boxes.loc[name] if name in boxes.index else None
        box = [0, 0, w, h] if r is None or pd.isna(r["x0"]) else [r["x0"], r["y0"], r["x1"], r["y1"]]
        for k, scale in enumerate(SCALES):
            canvas, pl = place(img, tuple(prep["input_size"]), scale, prep["resize"], prep["zoom_out_canvas"])
            canvases[k].append(canvas)
            rois[k].append([i, box[0] * pl.kx + pl.x0, box[1] * pl.ky + pl.y0, box[2] * pl.kx + pl.x0,
                            box[3] * pl.ky + pl.y0])
        e = enlarged(box)
        # ANet's crop: the enlarged region, zero-padded outside the picture, resized
        x0, y0, x1, y1 = (int(round(v)) for v in e)
        padded = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        padded[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
        crops.append(resize_image(padded, args.crop_size, args.crop_size))
    with torch.no_grad():
        pooled = []
        for k in range(len(SCALES)):
            maps = lnet.attribute_maps(norm(torch.from_numpy(np.stack(canvases[k]))))[:, :40]
            pooled.append(roi_align(maps, torch.tensor(rois[k], dtype=torch.float32), (4, 4),
                                    spatial_scale=1 / lnet.stride, sampling_ratio=2, aligned=True).mean((2, 3)))
        crop_maps = lnet.attribute_maps(norm(torch.from_numpy(np.stack(crops))))[:, :40]
    n = len(crops)
    region_out[s:s + n] = torch.stack(pooled, 1).numpy()
    crop_out[s:s + n] = crop_maps.mean((2, 3)).numpy()
    if s // args.batch % 20 == 0:
        print(f"{s + len(crops)}/{len(rows)} {time.time() - start:.0f} s", flush=True)
args.out.parent.mkdir(parents=True, exist_ok=True)
np.savez(args.out, rows=rows, scales=SCALES, region=region_out, crop=crop_out)
print(f"wrote {args.out} in {time.time() - start:.0f} s")
