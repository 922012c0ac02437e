"""End to end through `Predictor.predict_many` on celeba_hq128 files of one part (default: fit_svms'
tune part of train): each file's strongest face's 40 attribute probabilities (NaN when no face
was found), as a user gets them.

    PYTHONPATH=. python experiments/2026-12-03-lnet-attributes/predictions.py --out runs/attr-lnet/pred-tune.npz
"""

import argparse
import time
from pathlib import Path

import numpy as np

from lnet_anet.data.from_config import split_fit_tune, split_of
from lnet_anet.data.readers.celeba import read_celeba
from lnet_anet.inference.predictor import Predictor

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/celeba_hq128"))
parser.add_argument("--partition", default="tune", help="fit / tune (parts of train) or a split")
parser.add_argument("--bundle", default=None)
parser.add_argument("--limit", type=int, default=None)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()

frame = read_celeba(args.root, coords="none")
frame["row"] = np.arange(len(frame))
if args.partition in ("fit", "tune"):
    rows = split_fit_tune(split_of(frame, "train"), frac=0.1, seed=0)[args.partition == "tune"]["row"].to_numpy()
else:
    rows = np.flatnonzero((frame["split"] == args.partition).to_numpy())
rows = rows[: args.limit]
paths = frame["path"].to_numpy()[rows].tolist()
names = list(frame.attrs["attributes"])
predictor = Predictor.load(args.bundle)
probs = np.full((len(rows), len(names)), np.nan, np.float32)
start = time.time()
for i, record in enumerate(predictor.predict_many(paths, batch_size=8)):
    if record["faces"]:
        attrs = record["faces"][0]["attributes"]
        probs[i] = [attrs[n] for n in names]
    if i % 500 == 0:
        print(f"{i}/{len(rows)} {time.time() - start:.0f} s", flush=True)
labels = frame.iloc[rows][names].to_numpy().astype(np.int8)
args.out.parent.mkdir(parents=True, exist_ok=True)
np.savez(args.out, rows=rows, probabilities=probs, labels=labels, identity=frame["identity"].to_numpy()[rows],
         thresholds=np.array([predictor.decision_thresholds[n] for n in names]))
print(f"wrote {args.out}: {len(rows)} files, {np.isnan(probs[:, 0]).sum()} without a face, {time.time() - start:.0f} s")
