"""Confidence intervals of benchmark figures: the bootstrap over the scored items, exact for shares.

A figure measured on 2,000 files estimates the figure on all files of that kind; its 95%
confidence interval is the range of values of that figure the 2,000 files are consistent with.
It is not the range a second run would fall in: a second draw of as many files lands inside the
first one's interval less often than 95% of the time (about 84% for a symmetric figure).

bootstrap_interval resamples the scored items with replacement, `resamples` times, recomputes the
figure on each resample, and gives the percentile interval (scipy.stats.bootstrap, method
"percentile"; Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13). Items are
resampled whole: a photo with its faces and false alarms, a face with all its attributes; with
`groups`, the items of one group (the photos of one person) are drawn together, since they are
not independent (the cluster bootstrap; Davison & Hinkley, "Bootstrap Methods", 1997, sec. 3.8).
share_interval gives the exact (Clopper-Pearson) interval of a share of k in n, which the
bootstrap gets wrong at 0 or n: 1,958 faces found in 1,958 files is [0.998, 1], not [1, 1].

The interval covers the draw of items of the kind scored; it says nothing of data of another kind
(other events, other cameras). Under MIN_ITEMS items (or groups) no interval is given; a figure
that some resample cannot compute (a band no drawn item falls in) has none either. The draws are
seeded (`seed`), so a record scored again gives the same interval; their third decimal moves with
the seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
RESAMPLES = 1000
MIN_ITEMS = 10  # fewer items (or groups) than this: no interval (the bootstrap of 3 values says little)


def bootstrap_interval(statistic: Callable[[np.ndarray], np.ndarray | float], n: int, resamples: int = RESAMPLES,
                       confidence: float = CONFIDENCE, seed: int = 0, groups: Sequence | None = None) -> np.ndarray:  # fmt: skip
    """The percentile bootstrap interval of statistic(indices) over n items.

    statistic: item indices (m,) int, drawn with replacement from range(n) -> a float or a
        vector (k,) of figures (every figure is resampled with the same draws).
    groups: (n,) a label per item (e.g. the person in a photo): the groups are drawn with
        replacement, each with all its items, and the statistic gets their items' indices.
    Returns (k, 2) float: the low and high end for each figure (k = 1 for a float); NaN where
    the figure is NaN on some resample (e.g. a band with no item drawn). Raises ValueError for
    fewer than MIN_ITEMS items (groups with `groups`), resamples < 1, a confidence outside
    (0, 1) or `groups` not of length n.
    """
    from scipy.stats import DegenerateDataWarning, bootstrap

    members = _members(groups, n)
    units = n if members is None else len(members)
    if units < MIN_ITEMS:
        raise ValueError(f"a bootstrap interval needs at least {MIN_ITEMS} {'groups' if members is not None else 'items'}, got {units}")
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError(f"resamples must be >= 1 and confidence in (0, 1); got {resamples}, {confidence}")

    def vector(drawn: np.ndarray) -> np.ndarray:
        idx = drawn.astype(np.int64) if members is None else np.concatenate([members[g] for g in drawn.astype(np.int64)])
        return np.atleast_1d(np.asarray(statistic(idx), np.float64))

    # A figure the same on every resample (a recall of 1.0) has the interval [v, v]: scipy's
    # warning about such "degenerate" data says nothing more.
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap((np.arange(units),), vector, n_resamples=resamples, vectorized=False, method="percentile",
                           confidence_level=confidence, rng=np.random.default_rng(seed))  # fmt: skip
    low, high = np.atleast_1d(result.confidence_interval.low), np.atleast_1d(result.confidence_interval.high)
    return np.stack([low, high], axis=1).astype(np.float64)


def _members(groups: Sequence | None, n: int) -> list[np.ndarray] | None:
    """The item indices of each group, in order of first appearance (None without groups)."""
    if groups is None:
        return None
    if len(groups) != n:
        raise ValueError(f"{len(groups)} group labels for {n} items")
    codes, _ = pd.factorize(np.asarray(groups))  # first appearance first: the draws do not depend on the labels' sort
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.cumsum(np.bincount(codes))[:-1])


def enough_units(n: int, groups: Sequence | None = None) -> bool:
    """Whether n items (or, with `groups`, their distinct groups) are enough for an interval (MIN_ITEMS)."""
    return (n if groups is None else len(pd.unique(np.asarray(groups)))) >= MIN_ITEMS


def named_intervals(statistic: Callable[[np.ndarray], Sequence[float]], names: Sequence[str], n: int, unit: str,
                    resamples: int = RESAMPLES, confidence: float = CONFIDENCE, seed: int = 0,
                    groups: Sequence | None = None, group_unit: str | None = None) -> dict:  # fmt: skip
    """bootstrap_interval of a statistic giving one figure per name, as a record:
    {"confidence", "resamples", "unit" (the items, e.g. "faces"), "n", with groups "groups" (how
    many) and "resampled" (group_unit, e.g. "identities"), name: [low, high] (None where NaN)}."""
    bounds = bootstrap_interval(statistic, n, resamples, confidence, seed, groups)
    if len(bounds) != len(names):
        raise ValueError(f"the statistic gives {len(bounds)} figures for {len(names)} names")
    out: dict = {"confidence": confidence, "resamples": resamples, "unit": unit, "n": int(n)}
    if groups is not None:
        out |= {"groups": len(pd.unique(np.asarray(groups))), "resampled": group_unit or "groups"}
    for name, (low, high) in zip(names, bounds, strict=True):
        out[name] = None if not (np.isfinite(low) and np.isfinite(high)) else [float(low), float(high)]
    return out


def share_interval(k: int, n: int, confidence: float = CONFIDENCE) -> list[float]:
    """[low, high]: the exact (Clopper-Pearson) confidence interval of a share of k successes in
    n independent trials (scipy.stats.binomtest). Raises ValueError unless 0 <= k <= n, n >= 1."""
    from scipy.stats import binomtest

    if not 0 <= k <= n or n < 1:
        raise ValueError(f"a share needs 0 <= k <= n and n >= 1, got k={k}, n={n}")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return [float(ci.low), float(ci.high)]


def format_interval(value: float | None, bounds: Sequence[float] | None, spec: str = ".3f") -> str:
    """"0.901 [0.898, 0.903]": a figure with its interval, each as format(x, spec); the figure
    alone without bounds; "n/a" for a figure that is None or NaN (an AP over no face)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if not bounds:
        return format(value, spec)
    return f"{format(value, spec)} [{format(bounds[0], spec)}, {format(bounds[1], spec)}]"


__all__ = ["CONFIDENCE", "MIN_ITEMS", "RESAMPLES", "bootstrap_interval", "enough_units", "format_interval", "named_intervals",
           "share_interval"]  # fmt: skip
