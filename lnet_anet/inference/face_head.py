"""Is the localizer's candidate a face? The face head rescues a photo LNet finds no face in.

LNet's map alone misses some faces: 4.6% of UTKFace train chips (a face filling the picture) have
no candidate above the localizer's threshold, most of them a weaker one in the right place. A
photo the Predictor finds no face in is read again with the localizer's threshold lowered to
`LNetInput.rescue_faces[0]`; its strongest candidate is returned when `FaceHead` gives it
P(face) > `rescue_faces[1]` (Predictor._rescue). The record says `"rescued": true`.

The head is a logistic regression on ANet's face feature, or an MLP with one hidden layer
(LogisticFeatureHead; fit_face_head --hidden), learnt from image-level tags only, as LNet
itself (Liu et al., "Deep Learning Face Attributes in the Wild", ICCV 2015): the strongest
candidate of each photo known to hold one face is a face (the multiple-instance top-1), every
candidate in a face-free photo is not. `python -m lnet_anet.cli.fit_face_head` fits one; the
choice of its settings and the figures are in experiments/2026-12-02-face-verifier and
experiments/2026-12-05-face-head-v2.
"""

from __future__ import annotations

from pathlib import Path

from lnet_anet.inference.feature_head import LogisticFeatureHead

DEFAULT_FACE_HEAD = Path(__file__).resolve().parents[1] / "assets" / "face_head.safetensors"


class FaceHead(LogisticFeatureHead):
    """P(a candidate's crop is a face) from ANet's face feature (LogisticFeatureHead)."""

    META_KEY = "face_head"
    LABELS = ("face", "not_face")
    FIT_COMMAND = "python -m lnet_anet.cli.fit_face_head"
    DEFAULT_PATH = DEFAULT_FACE_HEAD


__all__ = ["DEFAULT_FACE_HEAD", "FaceHead"]
