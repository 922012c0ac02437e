"""Per-attribute linear SVMs on ANet patch features, with Platt-scaled probabilities.

"Deep Learning Face Attributes in the Wild" trains one linear SVM per attribute on ANet's FC
features; here too (linear, per attribute), but on the mean of the patches' features (equal to
the mean SVM score over the patches, a linear map), where the paper concatenates the patches'
features into one vector. Scores become probabilities
by Platt scaling, p = sigmoid(a * score + b) per attribute, fitted on a calibration set held out
from SVM training. A head that was never calibrated uses a = 1, b = 0 (sigmoid of the margin).
An attribute is predicted present when p >= its decision threshold: 0.5 (most probable class)
unless `choose_thresholds` set it on a held-out set to trade accuracy against balanced accuracy
(rare attributes are otherwise almost never predicted).

Features are standardised with the training set's mean and std (a constant feature keeps std 1).
The fitted head holds only numpy arrays: `to_arrays()` / `from_arrays()` save and restore it
without pickle (e.g. with np.savez or safetensors).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

# sklearn (about 1 s to import) is imported by the fitting functions only: prediction needs numpy.

_ARRAY_KEYS = ("weight", "bias", "platt_a", "platt_b", "feature_mean", "feature_std", "threshold")
_THRESHOLD_GRID = np.linspace(0.01, 0.99, 99)


def _as_features(features, dim: int | None, what: str = "features") -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{what} must be 2-D (N, D), got shape {x.shape}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{what} have {x.shape[1]} dims, the head expects {dim}")
    if not np.isfinite(x).all():
        raise ValueError(f"{what} contain NaN or inf")
    return x


def _as_labels(labels, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 2 or y.shape[0] != n:
        raise ValueError(f"labels must be (N={n}, A), got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0/1")
    return y.astype(np.int64)


def _single_class(y: np.ndarray) -> np.ndarray:
    """Indices of the attributes whose labels are all 0 or all 1."""
    positives = y.sum(axis=0)
    return np.flatnonzero((positives == 0) | (positives == len(y)))


class LinearSVMHead:
    """A linear SVM per attribute plus Platt scaling, as plain numpy arrays.

    weight (A, D), bias (A,), platt_a (A,), platt_b (A,), feature_mean (D,), feature_std (D,),
    threshold (A,) on the probabilities (default 0.5).
    scores(x) = ((x - feature_mean) / feature_std) @ weight.T + bias.
    """

    def __init__(self, weight, bias, platt_a, platt_b, feature_mean, feature_std, threshold=None):
        self.weight = np.asarray(weight, dtype=np.float64)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.platt_a = np.asarray(platt_a, dtype=np.float64)
        self.platt_b = np.asarray(platt_b, dtype=np.float64)
        self.feature_mean = np.asarray(feature_mean, dtype=np.float64)
        self.feature_std = np.asarray(feature_std, dtype=np.float64)
        n = self.weight.shape[0] if self.weight.ndim == 2 else 0
        self.threshold = (
            np.full(n, 0.5) if threshold is None else np.asarray(threshold, dtype=np.float64)
        )
        if self.weight.ndim != 2:
            raise ValueError(f"weight must be (A, D), got shape {self.weight.shape}")
        a, d = self.weight.shape
        for name, arr, shape in (
            ("bias", self.bias, (a,)), ("platt_a", self.platt_a, (a,)),
            ("platt_b", self.platt_b, (a,)), ("feature_mean", self.feature_mean, (d,)),
            ("feature_std", self.feature_std, (d,)), ("threshold", self.threshold, (a,)),
        ):  # fmt: skip
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        if (self.feature_std <= 0).any():
            raise ValueError("feature_std must be > 0")
        if not ((self.threshold > 0) & (self.threshold < 1)).all():
            raise ValueError("threshold must lie in (0, 1)")

    @property
    def num_attributes(self) -> int:
        return self.weight.shape[0]

    @property
    def feature_dim(self) -> int:
        return self.weight.shape[1]

    def scores(self, features) -> np.ndarray:
        """(N, D) -> (N, A) signed SVM margins (> 0: attribute present)."""
        x = _as_features(features, self.feature_dim)
        return ((x - self.feature_mean) / self.feature_std) @ self.weight.T + self.bias

    def platt(self, scores: np.ndarray) -> np.ndarray:
        """Scores (..., A) -> probabilities sigmoid(a * score + b)."""
        s = np.asarray(scores, dtype=np.float64)
        if s.shape[-1:] != (self.num_attributes,):
            raise ValueError(
                f"scores must end with {self.num_attributes} attributes, got {s.shape}"
            )
        z = self.platt_a * s + self.platt_b
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # = sigmoid(z), without overflow warnings

    def probabilities(self, features) -> np.ndarray:
        """(N, D) -> (N, A) calibrated probabilities in [0, 1]."""
        return self.platt(self.scores(features))

    def average_over_patches(self, features) -> np.ndarray:
        """Patch features of a face (nPatches, D) -> (A,), or of B faces (B, nPatches, D) ->
        (B, A): the mean SVM score over the patches, then Platt scaling."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim not in (2, 3):
            raise ValueError(f"features must be (nPatches, D) or (B, nPatches, D), got {x.shape}")
        if x.shape[-2] == 0:
            raise ValueError("need at least one patch per face")
        flat = self.scores(x.reshape(-1, x.shape[-1]))
        mean = flat.reshape(*x.shape[:-1], self.num_attributes).mean(axis=-2)
        return self.platt(mean)

    def decide(self, probabilities) -> np.ndarray:
        """Probabilities (..., A) -> bool (..., A): p >= the attribute's threshold."""
        return np.asarray(probabilities) >= self.threshold

    def choose_thresholds(self, probabilities, labels, balance_weight: float) -> LinearSVMHead:
        """Per attribute, the threshold on a held-out set's probabilities (N, A) that maximises
        accuracy + balance_weight * balanced accuracy (0: the most accurate one), in place.

        Near the most accurate threshold accuracy is flat while balanced accuracy still climbs,
        so a small weight buys much balanced accuracy for little accuracy. Returns self."""
        p = np.asarray(probabilities, dtype=np.float64)
        y = _as_labels(labels, len(p)).astype(bool)
        if p.shape != y.shape or p.shape[1] != self.num_attributes:
            raise ValueError(
                f"probabilities {p.shape} and labels {y.shape} must both be (N, {self.num_attributes})"
            )
        if balance_weight < 0:
            raise ValueError(f"balance_weight must be >= 0, got {balance_weight}")
        pred = p[None] >= _THRESHOLD_GRID[:, None, None]  # (T, N, A)
        pos, neg = np.maximum(y.sum(0), 1), np.maximum((~y).sum(0), 1)
        tp, tn = (pred & y).sum(1), (~pred & ~y).sum(1)  # (T, A)
        objective = (tp + tn) / len(y) + balance_weight * (tp / pos + tn / neg) / 2
        # Ties (e.g. an attribute absent here) go to the threshold nearest 0.5.
        objective -= 1e-9 * np.abs(_THRESHOLD_GRID - 0.5)[:, None]
        self.threshold = _THRESHOLD_GRID[objective.argmax(0)]
        return self

    def calibrate(self, features, labels, names: Sequence[str] | None = None) -> LinearSVMHead:
        """Fit Platt's (a, b) per attribute on a calibration set (N, D), (N, A) 0/1, in place.
        names: the A attributes' names, for the warning about a falling slope (None: indices).

        Platt (1999): logistic regression on the 1-D score with smoothed targets
        (N+ + 1) / (N+ + 2) for positives and 1 / (N- + 2) for negatives, which keeps a and b
        finite when the scores separate the classes. Returns self.
        """
        s = self.scores(features)
        y = _as_labels(labels, len(s))
        if y.shape[1] != self.num_attributes:
            raise ValueError(
                f"labels have {y.shape[1]} attributes, the head has {self.num_attributes}"
            )
        # Platt's smoothed targets keep the fit defined even when a class is absent here.
        a, b = np.empty(self.num_attributes), np.empty(self.num_attributes)
        for k in range(self.num_attributes):
            a[k], b[k] = _platt_fit(s[:, k], y[:, k])
        if (a <= 0).any():
            warnings.warn(
                f"Platt slope <= 0 for attributes {_named(np.flatnonzero(a <= 0), names)}: their SVM "
                "scores do not rank the calibration set (probabilities fall with the score)",
                stacklevel=2,
            )
        self.platt_a, self.platt_b = a, b
        return self

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k).copy() for k in _ARRAY_KEYS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LinearSVMHead:
        """The inverse of to_arrays; heads saved before thresholds existed get 0.5."""
        missing = [k for k in _ARRAY_KEYS if k not in arrays and k != "threshold"]
        extra = [k for k in arrays if k not in _ARRAY_KEYS]
        if missing or extra:
            raise ValueError(f"LinearSVMHead arrays: missing {missing}, unexpected {extra}")
        return cls(**{k: np.asarray(arrays[k]) for k in _ARRAY_KEYS if k in arrays})


