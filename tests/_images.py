"""Image files the predict tests make: random pixels, no face, as a user's folder of photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def noise_images(folder: Path, names: list[str], shape: tuple[int, int], rng: np.random.Generator) -> Path:
    """Save one random RGB image of `shape` (height, width) per file name in `names` into `folder`
    (made when missing), drawn from `rng` in that order; returns `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (*shape, 3), dtype=np.uint8)).save(folder / name)
    return folder
