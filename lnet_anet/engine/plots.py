"""The pictures a run or a benchmark draws, as PNG files (matplotlib's Agg backend: no display).

  plot_metrics       a training run's curves.png, from its metrics.jsonl (the Trainer draws it at
                     each evaluation and when the run ends or stops; `python -m lnet_anet.cli.plot_run`)
  plot_reliability   the attribute probabilities' reliability diagram (benchmarks/bench_attributes.py)
  plot_age_errors    age_errors.png of an age run's evaluation and of bench_end_to_end's age rows

Each writes its file whole or not at all (a temporary file beside it, then a rename) and returns
its path. matplotlib is imported when a picture is drawn, not with this module: the Trainer and
plot_run's --help load it only when they draw.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# metrics.jsonl's bookkeeping, not quantities to draw (skipped_images: a running count per epoch)
NOT_DRAWN = frozenset({"step", "epoch", "eval_seconds", "skipped_images"})
GAUSSIAN_WITHIN = (0.683, 0.954)  # a Gaussian's share within 1 and 2 standard deviations
CS_THETAS = tuple(range(11))  # the age picture's CS(theta), in years


def logged_step(line: str) -> float:
    """The step of a metrics.jsonl line; infinity for a line a kill cut short (not JSON)."""
    try:
        return json.loads(line).get("step", 0)
    except json.JSONDecodeError:
        return float("inf")


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The records of a metrics.jsonl, in the file's order: the JSON objects with a numeric
    "step"; a line a kill cut short (not JSON) and blank lines are left out. FileNotFoundError
    when the file does not exist."""
    records = []
    for line in Path(path).read_text().splitlines():
        if not line.strip() or math.isinf(logged_step(line)):
            continue
        record = json.loads(line)
        if isinstance(record, dict) and _number(record.get("step")):
            records.append(record)
    return records


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def metric_series(records: Sequence[Mapping[str, Any]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{quantity: (steps, values)} of metrics.jsonl records, each in step order, for every numeric
    key but NOT_DRAWN's, in the order of their first appearance. A step logged twice (a resume that
    took steps again, had their lines stayed) keeps its last value."""
    by_key: dict[str, dict[float, float]] = {}
    for r in records:
        for k, v in r.items():
            if k not in NOT_DRAWN and _number(v):
                by_key.setdefault(k, {})[float(r["step"])] = float(v)
    out = {}
    for k, points in by_key.items():
        steps = np.array(sorted(points))
        out[k] = (steps, np.array([points[s] for s in steps]))
    return out


_FAMILY = re.compile(r"^(?P<stem>.+)_(?P<theta>\d+(?:\.\d+)?)$")


def _panels(series: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """(panel title, keys drawn in it): the loss, each other train quantity (with its val/
    counterpart, e.g. train and val mae together), the learning rate, then each val/ metric; the
    members of a family of three or more (val/cs_1 .. val/cs_10) share one panel; counts
    (val/n, val/n_*) are left out."""
    train = [k for k in series if not k.startswith("val/")]
    val = [k for k in series if k.startswith("val/") and not re.match(r"^val/n(_.*)?$", k)]
    order = [k for k in ("loss",) if k in train] + [k for k in train if k not in ("loss", "lr")]
    panels = [(k, [k] + ([f"val/{k}"] if f"val/{k}" in val else [])) for k in order]
    panels += [("lr", ["lr"])] if "lr" in train else []
    paired = {f"val/{k}" for k in order}
    stems: dict[str, list[str]] = {}
    for k in val:
        m = _FAMILY.match(k)
        if m:
            stems.setdefault(m["stem"], []).append(k)
    families = {k: stem for stem, keys in stems.items() if len(keys) >= 3 for k in keys}
    done: set[str] = set()
    for k in val:
        if k in paired or k in done:
            continue
        if k in families:
            keys = stems[families[k]]
            panels.append((f"{families[k]}_θ", keys))
            done.update(keys)
        else:
            panels.append((k, [k]))
    return panels


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    from matplotlib import pyplot as plt

    return plt


def save_figure(fig, out_path: str | Path, dpi: int) -> Path:
    """fig as PNG to out_path (its folder made), through a temporary file renamed over it."""
    from lnet_anet.engine.checkpoint import _replacing

    plt = pyplot()
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _replacing(out, out.with_name(f".{out.name}.tmp{os.getpid()}")) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return out


def plot_metrics(metrics_path: str | Path, out_path: str | Path, title: str) -> Path:
    """Draw a training run's metrics.jsonl (engine.trainer: a line per logged step, with loss,
    the loss's parts, lr; a line per evaluation, with val/<metric>) into the PNG out_path: one small
    panel per quantity against the optimizer step, the loss first (thin: each logged step; thick:
    a centred running mean, over more than 20 points), the learning rate on its own panel, each val/
    metric with a dot per evaluation (a train quantity and its val/ namesake in one panel; a family
    such as val/cs_1 .. val/cs_10 in one panel, a line per member); `title` (the run's name) heads
    it, with the last step and the number of evaluations. A line a kill cut short is left out; a
    step logged twice keeps its last value. Returns out_path. FileNotFoundError when metrics_path
    does not exist; ValueError when it holds no complete line with a step and a number to draw."""
    metrics_path = Path(metrics_path)
    records = read_metrics(metrics_path)
    series = metric_series(records)
    panels = _panels(series)
    if not panels:
        raise ValueError(f"{metrics_path}: no complete line with a step and a number to draw")
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.5 * ncols, 2.6 * nrows + 0.6), squeeze=False)
    last = int(max(r["step"] for r in records))
    evaluations = len({r["step"] for r in records if any(k.startswith("val/") for k in r)})
    for ax, (name, keys) in zip(axes.flat, panels, strict=False):
        family = len(keys) > 2  # val/cs_1 .. val/cs_10: a line each, its theta written at its end
        for i, key in enumerate(keys):
            steps, values = series[key]
            is_val = key.startswith("val/")
            colour = f"C{i % 10}" if family else ("C1" if is_val else "C0")
            label = "val" if is_val else "train"
            if family:
                ax.plot(steps, values, "o-", color=colour, ms=2.5, lw=1)
                ax.annotate(key.rsplit("_", 1)[-1], (steps[-1], values[-1]), textcoords="offset points",
                            xytext=(4, 0), va="center", fontsize=6, color=colour)  # fmt: skip
            elif is_val or len(steps) < 2:
                ax.plot(steps, values, "o-", color=colour, ms=3.5, lw=1.2, label=label)
            elif len(steps) > 20 and key != "lr":  # a noisy loss: each logged step faint, a running mean over it
                ax.plot(steps, values, color=colour, lw=0.6, alpha=0.35)
                ax.plot(steps, _running_mean(values), color=colour, lw=1.5, label=f"{label} (running mean)")
            else:
                ax.plot(steps, values, color=colour, lw=1.2, label=label)
        ax.set_xlim(0, max(last, 1) * (1.12 if family else 1.03))  # every panel the run's steps; room for the thetas
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.set_title(name if name != "lr" else "learning rate", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel(name.removeprefix("val/"), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if name == "lr":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
            ax.yaxis.get_offset_text().set_fontsize(7)
        if len(keys) == 2:
            ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    said = {0: "no evaluation", 1: "1 evaluation"}.get(evaluations, f"{evaluations} evaluations")
    fig.suptitle(f"{title}: step {last}, {said}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_path, dpi=90)


def _running_mean(values: np.ndarray) -> np.ndarray:
    """A centred running mean over about a fifteenth of the points (at least 3; fewer at the ends,
    where the window is cut), NaNs left out of it."""
    half = max(1, len(values) // 30)
    ok = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(ok, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(ok)])
    lo = np.clip(np.arange(len(values)) - half, 0, len(values))
    hi = np.clip(np.arange(len(values)) + half + 1, 0, len(values))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums[hi] - sums[lo]) / (counts[hi] - counts[lo])


MIN_BIN_FACES = 10  # plot_reliability's small panels join only the bins holding this many faces


def plot_reliability(arms: Mapping[str, tuple[np.ndarray, np.ndarray]], names: Sequence[str],
                     out_path: str | Path, title: str, n_bins: int = 10, worst: int = 8) -> Path:  # fmt: skip
    """The reliability diagram of attribute probabilities, as the PNG out_path. arms: {label:
    (probabilities (N, A) in [0, 1], labels (N, A) 0/1)}, the A attributes in `names` order, one
    entry per way the probabilities were made (e.g. end to end through the Predictor). Left: every
    arm's probabilities pooled over the attributes in `n_bins` equal bins, the share of positive
    labels against the mean probability in each bin (a dot per non-empty bin), the diagonal (a
    calibrated model), its expected calibration error (ECE) in the legend, and below it the count of
    each bin (log scale). Right: the same for the `worst` attributes of the highest ECE (the first
    arm's), one small panel each: a dot per non-empty bin, its area by the bin's faces, the line
    joining only bins of MIN_BIN_FACES or more (trial 81: bins of 1-3 faces zigzagged). Returns out_path. ValueError as
    lnet_anet.metrics.attributes.calibration_bins raises it (shapes, values), or for no arm, or
    labels whose attributes are not `names`'."""
    from lnet_anet.metrics.attributes import calibration_bins

    if not arms:
        raise ValueError("no arm to draw")
    pooled, per = {}, {}
    for label, (probs, labels) in arms.items():
        if np.ndim(probs) != 2 or np.shape(probs)[1] != len(names):
            raise ValueError(f"{label}: probabilities {np.shape(probs)} must be (N, {len(names)})")
        pooled[label] = calibration_bins(probs, labels, n_bins)
        per[label] = [calibration_bins(np.asarray(probs)[:, j], np.asarray(labels)[:, j], n_bins)
                      for j in range(len(names))]  # fmt: skip
    first = next(iter(arms))
    chosen = sorted(range(len(names)), key=lambda j: -per[first][j]["ece"])[: max(0, worst)]
    plt = pyplot()
    fig = plt.figure(figsize=(13.5 if chosen else 5.5, 6.2))
    grid = fig.add_gridspec(4, 1 + math.ceil(len(chosen) / 2) if chosen else 1,
                            width_ratios=[2.2] + [1] * math.ceil(len(chosen) / 2) if chosen else None,
                            height_ratios=[1, 1, 1, 1])  # fmt: skip
    ax = fig.add_subplot(grid[:3, 0])
    hist = fig.add_subplot(grid[3, 0], sharex=ax)
    ax.plot([0, 1], [0, 1], "--", color="0.5", lw=1, label="calibrated")
    width = 1.0 / n_bins
    for i, (label, b) in enumerate(pooled.items()):
        colour = f"C{i % 10}"
        has = b["count"] > 0
        ax.plot(b["mean_predicted"][has], b["observed"][has], "o-", color=colour, ms=5,
                label=f"{label}: ECE {b['ece']:.4f}")  # fmt: skip
        share = len(pooled)
        hist.bar(b["edges"][:-1] + width * (i + 0.5) / share, b["count"], width=width / share * 0.9, color=colour)
    n = pooled[first]["n"]
    ax.set(xlim=(0, 1), ylim=(0, 1), ylabel="observed frequency (share of labels present)",
           title=f"{len(names)} attributes pooled, {n_bins} bins")  # fmt: skip
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    plt.setp(ax.get_xticklabels(), visible=False)
    counts = np.concatenate([b["count"] for b in pooled.values()])
    if counts.max() > 10 * max(1, counts[counts > 0].min()):  # a few bins hold most: the rest seen on a log scale
        hist.set_yscale("log")
        from matplotlib.ticker import NullFormatter

        hist.yaxis.set_minor_formatter(NullFormatter())  # decades only: the minor labels ran into each other
    hist.set(xlabel="predicted probability (bins)", ylabel="count")
    hist.grid(alpha=0.3)
    across = math.ceil(len(chosen) / 2)
    for k, j in enumerate(chosen):  # two rows of small panels beside the pooled one, the worst first
        row, col = divmod(k, across)
        cell = fig.add_subplot(grid[row * 2:row * 2 + 2, 1 + col])
        cell.plot([0, 1], [0, 1], "--", color="0.5", lw=0.8)
        for i, label in enumerate(arms):
            b = per[label][j]
            has, held = b["count"] > 0, b["count"] >= MIN_BIN_FACES  # a bin of 1-3 faces is noise: a dot, unjoined
            size = 4 + 36 * np.sqrt(b["count"][has] / max(1, b["count"].max()))  # a dot's area by its faces
            cell.plot(b["mean_predicted"][held], b["observed"][held], "-", color=f"C{i % 10}", lw=1)
            cell.scatter(b["mean_predicted"][has], b["observed"][has], s=size, color=f"C{i % 10}", zorder=3)
        b = per[first][j]
        cell.set_title(f"{names[j]}\nECE {b['ece']:.3f}, {int(np.asarray(arms[first][1])[:, j].sum())} present",
                       fontsize=8)  # fmt: skip
        cell.set(xlim=(0, 1), ylim=(0, 1))
        cell.tick_params(labelsize=6)
        cell.grid(alpha=0.3)
        if row == 1 or k + across >= len(chosen):
            cell.set_xlabel("mean predicted", fontsize=7)
        if col == 0:
            cell.set_ylabel("observed", fontsize=7)
    worst_said = f"; right: the {len(chosen)} attributes of the highest ECE ({first})" if chosen else ""
    fig.suptitle(f"{title}: {n} probabilities ({n // max(len(names), 1)} faces x {len(names)} attributes){worst_said}",
                 fontsize=10)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return save_figure(fig, out_path, dpi=90)


def plot_age_errors(pred, std, true, out_path: str | Path, title: str,
                    bands: Sequence[tuple[str, float, float]] | None = None) -> Path:  # fmt: skip
    """age_errors.png of age predictions `pred` with their predicted std `std` against the true
    ages `true` (each (N,), in years), as the PNG out_path: the predicted against the true age (a dot
    per face, the diagonal), the MAE by band of the true age (`bands`, default
    lnet_anet.metrics.age.AGE_BANDS: 0-12, 13-19, 20-39, 40-59, 60+, as eval.md and bench_end_to_end; the count of each band
    on its bar, the overall MAE a dashed line), the cumulative score CS(θ) (the share with |error|
    <= θ) for θ = 0..10 years, and the share of true ages within ±1 and ±2 predicted std by band
    (the std's calibration: a Gaussian's 68.3% and 95.4% drawn dashed). Returns out_path.
    ValueError (lnet_anet.metrics.age.errors_by_band) for lengths that differ, non-finite values or
    ages outside the bands."""
    from lnet_anet.metrics.age import AGE_BANDS, errors_by_band

    table = errors_by_band(pred, true, std, AGE_BANDS if bands is None else bands)
    pred, true = np.asarray(pred, np.float64).reshape(-1), np.asarray(true, np.float64).reshape(-1)
    err = np.abs(pred - true)
    overall = table.iloc[-1]
    by_band = table.iloc[:-1]
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.4))
    ax = axes[0, 0]
    top = float(max(true.max(), pred.max()) * 1.05 + 1)
    ax.scatter(true, pred, s=6, alpha=float(np.clip(300 / len(pred), 0.08, 0.8)), color="C0", lw=0)
    ax.plot([0, top], [0, top], "--", color="0.4", lw=1, label="predicted = true")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="true age (years)", ylabel="predicted age (years)",
           title=f"predicted against true age ({len(pred)} faces)")  # fmt: skip
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)

    ax = axes[0, 1]
    x = np.arange(len(by_band))
    ax.bar(x, by_band["mae"].fillna(0), color="C0")
    for xi, (count, mae) in enumerate(zip(by_band["count"], by_band["mae"], strict=True)):
        ax.text(xi, 0 if np.isnan(mae) else mae, f"n={count}", ha="center", va="bottom", fontsize=8)
    ax.axhline(overall["mae"], ls="--", color="0.4", lw=1, label=f"all: {overall['mae']:.2f}")
    ax.set_xticks(x, by_band["band"])
    ax.set(xlabel="true age band (years)", ylabel="MAE (years)", title="mean absolute error by age band")
    ax.set_ylim(0, max(1.0, float(np.nanmax(by_band["mae"].to_numpy(np.float64), initial=0)) * 1.18))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")

    ax = axes[1, 0]
    thetas = np.array(CS_THETAS, dtype=np.float64)
    cs = (err[:, None] <= thetas[None, :]).mean(0)
    ax.plot(thetas, cs, "o-", color="C0")
    ax.text(0.03, 0.97, f"CS(5) = {cs[5]:.3f}\nCS(10) = {cs[10]:.3f}", transform=ax.transAxes, va="top", fontsize=9)
    ax.set(xlim=(0, 10), ylim=(0, 1), xticks=thetas, xlabel="θ (years)", ylabel="share of faces with |error| ≤ θ",
           title="cumulative score CS(θ)")  # fmt: skip
    ax.grid(alpha=0.3)

    ax = axes[1, 1]
    x = np.arange(len(table))
    for i, (column, words) in enumerate((("within_1_std", "±1 std"), ("within_2_std", "±2 std"))):
        ax.bar(x + (i - 0.5) * 0.38, table[column].fillna(0), width=0.36, color=f"C{i}", label=f"within {words}")
        ax.axhline(GAUSSIAN_WITHIN[i], ls="--", color=f"C{i}", lw=1,
                   label=f"a Gaussian's {GAUSSIAN_WITHIN[i]:.1%}")  # fmt: skip
    ax.set_xticks(x, table["band"])
    ax.set(ylim=(0, 1.3), yticks=np.linspace(0, 1, 6), xlabel="true age band (years)", ylabel="share of true ages within",
           title="true age within the predicted std, by band")  # fmt: skip
    ax.legend(fontsize=7, ncol=2, loc="upper center")
    ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"{title}: MAE {overall['mae']:.2f} years, bias {overall['bias']:+.2f}, "
                 f"within ±1 std {overall['within_1_std']:.3f}, ±2 std {overall['within_2_std']:.3f}", fontsize=10)  # fmt: skip
    fig.tight_layout()
    return save_figure(fig, out_path, dpi=90)


__all__ = ["logged_step", "metric_series", "plot_age_errors", "plot_metrics", "plot_reliability", "read_metrics"]
