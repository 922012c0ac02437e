"""The image lists of the upright head's fit (train / tune parts) and of its benchmark (val parts),
written to runs/upright/*.txt (paths into ../shared/datasets; not committed):
  fit:   celeba_hq128 train-partition files, UTKFace train-part chips, WIDER FACE tune-part photos
  score: celeba_hq128 val files, UTKFace val-part chips, WIDER FACE val-part photos, SCUT-FBP5500
         training-list images (not used by the fit)
Each list: a seeded sample of --n paths (seed 0).

    PYTHONPATH=. python experiments/2026-12-01-upright/lists.py --n 600 --out runs/upright
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, read_wider_txt  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
parser.add_argument("--n", type=int, default=600)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()


def sample(paths, n):
    paths = sorted(str(p) for p in paths)
    pick = np.random.default_rng(0).choice(len(paths), min(n, len(paths)), replace=False)
    return [paths[i] for i in sorted(pick)]


celeba = build_index(data_cfg("celeba_hq", args.datasets))
utk = build_index(data_cfg("utkface", args.datasets))
wider_root = args.datasets / "wider_face_train"
wider = read_wider_txt(next(iter(sorted((wider_root / "wider_face_split").glob("wider_face_*_bbx_gt.txt")))))
wider["part"] = hash_part(wider["name"])
scut = read_scut_fbp5500(args.datasets / "scut_fbp5500_train")
lists = {
    "fit-celeba_hq128-train": split_of(celeba, "train")["path"],
    "fit-utkface-train": split_of(utk, "train")["path"],
    "fit-wider-tune": wider[wider["part"] == "tune"]["path"],
    "score-celeba_hq128-val": split_of(celeba, "val")["path"],
    "score-utkface-val": split_of(utk, "val")["path"],
    "score-wider-val": wider[wider["part"] == "val"]["path"],
    "score-scut": scut[scut["split"] == "train"]["path"],
}
args.out.mkdir(parents=True, exist_ok=True)
for name, paths in lists.items():
    chosen = sample(paths.tolist(), args.n)
    (args.out / f"{name}.txt").write_text("\n".join(chosen) + "\n")
    print(name, len(paths), "->", len(chosen))
