"""Backgrounds, aligned faces and scenes of several faces."""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

import cv2
import numpy as np

from lnet_anet.data.synthetic.drawing import (
    _layout,
    draw_face,
)
from lnet_anet.data.synthetic.faces import (
    _SUPERSAMPLE,
    FaceSpec,
    _clutter_color,
)

# --------------------------------------------------------------------------- scenes


def draw_background(
    rng: np.random.Generator, width: int, height: int, clutter: float = 1.0
) -> np.ndarray:
    """A face-free RGB uint8 image: gradient or texture base plus `clutter`-scaled random shapes.

    Colours avoid skin, hair and lip hues so that nothing in the background reads as a face.
    """
    img = _background_base(rng, width, height)
    n = int(round(clutter * rng.integers(8, 26)))
    side = min(width, height)
    for _ in range(n):
        color = _clutter_color(rng)
        kind = rng.integers(5)
        x, y = rng.uniform(-0.1, 1.1, 2) * (width, height)
        size = side * rng.uniform(0.04, 0.4)
        if kind == 0:  # rectangle, filled or outline
            p0 = (int(x), int(y))
            p1 = (int(x + size * rng.uniform(0.3, 1.5)), int(y + size * rng.uniform(0.3, 1.5)))
            th = -1 if rng.random() < 0.6 else int(rng.integers(1, 5))
            cv2.rectangle(img, p0, p1, color, th, cv2.LINE_AA)
        elif kind == 1:  # random polygon
            k = int(rng.integers(3, 7))
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            rad = size * rng.uniform(0.4, 1.0, k)
            pts = np.stack([x + rad * np.cos(ang), y + rad * np.sin(ang)], 1).astype(np.int32)
            cv2.fillPoly(img, [pts], color, cv2.LINE_AA)
        elif kind == 2:  # lines
            for _ in range(int(rng.integers(1, 5))):
                q = rng.uniform(0, 1, 2) * (width, height)
                cv2.line(
                    img,
                    (int(x), int(y)),
                    (int(q[0]), int(q[1])),
                    color,
                    int(rng.integers(1, 6)),
                    cv2.LINE_AA,
                )
        elif kind == 3:  # ring or disc (round, but never with eyes in it)
            th = -1 if rng.random() < 0.4 else int(rng.integers(2, 8))
            cv2.circle(img, (int(x), int(y)), int(size * 0.5), color, th, cv2.LINE_AA)
        else:  # arc
            cv2.ellipse(
                img,
                (int(x), int(y)),
                (int(size), int(size * rng.uniform(0.2, 1))),
                float(rng.uniform(0, 180)),
                0,
                float(rng.uniform(60, 240)),
                color,
                int(rng.integers(2, 7)),
                cv2.LINE_AA,
            )
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 2.0))
    return img


