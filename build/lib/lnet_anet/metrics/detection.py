"""Face-detection metrics for LNet: boxes are [x0, y0, x1, y1] in pixels, exclusive ends.

match_detections pairs predictions with ground truth greedily, one to one, predictions taken in
the order given (best score first, as the Localizer returns them); a prediction counts as a hit
when its IoU with a still unmatched ground-truth box is >= the threshold (the PASCAL rule).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _boxes(boxes, what: str) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    if b.size == 0:
        return np.zeros((0, 4))
    if b.ndim == 1:
        b = b[None, :]
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{what}: boxes must be (N, 4) [x0, y0, x1, y1], got shape {b.shape}")
    if not np.isfinite(b).all():
        raise ValueError(f"{what}: boxes have NaN or infinite coordinates")
    if (b[:, 2:] < b[:, :2]).any():
        raise ValueError(f"{what}: a box has x1 < x0 or y1 < y0")
    return b


def _predictions(pred, what: str) -> np.ndarray:
    """(k, 4) boxes from an array-like or from the Localizer's list of (box, score) pairs."""
    if isinstance(pred, list | tuple) and pred and isinstance(pred[0], tuple) and len(pred[0]) == 2:
        return _boxes([box for box, _ in pred], what)
    return _boxes(pred, what)


def iou(a, b) -> np.ndarray:
    """IoU matrix (N, M) of boxes a (N, 4) and b (M, 4); a single box (4,) counts as (1, 4)."""
    return _iou_matrix(_boxes(a, "iou a"), _boxes(b, "iou b"))


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _greedy_hits(overlap: np.ndarray, threshold: float) -> int:
    """Number of one-to-one matches taking predictions (rows) in order."""
    free = np.ones(overlap.shape[1], dtype=bool)
    hits = 0
    for row in overlap:  # predictions of one image: a handful
        candidates = np.where(free & (row >= threshold), row, -1.0)
        j = int(np.argmax(candidates)) if len(candidates) else -1
        if j >= 0 and candidates[j] >= 0:
            free[j] = False
            hits += 1
    return hits


def match_detections(
    pred_boxes_per_image: Sequence, gt_boxes_per_image: Sequence, iou: float = 0.5
) -> dict[str, float]:
    """Detection quality over a set of images: per image, predictions (k_i, 4) best first (or
    the Localizer's list of (box, score)) and ground-truth boxes (g_i, 4); `iou` is the IoU a
    hit needs.

    recall: matched ground-truth boxes / all ground-truth boxes (NaN when there are none)
    mean_iou: mean over ground-truth boxes of the best IoU of any prediction (0 when none)
    false_positives_per_image: unmatched predictions / number of images
    n_images: number of images
    """
    if len(pred_boxes_per_image) != len(gt_boxes_per_image):
        raise ValueError(
            f"{len(pred_boxes_per_image)} prediction lists for {len(gt_boxes_per_image)} images"
        )
    if not 0 < iou <= 1:
        raise ValueError(f"iou threshold must be in (0, 1], got {iou}")
    n_gt = hits = false_pos = 0
    best_ious: list[np.ndarray] = []
    for i, (pred, gt) in enumerate(zip(pred_boxes_per_image, gt_boxes_per_image, strict=True)):
        p = _predictions(pred, f"predictions of image {i}")
        g = _boxes(gt, f"ground truth of image {i}")
        overlap = _iou_matrix(p, g)  # (k, g)
        matched = _greedy_hits(overlap, iou)
        n_gt += len(g)
        hits += matched
        false_pos += len(p) - matched
        best_ious.append(overlap.max(axis=0) if len(p) else np.zeros(len(g)))
    n_images = len(gt_boxes_per_image)
    all_best = np.concatenate(best_ious) if best_ious else np.zeros(0)
    return {
        "recall": hits / n_gt if n_gt else float("nan"),
        "mean_iou": float(all_best.mean()) if len(all_best) else float("nan"),
        "false_positives_per_image": false_pos / n_images if n_images else float("nan"),
        "n_images": n_images,
    }


def empty_image_rate(preds_on_background_images: Sequence) -> float:
    """Fraction of face-free images on which nothing was detected (higher is better)."""
    if len(preds_on_background_images) == 0:
        raise ValueError("no face-free images given")
    empty = [len(_predictions(p, f"predictions of image {i}")) == 0
             for i, p in enumerate(preds_on_background_images)]  # fmt: skip
    return float(np.mean(empty))


__all__ = ["empty_image_rate", "iou", "match_detections"]
