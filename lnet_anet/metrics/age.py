"""Metrics for scalar estimates (age, attractiveness): MAE, RMSE, Pearson r, cumulative score,
ChaLearn's epsilon-error, and MAE broken down by age band, gender and race.

Definitions:
  CS(theta)   fraction of samples with |pred - true| <= theta (the "cumulative score")
  eps-error   mean of 1 - exp(-(pred - mean)^2 / (2 sigma^2)), with mean and sigma the annotated
              apparent age and its standard deviation (ChaLearn LAP 2015/2016)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lnet_anet.metrics.intervals import RESAMPLES, named_intervals

CS_THRESHOLDS = tuple(range(1, 11))
# Age bands for error_by_group: (label, lowest age, first age of the next band).
AGE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("0-12", 0.0, 13.0),
    ("13-19", 13.0, 20.0),
    ("20-39", 20.0, 40.0),
    ("40-59", 40.0, 60.0),
    ("60+", 60.0, np.inf),
)
GENDER_NAMES = {0: "male", 1: "female"}
RACE_NAMES = {0: "White", 1: "Black", 2: "Asian", 3: "Indian", 4: "Others"}  # UTKFace codes


def _vector(name: str, values, n: int | None = None) -> np.ndarray:
    """values (list, numpy, torch) -> finite float64 1-D array, checked against length n."""
    if hasattr(values, "detach"):  # a torch tensor, without importing torch here
        values = values.detach().cpu().numpy()
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} values, expected {n}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has {int((~np.isfinite(arr)).sum())} non-finite values")
    return arr


def pearson_r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; NaN when either side is constant (undefined there)."""
    da, db = a - a.mean(), b - b.mean()
    denom = np.sqrt((da * da).sum() * (db * db).sum())
    return float((da * db).sum() / denom) if denom > 0 else float("nan")


def epsilon_error(pred, mean, sigma) -> float:
    """ChaLearn LAP epsilon-error: mean of 1 - exp(-(pred - mean)^2 / (2 sigma^2)); sigma > 0."""
    pred = _vector("pred", pred)
    mean = _vector("true", mean, pred.size)
    sigma = _vector("true_sigma", sigma, pred.size)
    if (sigma <= 0).any():
        raise ValueError(f"true_sigma must be > 0; {int((sigma <= 0).sum())} values are not")
    return float(np.mean(1.0 - np.exp(-((pred - mean) ** 2) / (2.0 * sigma**2))))


def regression_metrics(
    pred, true, pred_sigma=None, true_sigma=None, cs_thresholds: Sequence[float] = CS_THRESHOLDS
) -> dict[str, float]:
    """{"n", "mae", "rmse", "pearson_r", "cs_1".."cs_10"} and, when given:
    true_sigma -> "eps_error"; pred_sigma (the predicted std) -> "pred_std_mean" and
    "within_pred_std" (fraction with |err| <= pred_sigma; ~0.68 if the spread is calibrated)."""
    pred = _vector("pred", pred)
    true = _vector("true", true, pred.size)
    err = pred - true
    out: dict[str, float] = {
        "n": float(pred.size),
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
        "pearson_r": pearson_r(pred, true),
    }
    for theta in cs_thresholds:
        out[f"cs_{theta:g}"] = float((np.abs(err) <= theta).mean())
    if true_sigma is not None:
        out["eps_error"] = epsilon_error(pred, true, true_sigma)
    if pred_sigma is not None:
        spread = _vector("pred_sigma", pred_sigma, pred.size)
        out["pred_std_mean"] = float(spread.mean())
        out["within_pred_std"] = float((np.abs(err) <= spread).mean())
    return out


def estimate_intervals(pred, true, pred_sigma=None, bands: Sequence[tuple[str, float, float]] = (),
                       resamples: int = RESAMPLES, seed: int = 0, unit: str = "faces") -> dict:  # fmt: skip
    """Bootstrap intervals (lnet_anet.metrics.intervals; the items resampled) of an estimate's
    MAE and bias (mean of pred - true), of the share within pred_sigma when given
    ("within_1_std"), and of each band's MAE and bias ("<label>/mae", "<label>/bias"; bands:
    (label, lowest true value, first value of the next band), e.g. age years). Returns
    {"confidence", "resamples", "unit", "n", figure: [low, high] or None}."""
    pred = _vector("pred", pred)
    true = _vector("true", true, pred.size)
    spread = None if pred_sigma is None else _vector("pred_sigma", pred_sigma, pred.size)
    err = pred - true
    members = [(true >= lo) & (true < hi) for _, lo, hi in bands]

    def statistic(idx: np.ndarray) -> list[float]:
        e = err[idx]
        out = [float(np.abs(e).mean()), float(e.mean())]
        if spread is not None:
            out.append(float((np.abs(e) <= spread[idx]).mean()))
        for member in members:
            b = e[member[idx]]
            out += [float(np.abs(b).mean()), float(b.mean())] if len(b) else [np.nan, np.nan]
        return out

    names = ["mae", "bias", *(["within_1_std"] if spread is not None else [])]
    names += [f"{label}/{figure}" for label, _, _ in bands for figure in ("mae", "bias")]
    return named_intervals(statistic, names, pred.size, unit, resamples, seed=seed)


