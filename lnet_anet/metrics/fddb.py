"""FDDB's own evaluation: the discrete and continuous ROC of a detector against FDDB's ellipses.

Follows the definitions of FDDB's evaluation program (`evaluate`, Jain & Learned-Miller, "FDDB: A
Benchmark for Face Detection in Unconstrained Settings", UMass tech. report UM-CS-2010-009):
- a face is the region of its ellipse and a detection the region of its rectangle, both as pixels
  of the image (filled, clipped to the image), drawn as the tool draws them with OpenCV: an
  ellipse's centre rounded and its radii truncated to whole pixels, a rectangle's corners rounded
  and taken inclusive; their overlap is the pixels they share over the pixels of either (IoU of
  the regions);
- in each image, for each of its detection scores t, the detections scoring >= t are matched one
  to one with the faces by the Hungarian algorithm, maximising the summed overlap
  (scipy.optimize.linear_sum_assignment); a matched pair of overlap > 0.5 is a true positive of
  the discrete score, and each matched pair adds its overlap to the continuous score;
- false positives = the detections kept - the discrete true positives (for both curves);
- the curves run over every score of every image as the threshold: at threshold t each image
  contributes its detections scoring >= t; true positive rate = true positives / every face.

Boxes here are [x0, y0, x1, y1] in pixels with exclusive ends, as everywhere in lnet_anet; the tool's
rectangle (left, top, width, height) is (x0, y0, x1 - x0, y1 - y0). Ellipses are FDDB's
(major radius, minor radius, angle in radians, centre x, centre y), as read by
lnet_anet.data.readers.detection.read_fddb (column "ellipses").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from lnet_anet.data.readers.detection import ellipse_to_box

FALSE_POSITIVES = (100, 1000)  # the ROC read at these many false positives (FDDB papers quote 1000 or 2000)


def _ellipse_bounds(e: np.ndarray) -> tuple[int, int, int, int]:
    """Pixel bounds (x0, y0, x1, y1), exclusive ends, that hold an ellipse as OpenCV draws it."""
    ra, rb, angle, cx, cy = (float(v) for v in e)
    x0, y0, x1, y1 = ellipse_to_box(ra, rb, angle, round(cx), round(cy))  # the centre as drawn
    return math.floor(x0) - 1, math.floor(y0) - 1, math.ceil(x1) + 2, math.ceil(y1) + 2


def region_overlaps(ellipses: np.ndarray, boxes: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
    """(E, D) float64: the overlap (pixels shared / pixels of either) of each ellipse's region with
    each box's region on an image of image_hw = (height, width) pixels (module docstring).

    ellipses: (E, 5) FDDB ellipses; boxes: (D, 4) [x0, y0, x1, y1]. A region wholly outside the
    image has no pixel: its overlaps are 0. Raises ValueError for arrays of other shapes."""
    ellipses = np.asarray(ellipses, np.float64).reshape(-1, 5) if np.size(ellipses) else np.zeros((0, 5))
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4) if np.size(boxes) else np.zeros((0, 4))
    height, width = (int(v) for v in image_hw)
    out = np.zeros((len(ellipses), len(boxes)))
    rects = [tuple(round(float(v)) for v in b) for b in boxes]  # inclusive corners, rounded (cvPointFrom32f)
    for i, e in enumerate(ellipses):
        ex0, ey0, ex1, ey1 = _ellipse_bounds(e)
        for j, (rx0, ry0, rx1, ry1) in enumerate(rects):
            if rx1 < ex0 or rx0 >= ex1 or ry1 < ey0 or ry0 >= ey1:
                continue  # apart: no shared pixel
            # a canvas over both regions, clipped to the image; integer offsets keep the rasters the same
            x0, y0 = max(0, min(ex0, rx0)), max(0, min(ey0, ry0))
            x1, y1 = min(width, max(ex1, rx1 + 1)), min(height, max(ey1, ry1 + 1))
            if x1 <= x0 or y1 <= y0:
                continue
            a = np.zeros((y1 - y0, x1 - x0), np.uint8)
            b = np.zeros_like(a)
            ra, rb, angle, cx, cy = (float(v) for v in e)
            cv2.ellipse(a, (round(cx) - x0, round(cy) - y0), (int(ra), int(rb)), math.degrees(angle), 0, 360, 1, -1)
            cv2.rectangle(b, (rx0 - x0, ry0 - y0), (rx1 - x0, ry1 - y0), 1, -1)
            shared = int(np.count_nonzero(a & b))
            either = int(np.count_nonzero(a | b))
            out[i, j] = shared / either if either else 0.0
    return out


def _image_steps(overlaps: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One image's (thresholds descending, discrete TP, continuous TP, FP) with the detections
    scoring >= each of its distinct scores kept."""
    from scipy.optimize import linear_sum_assignment

    thresholds = np.unique(scores)[::-1]
    disc, cont, fp = np.zeros(len(thresholds)), np.zeros(len(thresholds)), np.zeros(len(thresholds))
    for k, t in enumerate(thresholds):
        kept = scores >= t
        m = overlaps[:, kept]
        hits = 0
        if m.size:
            rows, cols = linear_sum_assignment(m, maximize=True)
            pair = m[rows, cols]
            pair = pair[pair > 0]
            hits = int((pair > 0.5).sum())
            cont[k] = float(pair.sum())
        disc[k] = hits
        fp[k] = int(kept.sum()) - hits
    return thresholds, disc, cont, fp


