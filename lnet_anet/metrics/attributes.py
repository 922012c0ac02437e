"""Binary attribute metrics: accuracy, balanced accuracy and the majority-class baseline."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from lnet_anet.metrics.intervals import RESAMPLES, named_intervals


def attribute_metrics(
    predictions: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    train_labels: np.ndarray | None = None,
    reference: str = "the training labels given",
) -> dict:
    """predictions, labels: (N, A) 0/1. The majority baseline predicts, per attribute, the value
    most frequent in `train_labels` (the labels themselves when not given); "majority_of" says
    which, as `reference` and their count (two reports of one run whose train labels differ,
    e.g. the SVMs' fit part against the whole train split, differ there: trial 65).

    Balanced accuracy = mean of the true-positive and true-negative rates; a rate whose class is
    absent from `labels` is left out of that mean (scikit-learn's balanced_accuracy_score does the
    same), so on a small sample an attribute with one class scores that class's rate alone, often
    1.0, and the majority baseline's mean balanced accuracy rises over 0.5. "one_class_attributes"
    names them, and "mean_balanced_accuracy_both_classes" is the mean over the others (NaN when
    none has both).
    """
    predictions, labels = np.asarray(predictions).astype(bool), np.asarray(labels).astype(bool)
    if predictions.shape != labels.shape or labels.ndim != 2 or labels.shape[1] != len(names):
        raise ValueError(
            f"predictions {predictions.shape} and labels {labels.shape} must both be (N, {len(names)})"
        )
    reference_labels = labels if train_labels is None else np.asarray(train_labels).astype(bool)
    majority = reference_labels.mean(axis=0) >= 0.5
    correct = predictions == labels
    positives, negatives = labels.sum(0), (~labels).sum(0)
    balanced = _balanced_accuracy(predictions, labels)
    both = (positives > 0) & (negatives > 0)
    per_attribute = {
        name: {
            "accuracy": float(correct[:, i].mean()),
            "balanced_accuracy": float(balanced[i]),
            "majority_accuracy": float((labels[:, i] == majority[i]).mean()),
            "positive_rate": float(labels[:, i].mean()),
        }
        for i, name in enumerate(names)
    }
    return {
        "mean_accuracy": float(correct.mean()),
        "mean_balanced_accuracy": float(np.mean(balanced)),
        "mean_balanced_accuracy_both_classes": float(np.mean(balanced[both])) if both.any() else float("nan"),
        "one_class_attributes": [name for i, name in enumerate(names) if not both[i]],
        "majority_mean_accuracy": float((labels == majority).mean()),
        "majority_of": (f"{reference} ({len(reference_labels)} labels)" if train_labels is not None
                        else f"the scored labels themselves ({len(labels)})"),  # fmt: skip
        "n_images": int(len(labels)),
        "per_attribute": per_attribute,
    }


def _balanced_accuracy(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per attribute (A,): the mean of the true-positive and true-negative rates of (N, A) bool
    arrays, a rate whose class is absent left out (attribute_metrics)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (predictions & labels).sum(0) / labels.sum(0)
        tnr = (~predictions & ~labels).sum(0) / (~labels).sum(0)
        return np.nanmean(np.stack([tpr, tnr]), axis=0)


MIN_CLASS = 10  # an attribute with fewer faces of a class: no interval of the balanced mean (attribute_intervals)


def attribute_intervals(decisions: dict[str, np.ndarray], labels: np.ndarray, resamples: int = RESAMPLES,
                        seed: int = 0, groups=None, names: Sequence[str] | None = None) -> dict:  # fmt: skip
    """Bootstrap intervals (lnet_anet.metrics.intervals; faces resampled whole, with all their
    attributes) of attribute_metrics' mean accuracy and mean balanced accuracy, for each rule of
    `decisions`: rule name -> (N, A) 0/1 predictions of the same N faces as `labels` (N, A).
    groups: (N,) the person in each face (e.g. CelebA's identities): a person's faces are drawn
    together (they are not independent). The balanced mean has no interval when an attribute has
    fewer than MIN_CLASS faces of a class among those scored: a resample without its rare class
    scores that class's rate alone (attribute_metrics), which lifts the resampled means (a trial:
    such intervals held the figure of all the faces 39% of the time on 30 faces, 86% on 300);
    "rare_class_attributes" names those attributes (`names`, else their index).
    Returns {"confidence", "resamples", "unit": "faces", "n", ["groups", "resampled"],
    "<rule>/mean_accuracy": [low, high], "<rule>/mean_balanced_accuracy": [low, high] or None,
    "rare_class_attributes", ...}. Raises ValueError on shapes that differ, and as
    intervals.bootstrap_interval (e.g. under MIN_ITEMS faces or groups)."""
    labels = np.asarray(labels).astype(bool)
    rules = {name: np.asarray(p).astype(bool) for name, p in decisions.items()}
    for name, p in rules.items():
        if p.shape != labels.shape or labels.ndim != 2:
            raise ValueError(f"decisions {name!r} {p.shape} and labels {labels.shape} must both be (N, A)")
    rare = np.minimum(labels.sum(0), (~labels).sum(0)) < MIN_CLASS

    def statistic(idx: np.ndarray) -> list[float]:
        y = labels[idx]
        out = []
        for p in rules.values():
            balanced = np.nan if rare.any() else float(np.nanmean(_balanced_accuracy(p[idx], y)))
            out += [float((p[idx] == y).mean()), balanced]
        return out

    figures = [f"{rule}/{figure}" for rule in rules for figure in ("mean_accuracy", "mean_balanced_accuracy")]
    out = named_intervals(statistic, figures, len(labels), "faces", resamples, seed=seed, groups=groups,
                          group_unit="identities")  # fmt: skip
    return out | {"rare_class_attributes": [names[j] if names is not None else int(j) for j in np.flatnonzero(rare)]}


@torch.no_grad()
def collect_attribute_scores(model: nn.Module, loader: DataLoader, device: torch.device,
                             output: str = "attributes") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(logits, labels) over a loader of batch dicts; unreadable images are already dropped."""
    model.eval()
    scores, labels = [], []
    for batch in loader:
        if batch is None:
            continue
        scores.append(model(batch["image"].to(device))[output].float().cpu())
        labels.append(batch["attributes"])
    return torch.cat(scores).numpy(), torch.cat(labels).numpy()


def evaluate_attribute_logits(model: nn.Module, loader: DataLoader, device: torch.device) -> dict[str, float]:
    """The Trainer's evaluate_fn for any model whose output dict has "attributes" logits."""
    logits, labels = collect_attribute_scores(model, loader, device)
    names = [str(i) for i in range(labels.shape[1])]
    m = attribute_metrics(logits > 0, labels, names)
    return {k: m[k] for k in ("mean_accuracy", "mean_balanced_accuracy", "majority_mean_accuracy")}


def metrics_markdown(metrics: dict, title: str = "Attribute accuracy") -> str:
    """A markdown report: the means with the majority baseline, then one row per attribute."""
    lines = [
        f"# {title}",
        "",
        f"{metrics['n_images']} images.",
        "",
        "| | mean accuracy | mean balanced accuracy |",
        "|---|---|---|",
        f"| model | {metrics['mean_accuracy']:.4f} | {metrics['mean_balanced_accuracy']:.4f} |",
        f"| majority class | {metrics['majority_mean_accuracy']:.4f} | 0.5000 |",
        "",
        *([f"The majority class predicts each attribute's most frequent value in {metrics['majority_of']}.", ""]
          if "majority_of" in metrics else []),  # metrics from before it was said: without the line
        "| attribute | accuracy | balanced accuracy | majority accuracy | positive rate |",
        "|---|---|---|---|---|",
    ]
    for name, m in metrics["per_attribute"].items():
        lines.append(f"| {name} | {m['accuracy']:.4f} | {m['balanced_accuracy']:.4f} | "
                     f"{m['majority_accuracy']:.4f} | {m['positive_rate']:.3f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def calibration_bins(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> dict:
    """A reliability diagram's figures: every probability of `probabilities` (any shape, each in
    [0, 1]) with its 0/1 label of `labels` (the same shape) put in one of `n_bins` equal bins of
    [0, 1] (bin k: [k / n_bins, (k + 1) / n_bins), the last one closed at 1). Returns
    {"edges" (n_bins + 1,), "count" (n_bins,) ints, "mean_predicted" (n_bins,), "observed" (n_bins,):
    each bin's mean probability and share of positive labels (NaN in an empty bin), "ece": the
    expected calibration error, sum over the bins of count / N * |observed - mean_predicted|, "n"}.
    ValueError for shapes that differ, no value, a probability outside [0, 1] or not finite, a
    label other than 0 / 1, or n_bins < 1."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    if np.shape(probabilities) != np.shape(labels):
        raise ValueError(f"probabilities {np.shape(probabilities)} and labels {np.shape(labels)} must have one shape")
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    if p.size == 0:
        raise ValueError("no probability to bin")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        bad = p[~(np.isfinite(p) & (p >= 0) & (p <= 1))]
        raise ValueError(f"{bad.size} probabilities are not in [0, 1] (the first: {bad[0]})")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    k = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(k, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(k, weights=p, minlength=n_bins) / count
        observed = np.bincount(k, weights=y, minlength=n_bins) / count
    gaps = np.where(count > 0, np.abs(observed - mean_predicted), 0.0)
    return {"edges": np.linspace(0.0, 1.0, n_bins + 1), "count": count, "mean_predicted": mean_predicted,
            "observed": observed, "ece": float((count * gaps).sum() / p.size), "n": int(p.size)}  # fmt: skip


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """The expected calibration error of probabilities against their 0/1 labels (same shape, any:
    an (N, A) array pools the A attributes), over `n_bins` equal bins of [0, 1]: the share of the
    values in each bin times the gap between its share of positives and its mean probability,
    summed (0: calibrated; calibration_bins gives the bins and the errors it raises)."""
    return calibration_bins(probabilities, labels, n_bins)["ece"]
