"""Patch crops for ANet: training sees random P x P patches of the canonical face crop, the
same distribution as the dense test-time patches (offsets 0, stride, 2*stride, ...)."""

from __future__ import annotations

import numpy as np
import torch


class RandomPatch:
    def __init__(self, size: int):
        self.size = int(size)

    def __call__(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        if h < self.size or w < self.size:
            raise ValueError(f"image {h}x{w} is smaller than the {self.size}px patch")
        y = int(torch.randint(0, h - self.size + 1, ()))  # torch RNG: seeded per worker
        x = int(torch.randint(0, w - self.size + 1, ()))
        return np.ascontiguousarray(img[y:y + self.size, x:x + self.size])


class CenterPatch:
    def __init__(self, size: int):
        self.size = int(size)

    def __call__(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        if h < self.size or w < self.size:
            raise ValueError(f"image {h}x{w} is smaller than the {self.size}px patch")
        y, x = (h - self.size) // 2, (w - self.size) // 2
        return np.ascontiguousarray(img[y:y + self.size, x:x + self.size])
