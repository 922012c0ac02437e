"""dlib's ported ResNet exported with constant pads (issue 17): what it saves, and proof that it
computes the same descriptors.

Before this change, `_add_zero_extended` (lnet_anet.models.dlib_resnet) read the tensors' sizes as
traced values, so the exported graph computed every pad at run time: about 500 Shape, Gather,
Unsqueeze, Concat, Sub and Cast nodes, and 28 Pads (most of them pads by zero). It now reads them as
Python ints: the pads are constants, and pads by zero are gone. The int8 activation ranges are the
same numbers under the new graph's tensor names: each removed pad's output had its input's range,
and the remaining pads keep theirs (mapped by their input). This script:

1. exports the network both ways and maps the shipped ranges (--before-ranges, the ranges of the
   old graph) onto the new graph's names (--ranges-out);
2. checks that the two int8 graphs give the same descriptors on SCUT-FBP5500 training-list faces
   (cut as FaceDescriptor cuts them, at the localizer's box);
3. times the two int8 networks alone (1 thread, interleaved rounds), and inside whole
   `Predictor.predict` calls, paired per image with no descriptor head (the rotating order of
   descriptor_cost.py).

    git show 1508caf:lnet_anet/assets/dlib_resnet_int8_ranges.json > /tmp/ranges-before.json
    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/static_pads.py --before-ranges /tmp/ranges-before.json \
        --ranges-out lnet_anet/assets/dlib_resnet_int8_ranges.json --out experiments/2026-12-01-attractiveness-cost/static_pads.json
"""

import argparse
import collections
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F

import lnet_anet.models.dlib_resnet as dlib_resnet
from lnet_anet.data.images import load_image
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500
from lnet_anet.dldl.descriptor import (
    _EXPORT,
    DESCRIPTOR,
    DescriptorHead,
    FaceDescriptor,
    models_folder,
)
from lnet_anet.inference.predictor import Predictor
from lnet_anet.inference.runtime import OrtGraph, export, quantize_int8

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument(
    "--before-ranges", type=Path, required=True, help="the int8 ranges of the old graph"
)
parser.add_argument("--ranges-out", type=Path, required=True)
parser.add_argument("--images", type=int, default=60)
parser.add_argument("--check", type=int, default=300, help="faces whose descriptors are compared")
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)


def traced_pads(a, b):
    """_add_zero_extended as it was: sizes traced, every input padded."""
    c, h, w = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def extend(t):
        return F.pad(t, (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1]))

    return extend(a) + extend(b)


# 1. Both graphs, and the ranges under the new names.
net = dlib_resnet.DlibFaceResNet.from_dlib(models_folder() / f"{DESCRIPTOR}.dat")
now = export(net, *_EXPORT)
static_pads, dlib_resnet._add_zero_extended = dlib_resnet._add_zero_extended, traced_pads
before = export(net, *_EXPORT)
dlib_resnet._add_zero_extended = static_pads
graphs = {"before": onnx.load_from_string(before).graph, "now": onnx.load_from_string(now).graph}
ranges = json.loads(args.before_ranges.read_text())
pad_of_input = {n.input[0]: n.output[0] for n in graphs["before"].node if n.op_type == "Pad"}
produced = {o for n in graphs["now"].node for o in n.output} | {i.name for i in graphs["now"].input}
data = {k: v for k, v in ranges["data"].items() if k in produced}
data |= {
    n.output[0]: ranges["data"][pad_of_input[n.input[0]]]
    for n in graphs["now"].node
    if n.op_type == "Pad"
}
args.ranges_out.write_text(json.dumps({**ranges, "data": data}))  # the format calibrate_int8 writes
quantized = {
    "before": quantize_int8(before, args.before_ranges),
    "now": quantize_int8(now, args.ranges_out),
}
nets = {name: OrtGraph(model, threads=1) for name, model in quantized.items()}

# 2. The same descriptors.
index = read_scut_fbp5500(args.root)
index = index[index["split"] == "train"]
paths = index["path"].astype(str).tolist()
predictor = Predictor.load()
describer = FaceDescriptor()
chips = []
for path in paths[:: max(1, len(paths) // args.check)][: args.check]:
    image = load_image(path)
    faces = predictor.predict(image)["faces"]
    if faces:
        chips.append(describer.chip(image, faces[0]["box"]))
chips = np.stack(chips)
descriptors = {
    name: np.concatenate([net(chip[None])[0] for chip in chips]) for name, net in nets.items()
}
same = float(np.abs(descriptors["before"] - descriptors["now"]).max())

# 3a. The networks alone.
alone = collections.defaultdict(list)
for _ in range(args.rounds):
    for name, net in nets.items():
        t0 = time.perf_counter()
        for chip in chips[:100]:
            net(chip[None])
        alone[name].append(1000 * (time.perf_counter() - t0) / len(chips[:100]))

# 3b. Inside Predictor.predict, paired per image.
images = [load_image(p) for p in paths[:: max(1, len(paths) // args.images)][: args.images]]
heads = {"no descriptor head": None}
for name, net in nets.items():
    head = DescriptorHead.load(describe=FaceDescriptor())
    head.describe(images[0], [[40, 40, 180, 180]])
    head.describer._net = net
    heads[f"descriptor head, {name}"] = head
names = list(heads)
for name in names:  # warm up
    predictor.descriptor_head = heads[name]
    for image in images[:3]:
        predictor.predict(image)
wall, cpu = collections.defaultdict(list), collections.defaultdict(list)
for r in range(args.rounds):
    for i, image in enumerate(images):
        shift = (i + r) % len(names)
        for name in names[shift:] + names[:shift]:
            predictor.descriptor_head = heads[name]
            t0, c0 = time.perf_counter(), time.process_time()
            predictor.predict(image)
            wall[name].append(1000 * (time.perf_counter() - t0))
            cpu[name].append(1000 * (time.process_time() - c0))
inside = {}
for name in names:
    w, c = np.array(wall[name]), np.array(cpu[name])
    inside[name] = {
        "wall_ms_median": round(float(np.median(w)), 2),
        "cpu_ms_median": round(float(np.median(c)), 2),
    }
    if heads[name] is not None:
        dw, dc = w - np.array(wall[names[0]]), c - np.array(cpu[names[0]])
        inside[name] |= {"adds_wall_ms_median": round(float(np.median(dw)), 2),
                         "adds_wall_ms_iqr": [round(float(q), 2) for q in np.percentile(dw, [25, 75])],
                         "adds_cpu_ms_median": round(float(np.median(dc)), 2)}  # fmt: skip

out = {"command": "python experiments/2026-12-01-attractiveness-cost/static_pads.py "
                  + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "root"),
       "graph_nodes": {name: dict(collections.Counter(n.op_type for n in g.node)) for name, g in graphs.items()},
       "ranges": {"before": len(ranges["data"]), "now": len(data)},
       "same_descriptors": {"faces": len(chips), "max_abs_difference": same},
       "network_alone_ms": {name: round(float(np.median(v)), 3) for name, v in alone.items()},
       "inside_predict": {"images": len(images), "rounds": args.rounds, "per_image": inside},
       "machine": {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": 2,
                   "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__,
                   "load_average": [round(v, 2) for v in os.getloadavg()]}}  # fmt: skip
args.out.write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps({k: v for k, v in out.items() if k != "graph_nodes"}, indent=2))
