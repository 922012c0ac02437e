"""Bootstrap confidence intervals of benchmark figures, resampling the scored items.

A figure measured on 2,000 files would move on 2,000 other files of the same kind; the interval
says by about how much. Each function here resamples the scored items (faces, chips, photos)
with replacement, `resamples` times, recomputes the figure on each resample, and gives the
percentile interval (scipy.stats.bootstrap, method "percentile"; Efron & Tibshirani, "An
Introduction to the Bootstrap", 1993, ch. 13). Items are resampled whole: a photo's faces and
false alarms stay together, a face keeps all its attributes. The interval is that of the
sampling of items alone: it says nothing of data of another kind (other events, other cameras).

The random draws are seeded (`seed`), so a record re-scored gives the same interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 1000


def bootstrap_interval(statistic: Callable[[np.ndarray], np.ndarray | float], n: int, resamples: int = RESAMPLES,
                       confidence: float = CONFIDENCE, seed: int = 0) -> np.ndarray:  # fmt: skip
    """The percentile bootstrap interval of statistic(indices) over n items.

    statistic: item indices (m,) int, drawn with replacement from range(n) -> a float or a
        vector (k,) of figures (every figure is resampled with the same draws).
    Returns (k, 2) float: the low and high end for each figure (k = 1 for a float); NaN where
    the figure is NaN on some resample (e.g. a band with no item drawn). Raises ValueError for
    n < 2, resamples < 1 or a confidence outside (0, 1).
    """
    from scipy.stats import DegenerateDataWarning, bootstrap

    if n < 2:
        raise ValueError(f"a bootstrap interval needs at least 2 items, got {n}")
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError(f"resamples must be >= 1 and confidence in (0, 1); got {resamples}, {confidence}")

    def vector(idx: np.ndarray) -> np.ndarray:
        return np.atleast_1d(np.asarray(statistic(idx.astype(np.int64)), np.float64))

    # A figure the same on every resample (a recall of 1.0) has the interval [v, v]: scipy's
    # warning about such "degenerate" data says nothing more.
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap((np.arange(n),), vector, n_resamples=resamples, vectorized=False, method="percentile",
                           confidence_level=confidence, rng=np.random.default_rng(seed))  # fmt: skip
    low, high = np.atleast_1d(result.confidence_interval.low), np.atleast_1d(result.confidence_interval.high)
    return np.stack([low, high], axis=1).astype(np.float64)


def named_intervals(statistic: Callable[[np.ndarray], Sequence[float]], names: Sequence[str], n: int, unit: str,
                    resamples: int = RESAMPLES, confidence: float = CONFIDENCE, seed: int = 0) -> dict:  # fmt: skip
    """bootstrap_interval of a statistic giving one figure per name, as a record:
    {"confidence", "resamples", "unit" (what was resampled, e.g. "faces"), "n", name: [low, high]
    (None where NaN)}."""
    bounds = bootstrap_interval(statistic, n, resamples, confidence, seed)
    if len(bounds) != len(names):
        raise ValueError(f"the statistic gives {len(bounds)} figures for {len(names)} names")
    out: dict = {"confidence": confidence, "resamples": resamples, "unit": unit, "n": int(n)}
    for name, (low, high) in zip(names, bounds, strict=True):
        out[name] = None if not (np.isfinite(low) and np.isfinite(high)) else [float(low), float(high)]
    return out


def format_interval(value: float | None, bounds: Sequence[float] | None, spec: str = ".3f") -> str:
    """"0.901 [0.898, 0.903]": a figure with its interval, each as format(x, spec); the figure
    alone without bounds; "n/a" for a figure that is None or NaN (an AP over no face)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if not bounds:
        return format(value, spec)
    return f"{format(value, spec)} [{format(bounds[0], spec)}, {format(bounds[1], spec)}]"


__all__ = ["CONFIDENCE", "RESAMPLES", "bootstrap_interval", "format_interval", "named_intervals"]
