"""`make demo`: run the predictor on a public-domain photo shipped with scikit-image."""

from __future__ import annotations

import sys
from pathlib import Path

BUNDLE = Path(__file__).parent / "assets" / "default.lnetanet"


def main() -> int:
    if not BUNDLE.exists():
        print(f"no model bundle yet: {BUNDLE} does not exist. Train one with `make train-lnet "
              "train-anet train-age` and build it, or pass --bundle to the predictor.", file=sys.stderr)  # fmt: skip
        return 1
    from lnet_anet.predict import main as predict_main

    return predict_main(["--demo", "--vis", "runs/demo"])


if __name__ == "__main__":
    sys.exit(main())
