"""`make demo`: run the predictor on a public-domain photo shipped with scikit-image."""

from __future__ import annotations

import sys
from pathlib import Path

# = lnet_anet.inference.predictor.DEFAULT_BUNDLE, without importing torch before it is needed
BUNDLE = Path(__file__).resolve().parents[1] / "assets" / "default.lnetanet"


def main() -> int:
    if not BUNDLE.exists():
        print(
            f"no model bundle yet: {BUNDLE} does not exist. Train the networks (`make train-lnet "
            "train-anet train-age train-attractiveness`), then build it with `python -m "
            "lnet_anet.cli.build_bundle --lnet RUN --anet RUN --age RUN --attractiveness RUN`, or pass "
            "--bundle to `python -m lnet_anet.predict`.",
            file=sys.stderr,
        )
        return 1
    from lnet_anet.predict import main as predict_main

    return predict_main(["--demo", "--vis", "runs/demo"])


if __name__ == "__main__":
    sys.exit(main())
