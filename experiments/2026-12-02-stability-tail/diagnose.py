"""Where the age's stability tail comes from (a diagnostic on a tune part; issue 15).

    PYTHONPATH=. python experiments/2026-12-02-stability-tail/diagnose.py --n 200 --out runs/stability-tail/tune.npz

For each UTKFace train-part chip (the tune sample of bench_end_to_end: seed 1) and each of the
bench's perturbations, the age moves for two reasons at once: the localizer's box moves, and the
pixels the heads read change. Three reads separate them (all through `Predictor`):
- full: predict on the perturbed image (what the stability benchmark scores);
- pixels: the perturbed image read through the ORIGINAL box (mapped into its pixels), LNet skipped;
- box: the ORIGINAL image read through the PERTURBED box (mapped back), LNet skipped.
Writes the per-face figures to --out (npz) and prints median / p95 |delta age| of each read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.ops import box_iou

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import SAMPLE_SEED, data_cfg, perturbations  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402


def top(record: dict) -> dict | None:
    return max(record["faces"], key=lambda f: f["score"]) if record["faces"] else None


def summary(names: np.ndarray, data: np.ndarray) -> str:
    """Median / p95 |delta age| of each read, and how often the box moved (IoU < 0.9 with the
    original's) and how often the age moved by more than 3 years when it did and when it did not."""
    lines = [f"{'perturbation':18s} {'full':>13s} {'pixels':>13s} {'box':>13s}  box IoU < 0.9   |d|>3: IoU<0.9 / >=0.9"]
    for name in dict.fromkeys(names):
        d = data[names == name]
        d = d[~np.isnan(d[:, 4])]  # faces found after the perturbation
        cells = [np.abs(d[:, k] - d[:, 2]) for k in (4, 5, 6)]  # full, pixels, box against the original's age
        moved, big = d[:, 7] < 0.9, cells[0] > 3
        rates = [f"{big[m].mean():5.2f}" if m.any() else "  n/a" for m in (moved, ~moved)]
        lines.append(f"{name:18s} " + " ".join(f"{np.median(c):5.2f} / {np.percentile(c, 95):5.2f}" for c in cells)
                     + f"  {moved.mean():12.2f}   {rates[0]} / {rates[1]}")  # fmt: skip
    return "\n".join(lines)


def arguments(n: int) -> argparse.ArgumentParser:
    """The options this folder's scripts share: --bundle, --datasets, --part, --n, --out."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--n", type=int, default=n)
    ap.add_argument("--out", type=Path, required=True, help="per-face npz (read back when it exists)")
    return ap


def main(argv=None) -> int:
    args = arguments(200).parse_args(argv)
    if args.out.exists():
        z = np.load(args.out)
        print(summary(z["names"], z["data"]))
        return 0
    torch.set_num_threads(2)
    utk = build_index(data_cfg("utkface", args.datasets))
    chips = split_of(utk, "train" if args.part == "tune" else "val").reset_index(drop=True)
    chips = chips.sample(n=args.n, random_state=SAMPLE_SEED[args.part]).reset_index(drop=True)
    predictor = Predictor.load(args.bundle)
    rows = []
    for i, (path, age) in enumerate(zip(chips["path"], chips["age"], strict=True)):
        img = Image.open(path).convert("RGB")
        base = top(predictor.predict(np.asarray(img)))
        if base is None:
            continue
        b0 = np.array(base["box"], dtype=np.float64)
        again = predictor.analyse_boxes(np.asarray(img), [b0])[0]["age"]["mean"]  # the control: ~0
        rows.append((i, "control", age, base["age"]["mean"], base["age"]["std"], again, again, again, 1.0))
        for name, (arr, (sx, sy, tx, ty)) in perturbations(img).items():
            face = top(predictor.predict(arr))
            if face is None:
                rows.append((i, name, age, base["age"]["mean"], base["age"]["std"], np.nan, np.nan, np.nan, 0.0))
                continue
            scale = np.array([sx, sy, sx, sy])
            shift = np.array([tx, ty, tx, ty])
            b0_in_p = b0 * scale + shift
            b1_in_o = (np.array(face["box"]) - shift) / scale
            pixels = predictor.analyse_boxes(arr, [b0_in_p])[0]["age"]["mean"]
            box = predictor.analyse_boxes(np.asarray(img), [b1_in_o])[0]["age"]["mean"]
            iou = float(box_iou(torch.tensor(b0_in_p[None]), torch.tensor(np.array([face["box"]], dtype=np.float64)))[0, 0])
            rows.append((i, name, age, base["age"]["mean"], base["age"]["std"], face["age"]["mean"], pixels, box, iou))
        if i % 20 == 0:
            print(f"{i}/{len(chips)}", flush=True)
    names = np.array([r[1] for r in rows])
    data = np.array([[r[0], *r[2:]] for r in rows], dtype=np.float64)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, names=names, data=data,
             columns=np.array(["chip", "true_age", "base_mean", "base_std", "full", "pixels", "box", "iou"]))
    print(summary(names, data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
