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
    """Softmax classification of face identities (ANet pre-training); labels 0..K-1."""
    logits = model(batch["image"])["identity"]
    loss = F.cross_entropy(logits, batch["identity"])
    with torch.no_grad():
        accuracy = (logits.argmax(1) == batch["identity"]).float().mean()
    return loss, {"accuracy": float(accuracy)}
