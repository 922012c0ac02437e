"""dlib's face-recognition outputs (the 128-d descriptor and the last map, 256 x 2 x 2) of every
CelebA-HQ 128 px image, from the LNet box the attribute SVMs were fitted on (the CSV that
fit_svms' feature cache used), in the reader's row order: the cache that attributes.py reads.

    PYTHONPATH=. python experiments/2026-12-02-attribute-descriptor/dlib_features.py \
        --boxes runs/celeba-hq128-lnet-boxes.csv --out runs/attr-desc/dlib.npz
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from lnet_anet.data.images import load_image
from lnet_anet.data.readers.celeba import read_celeba
from lnet_anet.dldl.descriptor import FaceDescriptor

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/celeba_hq128"))
parser.add_argument("--boxes", type=Path, required=True)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()

frame = read_celeba(args.root, coords="none")
boxes = pd.read_csv(args.boxes).set_index("name")
describe = FaceDescriptor()
outputs = np.zeros((len(frame), 128 + 1024), np.float32)
t0 = time.perf_counter()
for row, path in enumerate(tqdm(frame["path"].astype(str), desc="dlib outputs", mininterval=10)):
    image = load_image(path)
    box = boxes.loc[Path(path).name, ["x0", "y0", "x1", "y1"]].to_numpy(float)
    if not np.isfinite(box).all():  # no LNet box: the whole image, as fit_svms' cache did ("whole_image")
        box = np.array([0, 0, image.shape[1], image.shape[0]], float)
    outputs[row] = describe(image, [box], with_map=True)[0]
args.out.parent.mkdir(parents=True, exist_ok=True)
np.savez(args.out, outputs=outputs, names=np.array([Path(p).name for p in frame["path"].astype(str)]))
print(f"{len(frame)} images in {time.perf_counter() - t0:.0f} s -> {args.out}")
