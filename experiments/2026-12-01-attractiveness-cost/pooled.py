"""Diagnostic (issue 17, section 9): the joint head on dlib's pooled 256-d feature (the input of the
network's last, linear layer) instead of, or beside, its 128-d descriptor. The network computes
the pooled feature anyway, so a head that reads it costs nothing more per face.

Per SCUT-FBP5500 training-list image, the best face's box and ANet feature from each fold's bundle
(box_chip.py's cache, --cache), the landmark chip as shipped (FaceDescriptor.chip), then dlib's
ported network in float (torch): the pooled feature and the descriptor. Joint heads of 3 networks
(the shipped recipe: DescriptorHead.fit(members=3) on joined_inputs) are fitted per outer fold on
the other four, and their out-of-fold scores mixed 0.5 with the bundle fold heads' (all 9 patches,
and the centre patch alone: patches.py's --oof cache).

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/pooled.py --cache runs/boxchip/cache.npz \
        --oof runs/patches/oof.npz --features runs/pooled/features.npz --out experiments/2026-12-01-attractiveness-cost/pooled.json
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-01-descriptor-onnx"))
from scut_folds import metrics, scut_training_list  # noqa: E402

from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.dldl.descriptor import (  # noqa: E402
    DESCRIPTOR,
    DescriptorHead,
    FaceDescriptor,
    joined_inputs,
    models_folder,
)
from lnet_anet.models.dlib_resnet import DlibFaceResNet  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--cache", type=Path, required=True, help="box_chip.py's cache: boxes, ANet features")
parser.add_argument("--oof", type=Path, required=True, help="patches.py's cache: the bundle fold heads' out-of-fold scores")
parser.add_argument("--features", type=Path, required=True, help="this script's cache of the network's outputs")
parser.add_argument("--out", type=Path, required=True)
parser.add_argument("--only", nargs="*", help="these inputs only (default: all)")
args = parser.parse_args()
torch.set_num_threads(2)

index, names, y, folds = scut_training_list(args.root)
z = np.load(args.cache)
feats, boxes = z["feats"], z["boxes"]
found = np.isfinite(boxes).all(1)
if not args.features.exists():
    describer = FaceDescriptor(precision="fp32")
    net = DlibFaceResNet.from_dlib(models_folder() / f"{DESCRIPTOR}.dat")
    grid = np.full((len(y), 256, 2, 2), np.nan, np.float32)  # the last stage's map (global mean: the pooled feature)
    rows = np.flatnonzero(found)
    for start in range(0, len(rows), 64):
        batch = rows[start:start + 64]
        chips = np.stack([describer.chip(load_image(index["path"][i]), boxes[i]) for i in batch])
        with torch.no_grad():
            grid[batch] = net.forward_features(torch.from_numpy(chips)).numpy()
        print(f"{start + len(batch)} / {len(rows)}", flush=True)
    with torch.no_grad():
        descriptors = net.fc(torch.from_numpy(grid.mean((2, 3)))).numpy()
    args.features.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.features, grid=grid, descriptors=descriptors)
nf = np.load(args.features)
grid, descriptors = nf["grid"], nf["descriptors"]
pooled = grid.mean((2, 3))
bundle_oof = np.load(args.oof)


def scaled(x: np.ndarray) -> np.ndarray:
    """Each row L2-normalised to norm 1 (a dlib descriptor's norm is about 0.5-1)."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


inputs = {
    "descriptor (shipped)": joined_inputs(descriptors, feats),
    "pooled": joined_inputs(scaled(pooled), feats),
    "pooled + descriptor": joined_inputs(np.concatenate([scaled(pooled), descriptors], 1), feats),
    "map + descriptor": joined_inputs(np.concatenate([scaled(grid.reshape(len(grid), -1)), descriptors], 1), feats),
    "map": joined_inputs(scaled(grid.reshape(len(grid), -1)), feats),
}
if args.only:
    inputs = {name: inputs[name] for name in args.only}
record = {"faces": int(found.sum()), "descriptor_norm_median": round(float(np.median(np.linalg.norm(descriptors[found], axis=1))), 3)}
for name, x in inputs.items():
    oof = np.full(len(y), np.nan)
    for k in range(1, 6):
        train, test = (folds != k) & found, (folds == k) & found
        oof[test] = DescriptorHead.fit(x[train], y[train], members=3).regress(x[test])
    record[name] = {"head_alone": metrics(oof[found], y[found])}
    for patches in ("all", "centre"):
        mixed = 0.5 * oof + 0.5 * bundle_oof[patches]
        record[name][f"mixed_{patches}"] = metrics(mixed[found], y[found])
        record[name][f"mixed_{patches}_per_fold_rmse"] = [metrics(mixed[(folds == k) & found], y[(folds == k) & found])["rmse"]
                                                          for k in range(1, 6)]  # fmt: skip
    print(name, record[name], flush=True)
record["command"] = "python experiments/2026-12-01-attractiveness-cost/pooled.py " + " ".join(sys.argv[1:])
args.out.write_text(json.dumps(record, indent=2) + "\n")
