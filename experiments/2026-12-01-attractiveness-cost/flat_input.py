"""dlib's ported ResNet with its input normalised on the flattened chip (issue 17, section 7): what
it saves, and proof that it computes the same descriptors.

Before: `(chips.permute(0, 3, 1, 2).float() - mean) / 256`. ONNX Runtime moves the permute below
the subtraction, which then broadcasts a (1, 1, 1, 3) mean over the (N, 150, 150, 3) chip: its
profile gave that one Sub 0.3 ms of the int8 network's 2.5-3.0. Now (`_normalized` in
lnet_anet.models.dlib_resnet): each chip flattened minus the means tiled to its size, one
elementwise Sub with the same numbers. The int8 ranges are the shipped ones, plus the range of the
normalised chip (the old graph's `/Div_output_0`) for each tensor between it and the first
convolution (reshapes and the transpose, which carry it unchanged). This script:

1. exports the network both ways and writes the ranges for the new graph (--ranges-out);
2. checks that the two int8 graphs give the same descriptors on SCUT-FBP5500 training-list faces
   (cut as FaceDescriptor cuts them, at the localizer's box);
3. times the two int8 networks alone, 1 thread, paired chip by chip in alternating order.

    git show b15a587~1:lnet_anet/assets/dlib_resnet_int8_ranges.json > /tmp/ranges-before.json
    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/flat_input.py --before-ranges /tmp/ranges-before.json \
        --ranges-out lnet_anet/assets/dlib_resnet_int8_ranges.json --out experiments/2026-12-01-attractiveness-cost/flat_input.json
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

import lnet_anet.models.dlib_resnet as dlib_resnet
from lnet_anet.data.images import load_image
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500
from lnet_anet.dldl.descriptor import _EXPORT, DESCRIPTOR, FaceDescriptor, models_folder
from lnet_anet.inference.predictor import Predictor
from lnet_anet.inference.runtime import OrtGraph, export, quantize_int8

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--before-ranges", type=Path, required=True, help="the int8 ranges of the old graph")
parser.add_argument("--ranges-out", type=Path, required=True)
parser.add_argument("--check", type=int, default=300, help="faces whose descriptors are compared")
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)


def broadcast_normalized(chips: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """_normalized as it was, (N, H, W, 3): the channel means broadcast."""
    return ((chips.permute(0, 3, 1, 2).float() - mean.view(1, 3, 1, 1)) / 256.0).permute(0, 2, 3, 1)


# 1. Both graphs, and the ranges under the new names.
net = dlib_resnet.DlibFaceResNet.from_dlib(models_folder() / f"{DESCRIPTOR}.dat")
now = export(net, *_EXPORT)
flat, dlib_resnet._normalized = dlib_resnet._normalized, broadcast_normalized
before = export(net, *_EXPORT)
dlib_resnet._normalized = flat
graphs = {"before": onnx.load_from_string(before).graph, "now": onnx.load_from_string(now).graph}
ranges = json.loads(args.before_ranges.read_text())
produced = {o for n in graphs["now"].node for o in n.output} | {i.name for i in graphs["now"].input}
data = {k: v for k, v in ranges["data"].items() if k in produced}
# The first convolution's input, followed back through the ops that only move the normalised chip.
producer = {o: n for n in graphs["now"].node for o in n.output}
tensor = next(n for n in graphs["now"].node if n.op_type == "Conv").input[0]
carried = []
while producer[tensor].op_type in ("Reshape", "Transpose", "Unsqueeze", "Squeeze", "Flatten"):
    carried.append(tensor)
    tensor = producer[tensor].input[0]
assert producer[tensor].op_type == "Div", f"the first convolution reads {producer[tensor].op_type}, not the normalised chip"
data |= {t: ranges["data"]["/Div_output_0"] for t in [tensor, *carried]}
args.ranges_out.write_text(json.dumps({**ranges, "data": data}))  # the format calibrate_int8 writes
quantized = {"before": quantize_int8(before, args.before_ranges), "now": quantize_int8(now, args.ranges_out)}
nets = {name: OrtGraph(model, threads=1) for name, model in quantized.items()}

# 2. The same descriptors.
index = read_scut_fbp5500(args.root)
paths = index[index["split"] == "train"]["path"].astype(str).tolist()
predictor = Predictor.load()
describer = FaceDescriptor()
chips = []
for path in paths[:: max(1, len(paths) // args.check)][: args.check]:
    image = load_image(path)
    faces = predictor.predict(image)["faces"]
    if faces:
        chips.append(describer.chip(image, faces[0]["box"]))
chips = np.stack(chips)
descriptors = {name: np.concatenate([net(chip[None])[0] for chip in chips]) for name, net in nets.items()}
same = float(np.abs(descriptors["before"] - descriptors["now"]).max())

# 3. The networks alone, paired chip by chip.
alone = collections.defaultdict(list)
names = list(nets)
for r in range(args.rounds):
    for i, chip in enumerate(chips):
        for name in names if (i + r) % 2 else names[::-1]:
            t0 = time.perf_counter()
            nets[name](chip[None])
            alone[name].append(1000 * (time.perf_counter() - t0))
saved = np.array(alone["before"]) - np.array(alone["now"])

out = {"command": "python experiments/2026-12-01-attractiveness-cost/flat_input.py "
                  + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "root"),
       "graph_nodes": {name: dict(collections.Counter(n.op_type for n in g.node)) for name, g in graphs.items()},
       "ranges_added": [tensor, *carried],
       "same_descriptors": {"faces": len(chips), "max_abs_difference": same},
       "network_alone_ms_median": {name: round(float(np.median(v)), 3) for name, v in alone.items()},
       "saved_ms_median_of_pairs": round(float(np.median(saved)), 3),
       "saved_ms_iqr": [round(float(q), 3) for q in np.percentile(saved, [25, 75])],
       "machine": {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": 1,
                   "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__,
                   "load_average": [round(v, 2) for v in os.getloadavg()]}}  # fmt: skip
args.out.write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps({k: v for k, v in out.items() if k != "graph_nodes"}, indent=2))
