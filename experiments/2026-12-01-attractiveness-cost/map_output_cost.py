"""Diagnostic (section 9): what returning dlib's last map costs the int8 network. The network as
shipped (two outputs: descriptors and map, the int8 ranges of section 7 with the map's tensor
renamed) against the same network exported with the descriptor alone (the ranges before), one
ONNX Runtime thread, chip by chip in alternating order (timing only: random chips).

    git show b903127:lnet_anet/assets/dlib_resnet_int8_ranges.json > /tmp/ranges-before.json
    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/map_output_cost.py --before-ranges /tmp/ranges-before.json \
        --out experiments/2026-12-01-attractiveness-cost/map_output_cost.json
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from lnet_anet.dldl.descriptor import _EXPORT, DESCRIPTOR, INT8_RANGES, models_folder
from lnet_anet.inference import runtime
from lnet_anet.models.dlib_resnet import DlibFaceResNet

parser = argparse.ArgumentParser()
parser.add_argument("--before-ranges", type=Path, required=True)
parser.add_argument("--chips", type=int, default=300)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()


def session(model: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


net = DlibFaceResNet.from_dlib(models_folder() / f"{DESCRIPTOR}.dat")
with_map = session(runtime.quantize_int8(runtime.export(net, *_EXPORT), INT8_RANGES))
both = DlibFaceResNet.forward
DlibFaceResNet.forward = lambda self, chips: both(self, chips)[0]  # the descriptor alone, as before section 9
DlibFaceResNet.output_names = ("descriptors",)
without = session(runtime.quantize_int8(runtime.export(net, *_EXPORT), args.before_ranges))
chips = np.random.default_rng(0).integers(0, 256, (args.chips, 1, 150, 150, 3), dtype=np.uint8)
for s in (with_map, without):  # warm up
    for c in chips[:10]:
        s.run(None, {"chips": c})
ms = {"with map": [], "descriptor alone": []}
for i, c in enumerate(chips):
    for name, s in ((("with map", with_map), ("descriptor alone", without))[:: 1 if i % 2 else -1]):
        t0 = time.perf_counter()
        s.run(None, {"chips": c})
        ms[name].append(1000 * (time.perf_counter() - t0))
a, b = np.array(ms["with map"]), np.array(ms["descriptor alone"])
same = max(float(np.abs(with_map.run(None, {"chips": c})[0] - without.run(None, {"chips": c})[0]).max()) for c in chips[:20])
record = {"chips": args.chips, "median_ms": {"with map": round(float(np.median(a)), 3), "descriptor alone": round(float(np.median(b)), 3)},
          "paired_difference_ms": {"median": round(float(np.median(a - b)), 3),
                                   "iqr": [round(float(q), 3) for q in np.percentile(a - b, [25, 75])]},
          "descriptors_max_abs_difference_20_chips": same, "torch": torch.__version__, "onnxruntime": ort.__version__,
          "command": "python experiments/2026-12-01-attractiveness-cost/map_output_cost.py --before-ranges "
                     f"{args.before_ranges} --out {args.out}"}  # fmt: skip
args.out.write_text(json.dumps(record, indent=2) + "\n")
print(json.dumps(record, indent=2))
