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

import json
from pathlib import Path

import numpy as np

DEFAULT_UPRIGHT_HEAD = Path(__file__).resolve().parents[1] / "assets" / "upright_head.safetensors"


class UprightHead:
    """P(a face crop is upright) from ANet's face feature: sigmoid(coef . (x - mean) / scale +
    intercept). features (N, D) float -> (N,) probabilities in [0, 1].

    mean, scale, coef: (D,); intercept: float; anet: digest of the ANet that gave the features;
    info: how it was fitted (recorded in the file)."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float,
                 anet: str | None = None, info: dict | None = None):  # fmt: skip
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)
        self.coef, self.intercept = np.asarray(coef, np.float64), float(intercept)
        if not self.mean.shape == self.scale.shape == self.coef.shape or self.mean.ndim != 1:
            raise ValueError(f"mean, scale and coef must be (D,) arrays of one D, got {self.mean.shape}, "
                             f"{self.scale.shape}, {self.coef.shape}")  # fmt: skip
        self.anet, self.info = anet, dict(info or {})

    @property
    def feature_dim(self) -> int:
        return int(self.coef.shape[0])

    def probability(self, features: np.ndarray) -> np.ndarray:
        """(N, D) ANet features -> (N,) P(upright). ValueError for another D."""
        x = np.asarray(features, np.float64)
        if x.ndim != 2 or x.shape[1] != self.feature_dim:
            raise ValueError(f"features must be (N, {self.feature_dim}), got {x.shape}")
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))

    @classmethod
    def fit(cls, features: np.ndarray, upright: np.ndarray, c: float = 1.0, anet: str | None = None,
            info: dict | None = None) -> UprightHead:  # fmt: skip
        """Fit on (N, D) features and (N,) booleans (the crop is upright), standardised inputs,
        L2-regularised logistic regression (scikit-learn, C=c, balanced class weights: three
        turned crops for each upright one)."""
        from sklearn.linear_model import LogisticRegression

        x, y = np.asarray(features, np.float64), np.asarray(upright, bool)
        if x.ndim != 2 or len(x) != len(y) or y.all() or not y.any():
            raise ValueError("fit needs (N, D) features and (N,) labels with both upright and turned crops")
        mean, scale = x.mean(0), np.maximum(x.std(0), 1e-6)
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit((x - mean) / scale, y)
        info = {**(info or {}), "crops": len(y), "upright": int(y.sum()), "C": c}
        return cls(mean, scale, model.coef_[0], float(model.intercept_[0]), anet, info)

    def save(self, path: str | Path) -> None:
        import torch

        from lnet_anet.engine.checkpoint import save_safetensors_atomic

        tensors = {k: torch.as_tensor(v, dtype=torch.float32).contiguous()
                   for k, v in (("mean", self.mean), ("scale", self.scale), ("coef", self.coef))}  # fmt: skip
        meta = {"intercept": self.intercept, "anet": self.anet, "info": self.info}
        save_safetensors_atomic(tensors, path, {"upright_head": json.dumps(meta)})

    @classmethod
    def load(cls, path: str | Path | None = None) -> UprightHead:
        """A saved head (default: the shipped one, DEFAULT_UPRIGHT_HEAD). Raises
        FileNotFoundError, or ValueError when the file is not an upright head."""
        from safetensors import safe_open

        path = Path(DEFAULT_UPRIGHT_HEAD if path is None else path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such upright head (python -m lnet_anet.cli.fit_upright)")
        with safe_open(str(path), "np") as f:
            meta = (f.metadata() or {}).get("upright_head")
            if meta is None:
                raise ValueError(f"{path}: not an upright head (no 'upright_head' metadata)")
            arrays = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(meta)
        try:
            return cls(arrays["mean"], arrays["scale"], arrays["coef"], meta["intercept"], meta.get("anet"),
                       meta.get("info"))  # fmt: skip
        except KeyError as e:
            raise ValueError(f"{path}: an upright head without {e}") from e


def choose_turn(probabilities: dict[int, float]) -> int:
    """The quarter turn (np.rot90's k) whose best face is most likely upright; 0 when no turn
    has a face, and the unturned photo on a tie."""
    if not probabilities:
        return 0
    return max(sorted(probabilities), key=lambda k: (probabilities[k], k == 0))


__all__ = ["DEFAULT_UPRIGHT_HEAD", "UprightHead", "choose_turn"]
