"""Faces found on dark, over-exposed and gray copies of single-face pictures, per bundle, end to
end through `Predictor` on files (RULE.md, round 2).

    PYTHONPATH=. python experiments/2026-12-03-face-filter/photometric.py --part tune \\
        --bundle none=runs/face-filter/before.lnetanet filter=runs/face-filter/verify.lnetanet \\
        --out experiments/2026-12-03-face-filter/tune/photometric.json

Pictures (--n of each): UTKFace chips (tune: collect.py's 2,000 train chips less the face head's
list; val: the val partition, seeded sample) and celeba_hq128 files (tune: the tune part less the
face head's list; val: the val partition). Each is made x0.15 darker or x3 brighter (clipped) and
saved as JPEG q95, or saved gray (JPEG q95), under --work (never committed).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collect import sets  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

GAINS = {"x0.15": 0.15, "x3": 3.0, "gray": None}  # None: gray (Pillow's "L", Rec. 601 luma)


def perturbed(paths: list[str], kind: str, out: Path) -> list[str]:
    """Each picture's copy of that kind, JPEG q95, under `out` (made once, then reused)."""
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for i, path in enumerate(paths):
        dst = out / f"{i:05d}.jpg"
        if not dst.is_file():
            img = Image.open(path).convert("RGB")
            gain = GAINS[kind]
            if gain is None:
                img = img.convert("L").convert("RGB")
            else:
                img = Image.fromarray(np.clip(np.asarray(img, np.float64) * gain, 0, 255).round().astype(np.uint8))
            img.save(dst, quality=95)
        made.append(str(dst))
    return made


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--bundle", nargs="+", required=True, help="LABEL=BUNDLE")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--work", type=Path, default=Path("runs/face-filter"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    data = sets(args.part, datasets_root(), args.work)
    rng = np.random.default_rng(0)
    pictures = {}
    for name in ("utkface", "celeba_hq"):
        held = [p for p, fitted in zip(data[name]["paths"], data[name]["fitted"], strict=True) if not fitted]
        pictures[name] = [held[i] for i in sorted(rng.choice(len(held), min(args.n, len(held)), replace=False))]
    files = {f"{name}_{kind}": perturbed(paths, kind, args.work / f"photometric-{args.part}" / name / kind)
             for name, paths in pictures.items() for kind in GAINS}  # fmt: skip
    out = {"command": shlex.join(["python", *sys.argv]), "part": args.part, "n": {k: len(v) for k, v in files.items()},
           "machine": machine(), "found": {}}  # fmt: skip
    for item in args.bundle:
        label, path = item.split("=", 1)
        predictor = Predictor.load(path)
        out["found"][label] = {k: float(np.mean([bool(r["faces"]) for r in predictor.predict_many(v, batch_size=8)]))
                               for k, v in files.items()}  # fmt: skip
        print(label, json.dumps(out["found"][label]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
