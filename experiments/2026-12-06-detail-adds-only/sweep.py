"""RULE.md line 4, a diagnostic of trial 58b's layout: one large CelebA-HQ val face (SIZE px) on a
6000 x 4000 grey gradient with one 100 px face pasted just outside its square, at 8 positions in turn
(its hair, shoulders, beside it); each picture read through Predictor.predict without and with
--detail 0.5. Prints, per layout, whether a box centred on the large face (and wider than 0.3 of it)
is found by each reading. After trial 58b's sweep.py (/tmp/trial58b-data), with its seed and layouts.

    PYTHONPATH=. python experiments/2026-12-06-detail-adds-only/sweep.py 500 > sweep-500.txt
"""

import random
import sys

import numpy as np
from PIL import Image

from lnet_anet import Predictor
from lnet_anet.data import datasets_root

random.seed(11)
D = datasets_root()
parts = dict(line.split() for line in open(D / "celeba_hq128" / "list_eval_partition.txt") if len(line.split()) == 2)
val = [n for n, p in parts.items() if p == "1"]
random.shuffle(val)


def face(i: int) -> Image.Image:
    return Image.open(D / "celeba_hq128" / "img_celeba_hq" / val[i]).convert("RGB")


predictor = Predictor.load()
gradient = np.linspace(90, 200, 6000)[None, :, None].repeat(4000, 0).repeat(3, 2).astype(np.uint8)
big = int(sys.argv[1]) if len(sys.argv) > 1 else 500
bx, by = 2700, 1700
offsets = [(-110, -60), (big + 10, -60), (-110, big - 40), (big + 10, big - 40), (big // 2 - 50, -110),
           (big // 2 - 50, big + 10), (-60, big // 2), (big - 40, big // 2 - 50)]  # fmt: skip
square = [bx, by, bx + big, by + big]


def is_big(b) -> bool:
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    return square[0] <= cx <= square[2] and square[1] <= cy <= square[3] and (b[2] - b[0]) > big * 0.3


kept = lost = 0
for k, (dx, dy) in enumerate(offsets):
    img = Image.fromarray(gradient.copy())
    img.paste(face(k).resize((big, big), Image.BICUBIC), (bx, by))
    img.paste(face(100 + k).resize((100, 100), Image.BICUBIC), (bx + dx, by + dy))
    found = {}
    for ratio in (None, 0.5):
        predictor.detail_ratio = ratio
        found[ratio] = [[round(v) for v in f["box"]] + [round(f["score"], 2)] for f in predictor.predict(img)["faces"]]
    default, detail = any(is_big(b) for b in found[None]), any(is_big(b) for b in found[0.5])
    kept += default and detail
    lost += default and not detail
    print(f"small at ({dx},{dy}): default {found[None]}  --detail 0.5 {found[0.5]}  large face found: {default} / {detail}",
          flush=True)  # fmt: skip
print(f"large face {big} px: found by the default in {kept + lost} layouts, lost with --detail 0.5 in {lost}")
