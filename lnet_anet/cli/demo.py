"""`make demo`: run the predictor on a public-domain photo shipped with scikit-image.

    python -m lnet_anet.cli.demo                 # table on stdout, runs/demo/astronaut.png
    python -m lnet_anet.cli.demo --vis DIR --bundle my.lnetanet
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lnet_anet.cli.arguments import CommandParser
from lnet_anet.data import runs_root
from lnet_anet.inference.shipped import DEFAULT_BUNDLE

DEMO_NAME = "astronaut"  # = lnet_anet.cli.predict.DEMO_NAME: its picture is <vis>/astronaut.png


def build_parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog="python -m lnet_anet.cli.demo",
        description="Face boxes, 40 attributes, age and attractiveness of skimage.data.astronaut() (a "
        "public-domain NASA photo): a table on stdout and the photo with its faces drawn, as a PNG. "
        "The same as `python -m lnet_anet.predict --demo --vis DIR`.",
        epilog="exit status: as python -m lnet_anet.predict (0 analysed; 1 no bundle or the analysis "
        "failed; 2 bad usage).",
    )
    p.add_argument("--vis", type=Path, default=runs_root() / "demo", metavar="DIR",
                   help="folder the annotated PNG is written into (default: runs/demo, under $LNET_ANET_RUNS when set)")  # fmt: skip
    p.add_argument("--bundle", type=Path, help="model bundle (default: the embedded one)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from lnet_anet.cli.predict import vis_folder_problem

    parser = build_parser()
    try:  # argparse exits on bad usage (2) and --help (0); main returns the code instead
        args = parser.parse_args(argv)
        if problem := vis_folder_problem(args.vis):  # in demo's own usage, not predict's
            parser.error(problem)
    except SystemExit as e:
        return int(e.code or 0)
    if args.bundle is None and not DEFAULT_BUNDLE.exists():
        print(
            f"no model bundle yet: {DEFAULT_BUNDLE} does not exist. Train the networks (`make train-lnet "
            "train-anet train-age train-attractiveness`), then build it with `python -m "
            "lnet_anet.cli.build_bundle --lnet RUN --anet RUN --age RUN --attractiveness RUN`, or pass "
            "--bundle.",
            file=sys.stderr,
        )
        return 1
    from lnet_anet.predict import main as predict_main

    argv = ["--demo", "--vis", str(args.vis)] + (["--bundle", str(args.bundle)] if args.bundle else [])
    status = predict_main(argv)
    picture = args.vis / f"{DEMO_NAME}.png"
    if status == 0 and picture.is_file():
        print(f"the photo with its faces drawn: {picture}")
    return status


if __name__ == "__main__":
    sys.exit(main())
