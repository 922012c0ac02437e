"""Drawing a sampled face with OpenCV primitives, one visual cue per label."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from lnet_anet.data.synthetic.faces import (
    _SHIFT,
    GREY_HAIR,
    RGB,
    FaceSpec,
)

# --------------------------------------------------------------------------- drawing


class _Pen:
    """Draws in a face's canonical frame onto an RGB uint8 image.

    Canonical frame: head centre at (0, 0), head half-height 1 (chin at y=+1), y down;
    `scale` is pixels per unit and `angle` rotates the frame (degrees, clockwise on screen).
    """

    def __init__(self, img: np.ndarray, center: Sequence[float], scale: float, angle: float):
        self.img, self.center, self.scale, self.angle = img, np.asarray(center, float), scale, angle
        t = math.radians(angle)
        self._m = scale * np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])

    def to_px(self, pts: np.ndarray | Sequence) -> np.ndarray:
        return np.asarray(pts, float).reshape(-1, 2) @ self._m.T + self.center

    def _fix(self, pts) -> np.ndarray:
        return np.round(self.to_px(pts) * (1 << _SHIFT)).astype(np.int32)

    def _px(self, length: float) -> int:
        return max(1, round(length * self.scale))

    def ellipse(self, c, axes, color, angle=0.0, start=0.0, end=360.0, thickness: float = -1):
        p = self._fix([c])[0]
        ax = (max(1, round(axes[0] * self.scale * 16)), max(1, round(axes[1] * self.scale * 16)))
        th = -1 if thickness < 0 else self._px(thickness)
        cv2.ellipse(
            self.img,
            (int(p[0]), int(p[1])),
            ax,
            angle + self.angle,
            start,
            end,
            tuple(map(float, color)),
            th,
            cv2.LINE_AA,
            _SHIFT,
        )

    def circle(self, c, r, color, thickness: float = -1):
        self.ellipse(c, (r, r), color, thickness=thickness)

    def poly(self, pts, color):
        cv2.fillPoly(self.img, [self._fix(pts)], tuple(map(float, color)), cv2.LINE_AA, _SHIFT)

    def line(self, pts, color, thickness: float, closed: bool = False):
        cv2.polylines(
            self.img,
            [self._fix(pts)],
            closed,
            tuple(map(float, color)),
            self._px(thickness),
            cv2.LINE_AA,
            _SHIFT,
        )

    @contextmanager
    def translucent(self, alpha: float) -> Iterator[_Pen]:
        """Draw on a copy, then blend it in with weight `alpha` (make-up, wrinkles, shading)."""
        layer = self.img.copy()
        yield _Pen(layer, self.center, self.scale, self.angle)
        cv2.addWeighted(layer, alpha, self.img, 1.0 - alpha, 0.0, dst=self.img)


def _shade(color: RGB | np.ndarray, f: float | Sequence[float]) -> RGB:
    fs = (f, f, f) if isinstance(f, (int, float)) else f
    return tuple(min(255.0, max(0.0, float(c) * float(k))) for c, k in zip(color, fs, strict=True))


@dataclass(frozen=True)
class _Layout:
    """Canonical positions of the facial features for one FaceSpec."""

    outline: np.ndarray  # head outline polygon
    w: float
    eye_y: float
    eye_dx: float
    eye_rx: float
    eye_ry: float
    brow_y: float
    nose_y: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    hairline: float
    dx: float  # yaw shift of eyes and mouth
    dx_nose: float
    wrinkles: float  # 0 (young) .. 1 (very old)


def _head_outline(w: float, jaw_power: float, n: int = 72) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    p = np.where(s > 0, jaw_power, 2.0)  # squarer jaw only below the eye line
    x = w * np.sign(c) * np.abs(c) ** (2 / p)
    y = np.sign(s) * np.abs(s) ** (2 / p)
    return np.stack([x, y], 1)


def _layout(spec: FaceSpec) -> _Layout:
    p = spec.person
    g = float(np.clip((spec.age - 2) / 16, 0, 1))  # growth: children have low eyes, small features
    old = float(np.clip((spec.age - 40) / 45, 0, 1))  # sagging: wider lower face, smaller eyes
    w = p.face_width + 0.06 * (1 - g) + 0.05 * old
    jaw = 2.0 + (p.jaw_power - 2.0) * g
    eye_y = -0.06 + p.eye_level + 0.16 * (1 - g)
    nose_y = eye_y + (0.36 + p.nose_length) * (0.78 + 0.22 * g)
    return _Layout(
        outline=_head_outline(w, jaw),
        w=w,
        eye_y=eye_y,
        eye_dx=p.eye_spacing,
        eye_rx=0.115 + 0.035 * (1 - g),
        eye_ry=p.eye_open * (1 + 0.35 * (1 - g) - 0.2 * old) * (0.8 if spec.smile > 0.5 else 1.0),
        brow_y=eye_y - 0.15 - 0.4 * p.brow_arch,
        nose_y=nose_y,
        nose_w=p.nose_width * (0.7 + 0.3 * g),
        mouth_y=nose_y + 0.23 * (0.8 + 0.2 * g),
        mouth_w=(0.19 + 0.09 * spec.smile) * (0.75 + 0.25 * g),
        hairline=-0.8 if spec.has("Receding_Hairline") else -0.6,
        dx=0.09 * spec.yaw,
        dx_nose=0.16 * spec.yaw,
        wrinkles=float(np.clip((spec.age - 25) / 45, 0, 1)),
    )


def draw_face(
    img: np.ndarray, spec: FaceSpec, center: Sequence[float], scale: float, angle: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a person (hair, head, neck, shoulders) onto `img` in place.

    `center` is the head centre in pixels, `scale` the head half-height in pixels. Returns
    (landmarks (5, 2): left eye, right eye, nose, left and right mouth corner in image
    left/right; box (4,): x0, y0, x1, y1 of the head outline), both in pixels.
    """
    pen = _Pen(img, center, scale, angle)
    lay = _layout(spec)
    rng = np.random.default_rng(spec.detail_seed)
    hairy = not spec.has("Bald")
    if hairy and spec.person.long_hair:
        _draw_back_hair(pen, spec, lay, rng)
    _draw_body(pen, spec, lay)
    _draw_head(pen, spec, lay)
    _draw_age_and_beard(pen, spec, lay, rng)
    _draw_cheeks(pen, spec, lay)
    _draw_nose(pen, spec, lay)
    _draw_eyes(pen, spec, lay)
    _draw_mouth(pen, spec, lay)
    if hairy:
        _draw_hair(pen, spec, lay, rng)
    elif spec.age > 45:
        _draw_bald_fringe(pen, spec, lay)
    if spec.has("Wearing_Earrings"):
        _draw_earrings(pen, spec, lay)
    if spec.has("Eyeglasses"):
        _draw_glasses(pen, spec, lay)
    if spec.has("Wearing_Hat"):
        _draw_hat(pen, spec, lay)
    marks = pen.to_px(
        [
            (-lay.eye_dx + lay.dx, lay.eye_y),
            (lay.eye_dx + lay.dx, lay.eye_y),
            (lay.dx_nose, lay.nose_y),
            (-lay.mouth_w + lay.dx, lay.mouth_y - 0.11 * spec.smile),
            (lay.mouth_w + lay.dx, lay.mouth_y - 0.11 * spec.smile),
        ]
    )
    head = pen.to_px(lay.outline)
    box = np.array([head[:, 0].min(), head[:, 1].min(), head[:, 0].max(), head[:, 1].max()])
    return marks, box


