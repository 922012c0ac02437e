"""Fit the face head that rescues photos with no face found (lnet_anet.inference.face_head).

    python -m lnet_anet.cli.fit_face_head --faces FACES... --face-free FREE... --out face_head.safetensors \\
        [--frames] [--hidden H] [--limit N] [--c 1.0] [--bundle B]

Image-level tags only, as LNet learns: each --faces source (an image file, a .txt list of image
paths, or a folder, read recursively) holds photos of one face each, whose strongest candidate
(the localizer opened, Predictor.candidates) is taken as a face; each --face-free source holds
photos with no face, all of whose candidates are taken as not faces. Use training photos (never
the photos you score). --frames: each photo's frame candidate (the whole picture as the face
box, Predictor.frame_region) is taken too, as a face or not by its source: a head for bundles that
also try the frame (preprocessing.lnet.rescue_frame; experiments/2026-12-02-frame-rescue).
Unreadable files are reported and skipped. The head is tied to the bundle's ANet; a bundle uses
it when its preprocessing.lnet.rescue_faces is set
(build_bundle --lnet-input '{"rescue_faces": [min_score, min_probability]}').
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from lnet_anet.cli.arguments import (
    CommandParser,
    DefaultsHelpFormatter,
    int_in,
    same_path,
    stops_on_interrupt,
)
from lnet_anet.cli.head_fitting import SOURCES_EXIT_STATUS, add_fit_options, open_sources, save_head
from lnet_anet.data.images import load_image
from lnet_anet.inference.face_head import DEFAULT_FACE_HEAD, FaceHead

if TYPE_CHECKING:  # loaded by open_sources once the arguments are good: --help stays instant
    from lnet_anet.inference.predictor import Predictor

FEW = 50  # faces or face-free candidates under which the fit is warned about (the shipped head: 5,988 / 671, frames included)


def _features(predictor: Predictor, files: list[Path], strongest_only: bool, desc: str,
              frames: bool = False) -> tuple[list, int]:  # fmt: skip
    """ANet's features of the files' candidates (the strongest one, or all; with frames, each
    file's frame candidate too), and how many files were skipped as unreadable."""
    features, skipped = [], 0
    for path in tqdm(files, desc=desc, disable=None):
        try:
            image = load_image(path)
            _, _, found = predictor.candidates(image)
        except Exception as e:  # noqa: BLE001 - one bad file is reported, the others go on
            print(f"fit_face_head: {path}: skipped ({e})", file=sys.stderr)
            skipped += 1
            continue
        features.extend(found[:1] if strongest_only else found)
        if frames:
            features.append(predictor.frame_feature(image))
    return features, skipped


@stops_on_interrupt("nothing written (the output is written when the fit ends); run the same command again")
def main(argv: list[str] | None = None) -> int:
    ap = CommandParser(prog="python -m lnet_anet.cli.fit_face_head", description=__doc__.split("\n\n")[0],
                       formatter_class=DefaultsHelpFormatter, epilog=SOURCES_EXIT_STATUS)
    ap.add_argument("--faces", nargs="+", type=Path, required=True,
                    help="photos of one face each: image files, .txt lists of image paths, or folders")
    ap.add_argument("--face-free", nargs="+", type=Path, required=True,
                    help="photos with no face: image files, .txt lists of image paths, or folders")
    ap.add_argument("--frames", action="store_true",
                    help="also learn from each photo's frame candidate (the whole picture as the face box), for "
                         "bundles with preprocessing.lnet.rescue_frame")  # fmt: skip
    ap.add_argument("--hidden", type=int_in(0), default=0,
                    help="hidden units of an MLP head (0: a logistic regression; --c applies to it only); "
                         "the MLP's seed is --seed")  # fmt: skip
    add_fit_options(ap, DEFAULT_FACE_HEAD)
    args = ap.parse_args(argv)
    both = next(((f, g) for f in args.faces for g in args.face_free if same_path(f, g)), None)
    if both is not None:  # the same photos labelled face and face-free: a head that learns nothing
        print(f"error: --faces and --face-free name the same {'folder' if both[0].is_dir() else 'source'} "
              f"{both[0]}" + (f" (as {both[1]})" if str(both[0]) != str(both[1]) else "")
              + ": give photos of one face each to --faces and photos with no face to --face-free", file=sys.stderr)
        return 2
    opened = open_sources("fit_face_head", [args.faces, args.face_free], args)
    if isinstance(opened, int):
        return opened
    (faces, free), predictor = opened
    positive, skipped_faces = _features(predictor, faces, True, "faces", args.frames)
    negative, skipped_free = _features(predictor, free, False, "face-free", args.frames)
    if not positive or not negative:
        print(f"fit_face_head: too few candidates to fit ({len(positive)} faces, {len(negative)} face-free "
              "candidates; both are needed): LNet finds no candidate in plain pictures, so give face-free photos "
              "of real scenes (rooms, streets, crowds' backgrounds), more of them (--limit), or --frames to learn "
              "from each photo's whole frame too", file=sys.stderr)  # fmt: skip
        return 1
    if min(len(positive), len(negative)) < FEW:
        print(f"fit_face_head: warning: only {len(positive)} faces and {len(negative)} face-free candidates; a head "
              f"fitted on fewer than {FEW} of either may not hold on other photos (more images, or --limit)",
              file=sys.stderr)  # fmt: skip
    command = " ".join(["python -m lnet_anet.cli.fit_face_head", *(argv if argv is not None else sys.argv[1:])])
    head = FaceHead.fit(np.stack(positive + negative), np.r_[np.ones(len(positive), bool), np.zeros(len(negative), bool)],
                        c=args.c, hidden=args.hidden, seed=args.seed, anet=predictor.bundle.part_digest("anet"),
                        info={"faces": [str(s) for s in args.faces], "face_free": [str(s) for s in args.face_free],
                              "limit": args.limit, "seed": args.seed, "face_images": len(faces),
                              "face_free_images": len(free), "skipped": skipped_faces + skipped_free,
                              "frames": bool(args.frames),
                              "command": command})  # fmt: skip
    save_head(head, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
