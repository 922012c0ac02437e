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

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lnet_anet.cli.arguments import CommandParser, DefaultsHelpFormatter, stops_on_interrupt
from lnet_anet.cli.head_fitting import SOURCES_EXIT_STATUS, add_fit_options, open_sources, save_head
from lnet_anet.inference.upright import DEFAULT_UPRIGHT_HEAD, UprightHead

FEW_UPRIGHT = 50  # upright faces under which a fit is reported as unreliable (the shipped head: --limit 600)


@stops_on_interrupt("nothing written (the output is written when the fit ends); run the same command again")
def main(argv: list[str] | None = None) -> int:
    ap = CommandParser(prog="python -m lnet_anet.cli.fit_upright", description=__doc__.split("\n\n")[0],
                       formatter_class=DefaultsHelpFormatter, epilog=SOURCES_EXIT_STATUS)
    ap.add_argument("sources", nargs="+", type=Path, help="upright photos: image files, .txt lists of image paths, or folders")
    ap.add_argument("--faces", type=int, default=1,
                    help="faces per turn to learn from, strongest first (default 1: the best face)")
    add_fit_options(ap, DEFAULT_UPRIGHT_HEAD)
    args = ap.parse_args(argv)
    if args.faces < 1:
        ap.error("--faces must be >= 1")
    opened = open_sources("fit_upright", [args.sources], args)
    if isinstance(opened, int):
        return opened
    [files], predictor = opened
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
    if sum(upright) < FEW_UPRIGHT:
        print(f"fit_upright: warning: only {sum(upright)} upright faces ({len(files) - skipped} readable images); "
              f"a head fitted on fewer than {FEW_UPRIGHT} decides turns unreliably: give more upright photos",
              file=sys.stderr)  # fmt: skip
    sources = [str(s) for s in args.sources]
    head = UprightHead.fit(np.stack(features), np.array(upright), c=args.c, anet=predictor.bundle.part_digest("anet"),
                           info={"sources": sources, "limit": args.limit, "seed": args.seed, "images": len(files), "faces": args.faces,
                                 "skipped": skipped, "command": " ".join(["python -m lnet_anet.cli.fit_upright",
                                                                          *(argv or sys.argv[1:])])})  # fmt: skip
    save_head(head, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
