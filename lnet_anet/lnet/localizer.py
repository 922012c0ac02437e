"""From LNet's averaged response map to face boxes (Liu et al., ICCV 2015, Sec. 3).

A candidate window's score is its mean response (summed response / area), computed for every
window at once from an integral image. Faces are the peaks of the map: each local maximum whose
best window beats the threshold is a face. Its box is the window around the peak that maximises
sum(response - box_level * peak score) over its cells: it takes in every cell above that level
and leaves out the ones below (the bounding box of the map thresholded at a fraction of its
peak, as in CAM localization, but scored over windows so stray cells cannot stretch it). The
threshold comes from the score histograms of images with and without a face
(`calibrate_threshold`).

Coordinates: windows are [x0, y0, x1, y1] with exclusive x1, y1, in map cells or image pixels.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import math
import numbers
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import cachetools
import cv2
import numpy as np
import torch
from torch.nn import functional as F

Detection = tuple[np.ndarray, float]  # (box [x0, y0, x1, y1] in image pixels, score)


def _as_map(response: torch.Tensor | np.ndarray) -> torch.Tensor:
    r = torch.as_tensor(response).detach()
    if r.ndim == 3 and r.shape[0] == 1:
        r = r[0]
    if r.ndim != 2 or r.numel() == 0:
        raise ValueError(f"response must be a non-empty (H, W) map, got shape {tuple(r.shape)}")
    r = r.to(device="cpu", dtype=torch.float64)
    if not torch.isfinite(r).all():
        raise ValueError("response map has NaN or infinite values")
    return r


def window_shapes(
    sizes: Sequence[float], aspect_ratios: Sequence[float], height: int, width: int
) -> torch.Tensor:
    """Distinct (h, w) window shapes in cells: side s at aspect a (width / height) is
    w = s * sqrt(a), h = s / sqrt(a), rounded and clipped to the map."""
    if any(a <= 0 for a in aspect_ratios) or any(s <= 0 for s in sizes):
        raise ValueError(f"sizes and aspect ratios must be > 0, got {sizes}, {aspect_ratios}")
    if len(sizes) == 0 or len(aspect_ratios) == 0:
        return torch.zeros(0, 2, dtype=torch.long)
    s = torch.as_tensor(list(sizes), dtype=torch.float64)[:, None]
    a = torch.as_tensor(list(aspect_ratios), dtype=torch.float64).sqrt()[None, :]
    h = (s / a).round().clamp(1, height).long().reshape(-1)
    w = (s * a).round().clamp(1, width).long().reshape(-1)
    return torch.unique(torch.stack([h, w], dim=1), dim=0)


def shape_range(
    min_side: int, aspect_range: tuple[float, float], height: int, width: int, max_side: int | None = None
) -> torch.Tensor:
    """Every (h, w) window shape in cells with both sides >= min_side and <= max_side (clipped
    to the map) and aspect w / h within aspect_range: a dense set, so any blob finds a window
    that fits it."""
    lo, hi = aspect_range
    if not 0 < lo <= hi:
        raise ValueError(f"aspect_range must satisfy 0 < low <= high, got {aspect_range}")
    top_h, top_w = (height, width) if max_side is None else (min(height, max_side), min(width, max_side))
    h = torch.arange(min(max(min_side, 1), height), max(top_h, min(max(min_side, 1), height)) + 1)
    w = torch.arange(min(max(min_side, 1), width), max(top_w, min(max(min_side, 1), width)) + 1)
    hh, ww = torch.meshgrid(h, w, indexing="ij")
    aspect = ww / hh
    ok = (aspect >= lo - 1e-9) & (aspect <= hi + 1e-9)
    if not ok.any():  # the map is too elongated for the range: take its most square shape
        ok = (aspect - math.sqrt(lo * hi)).abs() == (aspect - math.sqrt(lo * hi)).abs().min()
    return torch.stack([hh[ok], ww[ok]], dim=1)


class _WindowGrid:
    """Every window of some (h, w) shapes that fits a (height, width) map, on a grid of
    `stride` cells: boxes (N, 4) float, the flat integral-image indices of their corners
    (y0, x0), (y0, x1), (y1, x0), (y1, x1) as (4, N), and areas. Depends only on the geometry,
    so it is built once per map size (see _grid) and reused for every map."""

    COVER_LIMIT = 1 << 25  # cells x windows of the cached "which windows cover a cell" table

    def __init__(self, height: int, width: int, shapes: torch.Tensor, stride: int):
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        shape = shapes.reshape(-1, 2).long()
        # Every (shape, y0, x0) on the position grid, then keep those that fit inside the map.
        k, yy, xx = torch.meshgrid(
            torch.arange(len(shape)),
            torch.arange(0, height, stride),
            torch.arange(0, width, stride),
            indexing="ij",
        )
        h, w = shape[k, 0], shape[k, 1]
        fits = (yy + h <= height) & (xx + w <= width)
        y0, x0, h, w = yy[fits], xx[fits], h[fits], w[fits]
        y1, x1 = y0 + h, x0 + w
        row = width + 1  # the integral image is (H+1, W+1)
        self.height, self.width = height, width
        self.corners = torch.stack([y0 * row + x0, y0 * row + x1, y1 * row + x0, y1 * row + x1])
        self.boxes = torch.stack([x0, y0, x1, y1], dim=1).to(torch.float32)
        self.area = (h * w).to(torch.float64)
        self._corners_np, self._area_np = self.corners.numpy(), self.area.numpy()  # views, for scores
        self._cover: torch.Tensor | None = None

    def scores(self, r: torch.Tensor, which: torch.Tensor | None = None) -> torch.Tensor:
        """(N,) or (len(which),) float64: the mean of r (H, W) over every window (or over the
        windows of index `which`), from the integral image. In numpy: the same sums in the same
        order as torch's cumsum and gather, a tenth of the time on a 28 x 28 map
        (experiments/2026-12-07-scores-numpy)."""
        a = r.numpy() if r.dtype == torch.float64 else r.to(torch.float64).numpy()
        integral = np.zeros((a.shape[0] + 1, a.shape[1] + 1))
        integral[1:, 1:] = a.cumsum(0).cumsum(1)  # sum of r[:y, :x]
        if which is None:
            corners, area = self._corners_np, self._area_np
        else:
            index = which.numpy() if isinstance(which, torch.Tensor) else np.asarray(which)
            corners, area = self._corners_np[:, index], self._area_np[index]
        tl, tr, bl, br = integral.reshape(-1)[corners]
        return torch.from_numpy((br - tr - bl + tl) / area)

    @property
    def nbytes(self) -> int:
        """Bytes it holds, with the cover table `contains` may add (bool, cells x windows)."""
        cells = self.height * self.width * len(self.boxes)
        cover = cells if cells <= self.COVER_LIMIT else 0
        return self.corners.nbytes + self.boxes.nbytes + self.area.nbytes + cover

    def contains(self, points: torch.Tensor) -> torch.Tensor:
        """(P, N) whether window n contains cell (y, x) = points[p]."""
        if self._cover is None and self.height * self.width * len(self.boxes) <= self.COVER_LIMIT:
            cells = torch.cartesian_prod(torch.arange(self.height), torch.arange(self.width))
            self._cover = _contains(self.boxes, cells)  # (H*W, N), once per geometry
        if self._cover is not None:
            return self._cover[points[:, 0] * self.width + points[:, 1]]
        return _contains(self.boxes, points)


BARS = ("threshold", "secondary_threshold", "weak_threshold")  # the score bars: numbers, checked when set


def _bar(name: str, value: Any, optional: bool) -> float | None:
    """A score bar as a Python float (a numpy scalar made plain, so records stay JSON); None when
    `optional`. ValueError naming it for a string, a bool or NaN (infinities: every face or none)."""
    if value is None and optional:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number{' or None' if optional else ''}, not {value!r}")
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, not NaN")
    return float(value)


# weak_threshold: a weak face's window may have at most this share of its area inside a stronger
# face's window (more: a part of that face, as when a portrait's face splits into two blobs).
WEAK_OVERLAP = 0.3
MANY_WINDOWS = 100_000  # beyond this many windows a map's peak scores come from _best_window_means


def _best_window_means(r: torch.Tensor, sides: tuple[int, int | None], aspect_range: tuple[float, float]) -> torch.Tensor:
    """(H, W) float64: for every cell, the best mean of r over the windows (every shape of
    shape_range) that hold it. Per shape, the window means from the integral image, then a
    running max over the cells each window covers; the same numbers as scoring every window
    and taking the best holding the cell.

    Max is exact, so the order of the maxima is free. Per window height h, along the rows: a cell
    at x is held by a window of width w starting at x0 when x - x0 + 1 = d <= w, so the best over
    the widths is the best over d of suffix_d[x - d + 1], suffix_d being the best mean of the
    widths >= d starting there; the widths are visited widest first, suffix_d grows by one
    np.maximum each, and is shifted into place; the d up to the narrowest width share one suffix,
    one running max (cv2.dilate anchored at the kernel's end). Then, once per height, a running
    max along the columns over that height. Half the time of a dilate per shape, same numbers."""
    a = r.numpy()
    height, width = a.shape
    integral = np.pad(a.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    best = np.full((height, width), -np.inf)
    rows = np.empty((height, width))
    widths: dict[int, list[int]] = {}
    for h, w in shape_range(sides[0], aspect_range, height, width, sides[1]).tolist():
        widths.setdefault(h, []).append(w)
    for h, ws in widths.items():
        tops = height - h + 1  # rows where a window of height h starts
        below, above = integral[h:], integral[:-h]
        strips = below - above  # its columns are the first two terms of every width's sum, computed once
        ws = sorted(ws)
        suffix = np.full((tops, width), -np.inf)  # by start cell: the best mean of the widths visited
        rows.fill(-np.inf)
        for i in range(len(ws) - 1, -1, -1):
            w = ws[i]
            means = (strips[:, w:] - below[:, :-w] + above[:, :-w]) / (h * w)
            np.maximum(suffix[:, : width - w + 1], means, out=suffix[:, : width - w + 1])
            for d in range(w, ws[i - 1] if i else w, -1):  # suffix is suffix_d for these d: shift it into place
                np.maximum(rows[:tops, d - 1 :], suffix[:, : width - d + 1], out=rows[:tops, d - 1 :])
        narrow = ws[0]  # d = 1 .. narrow: every width, one running max
        held = cv2.dilate(suffix, _ones(1, narrow), anchor=(narrow - 1, 0), borderType=cv2.BORDER_CONSTANT,
                          borderValue=-np.inf)  # fmt: skip
        np.maximum(rows[:tops], held, out=rows[:tops])
        held = cv2.dilate(rows, _ones(h, 1), anchor=(0, h - 1), borderType=cv2.BORDER_CONSTANT, borderValue=-np.inf)
        np.maximum(best, held, out=best)
    return torch.from_numpy(best)


@functools.lru_cache(maxsize=1024)
def _ones(height: int, width: int) -> np.ndarray:
    """A (height, width) kernel of ones for cv2.dilate, made once per shape."""
    return np.ones((height, width), np.uint8)


# The window grids kept for reuse, least recently used out first, by their size (_WindowGrid.nbytes;
# cachetools' LRUCache): a photo's usual map shapes hold ~60 MB in all; one zoom-in map of a 6:1
# panorama's ~300 MB is built when needed and not kept (trial 84: with an LRU of 32 entries, a
# folder of panoramas of many lengths grew to 5.5 GB).
GRID_CACHE_BYTES = 256 << 20
_GRIDS = cachetools.LRUCache(maxsize=GRID_CACHE_BYTES, getsizeof=lambda grid: grid.nbytes)
_GRIDS_LOCK = threading.Lock()  # Predictors in several threads share the grids


def _kept(key: tuple, build: Callable[[], _WindowGrid]) -> _WindowGrid:
    """The grid of `key` from _GRIDS, or built and kept there (unless it alone is over the budget)."""
    with _GRIDS_LOCK:
        grid = _GRIDS.get(key)
    if grid is None:
        grid = build()
        with _GRIDS_LOCK, contextlib.suppress(ValueError):  # ValueError: larger than the whole budget
            _GRIDS[key] = grid
    return grid


def _grid(height: int, width: int, shapes: tuple[tuple[int, int], ...], stride: int) -> _WindowGrid:
    return _kept(("grid", height, width, shapes, stride),
                 lambda: _WindowGrid(height, width, torch.tensor(shapes, dtype=torch.long), stride))  # fmt: skip


def _face_grid(height: int, width: int, min_side: int, aspect_range: tuple[float, float], max_side: int | None
               ) -> _WindowGrid:  # fmt: skip
    """_localizer_grid for one face's box of cells under `separation`: small, many sizes."""
    return _kept(("face", height, width, min_side, aspect_range, max_side),
                 lambda: _WindowGrid(height, width, shape_range(min_side, aspect_range, height, width, max_side), 1))  # fmt: skip


def _localizer_grid(
    height: int, width: int, min_side: int, aspect_range: tuple[float, float], max_side: int | None = None
) -> _WindowGrid:
    return _kept(("localizer", height, width, min_side, aspect_range, max_side),
                 lambda: _WindowGrid(height, width, shape_range(min_side, aspect_range, height, width, max_side), 1))  # fmt: skip


def shape_scores(
    response: torch.Tensor | np.ndarray, shapes: torch.Tensor, stride: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean response of every window of the given (h, w) shapes (K, 2), at every position on
    a grid of `stride` cells, in one vectorised pass over an integral image: windows (N, 4)
    float [x0, y0, x1, y1] in map cells (exclusive ends) and scores (N,) float64."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    r = _as_map(response)
    key = tuple((int(h), int(w)) for h, w in torch.as_tensor(shapes).reshape(-1, 2).tolist())
    grid = _grid(*r.shape, key, stride)
    return grid.boxes, grid.scores(r)


def window_scores(
    response: torch.Tensor | np.ndarray,
    sizes: Sequence[float],
    aspect_ratios: Sequence[float] = (1.0,),
    stride: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean response of every window of the given sizes and aspect ratios (width / height), at
    every position on a grid of `stride` cells, in one vectorised pass over an integral image.

    Returns windows (N, 4) float [x0, y0, x1, y1] in map cells (exclusive ends) and their scores
    (N,) float64 = summed response / window area. Windows are clipped to the map.
    """
    r = _as_map(response)
    return shape_scores(r, window_shapes(sizes, aspect_ratios, *r.shape), stride)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU matrix (N, M) of [x0, y0, x1, y1] boxes."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    area_a = (a[:, 2:] - a[:, :2]).prod(dim=1)
    area_b = (b[:, 2:] - b[:, :2]).prod(dim=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp(min=1e-12)


def _real_numbers(value: Any, n: int) -> tuple[float, ...] | None:
    """value as n floats when it is a list, tuple or 1-d array of n real numbers (not strings, not
    bools: a setting given as "0.66" or "12" in a bundle's JSON would read as a number, or as
    digits), else None."""
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.ndim == 1 else None
    if not isinstance(value, list | tuple) or len(value) != n:
        return None
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        return None
    return tuple(float(v) for v in value)


def find_peaks(response: torch.Tensor | np.ndarray, kernel: int = 3) -> torch.Tensor:
    """Local maxima (y, x) of a map with a positive value: cells equal to the max of their
    kernel x kernel neighbourhood (max-pool peak detection). Returns (P, 2) long."""
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"peak kernel must be odd and >= 1, got {kernel}")
    r = _as_map(response)
    pooled = F.max_pool2d(r[None, None], kernel, stride=1, padding=kernel // 2)[0, 0]
    return torch.nonzero((r == pooled) & (r > 0))


@dataclass
class Localizer:
    """Faces in one response map.

    threshold: a face's score (its peak's best window mean) must exceed it; calibrate it with
        `calibrate_threshold` on face and face-free images.
    min_size: smallest window side in image pixels (rounded up to whole map cells).
    max_size: largest window side in image pixels (None: the whole map); fewer windows to score
      on large maps (lnet_anet.lnet.multiscale reads photos at several scales instead).
    aspect_range: window widths / heights tried (every whole-cell shape in the range).
    box_level: a face's box is the window containing its peak (and no stronger face's peak)
        that maximises the sum of (response - box_level * the face's score) over its cells;
        lower gives larger boxes.
    min_relative_score: a further face needs at least this fraction of the best face's score
        (weak secondary peaks are mostly clutter: on composed CelebA-HQ scenes they scored about
        0.3 of the best and were almost never a face).
    secondary_threshold: None, or the score every face after the best must exceed too (the
        best keeps `threshold`, which says whether the image has a face at all): weak blobs
        beside a clear face are clutter more often than faces.
    weak_threshold: None, or a lower bar for faces after the best (needs separation and
        secondary_threshold): a face scoring in (weak_threshold, secondary_threshold] is added
        when its window lies mostly apart from every stronger face's (at most WEAK_OVERLAP of
        its area inside one); the stronger faces keep the windows they get without the weak
        ones. A weak blob beside a face in a crowd is a face more often than one inside a
        portrait's face (experiments/2026-12-03-secondary).
    crowd: None, or (share, threshold): faces after the best need only `threshold` instead of
        secondary_threshold (and weak_threshold) in a crowd: a picture whose best face, as read
        without the rule, scores over secondary_threshold and has a box of at most `share` of
        the picture's shorter side (is_crowd; needs separation and secondary_threshold). Beside
        a face that fills the picture, weaker blobs are mostly parts of it (secondary_threshold
        keeps them out); in a crowd the faces are small and a neighbour scores as weakly as a
        blob (experiments/2026-12-03-crowd-faces).
    box_scale, box_offset: the chosen window's half sides h become box_scale * h + box_offset
        pixels about its centre (at least 1 pixel; then clipped to the image): the map's blob
        covers the face, while the box to report may frame more (e.g. hair), and a blob is never
        much smaller than the backbone's receptive field, hence the offset (negative: small
        blobs shrink relatively more).
    box_model: when set, replaces box_scale and box_offset: the box is centred on the
        response-weighted centroid of the chosen window, and its log width and log height are
        linear in the window's `box_features` (coefficients for [1, *BOX_FEATURES], one row
        each). The map is coarse (8-pixel cells): a blob's size in whole cells, scaled, puts a
        40-pixel face's box 14 pixels off at each step, while its spread, mass and score vary
        continuously. `fit_box_model` fits it on scenes with known boxes.
    nms_iou: a face's box may overlap an already accepted box by at most this IoU.
    peak_kernel: neighbourhood of the max-pool peak detection, in cells.
    max_peaks: only the local maxima with the highest values are considered (bounds the cost on
        noisy maps; a smooth response map has far fewer).
    stride: image pixels per map cell; None takes image size / map size per axis.
    separation: None keeps the rule above (a peak inside an accepted face's window is part of
        it). A fraction in (0, 1] separates faces by the map's relief instead (persistence, as
        in topological peak finding): on the map smoothed over 3 x 3 cells, a weaker peak is a
        face of its own unless it is connected to a stronger face's peak through cells of at
        least `separation` times its own smoothed value. A watershed on the smoothed map then
        gives every positive cell to one face; each face's window contains no other face's
        peak, and the other faces' cells count at minus its score for its window and its box
        measures: side-by-side faces get one box each. A map with one face is boxed exactly as
        without separation.
    face_box: None, or (width, height, dx, dy): the face box a detection benchmark labels
        (WIDER FACE's: brow to chin, cheek to cheek), from the box above (the face's region,
        which ANet and the heads crop: LNet's blob takes in hair and chin, about 1.8 x 1.3 the
        face box on WIDER photos): width * w by height * h pixels, centred at (cx + dx * w,
        cy + dy * h) for a region box w by h centred at (cx, cy). The Predictor reports this box
        and reads a given one back (to_face_box / to_region); None: the region is the face box.
        lnet_anet.lnet.photo_fitting.fit_face_box fits it on photos with face boxes.
    """

    threshold: float
    min_size: float = 32.0
    max_size: float | None = None
    aspect_range: tuple[float, float] = (0.75, 1.34)
    box_level: float = 0.35
    box_scale: float = 1.0
    box_offset: float = 0.0
    box_model: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    min_relative_score: float = 0.5
    nms_iou: float = 0.3
    peak_kernel: int = 3
    max_faces: int = 10
    max_peaks: int = 24
    stride: float | None = None
    separation: float | None = None
    secondary_threshold: float | None = None
    weak_threshold: float | None = None
    crowd: tuple[float, float] | None = None
    face_box: tuple[float, float, float, float] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        # checked whenever set, not only when built: a user changes the threshold of a live
        # Predictor's localizer (trial 63: a numpy float32 made records JSON cannot write, NaN lost every face)
        if name in BARS:
            value = _bar(name, value, optional=name != "threshold")
        elif not name.startswith("_") and name not in self.__dataclass_fields__:  # a misspelt setting did nothing (trial 70)
            close = difflib.get_close_matches(name, list(self.__dataclass_fields__), n=1)
            raise AttributeError(f"the localizer has no setting {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        super().__setattr__(name, value)

    def __post_init__(self) -> None:
        if self.face_box is not None:
            convention = _real_numbers(self.face_box, 4)
            if convention is None or not np.isfinite(convention).all() or min(convention[:2]) <= 0:
                raise ValueError(f"face_box must be None or (width, height, dx, dy), finite, width and height > 0, "
                                 f"got {self.face_box!r}")  # fmt: skip
            self.face_box = convention  # JSON gives a list
        if self.weak_threshold is not None and (self.separation is None or self.secondary_threshold is None):
            raise ValueError("weak_threshold needs separation and secondary_threshold")
        if self.crowd is not None:
            share, bar = _real_numbers(self.crowd, 2) or (math.nan, math.nan)
            if not (0 < share <= 1 and math.isfinite(bar)):
                raise ValueError(f"crowd must be None or (share in (0, 1], finite threshold), two numbers, "
                                 f"got {self.crowd!r}")  # fmt: skip
            if self.separation is None or self.secondary_threshold is None:
                raise ValueError("crowd needs separation and secondary_threshold")
            self.crowd = (share, bar)  # JSON gives a list
        if self.separation is not None and not 0 < self.separation <= 1:
            raise ValueError(f"separation must be None or in (0, 1], got {self.separation}")
        if not 0 < self.box_level <= 1:
            raise ValueError(f"box_level must be in (0, 1], got {self.box_level}")
        if self.box_scale <= 0:
            raise ValueError(f"box_scale must be > 0, got {self.box_scale}")
        if not 0 <= self.min_relative_score <= 1:
            raise ValueError(f"min_relative_score must be in [0, 1], got {self.min_relative_score}")
        if not 0 <= self.nms_iou <= 1:
            raise ValueError(f"nms_iou must be in [0, 1], got {self.nms_iou}")
        if self.box_model is not None:
            model = tuple(tuple(float(c) for c in row) for row in self.box_model)
            if len(model) != 2 or any(len(row) != len(BOX_FEATURES) + 1 for row in model) or not np.isfinite(model).all():
                raise ValueError(f"box_model must be 2 rows (log width, log height) of {len(BOX_FEATURES) + 1} "
                                 f"finite coefficients, got {self.box_model}")  # fmt: skip
            self.box_model = model  # JSON gives lists
        if self.max_size is not None and not self.max_size >= self.min_size:
            raise ValueError(f"max_size must be >= min_size, got {self.max_size} < {self.min_size}")
        if self.min_size <= 0 or self.max_faces < 1 or self.max_peaks < self.max_faces:
            raise ValueError(
                "need min_size > 0 and 1 <= max_faces <= max_peaks, got "
                f"{self.min_size}, {self.max_faces}, {self.max_peaks}"
            )

    def to_face_box(self, region: np.ndarray) -> np.ndarray:
        """The face box (x0, y0, x1, y1) of a region box (the localizer's, same pixels) by
        `face_box`; the region itself when face_box is None. Not clipped."""
        x0, y0, x1, y1 = (float(v) for v in region)
        if self.face_box is None:
            return np.array([x0, y0, x1, y1], np.float64)
        width, height, dx, dy = self.face_box
        w, h = x1 - x0, y1 - y0
        cx, cy = (x0 + x1) / 2 + dx * w, (y0 + y1) / 2 + dy * h
        return np.array([cx - width * w / 2, cy - height * h / 2, cx + width * w / 2, cy + height * h / 2])

    def to_region(self, face: np.ndarray) -> np.ndarray:
        """The region box whose face box (to_face_box) is `face` (x0, y0, x1, y1): the box the
        heads' crops are cut from, for a face box given by another detector or a label."""
        x0, y0, x1, y1 = (float(v) for v in face)
        if self.face_box is None:
            return np.array([x0, y0, x1, y1], np.float64)
        width, height, dx, dy = self.face_box
        w, h = (x1 - x0) / width, (y1 - y0) / height
        cx, cy = (x0 + x1) / 2 - dx * w, (y0 + y1) / 2 - dy * h
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def _cell(
        self, map_hw: tuple[int, int], image_size: int | Sequence[int]
    ) -> tuple[float, float, int, int]:
        img_h, img_w = (image_size, image_size) if isinstance(image_size, int) else image_size
        if self.stride is not None:
            return float(self.stride), float(self.stride), int(img_h), int(img_w)
        return img_h / map_hw[0], img_w / map_hw[1], int(img_h), int(img_w)

    def _window_sides(self, cell: float) -> tuple[int, int | None]:
        """The smallest and largest window side in cells (None: the map's), cell: pixels per cell."""
        smallest = max(1, math.ceil(self.min_size / cell - 1e-6))
        return smallest, None if self.max_size is None else max(smallest, math.floor(self.max_size / cell + 1e-6))

    def _window_grid(self, map_hw: tuple[int, int], cell: float) -> _WindowGrid:
        """Every window the localizer considers on a map of this size (cell: pixels per cell)."""
        smallest, largest = self._window_sides(cell)
        return _localizer_grid(*map_hw, smallest, tuple(self.aspect_range), largest)

    def _candidates(
        self, r: torch.Tensor, cell: float
    ) -> tuple[_WindowGrid, torch.Tensor | None, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The window grid (its windows (N, 4)), scores (N,), peaks (P, 2), peak scores (P,)
        strongest first, and which windows contain which peak (P, N). Under `separation`, on a map with more than
        MANY_WINDOWS windows (a zoomed-in canvas), scores and contains are None: the peak scores
        come from _best_window_means, a few ms where the (P, N) tables take a hundred."""
        grid = self._window_grid(tuple(r.shape), cell)
        windows = grid.boxes
        peaks = find_peaks(r, self.peak_kernel)
        if len(peaks) > self.max_peaks:
            top = torch.topk(r[peaks[:, 0], peaks[:, 1]], self.max_peaks).indices
            peaks = peaks[top]
        if self.separation is not None and len(windows) > MANY_WINDOWS and len(peaks):
            best = _best_window_means(r, self._window_sides(cell), tuple(self.aspect_range))
            peak_scores = best[peaks[:, 0], peaks[:, 1]]
            order = torch.argsort(peak_scores, descending=True, stable=True)
            return grid, None, peaks[order], peak_scores[order], None
        scores = grid.scores(r)
        if len(peaks) == 0 or len(windows) == 0:
            none = torch.zeros(0, dtype=torch.float64)
            return grid, scores, peaks[:0], none, torch.zeros(0, len(windows), dtype=torch.bool)
        contains = grid.contains(peaks)
        peak_scores = torch.where(contains, scores[None, :], -math.inf).amax(dim=1)
        order = torch.argsort(peak_scores, descending=True, stable=True)
        return grid, scores, peaks[order], peak_scores[order], contains[order]

    def score(self, response: torch.Tensor | np.ndarray, image_size: int | Sequence[int]) -> float:
        """Image-level face score: the best peak's best window mean (0 when there is no peak).
        An image has a detection exactly when this exceeds the threshold."""
        r = _as_map(response)
        cell_h, cell_w, _, _ = self._cell(tuple(r.shape), image_size)
        _, _, _, peak_scores, _ = self._candidates(r, math.sqrt(cell_h * cell_w))
        return float(peak_scores[0]) if len(peak_scores) else 0.0

    def candidates(self, response: torch.Tensor | np.ndarray, image_size: int | Sequence[int]) -> tuple:
        """The part of finding faces in a map that no threshold changes (its window grid and
        scores, peaks and peak scores): what faces() starts from. It does not depend on
        threshold, min_relative_score, secondary_threshold or max_faces, so a copy of the
        localizer that differs only in those (dataclasses.replace) may reuse it for the same map:
        pass it to __call__ / faces as `candidates`."""
        r = _as_map(response)
        cell_h, cell_w, _, _ = self._cell(tuple(r.shape), image_size)
        return self._candidates(r, math.sqrt(cell_h * cell_w))

    def faces(self, r: torch.Tensor, image_size: int | Sequence[int], candidates: tuple | None = None
              ) -> tuple[list[tuple[torch.Tensor, float, torch.Tensor]], tuple]:  # fmt: skip
        """The faces of a map (as from _as_map) before boxes are made: ([(window in cells, score,
        the map its box reads: r, or under `separation` r with the other faces' cells at -score)],
        best first; the _cell geometry). candidates: this map's candidates(), when computed
        before."""
        geometry = self._cell(tuple(r.shape), image_size)
        if candidates is None:
            candidates = self._candidates(r, math.sqrt(geometry[0] * geometry[1]))
        grid, scores, peaks, peak_scores, contains = candidates
        windows, area = grid.boxes, grid.area
        strong = peak_scores > self.threshold
        weak = strong.clone()
        if len(peak_scores):
            strong &= peak_scores >= self.min_relative_score * peak_scores[0]
            if self.secondary_threshold is not None:  # the best face keeps `threshold`
                strong[1:] &= peak_scores[1:] > self.secondary_threshold
            if self.weak_threshold is not None:
                weak &= peak_scores >= self.min_relative_score * peak_scores[0]
                weak[1:] &= peak_scores[1:] > self.weak_threshold
        if self.separation is not None:
            sides = self._window_sides(math.sqrt(geometry[0] * geometry[1]))
            found = self._separated_faces(r, sides, grid, scores, peaks[strong], peak_scores[strong],
                                          contains[strong] if contains is not None else None)  # fmt: skip
            if self.weak_threshold is not None and bool((weak & ~strong).any()):
                found = self._with_weak_faces(found, self._separated_faces(
                    r, sides, grid, scores, peaks[weak], peak_scores[weak], contains[weak] if contains is not None else None))
            if self.crowd is not None and found and len(peak_scores) > len(found):
                window, score, own = found[0]
                if self.is_crowd(self.box(own, window, score, geometry), score, geometry[2:]):
                    return self._crowd_faces(r, sides, candidates), geometry
            return found, geometry
        peaks, peak_scores = peaks[strong], peak_scores[strong]
        contains = contains[strong] if contains is not None else None
        kept: list[int] = []
        found: list[tuple[torch.Tensor, float, torch.Tensor]] = []
        bounds: list[list[float]] = []
        for p in range(len(peaks)):  # a few peaks; every step is vectorised over the windows
            if len(kept) >= self.max_faces:
                break
            y, x = peaks[p].tolist()
            if any(b[0] <= x < b[2] and b[1] <= y < b[3] for b in bounds):
                continue  # a secondary maximum of a face already found
            ok = contains[p].clone()
            if kept:
                ok &= ~contains[kept].any(dim=0)
                ok &= box_iou(windows, torch.stack([b for b, _, _ in found])).amax(dim=1) <= self.nms_iou
            if not ok.any():
                continue
            gain = area * (scores - self.box_level * peak_scores[p])
            best = windows[int(torch.argmax(torch.where(ok, gain, -math.inf)))]
            kept.append(p)
            found.append((best, float(peak_scores[p]), r))
            bounds.append(best.tolist())
        return found, geometry

    def is_crowd(self, best: np.ndarray, score: float, picture_hw: tuple[int, int]) -> bool:
        """`crowd`: whether a picture (h, w) whose best face has this box (x0, y0, x1, y1) and score
        is a crowd: a clear face (over secondary_threshold) of at most the crowd's share of the
        picture's shorter side. False without the rule."""
        if self.crowd is None:
            return False
        x0, y0, x1, y1 = (float(v) for v in best)
        return score > self.secondary_threshold and max(x1 - x0, y1 - y0) <= self.crowd[0] * min(picture_hw)

    def _crowd_faces(self, r: torch.Tensor, sides: tuple[int, int | None], candidates: tuple
                     ) -> list[tuple[torch.Tensor, float, torch.Tensor]]:  # fmt: skip
        """`crowd`: the faces of a crowd's map, those after the best held to the crowd's bar."""
        grid, scores, peaks, peak_scores, contains = candidates
        keep = (peak_scores > self.threshold) & (peak_scores >= self.min_relative_score * peak_scores[0])
        keep[1:] &= peak_scores[1:] > self.crowd[1]
        return self._separated_faces(r, sides, grid, scores, peaks[keep], peak_scores[keep],
                                     contains[keep] if contains is not None else None)  # fmt: skip

    def _with_weak_faces(self, strong: list[tuple[torch.Tensor, float, torch.Tensor]],
                         every: list[tuple[torch.Tensor, float, torch.Tensor]]) -> list[tuple[torch.Tensor, float, torch.Tensor]]:  # fmt: skip
        """weak_threshold: the strong faces, and those of `every` (the faces found with the weak
        ones too) scoring at most secondary_threshold whose window has at most WEAK_OVERLAP of its
        area inside any strong face's window; best first, up to max_faces."""
        added = []
        stronger = {score for _, score, _ in strong}  # their peaks (a face's score is its peak's)
        windows = torch.stack([w for w, _, _ in strong]) if strong else None
        for window, score, own in every:
            if score > self.secondary_threshold or score in stronger:  # found already, maybe with another window
                continue
            if windows is not None:
                inside = _intersection(window, windows).amax()
                if float(inside) > WEAK_OVERLAP * float((window[2] - window[0]) * (window[3] - window[1])):
                    continue
            added.append((window, score, own))
        return sorted(strong + added, key=lambda f: -f[1])[: self.max_faces]

    def _separated_faces(self, r: torch.Tensor, sides: tuple[int, int | None], grid: _WindowGrid,
                         scores: torch.Tensor | None, peaks: torch.Tensor, peak_scores: torch.Tensor,
                         contains: torch.Tensor | None) -> list[tuple[torch.Tensor, float, torch.Tensor]]:  # fmt: skip
        """faces() under `separation`: (window, score, the map its box reads), best first."""
        smallest, largest = sides
        smooth = cv2.blur(r.numpy(), (3, 3), borderType=cv2.BORDER_CONSTANT)  # evens out the cells of one face
        faces: list[int] = []
        regions: list[np.ndarray] = []  # bool (H, W): the cells connected to each face's peak
        for p in range(len(peaks)):
            if len(faces) >= self.max_faces:
                break
            y, x = peaks[p].tolist()
            level = self.separation * smooth[y, x]
            if level <= 0:
                continue
            _, labels = cv2.connectedComponents((smooth >= level).astype(np.uint8), connectivity=8)
            region = labels == labels[y, x]
            if any(region[peaks[q, 0], peaks[q, 1]] for q in faces):
                continue  # connected to a stronger face high enough: the same face
            faces.append(p)
            regions.append(region)
        if not faces:
            return []
        if len(faces) == 1:  # one face: the window rule over the whole map, as without separation
            p = faces[0]
            held = contains[p] if contains is not None else _contains(grid.boxes, peaks[p : p + 1])[0]
            which = torch.nonzero(held).flatten()
            window_scores = scores[which] if scores is not None else grid.scores(r, which)
            gain = grid.area[which] * (window_scores - self.box_level * peak_scores[p])
            return [(grid.boxes[which[int(torch.argmax(gain))]], float(peak_scores[p]), r)]
        owner = _watershed(smooth, regions)
        found: list[tuple[torch.Tensor, float, torch.Tensor]] = []
        for k, p in enumerate(faces):
            # Its cells' bounding box, padded by the smallest window side: outside it every cell is
            # another face's (counted at -score) or empty, so no better window reaches beyond.
            own = r.masked_fill(torch.from_numpy((owner > 0) & (owner != k + 1)), -float(peak_scores[p]))
            ys, xs = np.nonzero(owner == k + 1)
            (py, px), pad = peaks[p].tolist(), smallest
            y0, x0 = max(0, min(int(ys.min()), py) - pad), max(0, min(int(xs.min()), px) - pad)
            y1 = min(r.shape[0], max(int(ys.max()), py) + 1 + pad)
            x1 = min(r.shape[1], max(int(xs.max()), px) + 1 + pad)
            local = _face_grid(y1 - y0, x1 - x0, smallest, tuple(self.aspect_range), largest)
            boxes = local.boxes + torch.tensor([x0, y0, x0, y0], dtype=torch.float32)
            ok = _contains(boxes, peaks[p : p + 1])[0]
            others = peaks[[q for q in faces if q != p]]
            ok &= ~_contains(boxes, others).any(dim=0)  # no other face's peak in the window
            if found:
                ok &= box_iou(boxes, torch.stack([b for b, _, _ in found])).amax(dim=1) <= self.nms_iou
            if not ok.any():
                continue
            gain = local.area * (local.scores(own[y0:y1, x0:x1]) - self.box_level * peak_scores[p])
            found.append((boxes[int(torch.argmax(torch.where(ok, gain, -math.inf)))], float(peak_scores[p]), own))
        return found

    def box(self, r: torch.Tensor, window: torch.Tensor, score: float, geometry: tuple) -> np.ndarray:
        """A face's box in image pixels [x0, y0, x1, y1] from its window in cells (see box_scale,
        box_offset and box_model)."""
        cell_h, cell_w, img_h, img_w = geometry
        scale = torch.tensor([cell_w, cell_h, cell_w, cell_h], dtype=torch.float64)
        if self.box_model is None:
            px = window.to(torch.float64) * scale
            centre = (px[:2] + px[2:]) / 2
            half = ((px[2:] - px[:2]) / 2 * self.box_scale + self.box_offset).clamp(min=1.0)
        else:
            centre, features = box_features(r, window, score, self.box_level, (cell_h, cell_w))
            coef = torch.tensor(self.box_model, dtype=torch.float64)
            half = (coef[:, 0] + coef[:, 1:] @ torch.from_numpy(features)).exp() / 2
        limit = torch.tensor([img_w, img_h, img_w, img_h], dtype=torch.float64)
        return torch.minimum(torch.cat([centre - half, centre + half]).clamp(min=0), limit).numpy()

    def __call__(
        self, response: torch.Tensor | np.ndarray, image_size: int | Sequence[int], candidates: tuple | None = None
    ) -> list[Detection]:
        """Detections (box in image pixels, score), best first; [] for a face-free map.
        image_size: int or (H, W) of the image the map was computed from. candidates: the map's
        candidates() when computed before (by this localizer or a copy differing only in its
        thresholds or max_faces)."""
        r = _as_map(response)
        found, geometry = self.faces(r, image_size, candidates)
        return [(self.box(own, window, score, geometry), score) for window, score, own in found]


def _watershed(relief: np.ndarray, seeds: Sequence[np.ndarray]) -> np.ndarray:
    """Every cell of a map with a positive value given to one of the seed regions (bool (H, W)
    each, disjoint) by a watershed on the map, flooding the highest cells first
    (skimage.segmentation.watershed on the negated map, 8-connected): int32 (H, W) with k + 1
    for seeds[k] and 0 for the cells of no face (value <= 0)."""
    from skimage.segmentation import watershed  # imported on the first map with two faces

    markers = np.zeros(relief.shape, np.int32)
    for k, seed in enumerate(seeds):
        markers[seed] = k + 1
    return watershed(-relief, markers, connectivity=2, mask=(relief > 0) | (markers > 0)).astype(np.int32)


BOX_FEATURES = ("log window width", "log window height", "log spread x", "log spread y", "log mass", "log score")


def box_features(
    r: torch.Tensor, window: torch.Tensor, score: float, level: float, cell: tuple[float, float]
) -> tuple[torch.Tensor, np.ndarray]:
    """The response-weighted centre (x, y) of a face's window in image pixels, and its
    BOX_FEATURES: the window's sides, the weighted spread about the centre along each axis (a
    cell's own extent included, so a one-cell blob has a size), the mass (summed weight over
    the weight of a full cell) and the face's score, all in pixels and logs. Weights are the
    response above box_level * score."""
    cell_h, cell_w = cell
    x0, y0, x1, y1 = (int(v) for v in window.tolist())
    weight = (r[y0:y1, x0:x1] - level * score).clamp(min=0) + 1e-12
    ys = (torch.arange(y0, y1, dtype=torch.float64) + 0.5) * cell_h
    xs = (torch.arange(x0, x1, dtype=torch.float64) + 0.5) * cell_w
    total = weight.sum()
    cx = (weight.sum(0) * xs).sum() / total
    cy = (weight.sum(1) * ys).sum() / total
    spread_x = ((weight.sum(0) * (xs - cx) ** 2).sum() / total + cell_w**2 / 12).sqrt()
    spread_y = ((weight.sum(1) * (ys - cy) ** 2).sum() / total + cell_h**2 / 12).sqrt()
    mass = total * cell_h * cell_w / max(score * (1 - level), 1e-12)
    features = torch.stack([torch.tensor((x1 - x0) * cell_w), torch.tensor((y1 - y0) * cell_h), spread_x, spread_y,
                            mass.sqrt(), torch.tensor(max(score, 1e-12))]).log()  # fmt: skip
    return torch.stack([cx, cy]), features.numpy()


def fit_box_model(responses: Responses, localizer: Localizer) -> Localizer:
    """`localizer` with a box_model fitted by least squares on images with one known face box:
    log width and log height against [1, *box_features] of the best face found, over the images
    whose best face's window centre lies in the box (a face found elsewhere says nothing about
    the size). Needs at least 4 * (len(BOX_FEATURES) + 1) such faces."""
    rows, targets = [], []
    for r, box, has_face, size in zip(responses.maps, responses.boxes, responses.has_face, responses.sizes,
                                      strict=True):  # fmt: skip
        if not has_face:
            continue
        r = _as_map(r)
        found, (cell_h, cell_w, _, _) = localizer.faces(r, size)
        if not found:
            continue
        window, score, r = found[0]
        centre, features = box_features(r, window, score, localizer.box_level, (cell_h, cell_w))
        gt = box.double()
        if not (gt[0] <= centre[0] < gt[2] and gt[1] <= centre[1] < gt[3]):
            continue
        rows.append(np.concatenate([[1.0], features]))
        targets.append(np.log((gt[2:] - gt[:2]).clamp(min=1.0).numpy()))
    need = 4 * (len(BOX_FEATURES) + 1)
    if len(rows) < need:
        raise ValueError(f"fitting a box model needs {need} found faces with known boxes, got {len(rows)}")
    coef, *_ = np.linalg.lstsq(np.array(rows), np.array(targets), rcond=None)  # (features + 1, 2)
    return dataclasses.replace(localizer, box_model=tuple(tuple(map(float, c)) for c in coef.T))


def _intersection(window: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """The area of a window (4,) [x0, y0, x1, y1] inside each of `others` (k, 4): (k,)."""
    lo = torch.maximum(window[:2], others[:, :2])
    hi = torch.minimum(window[2:], others[:, 2:])
    return (hi - lo).clamp(min=0).prod(dim=1)


def _contains(windows: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """(P, N) whether window n contains cell (y, x) of point p."""
    w = windows.to(torch.int32)
    y, x = points[:, 0, None].to(torch.int32), points[:, 1, None].to(torch.int32)
    return (w[None, :, 0] <= x) & (x < w[None, :, 2]) & (w[None, :, 1] <= y) & (y < w[None, :, 3])


def calibrate_threshold(
    face_scores: Sequence[float] | np.ndarray,
    background_scores: Sequence[float] | np.ndarray,
    rule: str = "balanced",
) -> float:
    """The threshold that best separates the score histograms of face and face-free images.

    An image counts as a detection when its score is > threshold. Candidates are the midpoints
    between consecutive distinct scores (plus one below all and one at the top), so a clean
    separation gives the midpoint of the gap. The error minimised is, for rule "balanced", the
    mean of the miss rate on face images and the false-alarm rate on face-free images
    (insensitive to how many of each were scored), or for rule "count" the number of wrong
    images. Among equal-error candidates the middle one of the first run is taken.
    """
    if rule not in ("balanced", "count"):
        raise ValueError(f"rule must be 'balanced' or 'count', not {rule!r}")
    face = np.sort(np.asarray(face_scores, dtype=np.float64).reshape(-1))
    back = np.sort(np.asarray(background_scores, dtype=np.float64).reshape(-1))
    if len(face) == 0 or len(back) == 0:
        raise ValueError(
            f"need scores of both kinds, got {len(face)} face and {len(back)} face-free"
        )
    if not (np.isfinite(face).all() and np.isfinite(back).all()):
        raise ValueError("scores must be finite")
    values = np.unique(np.concatenate([face, back]))
    below = values[0] - max(1.0, abs(values[0])) * 1e-3
    candidates = np.concatenate([[below], (values[:-1] + values[1:]) / 2, [values[-1]]])
    misses = np.searchsorted(face, candidates, side="right")  # face scores <= t
    alarms = len(back) - np.searchsorted(back, candidates, side="right")  # background > t
    if rule == "balanced":
        error = misses / len(face) + alarms / len(back)
    else:
        error = (misses + alarms).astype(np.float64)
    best = np.isclose(error, error.min(), rtol=0, atol=1e-12)
    first = int(np.argmax(best))
    run_end = first + (
        int(np.argmin(best[first:])) if not best[first:].all() else len(best) - first
    )
    return float(candidates[(first + run_end - 1) // 2])


@dataclass
class Responses:
    """A model's response maps over a loader's images, with what scoring them needs."""

    maps: torch.Tensor  # (N, H', W')
    boxes: torch.Tensor  # (N, 4) ground truth in image pixels (NaN for face-free images)
    has_face: torch.Tensor  # (N,) bool
    sizes: list[tuple[int, int]]  # (H, W) of each image


@torch.no_grad()
def collect_responses(model: torch.nn.Module, loader: Iterable[dict | None], device: torch.device | str = "cpu") -> Responses:
    """Run a model whose forward returns {"response": (B, H', W')} over batches with "image",
    "box" and optionally "has_face" (ComposedScenes; images without the key count as faces)."""
    was_training = model.training
    model.eval()
    responses, boxes, has_face, sizes = [], [], [], []
    try:
        for batch in loader:
            if batch is None:  # every image of the batch was unreadable
                continue
            image = batch["image"]
            responses.append(model(image.to(device))["response"].float().cpu())
            boxes.append(batch["box"].float().cpu())
            flags = batch.get("has_face", torch.ones(len(image)))
            has_face.append(torch.as_tensor(flags).bool().cpu())
            sizes += [tuple(image.shape[-2:])] * len(image)
    finally:
        model.train(was_training)
    if not responses:
        raise ValueError("the loader gave no images")
    return Responses(torch.cat(responses), torch.cat(boxes), torch.cat(has_face), sizes)


def score_localization(
    responses: Responses, localizer: Localizer | None = None, iou: float = 0.5, calibrate: bool | None = None
) -> dict[str, float]:
    """Detection quality of a localizer on collected responses.

    localizer: the settings to use (default: Localizer(threshold=0.0)). calibrate (default: when
    no localizer is given): replace its threshold by one calibrated here from the scores of the
    face and face-free images under those same settings (optimistic: tuned on the data it is
    scored on); with no face-free image the threshold is kept, and "calibrated" says which
    happened. Returns recall, mean_iou and false_positives_per_image on face images (one
    ground-truth box each), empty_image_rate on face-free ones (NaN when none), peak_in_box (how
    often the map's maximum lies in the box), threshold, calibrated, n_faces and n_empty.
    """
    maps, gt, face, sizes = responses.maps, responses.boxes, responses.has_face, responses.sizes
    calibrate = localizer is None if calibrate is None else calibrate
    localizer = Localizer(threshold=0.0) if localizer is None else localizer
    calibrated = False
    if calibrate and face.any() and (~face).any():
        scores = torch.tensor([localizer.score(m, s) for m, s in zip(maps, sizes, strict=True)])
        threshold = calibrate_threshold(scores[face], scores[~face])
        localizer = dataclasses.replace(localizer, threshold=threshold)  # the caller's is kept
        calibrated = True
    detections = [localizer(m, s) for m, s in zip(maps, sizes, strict=True)]
    out: dict[str, float] = {"threshold": float(localizer.threshold), "calibrated": float(calibrated)}
    out |= score_detections(detections, [b.numpy() for b in gt], face.tolist(), iou)
    faces = torch.nonzero(face).flatten().tolist()
    if faces:
        out["peak_in_box"] = float(np.mean([_peak_in_box(maps[i], gt[i], sizes[i]) for i in faces]))
    return out


def score_detections(detections: Sequence[Sequence[Detection]], boxes: Sequence[np.ndarray],
                     has_face: Sequence[bool], iou: float = 0.5) -> dict[str, float]:  # fmt: skip
    """recall, mean_iou and false_positives_per_image over the images with a face (one true box
    each), empty_image_rate over the face-free ones (NaN when none), n_faces and n_empty."""
    from lnet_anet.metrics.detection import empty_image_rate, match_detections

    faces = [i for i, f in enumerate(has_face) if f]
    empties = [i for i, f in enumerate(has_face) if not f]
    out: dict[str, float] = {}
    if faces:
        out |= match_detections([detections[i] for i in faces], [boxes[i] for i in faces], iou=iou)
    out["empty_image_rate"] = empty_image_rate([detections[i] for i in empties]) if empties else float("nan")
    out.pop("n_images", None)
    out["n_faces"], out["n_empty"] = float(len(faces)), float(len(empties))
    return out


def evaluate_localization(
    model: torch.nn.Module,
    loader: Iterable[dict | None],
    device: torch.device | str = "cpu",
    localizer: Localizer | None = None,
    iou: float = 0.5,
    calibrate: bool | None = None,
) -> dict[str, float]:
    """score_localization of a model's responses over a loader (see both)."""
    return score_localization(collect_responses(model, loader, device), localizer, iou, calibrate)


def _peak_in_box(response: torch.Tensor, box: torch.Tensor, image_size: tuple[int, int]) -> bool:
    """Whether the centre of the map's maximum cell lies inside the box (image pixels)."""
    height, width = response.shape
    y, x = divmod(int(torch.argmax(response)), width)
    px = (x + 0.5) * image_size[1] / width
    py = (y + 0.5) * image_size[0] / height
    return bool(box[0] <= px < box[2] and box[1] <= py < box[3])


__all__ = [
    "Detection",
    "Localizer",
    "Responses",
    "collect_responses",
    "evaluate_localization",
    "score_detections",
    "score_localization",
    "BOX_FEATURES",
    "box_features",
    "box_iou",
    "calibrate_threshold",
    "fit_box_model",
    "find_peaks",
    "shape_range",
    "shape_scores",
    "window_scores",
    "window_shapes",
]