def _background_base(
    rng: np.random.Generator, width: int, height: int, calm: bool = False
) -> np.ndarray:
    """Gradient, smooth noise, stripes or checkerboard in one safe hue (`calm`: the first two)."""
    h, s = _safe_hue(rng), rng.uniform(0.0, 0.7)
    kind = rng.integers(2 if calm else 4)
    xx, yy = _grid(width, height)
    if kind == 0:  # linear gradient in value
        a = rng.uniform(0, 2 * np.pi)
        d = (xx * math.cos(a) + yy * math.sin(a)) / max(width, height)
        v = rng.uniform(0.2, 0.9) + rng.uniform(-0.5, 0.5) * (d - d.mean())
    elif kind == 1:  # smooth noise texture
        k = int(rng.integers(3, 9))
        v = cv2.resize(
            rng.uniform(0.15, 0.95, (k, k)).astype(np.float32),
            (width, height),
            interpolation=cv2.INTER_CUBIC,
        )
    elif kind == 2:  # stripes
        a, f = rng.uniform(0, np.pi), rng.uniform(0.05, 0.4)
        v = 0.55 + 0.3 * np.sign(np.sin((xx * math.cos(a) + yy * math.sin(a)) * f))
    else:  # checkerboard
        c = int(rng.integers(6, 30))
        v = 0.35 + 0.4 * (((xx // c) + (yy // c)) % 2)
    v8 = (np.broadcast_to(np.clip(v, 0.05, 1.0), (height, width)) * 255 + 0.5).astype(np.uint8)
    unit = np.array(colorsys.hsv_to_rgb(h / 360, s, 1.0))  # RGB is linear in V at fixed H, S
    lut = (np.arange(256)[:, None, None] * unit[None, None, :] + 0.5).astype(np.uint8)
    return cv2.LUT(cv2.cvtColor(v8, cv2.COLOR_GRAY2RGB), lut)


def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Broadcastable pixel coordinates: x (1, width), y (height, 1), float32."""
    return (
        np.arange(width, dtype=np.float32)[None, :],
        np.arange(height, dtype=np.float32)[:, None],
    )


def _safe_hue(rng: np.random.Generator) -> float:
    return float(rng.uniform(55, 320))  # degrees, away from skin/hair/lip reds and oranges


def _finish(img: np.ndarray, rng: np.random.Generator, blur_sigma: float = 0.0) -> np.ndarray:
    """Lighting (gain and gradient, no tint: greys must not turn skin-coloured), optional blur and
    sensor noise; returns uint8 RGB."""
    h, w = img.shape[:2]
    xx, yy = _grid(w, h)
    a = rng.uniform(0, 2 * np.pi)
    grad = ((xx - w / 2) * math.cos(a) + (yy - h / 2) * math.sin(a)) / max(h, w)
    gain = rng.uniform(0.82, 1.12) + rng.uniform(0.0, 0.3) * grad
    out = img.astype(np.float32) * gain[..., None]
    if blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur_sigma)
    out += rng.uniform(1.0, 3.5) * rng.standard_normal(out.shape, dtype=np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _size(size: int | Sequence[int]) -> tuple[int, int]:
    w, h = (size, size) if isinstance(size, int) else tuple(size)
    if w < 16 or h < 16:
        raise ValueError(f"image size must be at least 16x16 pixels, got {w}x{h}")
    return int(w), int(h)


def render_aligned(
    spec: FaceSpec, size: int | Sequence[int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """An aligned, centred face like CelebA's crops: (RGB uint8 image, landmarks (5, 2))."""
    w, h = _size(size)
    ss = _SUPERSAMPLE
    canvas = _background_base(rng, w * ss, h * ss, calm=True)
    if rng.random() < 0.5:  # mildly cluttered: a few faint shapes
        clutter = draw_background(rng, w * ss, h * ss, clutter=0.4)
        canvas = cv2.addWeighted(canvas, 0.8, clutter, 0.2, 0.0)
    scale = 0.3 * min(w, h) * rng.uniform(0.97, 1.03)
    center = (
        w / 2 + rng.uniform(-0.015, 0.015) * w,
        h * 0.5 + (0.06 + rng.uniform(-0.015, 0.015)) * scale,
    )
    marks, _ = draw_face(canvas, spec, np.asarray(center) * ss, scale * ss, rng.uniform(-3, 3))
    img = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA)
    blur = spec.blur_sigma * scale if spec.has("Blurry") else 0.0
    return _finish(img, rng, blur), marks / ss


def render_scene(
    spec: FaceSpec,
    size: int | Sequence[int],
    rng: np.random.Generator,
    others: Sequence[FaceSpec] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An in-the-wild scene: `spec`'s face at a random place and scale (box side 15-70% of the
    canvas side) on clutter, plus smaller faces for `others` where they fit without overlap.

    Returns (RGB uint8 image, boxes (n, 4) float x0 y0 x1 y1 with the main face first,
    main-face landmarks (5, 2)).
    """
    w, h = _size(size)
    ss = _SUPERSAMPLE
    canvas = draw_background(rng, w * ss, h * ss)
    side = min(w, h)
    frac = rng.uniform(0.15, 0.7)
    placements = [_place(spec, frac * side, w, h, rng, taken=[])]
    for other in others:
        for _ in range(30):  # a smaller face somewhere the main person does not cover
            p = _place(other, frac * side * rng.uniform(0.45, 0.85), w, h, rng, taken=placements)
            if p is not None:
                placements.append(p)
                break
    boxes, marks = [], None
    for (center, scale, angle), s in zip(placements, [spec, *others], strict=False):
        m, box = draw_face(canvas, s, np.asarray(center) * ss, scale * ss, angle)
        boxes.append(np.clip(box / ss, 0, [w, h, w, h]))
        marks = m / ss if marks is None else marks
    img = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA)
    blur = spec.blur_sigma * placements[0][1] if spec.has("Blurry") else 0.0
    return _finish(img, rng, blur), np.array(boxes), marks


def _place(
    spec: FaceSpec, box_side: float, w: int, h: int, rng: np.random.Generator, taken: list
) -> tuple | None:
    """Centre, scale and angle so the head box (its longer side = box_side) lies in the image and,
    when `taken` is given, clear of the people already placed (head box and body below it)."""
    angle = float(rng.uniform(-15, 15))
    fw = _layout(spec).w
    t = math.radians(angle)
    ext_x = math.sqrt((fw * math.cos(t)) ** 2 + math.sin(t) ** 2)
    ext_y = math.sqrt((fw * math.sin(t)) ** 2 + math.cos(t) ** 2)
    scale = box_side / (2 * max(ext_x, ext_y))
    hx, hy = ext_x * scale, ext_y * scale
    if 2 * hx >= w or 2 * hy >= h:
        scale *= 0.95 * min(w / (2 * hx), h / (2 * hy))
        hx, hy = ext_x * scale, ext_y * scale
    cx, cy = rng.uniform(hx, w - hx), rng.uniform(hy, h - hy)
    for c2, s2, _ in taken:
        if not (_clear((cx, cy), scale, c2, s2) and _clear(c2, s2, (cx, cy), scale)):
            return None
    return (cx, cy), scale, angle


def _clear(c: Sequence[float], s: float, c2: Sequence[float], s2: float) -> bool:
    """Whether the head at (c, s) is clear of person (c2, s2): its hair, hat and shoulders."""
    x0, x1, y1 = c[0] - s, c[0] + s, c[1] + s  # the person (c2, s2) reaches down off the image
    px0, py0, px1 = c2[0] - 2.1 * s2, c2[1] - 1.6 * s2, c2[0] + 2.1 * s2
    return x1 < px0 or x0 > px1 or y1 < py0
