"""An over-exposed photo read again darkened by gamma 2.2 instead of contrast-stretched (RULE.md).

    PYTHONPATH=. python experiments/2026-12-05-bright-gamma/gamma.py --part tune --run runs/split-parts/parts \
        --chips 400 --files 400 --out experiments/2026-12-05-bright-gamma/tune.json

experiments/2026-12-05-retry-check/retry.py's sets at the over-exposed gains, for "shipped" (the
embedded bundle) and "gamma 2.2" (BrightGamma: the retry's copy of a photo over the bright level
darkened, v -> 255 (v/255)^2.2). --run: a folder whose .hydra/config.yaml defines UTKFace's tune part.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "2026-12-05-retry-check"))
import retry  # noqa: E402

from lnet_anet.data.preprocess import mean_luma  # noqa: E402
from lnet_anet.inference import predictor as predictor_module  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

GAMMA = 2.2
GAINS = {"utkface": (1.0, 2.5, 3.0), "celeba_hq": (3.0,), "face_free": (1.0, 2.5), "wider": (1.0, 2.5)}


class BrightGamma(Predictor):
    """The exposure retry's copy of an over-exposed photo darkened by GAMMA (dark photos stretched, as shipped)."""

    def _detect(self, images, analyses):
        stretch, bright = predictor_module.stretch_contrast, self._lnet.retry_exposure[1]

        def lift(image: np.ndarray) -> np.ndarray:
            if mean_luma(image) > bright:
                return (255.0 * (image / 255.0) ** GAMMA).round().astype(np.uint8)
            return stretch(image)

        predictor_module.stretch_contrast = lift
        try:
            return super()._detect(images, analyses)
        finally:
            predictor_module.stretch_contrast = stretch


def main(argv=None) -> int:
    def run(args):
        return retry.run(args, {"shipped": Predictor.load(), f"gamma {GAMMA:g}": BrightGamma.load()}, GAINS)

    return retry.settle.cli(__doc__, {"run": run}, ["run", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
