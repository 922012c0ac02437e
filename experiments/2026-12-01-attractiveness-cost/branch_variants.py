"""Diagnostic for the cost (issue 17, section 7): the face graph's time with the bundle head's
attractiveness branch as shipped (9 patches), over 4 patches (stride 32), over the centre patch
alone, and without it; ONNX Runtime, 2 threads, batch 1, the graphs interleaved call by call.
patches.py gives the same variants' accuracy. The centre patch is computed as the branch's own
per-patch forward on the centre window of the shared trunk map (what the dense forward computes
for that patch, without the other eight).

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/branch_variants.py --calls 300 \
        --out experiments/2026-12-01-attractiveness-cost/branch_variants.json
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--calls", type=int, default=300)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
os.environ["LNET_ANET_CACHE"] = tempfile.mkdtemp()  # these graphs are not the shipped ones: keep them apart
torch.set_num_threads(2)

from lnet_anet.inference.fuse import fold_batchnorm  # noqa: E402
from lnet_anet.inference.graphs import FaceGraph  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.inference.runtime import OrtGraph  # noqa: E402

predictor = Predictor.load()
bundle = predictor.bundle
predictor._graphs(copy_first=True)  # sets the stages each head shares with ANet
shared = predictor._shared_stages
size = predictor._anet.canonical_size


def centre_patch(net) -> None:
    """The net scores the centre patch alone: its window of the shared trunk map."""
    stage = shared["attractiveness"]
    window = net.anet.trunk.output_size(net.anet.patch_size, stage)
    start = (net.anet.trunk.output_size(size, stage) - window) // 2

    def logits(trunk_map, stage=None, mirrored=None):
        inner = trunk_map[:, :, start:start + window, start:start + window]
        return net.forward_from_trunk(inner, stage)["logits"].float().log_softmax(-1)

    net.dense_logits_from_trunk = logits


def stride_32(net) -> None:
    net.stride = 32


def face_graph(change=None, attractiveness=True) -> OrtGraph:
    heads = {}
    for name, prep in predictor._heads.items():
        if name == "attractiveness" and not attractiveness:
            continue
        net = fold_batchnorm(bundle.net(name), True)
        if name == "attractiveness" and change is not None:
            change(net)
        heads[name] = (net, prep)
    graph = FaceGraph(fold_batchnorm(bundle.anet, True), predictor._anet, heads,
                      {k: v for k, v in shared.items() if k in heads})  # fmt: skip
    dynamic = {io: {0: "n"} for io in (*graph.input_names, *graph.output_names)}
    return OrtGraph.from_module(graph, [torch.zeros(2, size, size, 3, dtype=torch.uint8)], f"variant-{time.time_ns()}", dynamic)


graphs = {"without attractiveness": face_graph(attractiveness=False), "9 patches (shipped)": face_graph(),
          "4 patches (stride 32)": face_graph(stride_32), "centre patch": face_graph(centre_patch)}  # fmt: skip
crop = np.random.default_rng(0).integers(0, 256, (1, size, size, 3), dtype=np.uint8)
for graph in graphs.values():
    for _ in range(20):
        graph(crop)
times = {name: [] for name in graphs}
names = list(graphs)
for i in range(args.calls):
    shift = i % len(names)
    for name in names[shift:] + names[:shift]:
        t0 = time.perf_counter()
        graphs[name](crop)
        times[name].append(1000 * (time.perf_counter() - t0))
base = np.array(times[names[0]])
out = {"command": f"python experiments/2026-12-01-attractiveness-cost/branch_variants.py --calls {args.calls} --out {args.out}",
       "face_graph_ms_median": {n: round(float(np.median(t)), 3) for n, t in times.items()},
       "branch_adds_ms_median_of_pairs": {n: round(float(np.median(np.array(t) - base)), 3) for n, t in times.items() if n != names[0]},
       "machine": {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": 2,
                   "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__,
                   "load_average": [round(v, 2) for v in os.getloadavg()]}}  # fmt: skip
args.out.write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=2))
