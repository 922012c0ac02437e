"""Binary attribute metrics: accuracy, balanced accuracy and the majority-class baseline."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader


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
    absent from `labels` is left out of that mean.
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
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (predictions & labels).sum(0) / positives
        tnr = (~predictions & ~labels).sum(0) / negatives
    balanced = np.nanmean(np.stack([tpr, tnr]), axis=0)
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
        "majority_mean_accuracy": float((labels == majority).mean()),
        "majority_of": (f"{reference} ({len(reference_labels)} labels)" if train_labels is not None
                        else f"the scored labels themselves ({len(labels)})"),  # fmt: skip
        "n_images": int(len(labels)),
        "per_attribute": per_attribute,
    }


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
