"""Small models on ANet's face feature, each saved as a small safetensors file and tied to the
ANet whose feature it reads (`anet`: Bundle.part_digest("anet")): FeatureHead, what they share
(the file, the tie, the digest), and LogisticFeatureHead, the form of the Predictor's yes/no heads
on a face crop (UprightHead: is the crop upright? FaceHead: is it a face?). BoxHead
(lnet_anet.inference.box_head) is the other kind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np


class FeatureHead:
    """What the heads on ANet's feature share. A subclass names its file's metadata key
    (META_KEY), the command that fits one (FIT_COMMAND) and the shipped file (DEFAULT_PATH, or
    None), has `feature_dim` and `anet`, and says what its file holds: arrays() (saved as
    float32), meta() (JSON) and from_file(arrays, meta), the inverse (KeyError for a missing
    part)."""

    META_KEY = "feature_head"
    FIT_COMMAND = ""
    DEFAULT_PATH: Path | None = None
    feature_dim: int
    anet: str | None

    def arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def meta(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_file(cls, arrays: dict[str, np.ndarray], meta: dict):
        raise NotImplementedError

    def save(self, path: str | Path) -> None:
        save_arrays(path, self.arrays(), self.META_KEY, self.meta())

    @classmethod
    def load(cls, path: str | Path | None = None):
        """A saved head (default: the shipped one, DEFAULT_PATH). Raises FileNotFoundError, or
        ValueError when the file is not this kind of head."""
        if path is None and cls.DEFAULT_PATH is None:
            raise FileNotFoundError(f"no default {cls.META_KEY.replace('_', ' ')} ships; pass a file")
        arrays, meta = load_arrays(cls.DEFAULT_PATH if path is None else path, cls.META_KEY, cls.FIT_COMMAND)
        try:
            return cls.from_file(arrays, meta)
        except KeyError as e:
            raise ValueError(f"{path}: {cls.META_KEY.replace('_', ' ')} file without {e}") from e

    def fits(self, bundle) -> bool:
        """Whether the head reads this bundle's ANet feature (its dimension, and its digest
        when the head records one)."""
        return self.feature_dim == bundle.svm.feature_dim and self.anet in (None, bundle.part_digest("anet"))

    @property
    def digest(self) -> str:
        """12 hex digits naming the head's numbers (its arrays and the numbers of its meta:
        arrays_digest): what a record says when it was read with a head other than the shipped one."""
        numbers = {k: v for k, v in self.meta().items() if isinstance(v, float)}
        return arrays_digest({**self.arrays(), **numbers})


class LogisticFeatureHead(FeatureHead):
    """P(yes) from ANet's face feature: a logistic regression on the standardised feature,
    sigmoid(coef . z + intercept) with z = (x - mean) / scale, or, with a hidden layer, on
    z = relu(hidden_weight @ ((x - mean) / scale) + hidden_bias) (a one-hidden-layer MLP).
    features (N, D) float -> (N,) probabilities in [0, 1].

    mean, scale: (D,); hidden_weight (H, D) and hidden_bias (H,), or both None; coef: (H,), or
    (D,) without a hidden layer; intercept: float; anet: digest of the ANet that gave the
    features; info: how it was fitted (recorded in the file). ValueError for shapes that do not
    agree. Subclasses name their file's metadata key (META_KEY), what they tell apart (LABELS: the
    yes and the no kind) and the command that fits one (FIT_COMMAND)."""

    LABELS = ("yes", "no")
    MLP_ALPHA = 1e-2  # the MLP's L2 penalty (experiments/2026-12-05-face-head-v2, capacity diagnostic)

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float,
                 anet: str | None = None, info: dict | None = None, hidden_weight: np.ndarray | None = None,
                 hidden_bias: np.ndarray | None = None):  # fmt: skip
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)
        self.coef, self.intercept = np.asarray(coef, np.float64), float(intercept)
        if (hidden_weight is None) != (hidden_bias is None):
            raise ValueError("hidden_weight and hidden_bias go together")
        self.hidden_weight = None if hidden_weight is None else np.asarray(hidden_weight, np.float64)
        self.hidden_bias = None if hidden_bias is None else np.asarray(hidden_bias, np.float64)
        if self.mean.ndim != 1 or self.mean.shape != self.scale.shape:
            raise ValueError(f"mean and scale must be (D,) arrays of one D, got {self.mean.shape}, {self.scale.shape}")
        d = self.mean.shape[0]
        if self.hidden_weight is None:
            expected = (d,)
        else:
            if self.hidden_weight.ndim != 2 or self.hidden_weight.shape[1] != d or self.hidden_bias.shape != self.hidden_weight.shape[:1]:
                raise ValueError(f"hidden_weight must be (H, {d}) and hidden_bias (H,), got "
                                 f"{self.hidden_weight.shape}, {self.hidden_bias.shape}")  # fmt: skip
            expected = self.hidden_weight.shape[:1]
        if self.coef.shape != expected:
            raise ValueError(f"coef must be {expected}, got {self.coef.shape}")
        self.anet, self.info = anet, dict(info or {})

    @property
    def feature_dim(self) -> int:
        return int(self.mean.shape[0])

    @property
    def hidden(self) -> int:
        """The hidden layer's width H; 0 for a logistic regression."""
        return 0 if self.hidden_weight is None else int(self.hidden_weight.shape[0])

    def probability(self, features: np.ndarray) -> np.ndarray:
        """(N, D) ANet features -> (N,) P(yes). ValueError for another D."""
        x = np.asarray(features, np.float64)
        if x.ndim != 2 or x.shape[1] != self.feature_dim:
            raise ValueError(f"features must be (N, {self.feature_dim}), got {x.shape}")
        z = (x - self.mean) / self.scale
        if self.hidden_weight is not None:
            z = np.maximum(z @ self.hidden_weight.T + self.hidden_bias, 0.0)
        logit = z @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, c: float = 1.0, anet: str | None = None,
            info: dict | None = None, hidden: int = 0, seed: int = 0):  # fmt: skip
        """Fit on (N, D) features and (N,) booleans (True: the yes kind), on standardised inputs
        (scikit-learn). hidden 0: L2-regularised logistic regression (C=c, balanced class
        weights). hidden H > 0: an MLP with one ReLU layer of H units (MLPClassifier: adam, L2
        penalty MLP_ALPHA, early stopping on 10% of the crops, at most 300 epochs, random_state
        seed; c unused). ValueError unless both kinds are present."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import MLPClassifier

        x, y = np.asarray(features, np.float64), np.asarray(labels, bool)
        if x.ndim != 2 or len(x) != len(y) or y.all() or not y.any():
            raise ValueError(f"fit needs (N, D) features and (N,) labels with both {cls.LABELS[0]} and "
                             f"{cls.LABELS[1]} crops")  # fmt: skip
        if hidden < 0:
            raise ValueError(f"hidden must be >= 0, got {hidden}")
        mean, scale = x.mean(0), np.maximum(x.std(0), 1e-6)
        z = (x - mean) / scale
        info = {**(info or {}), "crops": len(y), cls.LABELS[0]: int(y.sum())}
        if not hidden:
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(z, y)
            return cls(mean, scale, model.coef_[0], float(model.intercept_[0]), anet, {**info, "C": c})
        model = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=cls.MLP_ALPHA, early_stopping=True,
                              random_state=seed, max_iter=300).fit(z, y)  # fmt: skip
        (w1, w2), (b1, b2) = model.coefs_, model.intercepts_
        info = {**info, "hidden": hidden, "alpha": cls.MLP_ALPHA, "seed": seed, "epochs": int(model.n_iter_)}
        return cls(mean, scale, w2[:, 0], float(b2[0]), anet, info, w1.T, b1)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"mean": self.mean, "scale": self.scale, "coef": self.coef}
        if self.hidden_weight is not None:
            out |= {"hidden_weight": self.hidden_weight, "hidden_bias": self.hidden_bias}
        return out

    def meta(self) -> dict:
        return {"intercept": self.intercept, "anet": self.anet, "info": self.info}

    @classmethod
    def from_file(cls, arrays: dict[str, np.ndarray], meta: dict):
        return cls(arrays["mean"], arrays["scale"], arrays["coef"], meta["intercept"], meta.get("anet"), meta.get("info"),
                   arrays.get("hidden_weight"), arrays.get("hidden_bias"))  # fmt: skip


def arrays_digest(arrays: dict[str, np.ndarray | float]) -> str:
    """sha256 of the arrays as saved (float32, by name), first 12 hex digits: the same for a head
    and its file read back."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode() + np.asarray(arrays[name], np.float32).tobytes())
    return h.hexdigest()[:12]


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray], meta_key: str, meta: dict) -> None:
    """A small head's file: its arrays as float32 safetensors, `meta` as JSON under `meta_key`."""
    import torch

    from lnet_anet.engine.checkpoint import save_safetensors_atomic

    tensors = {k: torch.as_tensor(np.asarray(v), dtype=torch.float32).contiguous() for k, v in arrays.items()}
    save_safetensors_atomic(tensors, path, {meta_key: json.dumps(meta)})


def load_arrays(path: str | Path, meta_key: str, fit_command: str) -> tuple[dict[str, np.ndarray], dict]:
    """save_arrays' (arrays, meta). FileNotFoundError (naming `fit_command`) when the file is
    missing, ValueError when it holds no `meta_key`."""
    from safetensors import safe_open

    path, kind = Path(path), meta_key.replace("_", " ")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {kind} file ({fit_command})")
    article = "an" if kind[0] in "aeiou" else "a"
    try:
        with safe_open(str(path), "np") as f:
            meta = (f.metadata() or {}).get(meta_key)
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # noqa: BLE001 - safetensors' own errors: not a safetensors file at all
        raise ValueError(f"{path}: not {article} {kind} (not a safetensors file: {e})") from None
    if meta is None:
        raise ValueError(f"{path}: not {article} {kind} (no '{meta_key}' metadata)")
    return arrays, json.loads(meta)


__all__ = ["FeatureHead", "LogisticFeatureHead", "arrays_digest", "load_arrays", "save_arrays"]
