"""What attractiveness costs inside a whole `Predictor.predict` call (one face per photo, batch 1):
the shipped bundle without its attractiveness head, with it (the bundle head: ANet's layers in the
face graph), and with the opt-in joint descriptor head mixed in, run on the same SCUT-FBP5500
training-list images in interleaved rounds in one process. Also the descriptor's parts timed
inside those calls (landmarks + chip, network, head and mix), which run slower there than alone
(timing.py in ../2026-12-01-descriptor-onnx: the parts alone, warm caches).

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/pipeline_cost.py --images 60 --rounds 7 \
        --out experiments/2026-12-01-attractiveness-cost/pipeline_cost.json

Per predictor: the median over rounds of the round's median wall time per image, and of its
median process CPU time (both cores' time). "adds" = minus the bundle without attractiveness.
--paired (session 16): each image goes through the three predictors in turn, the order rotating
from image to image, and "adds" is the median of the per-image differences. The block design
above let the host's drift between blocks move the bundle head's figure from 0.6 to 3.7 ms
between runs.

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/pipeline_cost.py --images 60 --rounds 5 --paired \
        --out experiments/2026-12-01-attractiveness-cost/pipeline_cost-paired.json

--centre (session 17, section 8): two more predictors, the shipped bundle with its attractiveness
head scoring the centre patch alone (ANetDLDL patches="centre"), without and with the joint
descriptor head.

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/pipeline_cost.py --images 60 --rounds 5 --paired \
        --centre --out experiments/2026-12-01-attractiveness-cost/pipeline_cost-centre.json

Section 9: the centre patch now comes from Predictor.load(patches={"attractiveness": "centre"}) (what
`predict --attractiveness-descriptor` loads; the same config as the rebundled copy used before), and
--peer-head adds the bundle head on its centre patch with another descriptor head (the previous
shipped one, which reads no map), for the cost of reading dlib's map.

    git show b903127:lnet_anet/assets/attractiveness_descriptor.safetensors > /tmp/joint3.safetensors
    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/pipeline_cost.py --images 60 --rounds 5 --paired \
        --centre --peer-head /tmp/joint3.safetensors --out experiments/2026-12-01-attractiveness-cost/pipeline_cost-map.json

Section 11 (session 20): --block B with --paired: each predictor reads B images in a row before the
next reads the same ones (as a user's run reads many images with one predictor): idle threads left
spinning by one predictor's call then run on into its own next call, not into another predictor's
(threads/run.sh runs --block 1 and 10).
"""

import argparse
import collections
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lnet_anet.data.images import load_image
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500
from lnet_anet.dldl.descriptor import DescriptorHead
from lnet_anet.inference.bundle import NET_PARTS, load_bundle, save_bundle
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--images", type=int, default=60)
parser.add_argument("--rounds", type=int, default=7)
parser.add_argument("--paired", action="store_true",
                    help="the three predictors image by image in rotating order; adds = median of per-image differences")  # fmt: skip
parser.add_argument("--centre", action="store_true",
                    help="also the bundle with its attractiveness head on the centre patch alone, without and with the descriptor head")  # fmt: skip
parser.add_argument("--only", nargs="+", help="time these predictors alone beside 'no attractiveness' (fewer "
                    "predictors, fewer sessions sharing the caches)")  # fmt: skip
parser.add_argument("--block", type=int, default=1,
                    help="with --paired: images each predictor takes in a row before the next takes them")
parser.add_argument("--peer-head", type=Path, help="with --centre: also the centre patch with this descriptor head")
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
if not args.paired and args.block > 1:
    parser.error("--block needs --paired")
torch.set_num_threads(2)


def without_attractiveness(out: Path) -> Path:
    """The shipped bundle with its attractiveness head left out (every other part as shipped)."""
    bundle = load_bundle(DEFAULT_BUNDLE)
    config = json.loads(json.dumps(bundle.config))
    config.pop("versions", None)
    for key in ("nets", "preprocessing", "provenance"):
        config[key].pop("attractiveness", None)
    parts = {n: getattr(bundle, n) for n in NET_PARTS if n != "attractiveness" and getattr(bundle, n) is not None}
    parts["svm"] = bundle.svm.to_arrays()
    return save_bundle(out, parts, config)


