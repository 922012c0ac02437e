"""Median MTCNN face box on aligned CelebA-HQ 128 px train-partition (tune) files, relative to the
file (benchmarks/make_face_grids.py's ALIGNED_FACE_BOX). Run from the repository root:

    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python experiments/2026-12-01-face-box/aligned_face_box.py
"""

from pathlib import Path

import numpy as np
import torch
from facenet_pytorch import MTCNN
from PIL import Image

from lnet_anet.data.readers.celeba import read_partition

torch.set_num_threads(1)
root = Path("../shared/datasets/celeba_hq128")
part = read_partition(root / "list_eval_partition.txt")
names = list(np.random.default_rng(0).choice(sorted(part.index[part == "train"]), 500, replace=False))
detector = MTCNN(keep_all=True, device="cpu")
rel = []
for name in names:
    img = Image.open(root / "img_celeba_hq" / name).convert("RGB")
    boxes, probs = detector.detect(img)
    if boxes is not None:
        best = np.asarray(boxes[int(np.argmax(probs))], dtype=float)
        rel.append(best / np.array([img.width, img.height, img.width, img.height]))
rel = np.array(rel, dtype=float)
iqr = np.quantile(rel, 0.75, 0) - np.quantile(rel, 0.25, 0)
print(len(rel), "faces; median box / side", np.round(np.median(rel, 0), 4), "IQR", np.round(iqr, 4))
