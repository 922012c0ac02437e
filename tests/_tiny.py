"""Small models and datasets shared by the engine tests (no BatchNorm: DDP must equal 1 process)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import Dataset


class TinyAttributeNet(nn.Module):
    def __init__(self, num_attributes: int = 40):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Linear(16, num_attributes)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"attributes": self.head(self.features(x))}


def bce_loss(model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
    logits = model(batch["image"])["attributes"]
    loss = nn.functional.binary_cross_entropy_with_logits(logits, batch["attributes"])
    return loss, {}


class RandomFaces(Dataset):
    """Random images whose 40 tags are a fixed function of the pixels, plus unreadable rows."""

    def __init__(self, n: int = 64, size: int = 16, bad: tuple[int, ...] = ()):
        g = torch.Generator().manual_seed(0)
        self.images = torch.randn(n, 3, size, size, generator=g)
        self.attributes = (self.images.mean(dim=(2, 3)).repeat(1, 14)[:, :40] > 0).float()
        self.bad = set(bad)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        if i in self.bad:
            return None
        return {"image": self.images[i], "attributes": self.attributes[i], "index": i}