index = read_scut_fbp5500(args.root)
paths = index[index["split"] == "train"]["path"].astype(str).tolist()
paths = paths[:: max(1, len(paths) // args.images)][: args.images]
images = [load_image(p) for p in paths]
predictors = {"no attractiveness": Predictor.load(without_attractiveness(Path(tempfile.mkdtemp()) / "b.lnetanet")),
              "bundle head (default)": Predictor.load(), "bundle head + joint descriptor head": Predictor.load()}
head = DescriptorHead.load()
predictors["bundle head + joint descriptor head"].descriptor_head = head
if args.centre:
    centre = {"attractiveness": "centre"}
    predictors["bundle head, centre patch"] = Predictor.load(patches=centre)
    predictors["bundle head, centre patch + joint descriptor head"] = Predictor.load(patches=centre)
    predictors["bundle head, centre patch + joint descriptor head"].descriptor_head = DescriptorHead.load()
    if args.peer_head:
        predictors["bundle head, centre patch + peer descriptor head"] = Predictor.load(patches=centre)
        predictors["bundle head, centre patch + peer descriptor head"].descriptor_head = DescriptorHead.load(args.peer_head)
if args.only:
    unknown = set(args.only) - set(predictors)
    if unknown:
        parser.error(f"--only: no predictor {sorted(unknown)}; they are {list(predictors)}")
    predictors = {k: v for k, v in predictors.items() if k == "no attractiveness" or k in args.only}
for p in predictors.values():  # warm up: graphs built, caches filled
    for image in images[:3]:
        p.predict(image)

parts = collections.defaultdict(list)  # the descriptor's parts inside predict calls


def timed(obj, name: str, label: str) -> None:
    f = getattr(obj, name)

    def run(*a, **k):
        t0 = time.perf_counter()
        out = f(*a, **k)
        parts[label].append(1000 * (time.perf_counter() - t0))
        return out

    setattr(obj, name, run)


timed_head = next((p.descriptor_head for p in predictors.values() if p.descriptor_head is not None), None)
if timed_head is not None:  # the parts of the first predictor's descriptor head that is timed
    timed(timed_head.describer, "chip", "landmarks and aligned chip")
    timed(timed_head.describer, "_net", "network (int8, ONNX Runtime)")
    timed(timed_head, "mix", "joint head and mix")
wall, cpu = collections.defaultdict(list), collections.defaultdict(list)
names = list(predictors)
for r in range(args.rounds):
    for b, start in enumerate(range(0, len(images), args.block)):
        if args.paired:  # each image (block) through the three in turn, the order rotating (descriptor_cost.py)
            shift = (b + r) % len(names)
            order = names[shift:] + names[:shift]
        else:
            order = names
        for name in order:
            for image in images[start:start + args.block]:
                t0, c0 = time.perf_counter(), time.process_time()
                predictors[name].predict(image)
                wall[name].append(1000 * (time.perf_counter() - t0))
                cpu[name].append(1000 * (time.process_time() - c0))
if not args.paired:  # as session 14 measured: each predictor's block of images, medians of the rounds' medians
    n = len(images)
    wall = {k: [float(np.median(v[j:j + n])) for j in range(0, len(v), n)] for k, v in wall.items()}
    cpu = {k: [float(np.median(v[j:j + n])) for j in range(0, len(v), n)] for k, v in cpu.items()}
base = names[0]
med = {}
for name in names:
    w, c = np.array(wall[name]), np.array(cpu[name])
    med[name] = {"wall_ms": round(float(np.median(w)), 2), "cpu_ms": round(float(np.median(c)), 2),
                 "adds_wall_ms": round(float(np.median(w - np.array(wall[base]))), 2),
                 "adds_cpu_ms": round(float(np.median(c - np.array(cpu[base]))), 2)}  # fmt: skip
out = {"command": "python experiments/2026-12-01-attractiveness-cost/pipeline_cost.py "
                  + " ".join(f"--{k}" if v is True else f"--{k} {v}" for k, v in vars(args).items() if k != "root" and v not in (False, None)),
       "images": len(images), "block": args.block, "rounds": args.rounds, "per_image": med,
       "descriptor_parts_inside_predict_ms": {k: round(float(np.median(v)), 3) for k, v in parts.items()},
       "machine": {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": 2,
                   "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__,
                   "load_average": list(os.getloadavg())}}
args.out.parent.mkdir(parents=True, exist_ok=True)
args.out.write_text(json.dumps(out, indent=2))
print(json.dumps(out, indent=2))
