"""experiments/2026-12-05-settled-box/tails.py's diagnostic with rule 3's arbitration on (a diagnostic; RULE.md, rule 4)

    PYTHONPATH=. python experiments/2026-12-05-nested-faces/tails_rule3.py --run PARTS --chips 300 \
        --out experiments/2026-12-05-nested-faces/tails-rule3.json

The same chips, perturbations and record as tails.py, read by the Predictor with arbitrate_nested
on and arbitrate_fill 0.8 (rule 3): which faces still make the age's p95 tail."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-05-settled-box"))
import tails  # noqa: E402

from lnet_anet.inference.predictor import Predictor  # noqa: E402


class Rule3(Predictor):
    @classmethod
    def load(cls, *args, **kwargs):
        predictor = Predictor.load(*args, **kwargs)
        predictor.arbitrate_nested, predictor.arbitrate_fill, predictor.arbitrate_picture = True, 0.8, False
        return predictor


if __name__ == "__main__":
    tails.Predictor = Rule3
    sys.exit(tails.main())
