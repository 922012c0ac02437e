"""Loss functions for the engine (`loss_fn(model, batch) -> (loss, parts)`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def attribute_bce_loss(model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """Sigmoid cross-entropy over the image-level attribute tags (LNet and ANet fine-tuning)."""
    logits = model(batch["image"])["attributes"]
    target = batch["attributes"].to(logits.dtype)
    loss = F.binary_cross_entropy_with_logits(logits, target)
    with torch.no_grad():
        accuracy = ((logits > 0) == (target > 0.5)).float().mean()
    return loss, {"accuracy": float(accuracy)}


def identity_ce_loss(model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """Softmax classification of face identities (ANet pre-training); labels 0..K-1, and -1 for a
    face of unknown identity, which adds nothing to the loss (a batch of only those: loss 0)."""
    logits = model(batch["image"])["identity"]
    target = batch["identity"]
    known = target >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0, {}
    loss = F.cross_entropy(logits, target, ignore_index=-1)
    with torch.no_grad():
        accuracy = (logits.argmax(1)[known] == target[known]).float().mean()
    return loss, {"accuracy": float(accuracy)}
