"""The extra faces of the distillation (no attractiveness label; issue 17): UTKFace's train part
(the age config's hold-out rule, so the age val part stays unseen), White or Asian, 16-45 years,
like SCUT-FBP5500's young Asian and Caucasian adults; then 4,000 CelebA-HQ train-partition faces
(random, seed 0). Writes their paths, one per line.

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-distill/pick_extra_faces.py \
        --datasets ../shared/datasets --out runs/distill/extra.txt"""

import argparse
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from lnet_anet.data.from_config import build_index

parser = argparse.ArgumentParser()
parser.add_argument("--datasets", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
root = Path(args.datasets)

cfg = OmegaConf.load("lnet_anet/conf/data/utkface.yaml")
cfg.index.folder = str(root / "utkface128" / "UTKFace")
utk = build_index(cfg)
utk = utk[(utk.split == "train") & utk.race.isin([0, 2]) & utk.age.between(16, 45)]
part = pd.read_csv(root / "celeba_hq128" / "list_eval_partition.txt", sep=r"\s+", header=None, names=["name", "p"])
celeba = part[part.p == 0].sample(4000, random_state=0)
paths = [*utk.path.astype(str), *(str(root / "celeba_hq128" / "img_celeba_hq" / n) for n in celeba.name)]
Path(args.out).write_text("\n".join(paths) + "\n")
print(f"{len(utk)} UTKFace + {len(celeba)} CelebA-HQ faces -> {args.out}")
