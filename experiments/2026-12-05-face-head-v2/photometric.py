"""Faces found on dark, over-exposed and gray copies (face-filter's photometric.py, RULE.md line 3),
with a face head per bundle: --bundle LABEL=BUNDLE[::FACE_HEAD].

    PYTHONPATH=. python experiments/2026-12-05-face-head-v2/photometric.py --part tune \\
        --bundle shipped=lnet_anet/assets/default.lnetanet chosen=runs/face-head-v2/chosen.lnetanet::runs/face-head-v2/v2.safetensors \\
        --work runs/face-filter --out experiments/2026-12-05-face-head-v2/tune/photometric.json
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-03-face-filter"))
import photometric  # noqa: E402

from lnet_anet.inference.predictor import Predictor  # noqa: E402


class _WithHead:
    """photometric.main's Predictor, reading BUNDLE::FACE_HEAD."""

    @staticmethod
    def load(spec: str) -> Predictor:
        bundle, _, head = spec.partition("::")
        return Predictor.load(bundle, face_head=head or None)


if __name__ == "__main__":
    photometric.Predictor = _WithHead
    sys.exit(photometric.main())
