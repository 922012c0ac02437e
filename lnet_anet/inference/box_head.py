"""Where exactly the face box lies: a box model that reads ANet's feature of the region.

The face box the Predictor reports is LNet's region mapped by four fixed ratios
(Localizer.face_box, fitted on WIDER's tune part). LNet's map does not say where in its region
the face sits, so many boxes centred on a face miss it at IoU 0.5 (on WIDER's tune part a third of
them). `BoxHead` moves and resizes that face box by what ANet's feature of the region (computed
anyway for every face) says: a ridge regression to (log width ratio, log height ratio, dx / width,
dy / height) of the labelled face box relative to the fixed one, its prediction scaled by
`shrink`, taught to ignore how the feature changes with the photo's exposure (`invariance`;
experiments/2026-12-02-box-head-views). Like the four ratios it is fitted on WIDER's boxes of the tune part (LNet and ANet never
see a box); the choice and figures: experiments/2026-12-02-box-head. A bundle uses it when its
preprocessing.lnet.refine_boxes is true (Predictor.box_head).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lnet_anet.inference.feature_head import FeatureHead

DEFAULT_BOX_HEAD = Path(__file__).resolve().parents[1] / "assets" / "box_head.safetensors"


def encode_boxes(boxes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(log width ratio, log height ratio, dx / width, dy / height) of `targets` relative to
    `boxes`, both (N, 4) [x0, y0, x1, y1] with positive sides: (N, 4)."""
    bw, bh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    gw, gh = targets[:, 2] - targets[:, 0], targets[:, 3] - targets[:, 1]
    dx = ((targets[:, 0] + targets[:, 2]) - (boxes[:, 0] + boxes[:, 2])) / 2 / bw
    dy = ((targets[:, 1] + targets[:, 3]) - (boxes[:, 1] + boxes[:, 3])) / 2 / bh
    return np.stack([np.log(gw / bw), np.log(gh / bh), dx, dy], 1)