def _platt_fit(score: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    target = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    # Soft targets as two weighted copies of every sample (label 1 weight t, label 0 weight 1-t).
    x = np.concatenate([score, score])[:, None]
    labels = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    weights = np.concatenate([target, 1 - target])
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000)  # ~unregularised, as in Platt's method
    lr.fit(x, labels, sample_weight=weights)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def fit_linear_svms(
    features,
    labels,
    C: float = 0.1,
    class_weight: str | None = None,
    max_iter: int = 5000,
    calibration: tuple | None = None,
    names: Sequence[str] | None = None,
) -> LinearSVMHead:
    """One sklearn LinearSVC per attribute on standardised features.

    features (N, D) float, labels (N, A) 0/1, C the SVM's regularisation (smaller: stronger),
    class_weight None or "balanced" (re-weights classes inversely to their frequency, for rare
    attributes). calibration: optional (features, labels) for Platt scaling (see
    LinearSVMHead.calibrate); without it the head uses a = 1, b = 0. names: the A attributes'
    names, for the warnings (None: their indices; a trial had to count through the 40 names).
    """
    x = _as_features(features, None)
    y = _as_labels(labels, len(x))
    if class_weight not in (None, "balanced"):
        raise ValueError(f"class_weight must be None or 'balanced', got {class_weight!r}")
    if C <= 0:
        raise ValueError(f"C must be > 0, got {C}")
    constant = _single_class(y)
    if constant.size:
        warnings.warn(
            f"fit_linear_svms: attributes {_named(constant, names)} have only one class among {len(y)} "
            "samples; they get a constant classifier (weight 0) that predicts that class",
            stacklevel=2,
        )
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)  # a constant feature carries no signal; avoid 0/0
    z = (x - mean) / std
    n_attr, dim = y.shape[1], x.shape[1]
    weight, bias = np.empty((n_attr, dim)), np.empty(n_attr)
    for k in range(n_attr):
        if k in constant:
            weight[k], bias[k] = 0.0, 1.0 if y[0, k] == 1 else -1.0
            continue
        from sklearn.svm import LinearSVC

        svm = LinearSVC(C=C, class_weight=class_weight, max_iter=max_iter, dual="auto")
        svm.fit(z, y[:, k])
        weight[k], bias[k] = svm.coef_[0], svm.intercept_[0]
    head = LinearSVMHead(weight, bias, np.ones(n_attr), np.zeros(n_attr), mean, std)
    if calibration is not None:
        head.calibrate(*calibration, names=names)
    return head


def _named(indices: np.ndarray, names: Sequence[str] | None) -> list:
    """Attribute indices as their names when given ([4, 6] -> ['Bags_Under_Eyes', 'Big_Lips'])."""
    return [int(i) for i in indices] if names is None else [str(names[int(i)]) for i in indices]
