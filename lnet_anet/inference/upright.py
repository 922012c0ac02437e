"""Which quarter turn of a photo shows its faces upright (Predictor(rotations=True)).

LNet's face score does not tell an upright face from a sideways or upside-down one: it often
scores a turned face higher, so keeping the turn with the best-scoring face reads many photos
sideways. Instead the Predictor finds the strongest faces (up to 3) in each quarter turn of the
photo and asks `UprightHead` how likely each such face crop is upright; the turn whose faces are
most likely upright on average wins (choose_turn). The head is a logistic regression on ANet's face feature (the patch average the
attribute SVMs read, computed by the same face graph), fitted on training photos turned by 0, 90,
180 and 270 degrees: the turn is the label, so no annotation is needed (rotation prediction as
self-supervision: Gidaris, Singh and Komodakis, "Unsupervised representation learning by
predicting image rotations", ICLR 2018). `python -m lnet_anet.cli.fit_upright` fits one.

The head is tied to the ANet whose feature it reads (`anet`: Bundle.part_digest("anet")).
"""

from __future__ import annotations

from pathlib import Path

from lnet_anet.inference.feature_head import LogisticFeatureHead

DEFAULT_UPRIGHT_HEAD = Path(__file__).resolve().parents[1] / "assets" / "upright_head.safetensors"


class UprightHead(LogisticFeatureHead):
    """P(a face crop is upright) from ANet's face feature (LogisticFeatureHead), fitted on
    crops of turned photos with the turn as the label: three turned crops for each upright one,
    hence balanced class weights."""

    META_KEY = "upright_head"
    LABELS = ("upright", "turned")
    FIT_COMMAND = "python -m lnet_anet.cli.fit_upright"
    DEFAULT_PATH = DEFAULT_UPRIGHT_HEAD


def choose_turn(probabilities: dict[int, float], bar: float | None = None, margin: float | None = None) -> int:
    """The quarter turn (np.rot90's k) whose best face is most likely upright; 0 when no turn
    has a face, and the unturned photo on a tie. probabilities: {turn with faces: mean P(upright)
    of its strongest faces}. bar (None: none): a turn other than 0 wins only when its P(upright)
    is over `bar`, so that an upright photo with no face found as stored is not read turned on a
    false face's weak evidence (a fresh-user trial, session 57). margin (None: none): when the
    stored reading (0) has faces, another turn wins only by more than `margin` over its P(upright)
    (trial 63: an upright couple read upside down at 0.857 against 0.849, a face lost)."""
    if bar is not None:
        probabilities = {k: p for k, p in probabilities.items() if k == 0 or p > bar}
    if margin is not None and 0 in probabilities:
        probabilities = {k: p for k, p in probabilities.items() if k == 0 or p > probabilities[0] + margin}
    if not probabilities:
        return 0
    return max(sorted(probabilities), key=lambda k: (probabilities[k], k == 0))


__all__ = ["DEFAULT_UPRIGHT_HEAD", "UprightHead", "choose_turn"]
