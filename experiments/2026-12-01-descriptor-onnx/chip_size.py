"""Diagnostic for the cost (issue 17), not shipped: dlib's ResNet on smaller chips. The network is
fully convolutional up to its global average, so a 112 or 128 px chip (dlib.get_face_chip, same
landmarks and padding) runs it at ~(size/150)^2 of the work; the joint head is refitted per fold
on those descriptors (5-fold CV, the same folds; the bundle fold heads' out-of-fold scores from
anet_features.py, mixed 0.5 as shipped). fp32 on ONNX Runtime, so the times compare sizes only.

    PYTHONPATH=. python experiments/2026-12-01-descriptor-onnx/chip_size.py --features runs/onnx-desc/anet-feats.npz \
        --out experiments/2026-12-01-descriptor-onnx/chip_size.json
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from scut_folds import metrics, scut_training_list

from lnet_anet.data.images import load_image
from lnet_anet.dldl.descriptor import (
    DESCRIPTOR,
    DescriptorHead,
    FaceDescriptor,
    joined_inputs,
    models_folder,
)
from lnet_anet.inference.runtime import export
from lnet_anet.models.dlib_resnet import DlibFaceResNet

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--boxes", type=Path, default=Path("runs/onnx-desc/scut.npz"), help="scut_descriptors.py's npz")
parser.add_argument("--features", type=Path, required=True)
parser.add_argument("--sizes", type=int, nargs="+", default=[150, 128, 112])
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

index, names, y, folds = scut_training_list(args.root)
a = np.load(args.features, allow_pickle=True)
box_of = dict(zip(np.load(args.boxes)["names"].tolist(), np.load(args.boxes)["boxes"], strict=True))
describe = FaceDescriptor(precision="fp32")
net = DlibFaceResNet.from_dlib(models_folder() / f"{DESCRIPTOR}.dat")
options = ort.SessionOptions()
options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
session = ort.InferenceSession(export(net, [torch.zeros(1, 150, 150, 3, dtype=torch.uint8)],
                                      {"chips": {0: "n", 1: "h", 2: "w"}}), options, providers=["CPUExecutionProvider"])  # fmt: skip



shapes = {}
for path in index["path"]:
    img = load_image(path)
    box = box_of[os.path.basename(path)]
    area_rect = describe._dlib_box(img, box)
    shapes[path] = (img, describe._landmarks(img, area_rect))
record = {}
for size in args.sizes:
    chips = np.stack([describe._dlib.get_face_chip(img, shape, size=size, padding=0.25) for img, shape in shapes.values()])
    d = np.concatenate([session.run(None, {"chips": chips[i : i + 64]})[0] for i in range(0, len(chips), 64)])
    times = []
    for chip in chips[:200]:
        t0 = time.perf_counter()
        session.run(None, {"chips": chip[None]})
        times.append(1000 * (time.perf_counter() - t0))
    x = joined_inputs(d, a["feats"])
    oof = np.zeros(len(y))
    for k in range(1, 6):
        oof[folds == k] = DescriptorHead.fit(x[folds != k], y[folds != k]).regress(x[folds == k])
    record[size] = {"network_fp32_ms_median": round(float(np.median(times)), 2),
                    "joint_head_alone": metrics(oof, y), "mixed_0.5": metrics(0.5 * oof + 0.5 * a["head_oof"], y)}
    print(size, record[size], flush=True)
args.out.write_text(json.dumps(record, indent=2))
