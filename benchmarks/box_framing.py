"""How much of a face LNet's box takes in, per kind of photo: LNet's box against MTCNN's (a fixed,
box-supervised reference for the tight face) on the same files.

    python benchmarks/box_framing.py [--n 60] [--bundle FILE] [--datasets ../shared/datasets] [--out DIR]

Per set (train partitions only: CelebA-HQ train files, UTKFace train-part chips, SCUT-FBP5500 folds
1-2 of fold_of(name, 5, seed 0), and the 32 original img_align_celeba files when present): the
median and 10th / 90th percentiles of LNet's box width / MTCNN's box width (the top face of each,
files where either finds none left out), the photo's width / MTCNN's, and the centre offsets in
MTCNN widths. Why: a head trained on tight chips (UTKFace) reads a photo's crop, which LNet frames
with hair and surroundings, as another face (experiments/2026-11-30-age-framing); the ratio sets
the framings the age net is trained on (conf/experiment/age_framed.yaml) and PHOTO_FRAMING in
bench_end_to_end.py. Needs facenet-pytorch (MTCNN's weights ship in its wheel).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_default import data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.readers.age import fold_of  # noqa: E402
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402


def train_files(datasets: Path, n: int) -> dict[str, list[str]]:
    sets = {}
    for name, key in (("celeba_hq", "celeba_hq128 train files"), ("utkface", "utkface128 train chips")):
        if (datasets / ("celeba_hq128" if name == "celeba_hq" else "utkface128")).exists():
            part = split_of(build_index(data_cfg(name, datasets)), "train")
            sets[key] = part["path"].sample(n=min(n, len(part)), random_state=0).tolist()
    if (datasets / "scut_fbp5500_train").exists():
        scut = read_scut_fbp5500(datasets / "scut_fbp5500_train")
        folds = fold_of(scut["path"].map(lambda p: Path(p).name).tolist(), 5, 0)
        part = scut[np.isin(folds, (1, 2))]
        sets["SCUT-FBP5500 folds 1-2"] = part["path"].sample(n=min(n, len(part)), random_state=0).tolist()
    aligned = sorted((datasets / "celeba_format_samples" / "img_align_celeba").glob("*.jpg"))
    if aligned:
        sets["img_align_celeba (32 originals)"] = [str(p) for p in aligned[:n]]
    return sets


def framing(predictor: Predictor, mtcnn, paths: list[str]) -> dict:
    width, photo, dx, dy = [], [], [], []
    for path in paths:
        img = Image.open(path).convert("RGB")
        faces = predictor.predict(np.asarray(img))["faces"]
        ref, _ = mtcnn.detect(img)
        if not faces or ref is None:
            continue
        b = predictor.localizer.to_region(max(faces, key=lambda f: f["score"])["box"])  # what the heads read
        q = ref[0]
        wq, hq = q[2] - q[0], q[3] - q[1]
        width.append((b[2] - b[0]) / wq)
        photo.append(img.width / wq)
        dx.append(((b[0] + b[2]) - (q[0] + q[2])) / 2 / wq)
        dy.append(((b[1] + b[3]) - (q[1] + q[3])) / 2 / hq)
    if not width:
        return {"n": 0}
    return {"n": len(width), "lnet_over_mtcnn_width": {"p10": float(np.percentile(width, 10)),
            "median": float(np.median(width)), "p90": float(np.percentile(width, 90))},
            "photo_over_mtcnn_width": float(np.median(photo)), "centre_dx": float(np.median(dx)),
            "centre_dy": float(np.median(dy))}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=60, help="files per set")
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "box-framing")
    args = ap.parse_args(argv)
    try:
        from facenet_pytorch import MTCNN
    except ImportError:
        print("box_framing: needs facenet-pytorch (pip install --no-deps facenet-pytorch)", file=sys.stderr)
        return 1
    sets = train_files(args.datasets, args.n)
    if not sets:
        print(f"box_framing: no dataset under {args.datasets}", file=sys.stderr)
        return 1
    predictor, mtcnn = Predictor.load(args.bundle), MTCNN(keep_all=False, device="cpu")
    results = {"command": shlex.join(["python", "benchmarks/box_framing.py", *(argv or sys.argv[1:])]),
               "bundle": str(args.bundle), "machine": machine(), "sets": {}}  # fmt: skip
    lines = ["| set | faces | LNet / MTCNN width: p10 | median | p90 | photo / MTCNN width | centre dx, dy (MTCNN widths) |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, paths in sets.items():
        r = results["sets"][name] = framing(predictor, mtcnn, paths)
        if r["n"]:
            w = r["lnet_over_mtcnn_width"]
            lines.append(f"| {name} | {r['n']} | {w['p10']:.2f} | {w['median']:.2f} | {w['p90']:.2f} | "
                         f"{r['photo_over_mtcnn_width']:.2f} | {r['centre_dx']:+.2f}, {r['centre_dy']:+.2f} |")  # fmt: skip
        print(lines[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "box_framing.json").write_text(json.dumps(results, indent=2))
    (args.out / "box_framing.md").write_text(f"Command: `{results['command']}`\n\nBundle: `{args.bundle}`\n\n"
                                             + "\n".join(lines) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
