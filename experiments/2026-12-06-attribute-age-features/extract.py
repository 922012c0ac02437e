"""End to end through `Predictor.predict_many` on celeba_hq128 files of one part of train (fit_svms'
identity-disjoint split, frac 0.1, seed 0): for each file's strongest face, what the bundle's heads
see of it: ANet's patch-averaged feature (256, what the attribute SVMs read), the two age nets'
pooled Lite0 features of the age crop (2 x 1280; the crop the face graph feeds them), the 40
shipped probabilities, and the labels. NaN rows where no face was found.

    PYTHONPATH=. python experiments/2026-12-06-attribute-age-features/extract.py --partition tune --out runs/attr-age/tune.npz
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from lnet_anet.data.from_config import split_fit_tune, split_of
from lnet_anet.data.readers.celeba import read_celeba
from lnet_anet.inference import predictor as predictor_module
from lnet_anet.inference.predictor import Predictor, _crops, soften_sharp

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/celeba_hq128"))
parser.add_argument("--partition", default="tune", choices=("fit", "tune"))
parser.add_argument("--limit", type=int, default=None)
parser.add_argument("--seed", type=int, default=0, help="which fit files when --limit is below the part")
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()

frame = read_celeba(args.root, coords="none")
frame["row"] = np.arange(len(frame))
rows = split_fit_tune(split_of(frame, "train"), frac=0.1, seed=0)[args.partition == "tune"]["row"].to_numpy()
if args.limit is not None and args.limit < len(rows):
    rows = np.sort(np.random.default_rng(args.seed).choice(rows, args.limit, replace=False))
paths = frame["path"].to_numpy()[rows].tolist()
names = list(frame.attrs["attributes"])
predictor = Predictor.load()
age_net, prep = predictor.bundle.net("age").eval(), predictor._heads["age"]
assert not predictor._anet.mirror and not predictor._anet.views, "the face graph's age crops are read once each"
mean = torch.tensor(prep.mean).view(1, 3, 1, 1)
std = torch.tensor(prep.std).view(1, 3, 1, 1)
original = Predictor._analyse_faces


def analyse_and_keep(self, faces):
    """The shipped analysis, then the age nets' pooled features of the same age crops, kept in the
    face's record under a private key (read below, never written out)."""
    features = original(self, faces)
    crops = _crops(faces, prep.enlarge, prep.image_size, prep.pad)
    if prep.soften != 1:
        crops = np.stack([soften_sharp(c, prep.soften, prep.soften_above) for c in crops])
    x = (torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255 - mean) / std
    with torch.inference_mode():
        pooled = torch.cat([m.backbone(x) for m in age_net.members], 1).numpy()
    for (*_, face), f, p in zip(faces, features, pooled, strict=True):
        face["_anet"], face["_age"] = f, p
    return features


predictor_module.Predictor._analyse_faces = analyse_and_keep
anet = np.full((len(rows), 256), np.nan, np.float32)
age = np.full((len(rows), 2560), np.nan, np.float16)
probs = np.full((len(rows), len(names)), np.nan, np.float32)
start = time.time()
for i, record in enumerate(predictor.predict_many(paths, batch_size=8)):
    if record["faces"]:
        face = record["faces"][0]
        anet[i], age[i] = face["_anet"], face["_age"]
        probs[i] = [face["attributes"][n] for n in names]
    if i % 500 == 0:
        print(f"{i}/{len(rows)} {time.time() - start:.0f} s", flush=True)
labels = frame.iloc[rows][names].to_numpy().astype(np.int8)
args.out.parent.mkdir(parents=True, exist_ok=True)
np.savez(args.out, rows=rows, anet=anet, age=age, probabilities=probs, labels=labels,
         identity=frame["identity"].to_numpy()[rows], names=np.array(names),
         thresholds=np.array([predictor.decision_thresholds[n] for n in names]))
print(f"wrote {args.out}: {len(rows)} files, {np.isnan(anet[:, 0]).sum()} without a face, {time.time() - start:.0f} s")
