"""Boxes per single-face picture, and UTKFace chips whose top box moved, from collect.py passes
(experiments/2026-12-03-face-filter/collect.py; RULE.md beside this file).

    PYTHONPATH=. python experiments/2026-12-03-secondary/extra.py --base runs/secondary/s3.0.pkl \\
        --passes s2.0=runs/secondary/s2.0.pkl ... --out experiments/2026-12-03-secondary/tune/extra.json

For each pass and each single-face set (UTKFace chips, celeba_hq128 files, SCUT images; the held-out
files only, as simulate.py counts faces found): the mean number of boxes per picture; and the
share of UTKFace chips with a face in both passes whose top box (highest score) has IoU < 0.9 with
the base pass's top box.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

SINGLES = ("utkface", "celeba_hq", "scut")


def held_rows(data: dict, name: str) -> list[dict]:
    s = data["sets"][name]
    return [r for r, fitted in zip(s["rows"], s["fitted"], strict=True) if not fitted]


def top_box(row: dict) -> np.ndarray | None:
    return np.array(max(row["faces"], key=lambda f: f["score"])["box"], np.float64) if row["faces"] else None


def moved(base: list[dict], other: list[dict], below: float = 0.9) -> float:
    pairs = [(top_box(a), top_box(b)) for a, b in zip(base, other, strict=True)]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    ious = [float(box_iou(torch.tensor(a[None]), torch.tensor(b[None]))[0, 0]) for a, b in pairs]
    return float(np.mean(np.array(ious) < below)) if ious else 0.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--passes", nargs="+", required=True, help="LABEL=PASS.pkl")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    base = pickle.loads(args.base.read_bytes())
    out = {"base": str(args.base), "passes": {}}
    for item in [f"base={args.base}", *args.passes]:
        label, path = item.split("=", 1)
        data = pickle.loads(Path(path).read_bytes())
        r = {f"boxes_per_picture_{n}": float(np.mean([len(row["faces"]) for row in held_rows(data, n)])) for n in SINGLES}
        r["utkface_top_box_moved"] = moved(held_rows(base, "utkface"), held_rows(data, "utkface"))
        out["passes"][label] = r
        print(label, json.dumps(r), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