def age_band(age, bands: Sequence[tuple[str, float, float]] = AGE_BANDS) -> np.ndarray:
    """The band label of each (true) age. bands: consecutive (label, low, next_low) ranges;
    an age outside them is an error."""
    age = _vector("age", age)
    if (age < bands[0][1]).any() or (age >= bands[-1][2]).any():
        raise ValueError(
            f"ages must lie in [{bands[0][1]}, {bands[-1][2]}), got {age.min()}..{age.max()}"
        )
    labels = np.array([b[0] for b in bands], dtype=object)
    edges = np.array([b[2] for b in bands[:-1]])
    return labels[np.searchsorted(edges, age, side="right")]


def _group_rows(name: str, keys: pd.Series, err: np.ndarray, order: Sequence) -> list[dict]:
    rows = []
    for key in order:
        mask = (keys == key).to_numpy()
        count = int(mask.sum())
        rows.append({
            "group": name,
            "value": str(key),
            "count": count,
            "mae": float(np.abs(err[mask]).mean()) if count else float("nan"),
            "bias": float(err[mask].mean()) if count else float("nan"),
        })  # fmt: skip
    return rows


def error_by_group(
    df: pd.DataFrame, bands: Sequence[tuple[str, float, float]] | None = AGE_BANDS
) -> pd.DataFrame:
    """MAE, mean signed error ("bias" = pred - true) and count per group.

    df needs columns pred and true (ages), optionally gender (0/1) and race (UTKFace 0-4);
    -1 or missing codes count as "unknown". Rows: group "all"; "age band" with every band of
    `bands` (count 0 and NaN errors when empty, so tables line up across datasets; bands=None
    leaves them out, e.g. for attractiveness scores); then "gender" / "race" values present in
    df. Columns: group, value, count, mae, bias.
    """
    missing = [c for c in ("pred", "true") if c not in df]
    if missing:
        raise KeyError(f"error_by_group needs columns {missing}; has {list(df.columns)}")
    pred = _vector("pred", df["pred"])
    true = _vector("true", df["true"], pred.size)
    err = pred - true
    rows = _group_rows("all", pd.Series(["all"] * pred.size), err, ["all"])
    if bands is not None:
        labels = pd.Series(age_band(true, bands))
        rows += _group_rows("age band", labels, err, [b[0] for b in bands])
    for column, names in (("gender", GENDER_NAMES), ("race", RACE_NAMES)):
        if column not in df:
            continue
        codes = pd.to_numeric(df[column], errors="coerce").fillna(-1).astype(int)
        labels = codes.map(names).fillna("unknown").reset_index(drop=True)
        order = [names[c] for c in sorted(names) if c in set(codes)]
        order += ["unknown"] if (labels == "unknown").any() else []
        rows += _group_rows(column, labels, err, order)
    return pd.DataFrame(rows, columns=["group", "value", "count", "mae", "bias"])


def errors_by_band(
    pred, true, std, bands: Sequence[tuple[str, float, float]] = AGE_BANDS
) -> pd.DataFrame:
    """The error of predictions `pred` with their predicted spread `std` (each (N,), in years)
    against the true ages `true` (N,), per band of the true age, then over all: one row per band of
    `bands` (in their order, an empty band with count 0 and NaN figures) and a last row "all".
    Columns: band, count, mae, bias (mean of pred - true), within_1_std and within_2_std (the share
    with |pred - true| <= 1 and 2 std: about 0.683 and 0.954 where the spread is a calibrated
    Gaussian's). ValueError for lengths that differ, non-finite values or ages outside the bands."""
    pred = _vector("pred", pred)
    true = _vector("true", true, pred.size)
    std = _vector("std", std, pred.size)
    err = pred - true
    labels = age_band(true, bands)
    rows = []
    for name, mask in [(b[0], labels == b[0]) for b in bands] + [("all", np.ones(pred.size, bool))]:
        n = int(mask.sum())
        e, s = np.abs(err[mask]), std[mask]
        rows.append({"band": name, "count": n, "mae": float(e.mean()) if n else float("nan"),
                     "bias": float(err[mask].mean()) if n else float("nan"),
                     "within_1_std": float((e <= s).mean()) if n else float("nan"),
                     "within_2_std": float((e <= 2 * s).mean()) if n else float("nan")})  # fmt: skip
    return pd.DataFrame(rows, columns=["band", "count", "mae", "bias", "within_1_std", "within_2_std"])


def _cell(value, digits: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "-"
        return (
            str(int(value))
            if float(value).is_integer() and abs(value) >= 1
            else f"{value:.{digits}f}"
        )
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(table: pd.DataFrame | Mapping[str, object], digits: int = 3) -> str:
    """A GitHub markdown table of a DataFrame (its columns) or of a dict (metric | value).

    Floats get `digits` decimals (whole numbers print as integers), NaN prints as "-",
    "|" in cells is escaped. Ends with a newline.
    """
    if isinstance(table, Mapping):
        table = pd.DataFrame({"metric": list(table), "value": list(table.values())})
    header = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, digits) for v in row) + " |")
    return "\n".join(lines) + "\n"


__all__ = [
    "AGE_BANDS",
    "CS_THRESHOLDS",
    "age_band",
    "epsilon_error",
    "error_by_group",
    "estimate_intervals",
    "errors_by_band",
    "pearson_r",
    "regression_metrics",
    "to_markdown",
]
