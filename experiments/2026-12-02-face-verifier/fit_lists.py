"""The fit halves of RULE.md as image lists for fit_face_head: the even-indexed files of
collect.py's 1,500-file celeba_hq128 train and UTKFace train samples (faces), and the face-free
crops of the fit half of the WIDER tune part (collect.py --part tune writes them under
runs/face-verifier/free-tune; this script does, by the same function and seed, when it is missing).

    python experiments/2026-12-02-face-verifier/fit_lists.py --out runs/face-verifier
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_default import data_cfg  # noqa: E402
from bench_detection import face_free_crops  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, mark_small, read_wider_txt  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aligned", type=int, default=1500)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    faces = []
    for cfg in ("celeba_hq", "utkface"):
        files = split_of(build_index(data_cfg(cfg, datasets_root())), "train")
        faces += files.sample(n=min(args.aligned, len(files)), random_state=7)["path"].tolist()[0::2]
    if not (args.out / "free-tune").is_dir():  # collect.py --part tune writes the same crops
        table = read_wider_txt(next((datasets_root() / "wider_face_train" / "wider_face_split").glob("*_bbx_gt.txt")))
        table["part"] = hash_part(table["name"])
        face_free_crops(mark_small(table[table["part"] == "tune"].reset_index(drop=True), 24.0), args.out / "free-tune")
    crops = sorted((args.out / "free-tune").glob("*.png"))
    photos = [c.name.rsplit("__", 1)[0].replace("__", "/") + ".jpg" for c in crops]
    free = [str(c) for c, half in zip(crops, hash_part(photos, 0.5, seed="lnet_anet-face-verifier-v1"), strict=True)
            if half == "tune"]
    (args.out / "faces-fit.txt").write_text("\n".join(faces) + "\n")
    (args.out / "free-fit.txt").write_text("\n".join(free) + "\n")
    print(f"{len(faces)} face files, {len(free)} face-free crops")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
