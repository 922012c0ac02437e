"""Would averaging over jittered boxes steady the answers? (a diagnostic on a tune part; issue 15)

    PYTHONPATH=. python experiments/2026-12-02-stability-tail/jitter.py --n 150 --out runs/stability-tail/jitter-tune.npz

For each UTKFace train-part chip (bench_end_to_end's tune sample, seed 1) and each of the bench's
perturbations: the face found by `Predictor.predict` on the original and on the perturbed image,
each read again (analyse_boxes, LNet skipped) through JITTERS, boxes about its found box (shifted
by a fraction of its width / height, or scaled about its centre). Stores every view's age and
attribute probabilities, so that any subset of views can be averaged afterwards (`summarise`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import SAMPLE_SEED, data_cfg, perturbations  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import arguments  # noqa: E402

from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

# (dx, dy, scale): the box shifted by dx * width, dy * height, then scaled about its centre
JITTERS = [(0, 0, 1), (0.03, 0, 1), (-0.03, 0, 1), (0, 0.03, 1), (0, -0.03, 1), (0.06, 0, 1), (-0.06, 0, 1),
           (0, 0.06, 1), (0, -0.06, 1), (0, 0, 0.93), (0, 0, 1.07)]  # fmt: skip
SETS = {"1 (as shipped)": [0], "5: shift 3%": [0, 1, 2, 3, 4], "5: shift 6%": [0, 5, 6, 7, 8],
        "3: scale 7%": [0, 9, 10], "7: shift 3% + scale": [0, 1, 2, 3, 4, 9, 10],
        "7: shift 6% + scale": [0, 5, 6, 7, 8, 9, 10], "11: all": list(range(11))}  # fmt: skip


def jittered(box, jitters=JITTERS) -> np.ndarray:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array([[cx + dx * w - s * w / 2, cy + dy * h - s * h / 2, cx + dx * w + s * w / 2, cy + dy * h + s * h / 2]
                     for dx, dy, s in jitters])  # fmt: skip


def views(predictor: Predictor, img: np.ndarray):
    """(ages (V,), attribute probabilities (V, A)) of the top face's jittered boxes, or None."""
    faces = predictor.predict(img)["faces"]
    if not faces:
        return None
    box = max(faces, key=lambda f: f["score"])["box"]
    h, w = img.shape[:2]
    boxes = np.clip(jittered(box), 0, [w, h, w, h])
    records = predictor.analyse_boxes(img, boxes)
    return (np.array([r["age"]["mean"] for r in records]),
            np.array([[r["attributes"][n] for n in predictor.attributes] for r in records]))  # fmt: skip


def summarise(path: Path, thresholds: np.ndarray) -> str:
    z = np.load(path)
    names, ages, probs, ok = z["names"], z["ages"], z["probs"], z["ok"]  # ages (F, P+1, V); P+1: original first
    lines = [f"{'perturbation':16s} " + " | ".join(f"{s:>20s}" for s in SETS)]
    for p, name in enumerate(names):
        cells = []
        for idx in SETS.values():
            a = ages[:, :, idx].mean(-1)
            d = np.abs(a[:, p + 1] - a[:, 0])[ok[:, p]]
            q = probs[:, :, idx].mean(2) >= thresholds
            flips = (q[:, p + 1] != q[:, 0]).mean(-1)[ok[:, p]]
            cells.append(f"{np.median(d):4.2f}/{np.percentile(d, 95):5.2f} {flips.mean():5.2%}")
        lines.append(f"{name:16s} " + " | ".join(f"{c:>20s}" for c in cells))
    return "\n".join(lines)


def main(argv=None) -> int:
    args = arguments(150).parse_args(argv)
    torch.set_num_threads(2)
    predictor = Predictor.load(args.bundle)
    thresholds = np.asarray(predictor.bundle.svm.threshold)
    if not args.out.exists():
        utk = build_index(data_cfg("utkface", args.datasets))
        chips = split_of(utk, "train" if args.part == "tune" else "val").reset_index(drop=True)
        paths = chips["path"].sample(n=args.n, random_state=SAMPLE_SEED[args.part]).tolist()
        all_ages, all_probs, all_ok, names = [], [], [], None
        for i, path in enumerate(paths):
            img = Image.open(path).convert("RGB")
            base = views(predictor, np.asarray(img))
            if base is None:
                continue
            perturbed = perturbations(img)
            names = list(perturbed)
            got = [views(predictor, arr) for arr, _ in perturbed.values()]
            all_ok.append([g is not None for g in got])
            got = [g if g is not None else base for g in got]
            all_ages.append(np.stack([base[0], *(g[0] for g in got)]))
            all_probs.append(np.stack([base[1], *(g[1] for g in got)]))
            if i % 25 == 0:
                print(f"{i}/{len(paths)}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.out, names=np.array(names), ages=np.stack(all_ages), probs=np.stack(all_probs),
                 ok=np.array(all_ok))  # fmt: skip
    print("median / p95 |delta age| (years) and the share of attribute decisions flipped, by the views averaged")
    print(summarise(args.out, thresholds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
