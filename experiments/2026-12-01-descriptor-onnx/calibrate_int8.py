"""The int8 activation ranges of dlib's ported face-recognition ResNet (lnet_anet.models.dlib_resnet),
shipped as lnet_anet/assets/dlib_resnet_int8_ranges.json and read by FaceDescriptor(precision="int8").

    PYTHONPATH=. python experiments/2026-12-01-descriptor-onnx/calibrate_int8.py --images runs/distill/extra.txt \
        --boxes runs/distill/extra-boxes.csv --faces 300 --out lnet_anet/assets/dlib_resnet_int8_ranges.json

Calibration faces: a seeded sample of UTKFace and CelebA-HQ *training* faces (no SCUT image), cut
as FaceDescriptor cuts them (the localizer's box, the box map, dlib's landmarks, the 150 px chip);
ONNX Runtime's MinMax calibration of every activation. The ranges are numbers, not faces.
Also reports, on other faces of the same list, how close the int8 descriptor is to the float one."""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from lnet_anet.data.images import load_image
from lnet_anet.dldl.descriptor import FaceDescriptor, calibrate_int8

parser = argparse.ArgumentParser()
parser.add_argument("--images", required=True)
parser.add_argument("--boxes", required=True, help="name,x0,y0,x1,y1 of the localizer's best face (lnet_boxes)")
parser.add_argument("--faces", type=int, default=300)
parser.add_argument("--check", type=int, default=300)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()

paths = Path(args.images).read_text().split()
boxes = pd.read_csv(args.boxes).set_index("name")
describe = FaceDescriptor(precision="fp32")
chips = []
for i in np.random.default_rng(args.seed).permutation(len(paths)):
    row = boxes.loc[Path(paths[i]).name] if Path(paths[i]).name in boxes.index else None
    if row is not None and np.isfinite(row[["x0", "y0", "x1", "y1"]].to_numpy(float)).all():
        chips.append(describe.chip(load_image(paths[i]), row[["x0", "y0", "x1", "y1"]].to_numpy(float)))
    if len(chips) == args.faces + args.check:
        break
chips = np.stack(chips)
calibrate_int8(chips[: args.faces], args.out)
quantized = FaceDescriptor(precision="int8", ranges=args.out)
a = describe._net(chips[args.faces :])[0]
b = np.concatenate([quantized._net(c[None])[0] for c in chips[args.faces :]])
cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
dist = np.linalg.norm(a - b, axis=1)
report = {"calibration_faces": args.faces, "check_faces": len(a), "cosine_int8_vs_float": {"median": float(np.median(cos)), "min": float(cos.min())},
          "distance_int8_vs_float": {"median": float(np.median(dist)), "max": float(dist.max()),
                                     "note": "dlib calls two faces the same person below 0.6"}}
print(json.dumps(report, indent=2))
(Path(__file__).parent / "int8_check.json").write_text(json.dumps(report, indent=2))
