"""Face boxes, 40 attributes, age and attractiveness from the command line.

    python -m lnet_anet.predict photo.jpg more/photos/          # readable table
    python -m lnet_anet.predict photos/ --json > out.jsonl      # one JSON object per image
    python -m lnet_anet.predict --demo --vis runs/demo          # a public-domain photo
    python -m lnet_anet.predict photos/ --vis vis/ --bundle my.lnetanet --device cuda

Folders are searched recursively for .jpg/.jpeg/.png/.bmp/.webp files. An unreadable file
gives a record with an "error" and the others go on. Exit status: 0 when at least one image
was analysed, 1 when none was (or the bundle is missing or bad), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
DEMO_NAME = "astronaut"  # skimage.data.astronaut(): NASA photo of Eileen Collins, public domain


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lnet_anet.predict",
        description="Face boxes, 40 CelebA attributes, age and attractiveness of photos.",
    )
    p.add_argument("images", nargs="*", type=Path, help="image files or folders (recursive)")
    p.add_argument("--json", action="store_true", help="JSON Lines: one object per image")
    p.add_argument("--vis", type=Path, metavar="DIR", help="write a PNG per image into DIR")
    p.add_argument("--bundle", type=Path, help="model bundle (default: the embedded one)")
    p.add_argument("--batch-size", type=_positive_int, default=8, help="images per LNet batch")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threshold", type=float, help="face score threshold (default: the bundle's)")
    p.add_argument("--top", type=_positive_int, default=5, help="attributes shown per face")
    p.add_argument("--demo", action="store_true",
                   help="also run on skimage.data.astronaut(), a public-domain photo")  # fmt: skip
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def collect_images(inputs: Sequence[Path]) -> tuple[list[Path], bool]:
    """Files as given (whatever their suffix: a bad one gets an error record) and the image
    files under each folder, sorted; plus whether any input was a folder."""
    paths: list[Path] = []
    any_folder = False
    for item in inputs:
        if item.is_dir():
            any_folder = True
            found = sorted(
                f for f in item.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
            )
            if not found:
                print(
                    f"warning: {item}: no {'/'.join(sorted(IMAGE_SUFFIXES))} files", file=sys.stderr
                )
            paths += found
        else:
            paths.append(item)
    return paths, any_folder


# -- output ----------------------------------------------------------------------------------

TABLE_HEADER = "image  box  score  top attributes  age  attractiveness"


def _estimate(value: dict | None) -> str:
    return "-" if value is None else f"{value['mean']:.1f}+-{value['std']:.1f}"


def table_rows(name: str, record: dict[str, Any], top: int) -> list[str]:
    """Readable lines for one image: one per face, or one saying why there is none."""
    if record["error"] is not None:
        return [f"{name}  ERROR  {record['error']}"]
    if not record["faces"]:
        return [f"{name}  no face ({record['width']}x{record['height']})"]
    rows = []
    for face in record["faces"]:
        box = "[" + ", ".join(f"{v:.0f}" for v in face["box"]) + "]"
        ranked = sorted(face["attributes"].items(), key=lambda kv: kv[1], reverse=True)[:top]
        attrs = ", ".join(f"{k} {v:.2f}" for k, v in ranked)
        rows.append(f"{name}  {box}  {face['score']:.3f}  {attrs}  {_estimate(face['age'])}  "
                    f"{_estimate(face['attractiveness'])}")  # fmt: skip
    return rows


def _vis_path(folder: Path, name: str, used: set[str]) -> Path:
    """folder/<stem>.png, numbered when two inputs share a stem."""
    stem = Path(name).stem or "image"
    candidate, n = stem, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}_{n}"
    used.add(candidate)
    return folder / f"{candidate}.png"


# -- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:  # argparse exits on bad usage (2) and --help (0); main returns the code instead
        args = parser.parse_args(argv)
        if not args.images and not args.demo:
            parser.error("give image files or folders, or --demo")
    except SystemExit as e:
        return int(e.code or 0)
    paths, any_folder = collect_images(args.images)
    items: list[tuple[str, Any]] = []
    if args.demo:
        from skimage import data

        items.append((DEMO_NAME, data.astronaut()))
    items += [(str(p), p) for p in paths]
    if not items:
        print("error: no images to analyse", file=sys.stderr)
        return 1

    from tqdm import tqdm

    from lnet_anet.inference.bundle import BundleError
    from lnet_anet.inference.predictor import Predictor

    try:
        predictor = Predictor.load(args.bundle, device=args.device)
    except (FileNotFoundError, BundleError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.threshold is not None:
        predictor.localizer.threshold = args.threshold
    if args.vis is not None:
        from lnet_anet.inference.visualize import render, save_png

    succeeded, used = 0, set()
    if not args.json:
        print(TABLE_HEADER)
    analyses = predictor.analyse_many((item for _, item in items), args.batch_size)
    progress = tqdm(total=len(items), disable=not any_folder, file=sys.stderr, unit="img")
    for (name, _), analysis in zip(items, analyses, strict=True):
        record = analysis.record
        succeeded += record["error"] is None
        if args.json:
            print(json.dumps(record), flush=True)
        else:
            print("\n".join(table_rows(name, record, args.top)), flush=True)
        if args.vis is not None and record["error"] is None:
            save_png(_vis_path(args.vis, name, used), render(analysis))
        progress.update()
    progress.close()
    if succeeded == 0:
        print(f"error: none of the {len(items)} images could be analysed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
