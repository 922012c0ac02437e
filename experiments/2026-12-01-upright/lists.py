"""The upright head's image lists, and the tune images its rule was chosen on.

As a script: the lists of the fit (train / tune parts) and of the benchmark (val parts), written
to --out/*.txt (paths into ../shared/datasets; not committed):
  fit:   celeba_hq128 train-partition files, UTKFace train-part chips, WIDER FACE tune-part photos
  score: celeba_hq128 val files, UTKFace val-part chips, WIDER FACE val-part photos, SCUT-FBP5500
         training-list images (not used by the fit)
Each list: a seeded sample of --n paths (seed 0).

    PYTHONPATH=. python experiments/2026-12-01-upright/lists.py --n 600 --out runs/upright

unused_tune_images: what choose_rule.py and same_region.py read.
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


def parts(datasets: Path) -> dict:
    """Every part's image paths: {(dataset, part): paths}, parts "train"/"tune" and "val"."""
    celeba = build_index(data_cfg("celeba_hq", datasets))
    utk = build_index(data_cfg("utkface", datasets))
    wider_root = datasets / "wider_face_train"
    wider = read_wider_txt(next(iter(sorted((wider_root / "wider_face_split").glob("wider_face_*_bbx_gt.txt")))))
    wider_part = hash_part(wider["name"])
    scut = read_scut_fbp5500(datasets / "scut_fbp5500_train")
    return {("celeba_hq128", "train"): split_of(celeba, "train")["path"],
            ("utkface", "train"): split_of(utk, "train")["path"],
            ("wider", "tune"): wider[wider_part == "tune"]["path"],
            ("celeba_hq128", "val"): split_of(celeba, "val")["path"],
            ("utkface", "val"): split_of(utk, "val")["path"],
            ("wider", "val"): wider[wider_part == "val"]["path"],
            ("scut", "train"): scut[scut["split"] == "train"]["path"]}  # fmt: skip


def sample(paths, n: int, rng: np.random.Generator) -> list[str]:
    paths = sorted(str(p) for p in paths)
    return [paths[i] for i in sorted(rng.choice(len(paths), min(n, len(paths)), replace=False))]


def unused_tune_images(datasets: Path, fit_lists: Path, n: int) -> dict[str, list[str]]:
    """n seeded (seed 1) WIDER tune-part photos, celeba_hq128 and UTKFace train-part files each,
    none of them in fit_lists/fit-*.txt (the images the head was fitted on)."""
    used = set()
    for f in fit_lists.glob("fit-*.txt"):
        used |= {line.strip() for line in f.read_text().splitlines() if line.strip()}
    p, rng = parts(datasets), np.random.default_rng(1)
    return {name: sample(set(map(str, p[key])) - used, n, rng)
            for name, key in (("wider-tune-unused", ("wider", "tune")), ("celeba-train-unused", ("celeba_hq128", "train")),
                              ("utk-train-unused", ("utkface", "train")))}  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    p = parts(args.datasets)
    names = {("celeba_hq128", "train"): "fit-celeba_hq128-train", ("utkface", "train"): "fit-utkface-train",
             ("wider", "tune"): "fit-wider-tune", ("celeba_hq128", "val"): "score-celeba_hq128-val",
             ("utkface", "val"): "score-utkface-val", ("wider", "val"): "score-wider-val",
             ("scut", "train"): "score-scut"}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    for key, name in names.items():
        chosen = sample(p[key].tolist(), args.n, np.random.default_rng(0))
        (args.out / f"{name}.txt").write_text("\n".join(chosen) + "\n")
        print(name, len(p[key]), "->", len(chosen))
