"""Patch crops for ANet: training sees random P x P patches of the canonical face crop, the
same distribution as the dense test-time patches (offsets 0, stride, 2*stride, ...); and the
mirror view of a face."""

from __future__ import annotations

import numpy as np
import torch


class _Patch:
    def __init__(self, size: int):
        self.size = int(size)

    def _room(self, img: np.ndarray) -> tuple[int, int]:
        """How far the patch can move in y and x."""
        h, w = img.shape[:2]
        if h < self.size or w < self.size:
            raise ValueError(f"image {h}x{w} is smaller than the {self.size}px patch")
        return h - self.size, w - self.size


class RandomPatch(_Patch):
    def __call__(self, img: np.ndarray) -> np.ndarray:
        room_y, room_x = self._room(img)
        y = int(torch.randint(0, room_y + 1, ()))  # torch RNG: seeded per worker
        x = int(torch.randint(0, room_x + 1, ()))
        return np.ascontiguousarray(img[y:y + self.size, x:x + self.size])


class CenterPatch(_Patch):
    def __call__(self, img: np.ndarray) -> np.ndarray:
        room_y, room_x = self._room(img)
        y, x = room_y // 2, room_x // 2
        return np.ascontiguousarray(img[y:y + self.size, x:x + self.size])


def mirror(img: np.ndarray) -> np.ndarray:
    """The image flipped left-right (H, W, C): a face's mirror view."""
    return np.ascontiguousarray(img[:, ::-1])