def decode_boxes(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The boxes that `offsets` (encode_boxes' (N, 4)) describe relative to `boxes` (N, 4)."""
    bw, bh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 + offsets[:, 2] * bw
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 + offsets[:, 3] * bh
    w, h = bw * np.exp(offsets[:, 0]), bh * np.exp(offsets[:, 1])
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


class BoxHead(FeatureHead):
    """Face boxes corrected by ANet's feature of their regions (module doc).

    Inputs of the regression: the feature standardised by (mean, scale), both (D,), then the log
    width and log height of the fixed face box in pixels. coef (4, D + 2), intercept (4,):
    the offsets of encode_boxes; shrink: the share of the predicted offsets applied. anet: digest
    of the ANet whose feature it reads; info: how it was fitted."""

    META_KEY = "box_head"
    FIT_COMMAND = "python -m lnet_anet.cli.fit_box_head"
    DEFAULT_PATH = DEFAULT_BOX_HEAD

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 shrink: float = 1.0, anet: str | None = None, info: dict | None = None):  # fmt: skip
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)
        self.coef, self.intercept = np.asarray(coef, np.float64), np.asarray(intercept, np.float64)
        d = self.mean.shape[0] if self.mean.ndim == 1 else -1
        if self.scale.shape != (d,) or self.coef.shape != (4, d + 2) or self.intercept.shape != (4,):
            raise ValueError(f"mean and scale must be (D,), coef (4, D + 2) and intercept (4,), got {self.mean.shape}, "
                             f"{self.scale.shape}, {self.coef.shape}, {self.intercept.shape}")  # fmt: skip
        self.shrink, self.anet, self.info = float(shrink), anet, dict(info or {})

    @property
    def feature_dim(self) -> int:
        return int(self.mean.shape[0])

    def _inputs(self, boxes: np.ndarray, features: np.ndarray) -> np.ndarray:
        b, x = np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(features, np.float64)
        if x.ndim != 2 or x.shape != (len(b), self.feature_dim):
            raise ValueError(f"features must be (N, {self.feature_dim}) for N = {len(b)} boxes, got {x.shape}")
        sides = np.maximum(b[:, 2:] - b[:, :2], 1e-6)
        return np.concatenate([(x - self.mean) / self.scale, np.log(sides)], 1)

    def correct(self, boxes: np.ndarray, features: np.ndarray) -> np.ndarray:
        """(N, 4) face boxes [x0, y0, x1, y1] in pixels and (N, D) ANet features of their
        regions -> (N, 4) corrected boxes, same pixels (not clipped). ValueError for other shapes."""
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        offsets = self._inputs(b, features) @ self.coef.T + self.intercept
        return decode_boxes(b, self.shrink * offsets)

    @classmethod
    def fit(cls, boxes: np.ndarray, features: np.ndarray, targets: np.ndarray, alpha: float = 1000.0,
            shrink: float = 0.5, anet: str | None = None, info: dict | None = None,
            feature_changes: np.ndarray | None = None, invariance: float = 0.0) -> BoxHead:  # fmt: skip
        """Ridge regression (`alpha`) of the labelled face boxes `targets` (N, 4) relative to the
        fixed face boxes `boxes` (N, 4) on the regions' features (N, D).

        With `invariance` > 0, the correction is also taught to ignore what `feature_changes` (M, D)
        holds: how ANet's feature of a region changes when only the photo's exposure does (the
        same region read in an exposure_view of the photo, minus its feature in the photo). The
        fit then minimises ||X w - y||^2 + alpha ||w||^2 + invariance (N / M) ||C w||^2 (C: the
        standardised changes; closed form), so that a brighter, gray or re-saved copy of a photo
        gets about the same box (experiments/2026-12-02-box-head-views). Without it: scikit-learn's
        Ridge. ValueError for fewer than 10 pairs, mismatched shapes, or invariance without changes."""
        from sklearn.linear_model import Ridge

        b, x, t = (np.asarray(a, np.float64) for a in (boxes, features, targets))
        if len(b) < 10 or b.shape != t.shape or x.ndim != 2 or len(x) != len(b):
            raise ValueError(f"fit needs at least 10 (box, feature, target) triples of matching shapes, got {b.shape}, "
                             f"{x.shape}, {t.shape}")  # fmt: skip
        changes = None if feature_changes is None else np.asarray(feature_changes, np.float64)
        if invariance < 0 or (invariance > 0 and (changes is None or changes.ndim != 2 or not len(changes)
                                                   or changes.shape[1] != x.shape[1])):  # fmt: skip
            raise ValueError(f"invariance must be >= 0 and, when > 0, come with (M, {x.shape[1]}) feature_changes, "
                             f"got {invariance} and {None if changes is None else changes.shape}")  # fmt: skip
        mean, scale = x.mean(0), x.std(0) + 1e-6
        head = cls(mean, scale, np.zeros((4, x.shape[1] + 2)), np.zeros(4), shrink, anet)
        inputs, offsets = head._inputs(b, x), encode_boxes(b, t)
        info = {**(info or {}), "pairs": len(b), "alpha": alpha, "shrink": shrink}
        if invariance == 0:
            model = Ridge(alpha=alpha).fit(inputs, offsets)
            return cls(mean, scale, model.coef_, model.intercept_, shrink, anet, info)
        c = np.concatenate([changes / scale, np.zeros((len(changes), 2))], 1)  # the log sides do not change
        xm, ym = inputs.mean(0), offsets.mean(0)
        xc = inputs - xm
        gram = xc.T @ xc + alpha * np.eye(xc.shape[1]) + invariance * len(b) / len(c) * (c.T @ c)
        w = np.linalg.solve(gram, xc.T @ (offsets - ym))  # (D + 2, 4)
        info.update(invariance=invariance, feature_changes=len(c))
        return cls(mean, scale, w.T, ym - xm @ w, shrink, anet, info)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept}

    def meta(self) -> dict:
        return {"shrink": self.shrink, "anet": self.anet, "info": self.info}

    @classmethod
    def from_file(cls, arrays: dict[str, np.ndarray], meta: dict) -> BoxHead:
        return cls(arrays["mean"], arrays["scale"], arrays["coef"], arrays["intercept"], meta["shrink"],
                   meta.get("anet"), meta.get("info"))  # fmt: skip


__all__ = ["DEFAULT_BOX_HEAD", "BoxHead", "decode_boxes", "encode_boxes"]
