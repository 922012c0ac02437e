"""Face-detection metrics for LNet: boxes are [x0, y0, x1, y1] in pixels, exclusive ends.

match_detections pairs predictions with ground truth greedily, one to one, predictions taken in
the order given (best score first, as the Localizer returns them); a prediction counts as a hit
when its IoU with a still unmatched ground-truth box is >= the threshold (COCO's greedy matching:
the PASCAL VOC devkit instead takes each prediction's best-IoU box, matched or not, and counts a
prediction whose best box is taken as a false alarm; the two differ only where faces overlap).

evaluate_detections scores ranked detections on a benchmark (see its docstring): AP at an IoU,
recall at fixed false alarms per image, and a split by face height (SIZE_BANDS). IoUs come from
torchvision.ops.box_iou. detection_intervals gives their bootstrap intervals, photos resampled.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torchvision.ops import box_iou

from lnet_anet.metrics.intervals import RESAMPLES, named_intervals


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


def paired_iou(a, b) -> np.ndarray:
    """IoU of each box of a (N, 4) with the box of b (N, 4) in the same row: (N,), the diagonal of
    iou(a, b) without its N x N matrix (which a fit over tens of thousands of pairs cannot hold).
    Boxes [x0, y0, x1, y1]; two empty boxes have IoU 0. ValueError for shapes that differ."""
    a, b = _boxes(a, "paired_iou a"), _boxes(b, "paired_iou b")
    if a.shape != b.shape:
        raise ValueError(f"paired_iou needs boxes of one shape, got {a.shape} and {b.shape}")
    inter = np.prod(np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0, None), axis=1)
    union = np.prod(a[:, 2:] - a[:, :2], axis=1) + np.prod(b[:, 2:] - b[:, :2], axis=1) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """torchvision's box_iou in float64; two empty boxes (union 0) have IoU 0, not NaN."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    out = box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    return np.nan_to_num(out, nan=0.0)


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


# ------------------------------------------------------------------------- benchmark scoring

# Face-height bands in pixels of the scored image, cumulative like WIDER FACE's settings (hard
# holds every face that counts): easy >= 64, medium >= 40, hard >= 24 px. WIDER's own
# easy/medium/hard split is by how well reference detectors found each face, not by size, so
# these are named "by size"; the pixel bands were chosen for WIDER photos resized to a 320 px
# long side, where 24 px is the smallest face that counts.
SIZE_BANDS: dict[str, tuple[float, float]] = {
    "easy_by_size": (64.0, float("inf")),
    "medium_by_size": (40.0, float("inf")),
    "hard_by_size": (24.0, float("inf")),
}
FPPI = (0.1, 1.0)