def _draw_back_hair(pen: _Pen, spec: FaceSpec, lay: _Layout, rng: np.random.Generator) -> None:
    hair, w = spec.hair_rgb, lay.w
    wavy = spec.person.hair_texture == "wavy"
    length = 1.15 + 0.35 * (spec.detail_seed % 3) / 2
    t = np.linspace(np.pi, 2 * np.pi, 25)
    top = np.stack([(w + 0.16) * np.cos(t), -0.05 + 1.13 * np.sin(t)], 1)
    ys = np.linspace(-0.05, length, 14)
    wave = 0.06 * np.sin(ys * 9) if wavy else 0.0
    right = np.stack([w + 0.16 + 0.12 * (ys + 0.05) / length + wave, ys], 1)
    left = np.stack([-(w + 0.16 + 0.12 * (ys + 0.05) / length) + wave, ys], 1)[::-1]
    pen.poly(
        np.concatenate([left, top, right, [(0.4 * w, length + 0.05), (-0.4 * w, length + 0.05)]]),
        _shade(hair, 0.82),
    )


def _draw_body(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    skin, male = spec.person.skin, spec.person.male
    neck_w = 0.36 if male else 0.3
    pen.poly(
        [(-neck_w, 0.4), (neck_w, 0.4), (neck_w * 1.1, 1.5), (-neck_w * 1.1, 1.5)],
        _shade(skin, 0.86),
    )
    sw = 1.75 if male else 1.5  # shoulders, torso down past the image edge
    t = np.linspace(np.pi, 2 * np.pi, 17)
    top = np.stack([sw * np.cos(t), 1.75 + 0.45 * np.sin(t)], 1)
    pen.poly(np.concatenate([[(-sw - 0.1, 6.0)], top, [(sw + 0.1, 6.0)]]), spec.clothing)
    if spec.has("Wearing_Necktie"):
        pen.poly([(-0.42, 1.38), (0.42, 1.38), (0.0, 2.3)], (238, 238, 236))  # shirt front
        pen.line(
            [(-0.42, 1.38), (-0.08, 1.62), (0.0, 1.45), (0.08, 1.62), (0.42, 1.38)],
            (150, 150, 150),
            0.025,
        )
        tie = spec.tie_rgb
        pen.poly([(-0.09, 1.42), (0.09, 1.42), (0.06, 1.56), (-0.06, 1.56)], _shade(tie, 0.8))
        pen.poly([(-0.06, 1.56), (0.06, 1.56), (0.13, 2.25), (0.0, 2.4), (-0.13, 2.25)], tie)
    else:
        pen.ellipse((0, 1.38), (0.58 if male else 0.66, 0.2 if male else 0.3), _shade(skin, 0.86))
    if spec.has("Wearing_Necklace"):
        pen.ellipse((0, 1.12), (neck_w * 1.35, 0.42), spec.necklace_rgb, 0, 25, 155, 0.028)
        pen.circle((0, 1.56), 0.05, spec.necklace_rgb)


def _draw_head(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    skin, w = spec.person.skin, lay.w
    ear = 1 + 0.3 * float(np.clip((spec.age - 30) / 50, 0, 1))  # ears keep growing with age
    for side in (-1, 1):
        c = (side * (w - 0.01), lay.eye_y + 0.12 + 0.04 * (ear - 1))
        pen.ellipse(c, (0.1 * ear, 0.17 * ear), _shade(skin, 0.9))
    if spec.has("Double_Chin"):  # a fold of skin below the jaw line
        pen.ellipse((0, 0.99), (0.42, 0.17), _shade(skin, 0.94))
    pen.poly(lay.outline, skin)
    if spec.has("Double_Chin"):
        pen.ellipse((0, 0.9), (0.36, 0.16), _shade(skin, 0.62), 0, 25, 155, 0.04)


def _lower_face(lay: _Layout, y_cut: float, inset: float = 0.0) -> np.ndarray:
    pts = lay.outline * (1 - inset)
    return pts[pts[:, 1] > y_cut]


def _draw_age_and_beard(pen: _Pen, spec: FaceSpec, lay: _Layout, rng: np.random.Generator) -> None:
    skin, k = spec.person.skin, lay.wrinkles
    line = _shade(skin, 0.56)
    if k > 0:  # lines thick enough to survive downsampling to CelebA-like crop sizes
        with pen.translucent(0.3 + 0.6 * k) as t:
            for i in range(int(round(1 + 3 * k))):  # forehead lines
                y = lay.brow_y - 0.1 - 0.075 * i
                t.ellipse((lay.dx, y + 0.25), (0.28 + 0.03 * i, 0.25), line, 0, 235, 305, 0.028)
            for side in (-1, 1):
                x0 = side * (lay.nose_w + 0.03) + lay.dx
                fold = [(x0, lay.nose_y - 0.03), (x0 + side * 0.09, lay.mouth_y - 0.02),
                        (side * (lay.mouth_w + 0.07) + lay.dx, lay.mouth_y + 0.1)]  # fmt: skip
                t.line(fold, line, 0.028)  # nasolabial fold
                if spec.age > 40:  # crow's feet
                    ex = side * (lay.eye_dx + lay.eye_rx + 0.03) + lay.dx
                    for d in (-0.045, 0.0, 0.045):
                        t.line([(ex, lay.eye_y + d), (ex + side * 0.09, lay.eye_y + 1.7 * d)],
                               line, 0.024)  # fmt: skip
                if spec.age > 55:  # marionette lines
                    mx = side * (lay.mouth_w + 0.02) + lay.dx
                    t.line([(mx, lay.mouth_y + 0.04), (mx + side * 0.05, lay.mouth_y + 0.26)],
                           line, 0.028)  # fmt: skip
    if spec.has("Bags_Under_Eyes"):
        with pen.translucent(0.8) as t:  # dark puffy crescents under the eyes
            for side in (-1, 1):
                c = (side * lay.eye_dx + lay.dx, lay.eye_y + 0.02)
                dark = _shade(skin, (0.62, 0.55, 0.64))
                t.ellipse(c, (lay.eye_rx * 0.95, lay.eye_ry + 0.08), dark, 0, 15, 165, 0.035)
                t.ellipse(
                    c, (lay.eye_rx * 0.8, lay.eye_ry + 0.05), _shade(skin, 0.82), 0, 25, 155, 0.03
                )
    beard_rgb = _shade(spec.hair_rgb, 0.85)
    if spec.has("5_o_Clock_Shadow"):
        region = _lower_face(lay, lay.nose_y + 0.06, inset=0.02)
        region = np.concatenate([region, [(region[-1, 0], lay.nose_y + 0.06)]])
        with pen.translucent(0.35) as t:
            t.poly(region, _shade(skin, (0.55, 0.58, 0.66)))
        with pen.translucent(0.5) as t:
            xs = rng.uniform(-lay.w, lay.w, 400)
            ys = rng.uniform(lay.nose_y + 0.08, 0.97, 400)
            for x, y in zip(xs, ys, strict=True):
                if (x / lay.w) ** 2 + y**2 < 0.88:
                    t.circle((x, y), 0.007, _shade(skin, 0.4))
    if spec.person.beard == "full" and not spec.has("No_Beard"):
        region = _lower_face(lay, lay.nose_y - 0.02)
        pen.poly(np.concatenate([region, [(lay.w * 0.9, lay.nose_y - 0.02)]]), beard_rgb)
    if spec.has("Goatee"):
        top = lay.mouth_y + 0.08
        goatee = [
            (lay.dx - 0.1, top),
            (lay.dx + 0.1, top),
            (lay.dx * 0.5 + 0.15, top + 0.14),
            (lay.dx * 0.3 + 0.08, 1.02),
            (lay.dx * 0.3 - 0.08, 1.02),
            (lay.dx * 0.5 - 0.15, top + 0.14),
        ]
        pen.poly(goatee, beard_rgb)


def _draw_cheeks(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    skin = spec.person.skin
    if spec.smile > 0.5:  # smile lines from the nose wings round the raised mouth corners
        with pen.translucent(0.45) as t:
            for side in (-1, 1):
                x0 = side * (lay.nose_w + 0.04) + lay.dx
                xm = side * (lay.mouth_w + 0.05) + lay.dx
                t.line(
                    [(x0, lay.nose_y - 0.04), (xm, lay.mouth_y - 0.1), (xm, lay.mouth_y + 0.04)],
                    _shade(skin, 0.66),
                    0.02,
                )
    if spec.has("High_Cheekbones"):
        with pen.translucent(0.6) as t:  # a lit ridge over a shadowed hollow
            for side in (-1, 1):
                c = (side * (lay.eye_dx + 0.1) + lay.dx, lay.eye_y + 0.2)
                lit = tuple(min(255.0, 1.15 * v + 25) for v in skin)
                t.ellipse(c, (0.15, 0.055), lit, -side * 25)
                c = (side * (lay.eye_dx + 0.1) + lay.dx, lay.eye_y + 0.33)
                t.ellipse(c, (0.15, 0.04), _shade(skin, 0.72), -side * 25)
    if spec.has("Rosy_Cheeks") or spec.has("Heavy_Makeup"):
        with pen.translucent(0.6 if spec.has("Rosy_Cheeks") else 0.3) as t:
            for side in (-1, 1):
                c = (side * (lay.eye_dx + 0.06) + lay.dx, lay.nose_y - 0.02)
                t.ellipse(c, (0.12, 0.09), (240, 80, 110))


def _draw_nose(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    skin, nw, y, x = spec.person.skin, lay.nose_w, lay.nose_y, lay.dx_nose
    dark = _shade(skin, 0.6)
    with pen.translucent(0.45) as t:  # shadow under the tip gives the nose volume
        t.ellipse((x, y + 0.02), (nw * 0.9, 0.045), _shade(skin, 0.7))
    side = 1 if spec.yaw >= 0 else -1
    pen.line(
        [(x - side * 0.06, lay.eye_y + 0.08), (x - side * 0.05, y - 0.12)], _shade(skin, 0.8), 0.018
    )
    if spec.person.pointy_nose:
        pen.line([(x - nw * 0.55, y - 0.05), (x, y + 0.025), (x + nw * 0.55, y - 0.05)], dark, 0.02)
    else:
        pen.ellipse((x, y - 0.03), (nw * 0.5, 0.045), dark, 0, 20, 160, 0.02)
    for s in (-1, 1):
        pen.ellipse((x + s * nw * 0.45, y), (0.028 + 0.12 * nw, 0.017), _shade(skin, 0.38))
        pen.ellipse(
            (x + s * nw, y - 0.03),
            (0.04, 0.05),
            dark,
            0,
            -80 if s > 0 else 100,
            80 if s > 0 else 260,
            0.018,
        )


def _draw_eyes(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    p = spec.person
    for side in (-1, 1):
        c = (side * lay.eye_dx + lay.dx, lay.eye_y)
        if spec.has("Heavy_Makeup"):
            with pen.translucent(0.6) as t:
                t.ellipse(
                    (c[0], c[1] - lay.eye_ry * 0.3),
                    (lay.eye_rx * 1.3, lay.eye_ry + 0.09),
                    spec.eyeshadow,
                    0,
                    180,
                    360,
                )
        pen.ellipse(c, (lay.eye_rx, lay.eye_ry), (238, 236, 232))
        r = min(0.055, lay.eye_rx * 0.5)
        ic = (c[0] + 0.03 * spec.yaw, c[1])
        pen.ellipse(ic, (r, min(r, lay.eye_ry)), p.iris)
        pen.ellipse(ic, (r * 0.45, min(r * 0.45, lay.eye_ry)), (15, 12, 12))
        pen.circle((ic[0] + r * 0.3, ic[1] - min(r, lay.eye_ry) * 0.35), r * 0.18, (250, 250, 250))
        lid = 0.03 if spec.has("Heavy_Makeup") else 0.016
        pen.ellipse(c, (lay.eye_rx * 1.02, lay.eye_ry * 1.05), (30, 22, 20), 0, 185, 355, lid)
        # brow: thick polyline; arched brows peak two thirds of the way out
        u = np.linspace(0, 1, 9)
        bx = side * (lay.eye_dx - lay.eye_rx * 0.95 + u * lay.eye_rx * 2.25) + lay.dx
        by = lay.brow_y + 0.02 - p.brow_arch * np.sin(np.pi * u**1.71) + 0.02 * u
        brow = _shade(spec.hair_rgb if not spec.has("Bald") else p.hair_rgb, 0.72)
        thick = p.brow_thickness * (0.8 if spec.age > 65 else 1.0)
        pen.line(np.stack([bx, by], 1), brow, thick)
        if p.bushy_eyebrows:  # extra strokes make them look bushy
            for j in range(5):
                x0 = bx[1 + j] - side * 0.01
                pen.line(
                    [(x0, by[1 + j] + 0.03), (x0 + side * 0.04, by[1 + j] - 0.035)], brow, 0.014
                )


def _draw_mouth(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    p, skin = spec.person, spec.person.skin
    mw, my, sm, gap = lay.mouth_w, lay.mouth_y, spec.smile, spec.mouth_open
    if spec.has("Wearing_Lipstick"):
        lip = spec.lipstick
    else:
        lip = _shade(skin, (0.86, 0.6, 0.62))
    thick = p.lip_thickness * (1 - 0.4 * float(np.clip((spec.age - 30) / 50, 0, 1)))
    x = np.linspace(-1, 1, 21)
    mid = my + 0.04 * sm - 0.15 * sm * x**2  # smile: corners 0.11 up (landmarks)
    hump = np.sqrt(np.clip(1 - x**2, 0, 1))
    upper_in = mid - gap * 0.35 * hump
    lower_in = mid + gap * (0.65 + 0.5 * sm) * hump
    bow = 0.012 * np.exp(-((np.abs(x) - 0.25) ** 2) / 0.02)  # cupid's bow
    upper_out = upper_in - (0.038 * thick * hump + bow * thick)
    lower_out = lower_in + 0.05 * thick * hump
    xs = x * mw + lay.dx
    if gap > 0:
        pen.poly(
            np.concatenate([np.stack([xs, upper_in], 1), np.stack([xs, lower_in], 1)[::-1]]),
            (70, 22, 28),
        )
        if sm > 0.5:  # teeth show in an open smile
            teeth_low = upper_in + gap * 0.55 * hump
            pen.poly(
                np.concatenate([np.stack([xs, upper_in], 1), np.stack([xs, teeth_low], 1)[::-1]]),
                (240, 238, 228),
            )
    pen.poly(np.concatenate([np.stack([xs, upper_out], 1), np.stack([xs, upper_in], 1)[::-1]]), lip)
    pen.poly(np.concatenate([np.stack([xs, lower_in], 1), np.stack([xs, lower_out], 1)[::-1]]), lip)
    pen.line(
        np.stack([xs, (upper_in + lower_in) / 2 if gap == 0 else upper_in], 1),
        _shade(lip, 0.55),
        0.012,
    )
    if spec.has("Mustache"):
        # from under the nose down onto the upper lip, drooping at the corners
        y_t, y_b, dx = lay.nose_y + 0.05, upper_out[10] + 0.015, lay.dx
        mustache = [
            (-mw - 0.05, y_b + 0.06),
            (-mw * 0.5, y_t),
            (0, y_t + 0.01),
            (mw * 0.5, y_t),
            (mw + 0.05, y_b + 0.06),
            (mw * 0.5, y_b),
            (0, y_b - 0.01),
            (-mw * 0.5, y_b),
        ]
        pen.poly([(x + dx, y) for x, y in mustache], _shade(spec.hair_rgb, 0.85))


def _wavy(t: np.ndarray, amp: float, freq: float) -> np.ndarray:
    return amp * np.sin(t * freq)


def _draw_hair(pen: _Pen, spec: FaceSpec, lay: _Layout, rng: np.random.Generator) -> None:
    p, hair, w = spec.person, spec.hair_rgb, lay.w
    texture = p.hair_texture
    vol = 0.13 if texture == "wavy" else (0.06 if p.male else 0.09)
    t = np.linspace(np.pi * 0.97, np.pi * 2.03, 40)
    r = 1.0 + vol + (_wavy(t, 0.035, 14) if texture == "wavy" else 0.0)
    outer = np.stack([(w / 1.0 + vol) * np.cos(t) * r / (1 + vol), -0.02 + r * np.sin(t)], 1)
    temple_y = lay.eye_y - (0.12 if p.male else 0.0)
    hl = lay.hairline
    if spec.has("Bangs"):  # a jagged fringe down to the brows
        xs = np.linspace(w * 0.98, -w * 0.98, 15)
        ys = lay.brow_y - 0.04 + np.where(np.arange(15) % 2 == 0, 0.0, -0.06)
        inner = np.stack([xs, ys], 1)
        inner = np.concatenate([[(w * 1.0, temple_y)], inner, [(-w * 1.0, temple_y)]])
    elif spec.has("Receding_Hairline"):
        inner = np.array(
            [
                (w * 0.98, temple_y - 0.1),
                (w * 0.62, hl + 0.04),
                (w * 0.3, hl - 0.05),
                (0, hl + 0.05),
                (-w * 0.3, hl - 0.05),
                (-w * 0.62, hl + 0.04),
                (-w * 0.98, temple_y - 0.1),
            ]
        )
    else:
        side = 1 if spec.detail_seed % 2 else -1  # side parting
        inner = np.array(
            [
                (w * 0.99, temple_y),
                (w * 0.72, hl + 0.12),
                (w * 0.35, hl + 0.01 * side),
                (0, hl - 0.02),
                (-w * 0.35, hl - 0.01 * side),
                (-w * 0.72, hl + 0.12),
                (-w * 0.99, temple_y),
            ]
        )
    cap = np.concatenate([outer, inner])
    pen.poly(cap, hair)
    # strands: direction depends on texture, both shades give the hair some depth
    lo, hi = _shade(hair, 0.68), _shade(hair, 1.25) if max(hair) < 200 else _shade(hair, 0.9)
    n = 9 if texture == "plain" else 14
    for i in range(n):
        a = np.pi * (1.1 + 0.8 * i / (n - 1))
        x0, y0 = (w + vol * 0.6) * math.cos(a), -0.02 + (1 + vol * 0.6) * math.sin(a)
        x1, y1 = 0.45 * x0, hl - 0.02 + 0.15 * abs(x0)
        s = np.linspace(0, 1, 8)
        xs, ys = x0 + (x1 - x0) * s, y0 + (y1 - y0) * s
        if texture == "wavy":
            xs = xs + 0.035 * np.sin(s * 9 + i)
        elif texture == "plain":
            ys = ys - 0.05 * np.sin(s * np.pi)
        color = lo if i % 2 == 0 else hi
        pen.line(np.stack([xs, ys], 1), color, 0.018)
    if spec.grey_share > 0:  # grey streaks become visible before the hair turns grey
        with pen.translucent(min(1.0, 0.3 + spec.grey_share)) as tl:
            for _ in range(int(3 + 8 * spec.grey_share)):
                a = np.pi * rng.uniform(1.1, 1.9)
                x0, y0 = (w + vol * 0.5) * math.cos(a), -0.02 + (1 + vol * 0.5) * math.sin(a)
                tl.line([(x0, y0), (0.5 * x0, hl + 0.05)], GREY_HAIR, 0.022)
    if p.long_hair:  # side locks frame the face and fall onto the shoulders
        length = 1.15 + 0.35 * (spec.detail_seed % 3) / 2
        for s in (-1, 1):
            ys = np.linspace(temple_y - 0.2, length, 12)
            wave = _wavy(ys, 0.04, 9) if texture == "wavy" else 0.0
            inner_x = s * (w - 0.05 + 0.1 * np.clip(ys, 0, None)) + wave
            outer_x = s * (w + 0.14 + 0.15 * np.clip(ys, 0, None)) + wave
            pen.poly(
                np.concatenate([np.stack([inner_x, ys], 1), np.stack([outer_x, ys], 1)[::-1]]), hair
            )
            pen.line(np.stack([(inner_x + outer_x) / 2, ys], 1), lo, 0.018)
    if spec.has("Sideburns"):
        for s in (-1, 1):
            pen.poly(
                [
                    (s * (w - 0.01), temple_y - 0.05),
                    (s * (w - 0.12), temple_y),
                    (s * (w - 0.1), lay.eye_y + 0.32),
                    (s * (w - 0.005), lay.eye_y + 0.3),
                ],
                _shade(hair, 0.9),
            )


def _draw_bald_fringe(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    fringe = spec.hair_rgb
    for s in (-1, 1):
        pen.ellipse((s * (lay.w + 0.02), lay.eye_y - 0.05), (0.07, 0.2), fringe)
    with pen.translucent(0.35) as t:  # shine on the scalp
        t.ellipse((-0.2, -0.72), (0.2, 0.09), (255, 255, 255), -20)


def _draw_earrings(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    m = spec.earring_rgb
    for s in (-1, 1):
        c = (s * (lay.w + 0.02), lay.eye_y + 0.3)
        if spec.earring_style == "hoop":
            pen.circle((c[0], c[1] + 0.09), 0.09, m, 0.032)
        elif spec.earring_style == "stud":
            pen.circle(c, 0.055, m)
        else:
            pen.line([c, (c[0], c[1] + 0.12)], m, 0.022)
            pen.circle((c[0], c[1] + 0.16), 0.06, m)


def _draw_glasses(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    frame, style = spec.glasses_rgb, spec.glasses_style
    rx, ry = lay.eye_rx * 1.3 + 0.03, 0.13
    th = 0.045  # frames must survive downsampling to 64 px crops
    for s in (-1, 1):
        c = (s * lay.eye_dx + lay.dx, lay.eye_y)
        if style == "sun":
            with pen.translucent(0.85) as t:
                t.ellipse(c, (rx, ry), (28, 30, 38))
        if style == "square":
            pen.line(
                [
                    (c[0] - rx, c[1] - ry),
                    (c[0] + rx, c[1] - ry),
                    (c[0] + rx * 0.9, c[1] + ry),
                    (c[0] - rx * 0.9, c[1] + ry),
                ],
                frame,
                th,
                closed=True,
            )
        else:
            pen.ellipse(c, (rx, ry), frame, thickness=th)
        pen.line(
            [
                (s * (lay.eye_dx + rx) + lay.dx, lay.eye_y - ry * 0.6),
                (s * (lay.w - 0.01), lay.eye_y - 0.08),
            ],
            frame,
            th * 0.8,
        )
    inner = lay.eye_dx - rx
    pen.ellipse((lay.dx, lay.eye_y - 0.02), (inner, 0.05), frame, 0, 190, 350, th * 0.8)


def _draw_hat(pen: _Pen, spec: FaceSpec, lay: _Layout) -> None:
    col, w, style = spec.hat_rgb, lay.w, spec.hat_style
    dark = _shade(col, 0.7)
    if style == "cap":
        pen.ellipse((0, -0.42), (w + 0.1, 0.68), col, 0, 180, 360)
        pen.ellipse((0, -0.4), (w + 0.28, 0.1), dark, 0, 0, 360)
        pen.circle((0, -1.1), 0.05, dark)
    elif style == "brimmed":
        pen.poly([(-w * 0.82, -0.5), (-w * 0.7, -1.45), (w * 0.7, -1.45), (w * 0.82, -0.5)], col)
        pen.poly([(-w * 0.8, -0.72), (w * 0.8, -0.72), (w * 0.81, -0.6), (-w * 0.81, -0.6)], dark)
        pen.ellipse((0, -0.52), (w + 0.48, 0.12), dark)
    else:  # beanie with a folded cuff and a pom-pom
        pen.ellipse((0, -0.45), (w + 0.08, 0.7), col, 0, 180, 360)
        pen.poly([(-w - 0.1, -0.6), (w + 0.1, -0.6), (w + 0.1, -0.38), (-w - 0.1, -0.38)], dark)
        pen.circle((0, -1.2), 0.13, _shade(col, 1.2))
