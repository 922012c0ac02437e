"""What the descriptor head adds per face, by part, on SCUT-FBP5500 training-list images (one face
per call, batch 1, as Predictor calls it for a one-face photo): dlib's landmarks, the aligned
chip, the network (int8 on ONNX Runtime; fp32 on ONNX Runtime; dlib's own code) and the DLDL-v2
regression and mix (the shipped head; a joint head's ANet feature is computed outside the timing:
the Predictor computes it for the attributes anyway). Medians over --faces faces, best of --rounds rounds; torch and ONNX Runtime threads 2.

    PYTHONPATH=. python experiments/2026-12-01-descriptor-onnx/timing.py --boxes runs/onnx-desc/scut.npz \
        --out experiments/2026-12-01-descriptor-onnx/timing.json
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from lnet_anet.data.images import load_image
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500
from lnet_anet.dldl.descriptor import DESCRIPTOR, DescriptorHead, FaceDescriptor, models_folder
from lnet_anet.inference.predictor import Predictor

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--boxes", type=Path, required=True, help="scut_descriptors.py's npz (names, localizer boxes)")
parser.add_argument("--faces", type=int, default=100)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

z = np.load(args.boxes)
box_of = dict(zip(z["names"].tolist(), z["boxes"], strict=True))
index = read_scut_fbp5500(args.root)
paths = index[index["split"] == "train"]["path"].astype(str).tolist()[: args.faces]
images = [(load_image(p), box_of[os.path.basename(p)]) for p in paths]
head = DescriptorHead.load()
fast, exact = FaceDescriptor(), FaceDescriptor(precision="fp32")
dlib_net = exact._dlib.face_recognition_model_v1(str(models_folder() / f"{DESCRIPTOR}.dat"))


def timed(fn):
    best = None
    for _ in range(args.rounds):
        times = []
        for image, box in images:
            t0 = time.perf_counter()
            fn(image, box)
            times.append(1000 * (time.perf_counter() - t0))
        best = min(best or np.inf, float(np.median(times)))
    return round(best, 3)


chips = {id(image): fast.chip(image, box) for image, box in images}
rect = {id(image): fast._dlib_box(image, box) for image, box in images}
shape = {id(image): fast._landmarks(image, rect[id(image)]) for image, box in images}
descriptors = {id(image): fast(image, [box]) for image, box in images}
predictor = Predictor.load()
features = {id(image): predictor.anet_features(image, [box]) if head.anet else None for image, box in images}
parts = {
    "landmarks (dlib, 5 points)": timed(lambda im, b: fast._landmarks(im, rect[id(im)])),
    "chip (dlib.get_face_chip, 150 px)": timed(lambda im, b: fast._dlib.get_face_chip(im, shape[id(im)], size=150, padding=0.25)),
    "network int8, ONNX Runtime": timed(lambda im, b: fast._net(chips[id(im)][None])),
    "network fp32, ONNX Runtime": timed(lambda im, b: exact._net(chips[id(im)][None])),
    "network, dlib's own code": timed(lambda im, b: dlib_net.compute_face_descriptor(chips[id(im)])),
    "regression and mix (DLDL-v2 head, torch)": timed(lambda im, b: head.mix(np.array([3.0]), descriptors[id(im)],
                                                                             features[id(im)])),
    "total: descriptor head as shipped (int8, box map)": timed(lambda im, b: head.mix(np.array([3.0]), fast(im, [b]),
                                                                                       features[id(im)])),
}
out = {"command": "python experiments/2026-12-01-descriptor-onnx/timing.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items()),
       "faces": len(images), "rounds": args.rounds, "median_ms_per_face": parts,
       "machine": {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": 2,
                   "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__,
                   "load_average": list(os.getloadavg())}}
args.out.write_text(json.dumps(out, indent=2))
print(json.dumps(out, indent=2))