def label_detections(
    boxes, scores, gt, dont_care=None, iou: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Labels of one image's detections, taken best score first: 1 a hit (IoU >= iou with a
    still unmatched face that counts, the best such), -1 ignored (no such face, but IoU >= iou
    with a don't-care face), 0 a false alarm. Returns (scores sorted, labels), best first."""
    p = _boxes(boxes, "detections")
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(s) != len(p):
        raise ValueError(f"{len(p)} boxes but {len(s)} scores")
    if not np.isfinite(s).all():
        raise ValueError("detection scores must be finite")
    g = _boxes(gt, "ground truth")
    dc = np.zeros(len(g), bool) if dont_care is None else np.asarray(dont_care, bool).reshape(-1)
    if len(dc) != len(g):
        raise ValueError(f"{len(g)} ground-truth boxes but {len(dc)} don't-care flags")
    order = np.argsort(-s, kind="stable")
    overlap = _iou_matrix(p[order], g)  # (k, g)
    free = ~dc
    labels = np.zeros(len(p), dtype=np.int64)
    for i, row in enumerate(overlap):
        care = np.where(free & (row >= iou), row, -1.0)
        if len(care) and care.max() >= 0:
            free[int(np.argmax(care))] = False
            labels[i] = 1
        elif (row[dc] >= iou).any():
            labels[i] = -1
    return s[order], labels


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """PASCAL VOC (2010+) all-point interpolated AP: the area under the precision envelope
    (precision at recall r = the best precision at any recall >= r)."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    step = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[step + 1] - mrec[step]) * mpre[step + 1]))


def _curve(scores: np.ndarray, labels: np.ndarray, n_pos: int, n_images: int, fppi: Sequence[float],
           points: bool = False) -> dict:  # fmt: skip
    keep = labels >= 0  # ignored detections leave the ranking
    s, hit = scores[keep], labels[keep] == 1
    order = np.argsort(-s, kind="stable")
    s, hit = s[order], hit[order]
    tp, fp = np.cumsum(hit), np.cumsum(~hit)
    # Operating points: a threshold keeps all detections of equal score, so only the last of a
    # run of ties is a point on the curve.
    last = np.r_[s[1:] != s[:-1], True] if len(s) else np.zeros(0, bool)
    tp_pt, fp_pt = tp[last], fp[last]
    recall = tp_pt / n_pos if n_pos else np.full(len(tp_pt), np.nan)
    precision = tp_pt / np.maximum(tp_pt + fp_pt, 1)
    out = {
        "ap": average_precision(recall, precision) if n_pos else float("nan"),
        "max_recall": float(recall[-1]) if len(recall) and n_pos else (0.0 if n_pos else float("nan")),
        "n_faces": int(n_pos),
        "false_alarms": int(fp[-1]) if len(fp) else 0,
        "max_fppi": (float(fp[-1]) if len(fp) else 0.0) / max(n_images, 1),
    }
    for f in fppi:
        ok = fp_pt / max(n_images, 1) <= f + 1e-12
        out[f"recall_at_{f:g}_fppi"] = (float(recall[ok].max()) if ok.any() else 0.0) if n_pos else float("nan")
    if points:
        out["curve"] = {"score": s[last].tolist(), "recall": recall.tolist(), "precision": precision.tolist(),
                        "fppi": (fp_pt / max(n_images, 1)).tolist()}  # fmt: skip
    return out


def evaluate_detections(
    detections: Sequence,
    truth: Sequence,
    iou: float = 0.5,
    fppi: Sequence[float] = FPPI,
    bands: dict[str, tuple[float, float]] | None = SIZE_BANDS,
    curve: bool = False,
) -> dict:
    """Score ranked detections on a benchmark.

    detections: per image (boxes (k, 4), scores (k,)), or a list of (box, score) pairs.
    truth: per image (boxes (g, 4), dont_care (g,) bool) or just boxes (all count).

    ap: PASCAL VOC all-point interpolated average precision at `iou` over the detections of all
        images ranked together by score. A detection is a hit on the best still unmatched face
        (one to one; COCO's greedy matching, module docstring); one that overlaps only don't-care
        faces (IoU >= iou) is dropped from the ranking (neither a hit nor a false alarm);
        everything else is a false alarm.
    recall_at_<f>_fppi: the best recall at a score threshold that leaves at most f false alarms
        per image (f in `fppi`); max_recall: recall with every detection kept; max_fppi: false
        alarms per image with every detection kept. Where max_fppi < f, recall at f is
        max_recall: the detector's own threshold ends its curve before f.
    by_size: the same numbers for each band (lo, hi) of face height y1 - y0 (SIZE_BANDS by
        default): faces that count outside the band become don't-care, so a detection of them
        is neither rewarded nor penalised, while unmatched detections stay false alarms (as in
        WIDER FACE's own evaluation of its settings).
    n_images, n_faces (faces that count), n_dont_care, n_detections.
    curve (when asked): the operating points behind these numbers, one per distinct score,
        score descending: {"score", "recall", "precision", "fppi"} (lists; fppi = false alarms
        per image), for the precision-recall and recall-FPPI plots.
    """
    if len(detections) != len(truth):
        raise ValueError(f"{len(detections)} detection lists for {len(truth)} images")
    if not 0 < iou <= 1:
        raise ValueError(f"iou threshold must be in (0, 1], got {iou}")
    dets = [_scored(d, i) for i, d in enumerate(detections)]
    gts = [_truth(t, i) for i, t in enumerate(truth)]
    n_images = len(gts)

    def run(which: list[tuple[np.ndarray, np.ndarray]], points: bool = False) -> dict:
        scores, labels, n_pos = [], [], 0
        for (b, s), (g, dc) in zip(dets, which, strict=True):
            ss, lab = label_detections(b, s, g, dc, iou)
            scores.append(ss)
            labels.append(lab)
            n_pos += int((~dc).sum())
        return _curve(np.concatenate(scores) if scores else np.zeros(0),
                      np.concatenate(labels) if labels else np.zeros(0, np.int64), n_pos, n_images, fppi, points)  # fmt: skip

    out = run(gts, curve)
    out |= {
        "n_images": n_images,
        "n_dont_care": int(sum(dc.sum() for _, dc in gts)),
        "n_detections": int(sum(len(s) for _, s in dets)),
        "iou": iou,
    }
    if bands:
        out["by_size"] = {}
        for name, (lo, hi) in bands.items():
            banded = []
            for g, dc in gts:
                h = g[:, 3] - g[:, 1]
                banded.append((g, dc | (h < lo) | (h >= hi)))
            res = run(banded)
            out["by_size"][name] = res | {"band_px": [lo, hi]}
    return out


def detection_intervals(detections: Sequence, truth: Sequence, iou: float = 0.5, fppi: Sequence[float] = FPPI,
                        versus: Sequence | None = None, resamples: int = RESAMPLES, seed: int = 0) -> dict:  # fmt: skip
    """Bootstrap intervals (lnet_anet.metrics.intervals) of evaluate_detections' "ap",
    "recall_at_<f>_fppi" and "max_recall", the images resampled whole (a photo keeps its faces
    and its false alarms). detections, truth: as evaluate_detections'. versus: another
    detector's detections of the same images; the intervals of this one's figures minus that
    one's, on the same resamples, are added as "<figure> - versus" (an interval that excludes 0:
    the two differ beyond the sampling of images). Returns {"confidence", "resamples", "unit":
    "images", "n", figure: [low, high] or None}. Raises ValueError as evaluate_detections."""
    if len(detections) != len(truth) or (versus is not None and len(versus) != len(truth)):
        raise ValueError(f"{len(detections)} detection lists{'' if versus is None else f' and {len(versus)}'} "
                         f"for {len(truth)} images")  # fmt: skip
    gts = [_truth(t, i) for i, t in enumerate(truth)]

    def labelled(dets: Sequence) -> list[tuple[np.ndarray, np.ndarray]]:
        return [label_detections(*_scored(d, i), g, dc, iou) for i, (d, (g, dc)) in enumerate(zip(dets, gts, strict=True))]

    runs = [labelled(detections)] + ([labelled(versus)] if versus is not None else [])
    positives = np.array([int((~dc).sum()) for _, dc in gts])
    keys = ["ap", *(f"recall_at_{f:g}_fppi" for f in fppi), "max_recall"]

    def figures(run: list, idx: np.ndarray) -> np.ndarray:
        scores = np.concatenate([run[i][0] for i in idx])
        labels = np.concatenate([run[i][1] for i in idx])
        out = _curve(scores, labels, int(positives[idx].sum()), len(idx), fppi)
        return np.array([out[k] for k in keys])

    def statistic(idx: np.ndarray) -> np.ndarray:
        first = figures(runs[0], idx)
        return first if versus is None else np.concatenate([first, first - figures(runs[1], idx)])

    names = keys + ([f"{k} - versus" for k in keys] if versus is not None else [])
    return named_intervals(statistic, names, len(gts), "images", resamples, seed=seed)


def _scored(d, i: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(d, list | tuple) and len(d) == 2 and not (len(d) and isinstance(d[0], tuple)):
        boxes, scores = d
        b = _boxes(boxes, f"detections of image {i}")
        return b, np.asarray(scores, dtype=np.float64).reshape(-1)
    if isinstance(d, list | tuple):  # [(box, score), ...]
        if len(d) == 0:
            return np.zeros((0, 4)), np.zeros(0)
        return _boxes([b for b, _ in d], f"detections of image {i}"), np.array([float(s) for _, s in d])
    raise TypeError(f"detections of image {i}: expected (boxes, scores) or [(box, score), ...]")


def _truth(t, i: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(t, tuple) and len(t) == 2:
        g = _boxes(t[0], f"ground truth of image {i}")
        dc = np.asarray(t[1], dtype=bool).reshape(-1)
        if len(dc) != len(g):
            raise ValueError(f"image {i}: {len(g)} boxes but {len(dc)} don't-care flags")
        return g, dc
    g = _boxes(t, f"ground truth of image {i}")
    return g, np.zeros(len(g), bool)


def truth_from_table(df) -> list[tuple[np.ndarray, np.ndarray]]:
    """(boxes, dont_care) per image of a detection reader's table (lnet_anet.data.readers.detection)."""
    return [(np.asarray(b, np.float64).reshape(-1, 4), np.asarray(dc, bool)) for b, dc in zip(df["boxes"], df["dont_care"], strict=True)]


__all__ = [
    "FPPI",
    "SIZE_BANDS",
    "average_precision",
    "detection_intervals",
    "empty_image_rate",
    "evaluate_detections",
    "iou",
    "label_detections",
    "match_detections",
    "paired_iou",
    "truth_from_table",
]
