"""A PNG grid of scenes with LNet's averaged response map and the boxes it gives."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from lnet_anet.data.preprocess import INCEPTION_MEAN, INCEPTION_STD


def overlay(rgb: np.ndarray, response: np.ndarray, boxes, truth=None) -> np.ndarray:
    """The image with its response map as a heatmap, predicted boxes green, truth white."""
    h, w = rgb.shape[:2]
    r = cv2.resize(response.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    r = (255 * r / max(float(r.max()), 1e-6)).astype(np.uint8)
    heat = cv2.cvtColor(cv2.applyColorMap(r, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    out = cv2.addWeighted(rgb, 0.6, heat, 0.4, 0)
    if truth is not None and np.isfinite(truth).all():
        x0, y0, x1, y1 = (int(round(v)) for v in truth)
        cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), (255, 255, 255), 1)
    for box, score in boxes:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), (0, 255, 0), 2)
        cv2.putText(out, f"{score:.2f}", (x0 + 2, max(y0 - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 0), 1)
    return out


@torch.no_grad()
def response_grid(model, dataset, localizer, path: Path, n: int = 16, columns: int = 4) -> None:
    model.eval()
    tiles = []
    mean, std = np.array(INCEPTION_MEAN) * 255, np.array(INCEPTION_STD) * 255
    for i in range(min(n, len(dataset))):
        sample = dataset[i]
        if sample is None:
            continue
        image = sample["image"]
        response = model(image[None])["response"][0]
        rgb = np.clip(image.numpy().transpose(1, 2, 0) * std + mean, 0, 255).astype(np.uint8)
        tiles.append(overlay(rgb, response.numpy(), localizer(response, tuple(image.shape[-2:])),
                             sample["box"].numpy() if "box" in sample else None))  # fmt: skip
    if not tiles:
        raise ValueError("no readable scene to draw")
    while len(tiles) % columns:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[i:i + columns], axis=1) for i in range(0, len(tiles), columns)]
    grid = np.concatenate(rows, axis=0)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate([legend(grid.shape[1]), grid], axis=0), cv2.COLOR_RGB2BGR))


def legend(width: int, height: int = 22) -> np.ndarray:
    """(height, width, 3) uint8 RGB: a strip saying what the tiles draw (a trial found the colours
    named only in this module)."""
    strip = np.zeros((height, width, 3), np.uint8)
    x = 4
    for text, colour in (("LNet's box, score", (0, 255, 0)), ("labelled box", (255, 255, 255)),
                         ("heat: LNet's response (red high)", (200, 200, 200))):  # fmt: skip
        cv2.rectangle(strip, (x, 6), (x + 14, 16), colour, 2 if colour == (0, 255, 0) else 1)
        cv2.putText(strip, text, (x + 20, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)
        x += 20 + cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)[0][0] + 16
    return strip
