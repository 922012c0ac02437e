"""Fit the upright head that `predict --rotations` decides by (lnet_anet.inference.upright).

    python -m lnet_anet.cli.fit_upright IMAGES_OR_FOLDERS... --out upright.safetensors [--limit 600] \\
        [--bundle B] [--faces 1]

Each source (an image file, a .txt list of image paths, or a folder, read recursively) gives up
to --limit images (a seeded sample). Each image is turned by 0, 90, 180 and 270 degrees; the
Predictor's best face in each turn gives one ANet feature (Predictor.turn_features), labelled
upright for the unturned image only (--faces 3, each turn's 3 strongest faces as `rotations`
reads them, gained nothing on tune images:
experiments/2026-12-01-upright/choose_rule_top3fit.json). Use photos that are stored upright
(training partitions: never the photos you score). Unreadable files are reported and skipped.
The head is tied to the bundle's ANet.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lnet_anet.cli.arguments import DefaultsHelpFormatter
from lnet_anet.data.readers._tables import IMAGE_SUFFIXES
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor
from lnet_anet.inference.upright import DEFAULT_UPRIGHT_HEAD, UprightHead


def _images(source: Path, limit: int | None, seed: int) -> list[Path]:
    """The images of one source: an image file, a .txt list of image paths (one per line), or
    a folder (recursively); at most `limit` of them, a seeded sample."""
    if source.is_file() and source.suffix.lower() == ".txt":
        files = [Path(line.strip()) for line in source.read_text().splitlines() if line.strip()]
    elif source.is_file():
        return [source]
    elif source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    else:
        raise FileNotFoundError(f"{source}: no such image file, list or folder")
    if limit is not None and len(files) > limit:
        pick = np.random.default_rng(seed).choice(len(files), limit, replace=False)
        files = [files[i] for i in sorted(pick)]
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lnet_anet.cli.fit_upright", description=__doc__.split("\n\n")[0],
                                 formatter_class=DefaultsHelpFormatter)
    ap.add_argument("sources", nargs="+", type=Path, help="upright photos: image files, .txt lists of image paths, or folders")
    ap.add_argument("--limit", type=int, default=None, help="at most this many images per source (seeded sample; default: all)")
    ap.add_argument("--seed", type=int, default=0, help="the --limit sample's seed")
    ap.add_argument("--faces", type=int, default=1,
                    help="faces per turn to learn from, strongest first (default 1: the best face)")
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 regularisation of the logistic regression")
    ap.add_argument("--bundle", type=Path, default=None, help=f"model bundle (default: {DEFAULT_BUNDLE.name})")
    ap.add_argument("--out", type=Path, required=True,
                    help=f"the head's file (the shipped one is {DEFAULT_UPRIGHT_HEAD.name}, in lnet_anet/assets)")
    ap.add_argument("--threads", type=int, default=2, help="torch's threads")
    args = ap.parse_args(argv)
    if args.faces < 1:
        ap.error("--faces must be >= 1")
    torch.set_num_threads(args.threads)
    try:
        files = [f for s in args.sources for f in _images(s, args.limit, args.seed)]
    except FileNotFoundError as e:
        print(f"fit_upright: {e}", file=sys.stderr)
        return 2
    try:
        predictor = Predictor.load(args.bundle)
    except (FileNotFoundError, ValueError) as e:  # BundleError is a ValueError
        print(f"fit_upright: {e}", file=sys.stderr)
        return 1
    features, upright, skipped = [], [], 0
    for path in tqdm(files, desc="turned faces", disable=None):
        try:
            turns = predictor.turn_features(path, faces=args.faces)
        except Exception as e:  # noqa: BLE001 - one bad file is reported, the others go on
            print(f"fit_upright: {path}: skipped ({e})", file=sys.stderr)
            skipped += 1
            continue
        for k, f in turns.items():
            features.extend(f)
            upright.extend([k == 0] * len(f))
    if not any(upright) or all(upright):
        print("fit_upright: too few faces found to fit (need upright and turned ones)", file=sys.stderr)
        return 1
    sources = [str(s) for s in args.sources]
    head = UprightHead.fit(np.stack(features), np.array(upright), c=args.c, anet=predictor.bundle.part_digest("anet"),
                           info={"sources": sources, "limit": args.limit, "seed": args.seed, "images": len(files), "faces": args.faces,
                                 "skipped": skipped, "command": " ".join(["python -m lnet_anet.cli.fit_upright",
                                                                          *(argv or sys.argv[1:])])})  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    head.save(args.out)
    print(json.dumps({"out": str(args.out), **head.info}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