def fddb_roc(detections: Sequence[tuple[np.ndarray, np.ndarray]], ellipses: Sequence[np.ndarray],
             image_sizes: Sequence[tuple[int, int]], false_positives: Sequence[int] = FALSE_POSITIVES) -> dict:  # fmt: skip
    """FDDB's discrete and continuous ROC (module docstring).

    detections: per image (boxes (D, 4) [x0, y0, x1, y1] pixels, scores (D,)); ellipses: per image
    (E, 5) FDDB ellipses; image_sizes: per image (height, width) in pixels, as displayed.
    Returns {"threshold", "false_positives", "tpr_discrete", "tpr_continuous"} (lists, one point per
    distinct score, threshold descending), "n_faces", "n_images", "n_detections", and
    "at_false_positives": {str(k): {"tpr_discrete", "tpr_continuous"}} for each k of
    false_positives (the best rate with at most k false positives; 0 when no threshold gets there).
    Raises ValueError when the three lists differ in length or a detection's scores do not match
    its boxes."""
    if not len(detections) == len(ellipses) == len(image_sizes):
        raise ValueError(f"{len(detections)} detection lists, {len(ellipses)} ellipse lists and "
                         f"{len(image_sizes)} image sizes: one of each per image")  # fmt: skip
    n_faces = 0
    steps = []
    for i, ((boxes, scores), faces, hw) in enumerate(zip(detections, ellipses, image_sizes, strict=True)):
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        scores = np.asarray(scores, np.float64).reshape(-1)
        if len(scores) != len(boxes):
            raise ValueError(f"image {i}: {len(boxes)} boxes but {len(scores)} scores")
        faces = np.asarray(faces, np.float64).reshape(-1, 5)
        n_faces += len(faces)
        if len(boxes):
            steps.append(_image_steps(region_overlaps(faces, boxes, hw), scores))
    every = np.unique(np.concatenate([s[0] for s in steps]))[::-1] if steps else np.zeros(0)
    # each image's counts as steps over the global thresholds: its counts at its smallest own
    # score >= t hold from that score down to its next one
    delta = np.zeros((3, len(every)))
    at = {float(t): k for k, t in enumerate(every)}
    for thresholds, disc, cont, fp in steps:
        idx = [at[float(t)] for t in thresholds]
        counts = np.stack([disc, cont, fp])
        delta[:, idx] += np.diff(counts, axis=1, prepend=0.0)
    disc, cont, fp = np.cumsum(delta, axis=1)
    denominator = max(n_faces, 1)
    out = {
        "threshold": every.tolist(),
        "false_positives": [int(round(v)) for v in fp],
        "tpr_discrete": (disc / denominator).tolist(),
        "tpr_continuous": (cont / denominator).tolist(),
        "n_faces": n_faces,
        "n_images": len(ellipses),
        "n_detections": int(sum(len(np.asarray(s).reshape(-1)) for _, s in detections)),
    }
    out["at_false_positives"] = {}
    for k in false_positives:
        ok = fp <= k
        out["at_false_positives"][str(k)] = {
            "tpr_discrete": float((disc[ok] / denominator).max()) if ok.any() else 0.0,
            "tpr_continuous": float((cont[ok] / denominator).max()) if ok.any() else 0.0,
        }
    return out


def write_roc_files(prefix: str | Path, roc: dict) -> tuple[Path, Path]:
    """The ROC as FDDB's program writes it: `<prefix>DiscROC.txt` ("tpr fp threshold" per line) and
    `<prefix>ContROC.txt` ("tpr fp"), lowest threshold first, so published FDDB plotting scripts
    read them. Returns the two paths."""
    prefix = str(prefix)
    disc, cont = Path(prefix + "DiscROC.txt"), Path(prefix + "ContROC.txt")
    rows = list(zip(roc["tpr_discrete"], roc["tpr_continuous"], roc["false_positives"], roc["threshold"], strict=True))
    disc.write_text("".join(f"{d:.6g} {f} {t:.6g}\n" for d, _, f, t in reversed(rows)))
    cont.write_text("".join(f"{c:.6g} {f}\n" for _, c, f, _ in reversed(rows)))
    return disc, cont


__all__ = ["FALSE_POSITIVES", "fddb_roc", "region_overlaps", "write_roc_files"]
