"""What the commands that fit a small head on the Predictor's output share (fit_upright,
fit_face_head): their image sources, common options, the bundle they read, and the head's file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lnet_anet.cli.arguments import (
    add_replace_shipped,
    float_in,
    int_in,
    output_file,
    refuse_output,
)
from lnet_anet.data.readers._tables import IMAGE_SUFFIXES
from lnet_anet.inference.shipped import DEFAULT_BUNDLE

if TYPE_CHECKING:  # torch and the Predictor load once the arguments are good: --help stays instant
    from lnet_anet.inference.predictor import Predictor


def image_files(source: Path, limit: int | None, seed: int) -> list[Path]:
    """The images of one source: an image file, a .txt list of image paths (one per line), or
    a folder (recursively); at most `limit` of them, a seeded sample. FileNotFoundError when the
    source does not exist."""
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


def add_fit_options(ap: argparse.ArgumentParser, shipped: Path) -> None:
    """--limit, --seed, --c, --bundle, --out and --threads; `shipped`: the shipped head's file."""
    ap.add_argument("--limit", type=int_in(1), default=None,
                    help="at most this many images per source (seeded sample; default: all)")
    ap.add_argument("--seed", type=int_in(0), default=0, help="the --limit sample's seed")
    ap.add_argument("--c", type=float_in(1e-6, 1e6), default=1.0, help="inverse L2 regularisation of the logistic regression")
    ap.add_argument("--bundle", type=Path, default=None, help=f"model bundle (default: {DEFAULT_BUNDLE.name})")
    ap.add_argument("--out", type=output_file, required=True,
                    help=f"the head's file (the shipped one is {shipped.name}, in lnet_anet/assets)")
    add_replace_shipped(ap)
    ap.add_argument("--threads", type=int_in(1), default=2, help="torch's threads")


# The --help epilog of the commands that fit a head on image sources (fit_face_head, fit_upright).
SOURCES_EXIT_STATUS = """exit status: 0 the head was written; 1 the fit could not be done (the bundle missing or
bad, too few faces or candidates found to fit) or the output cannot be written: one error line,
nothing written; 2 bad usage (an unknown option, a bad value, an --out that is an input or not a
.safetensors file) or a source (a file, a .txt list or a
folder) missing or without image files; 130 interrupted (nothing written)"""


def open_sources(prog: str, groups: list[list[Path]], args: argparse.Namespace) -> tuple[list[list[Path]], Predictor] | int:
    """Each group's image files (image_files of its sources, args.limit / args.seed) and the
    Predictor of args.bundle, with torch on args.threads; or, after one `prog: ...` line on
    stderr, the exit status: 2 for a missing source or a group without image files, 1 for a
    missing or bad bundle."""
    refused = refuse_head_output(args, {"one of the image sources": [s for group in groups for s in group]})
    if refused:
        return refused
    import torch

    torch.set_num_threads(args.threads)
    try:
        files = [[f for source in group for f in image_files(source, args.limit, args.seed)] for group in groups]
    except FileNotFoundError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    for group, found in zip(groups, files, strict=True):
        if group and not found:  # say which sources were empty, rather than "too few faces" after loading
            print(f"{prog}: no image files in {', '.join(map(str, group))} (suffixes: {' '.join(sorted(IMAGE_SUFFIXES))})",
                  file=sys.stderr)  # fmt: skip
            return 2
    predictor = load_predictor(prog, args.bundle)
    return predictor if isinstance(predictor, int) else (files, predictor)


def refuse_head_output(args: argparse.Namespace, inputs: dict) -> int | None:
    """Exit status 2, after one "error: ..." line, when args.out is the bundle read (args.bundle,
    default the embedded one) or one of `inputs`, or an existing file that is not a head
    (.safetensors): the head's write would destroy it (arguments.output_refusal); else None."""
    return refuse_output(args, {"--bundle": args.bundle or DEFAULT_BUNDLE, **inputs}, ".safetensors")


def load_predictor(prog: str, bundle: Path | None) -> Predictor | int:
    """The Predictor of `bundle` (None: the embedded one); or, after one `prog: ...` line on
    stderr, exit status 1 for a missing or bad bundle."""
    from lnet_anet.inference.predictor import Predictor

    try:
        return Predictor.load(bundle)
    except (FileNotFoundError, ValueError) as e:  # BundleError is a ValueError
        print(f"{prog}: {e}", file=sys.stderr)
        return 1


def save_head(head, out: Path) -> None:
    """Write a fitted head (anything with save() and info) to `out` and print its record, with
    the head's digest when it has one (face, box and upright heads): what the records of photos
    read with it say (e.g. "box_head")."""
    out.parent.mkdir(parents=True, exist_ok=True)
    head.save(out)
    digest = {"digest": head.digest} if hasattr(head, "digest") else {}
    print(json.dumps({"out": str(out), **digest, **head.info}))


__all__ = ["add_fit_options", "image_files", "load_predictor", "open_sources", "refuse_head_output", "save_head"]
