"""dlib's face-recognition descriptor (128-d, ResNet, 99.38% on LFW; the `face_recognition_models`
package ships its weights) of every image of a list: the teacher's input, at training time only.

    pip install dlib-bin face_recognition_models==0.3.0
    PYTHONPATH=. python experiments/2026-12-01-attractiveness-distill/embed_dlib.py --images LIST.txt --out emb.npz [--boxes lnet-boxes.csv] [--part 0 --parts 2]

Per image: dlib's HOG detector (upsampled once) gives the face; its largest face, else the
image's row of --boxes, else the image inset by 10% on each side; dlib's 5-point landmarks in it;
the descriptor of the aligned 150 px chip. Writes paths, emb (N, 128) and hog (1 where HOG found
the face)."""

import argparse
import time
from pathlib import Path

import dlib
import numpy as np
import pandas as pd
from PIL import Image

from lnet_anet.dldl.descriptor import DESCRIPTOR, LANDMARKS, models_folder

parser = argparse.ArgumentParser()
parser.add_argument("--images", required=True, help="a text file of image paths, one per line")
parser.add_argument("--out", required=True)
parser.add_argument("--boxes", help="name,x0,y0,x1,y1 CSV: the face where HOG finds none")
parser.add_argument("--part", type=int, default=0)
parser.add_argument("--parts", type=int, default=1)
args = parser.parse_args()

models = models_folder()
landmarks = dlib.shape_predictor(str(models / f"{LANDMARKS}.dat"))
descriptor = dlib.face_recognition_model_v1(str(models / f"{DESCRIPTOR}.dat"))
detector = dlib.get_frontal_face_detector()
boxes = pd.read_csv(args.boxes).set_index("name") if args.boxes else None
paths = Path(args.images).read_text().split()[args.part :: args.parts]
out, hog, start = [], [], time.time()
for i, path in enumerate(paths):
    img = np.asarray(Image.open(path).convert("RGB"))
    found = detector(img, 1)
    name = Path(path).name
    if len(found):
        rect = max(found, key=lambda r: r.area())
    elif boxes is not None and name in boxes.index:
        b = boxes.loc[name]
        rect = dlib.rectangle(int(b.x0), int(b.y0), int(b.x1), int(b.y1))
    else:
        h, w = img.shape[:2]
        rect = dlib.rectangle(int(0.1 * w), int(0.1 * h), int(0.9 * w), int(0.9 * h))
    hog.append(int(len(found) > 0))
    out.append(np.array(descriptor.compute_face_descriptor(img, landmarks(img, rect))))
    if i % 500 == 0:
        print(f"{i}/{len(paths)} images, {time.time() - start:.0f} s", flush=True)
np.savez(args.out, paths=np.array(paths), emb=np.array(out, np.float32), hog=np.array(hog))
print(f"{len(paths)} images, HOG found {sum(hog)}, {time.time() - start:.0f} s")
