"""A deterministic synthetic dataset in CelebA's original file formats.

Faces are drawn with OpenCV primitives so that every label has a visual cue (hair colour, glasses,
hat, smile, beard, lipstick, age wrinkles and grey hair, ...) and an identity fixes the face
geometry and skin tone. The tree it writes lets every stage of the pipeline (LNet localization,
ANet attributes and identity pre-training, DLDL age) run end to end without real data:

    img_celeba/NNNNNN.jpg              in-the-wild scenes (one or two faces on clutter)
    img_align_celeba/NNNNNN.jpg        the same face, aligned and centred
    list_attr_celeba.txt               40 attributes, CelebA layout (CRLF, runs of spaces)
    list_bbox_celeba.txt               largest face box per scene: image_id x_1 y_1 width height
    list_bbox_all.csv                  every face box: image_id,x0,y0,x1,y1 (x1, y1 exclusive)
    list_landmarks_align_celeba.txt    5 landmarks in the aligned images
    list_landmarks_celeba.txt          5 landmarks of the largest face in the scenes
    identity_CelebA.txt                image -> identity (1-based)
    list_eval_partition.txt            identity-disjoint 0/1/2 split (about 70/15/15)
    ages.csv                           path,age,identity,split,gender (aligned images; age
                                       1-90 is visible; gender 0 male, 1 female)
    backgrounds/NNNN.jpg               face-free scenes from the same background generator

Usage: ``python -m lnet_anet.data.synthetic OUT --n-images 500 --seed 0``.
"""

from __future__ import annotations

import argparse
import colorsys
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lnet_anet.data.attributes import CELEBA_ATTRIBUTES

RGB = tuple[float, float, float]

# Skin tones (RGB) and their frequencies; "pale" is what Pale_Skin labels.
SKIN_TONES: dict[str, RGB] = {
    "pale": (250.0, 230.0, 218.0),
    "light": (241.0, 204.0, 177.0),
    "medium_light": (226.0, 176.0, 140.0),
    "medium": (198.0, 142.0, 102.0),
    "tan": (168.0, 112.0, 76.0),
    "brown": (124.0, 80.0, 54.0),
    "dark": (90.0, 58.0, 42.0),
}
_SKIN_WEIGHTS = (0.05, 0.28, 0.25, 0.18, 0.12, 0.07, 0.05)
HAIR_COLORS: dict[str, RGB] = {
    "black": (30.0, 26.0, 26.0),
    "brown": (108.0, 70.0, 42.0),
    "blond": (226.0, 196.0, 124.0),
    "red": (156.0, 64.0, 34.0),  # auburn: carries none of the hair-colour tags
}
GREY_HAIR: RGB = (205.0, 205.0, 208.0)
_IRIS = ((92.0, 58.0, 32.0), (48.0, 32.0, 22.0), (80.0, 125.0, 175.0), (88.0, 122.0, 78.0))
_LIPSTICK = ((205.0, 20.0, 45.0), (228.0, 70.0, 130.0), (135.0, 25.0, 70.0), (238.0, 80.0, 78.0))
_EYESHADOW = ((120.0, 70.0, 160.0), (70.0, 110.0, 190.0), (110.0, 70.0, 50.0), (60.0, 140.0, 110.0))
_METALS = ((218.0, 180.0, 60.0), (205.0, 205.0, 215.0))
_GLASSES_FRAMES = (
    (22.0, 22.0, 22.0),
    (95.0, 52.0, 28.0),
    (88.0, 88.0, 98.0),
    (30.0, 40.0, 110.0),
)

YOUNG_BELOW = 35.0  # Young is age < 35
_SUPERSAMPLE = 2  # draw at twice the size, then area-downsample: anti-aliased thin lines
_SHIFT = 4  # fractional bits for OpenCV's sub-pixel drawing
_JPEG_QUALITY = 92


# --------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class Identity:
    """What stays fixed for one person: geometry, skin tone, base hair colour, gender, age."""

    identity: int
    male: bool
    base_age: float
    grey_onset: float  # age at which the hair starts to grey
    skin_tone: str
    skin: RGB
    face_width: float  # head half-width, in head half-heights
    jaw_power: float  # superellipse exponent of the lower face: 2 oval, larger squarer
    oval_face: bool
    chubby: bool
    double_chin: bool
    eye_spacing: float  # half the distance between the eye centres
    eye_open: float  # sclera half-height
    narrow_eyes: bool
    eye_level: float  # offset of the eye line
    iris: RGB
    nose_width: float
    nose_length: float
    big_nose: bool
    pointy_nose: bool
    lip_thickness: float
    big_lips: bool
    brow_thickness: float
    brow_arch: float
    bushy_eyebrows: bool
    arched_eyebrows: bool
    hair_name: str  # key of HAIR_COLORS
    hair_rgb: RGB
    hair_texture: str  # "straight" | "wavy" | "plain"
    long_hair: bool
    bangs: bool
    bald: bool
    receding_hairline: bool
    sideburns: bool
    beard: str  # "none" | "stubble" | "goatee" | "mustache" | "goatee+mustache" | "full"
    bags_tendency: float
    attractive_base: float


@dataclass(frozen=True, eq=False)
class FaceSpec:
    """One image of a person: the 40 tags plus everything else the renderer needs."""

    person: Identity
    age: float
    attributes: Mapping[str, bool]
    smile: float  # 0 neutral .. 1 broad smile
    mouth_open: float  # lip gap in head half-heights (0 closed)
    hair_rgb: RGB  # identity colour mixed with grey by age
    grey_share: float
    yaw: float  # -1..1, shifts the inner features sideways
    lipstick: RGB
    eyeshadow: RGB
    clothing: RGB
    hat_style: str
    hat_rgb: RGB
    glasses_style: str
    glasses_rgb: RGB
    earring_style: str
    earring_rgb: RGB
    necklace_rgb: RGB
    tie_rgb: RGB
    blur_sigma: float  # relative to the face size; used when Blurry
    detail_seed: int  # seeds stubble dots and hair strands, so both renderings agree

    def has(self, name: str) -> bool:
        return bool(self.attributes[name])

    def vector(self) -> np.ndarray:
        """The 40 tags as CelebA writes them: int8 +1 / -1 in CELEBA_ATTRIBUTES order."""
        return np.array([1 if self.attributes[n] else -1 for n in CELEBA_ATTRIBUTES], np.int8)


def _bern(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def _pick(rng: np.random.Generator, options: Sequence, weights: Sequence[float] | None = None):
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return options[int(rng.choice(len(options), p=p))]


def _jitter(rng: np.random.Generator, color: RGB, amount: float) -> RGB:
    c = np.clip(np.asarray(color) + rng.normal(0.0, amount, 3), 0, 255)
    return (float(c[0]), float(c[1]), float(c[2]))


def sample_identity(rng: np.random.Generator, identity: int) -> Identity:
    """Draw one person. Frequencies follow CelebA's roughly (Male ~40%, Young ~75%...)."""
    male = _bern(rng, 0.38)
    u = rng.random()
    if u < 0.06:
        base_age = rng.uniform(2, 17)
    elif u < 0.79:
        base_age = rng.uniform(18, 33)
    else:
        base_age = 35 + 55 * rng.beta(1.3, 2.0)
    tone = _pick(rng, tuple(SKIN_TONES), _SKIN_WEIGHTS)
    chubby = _bern(rng, 0.12 if male else 0.04)
    oval = not chubby and _bern(rng, 0.14 if male else 0.27)
    double_chin = _bern(rng, 0.55) if chubby else _bern(rng, 0.05 if base_age > 45 else 0.01)
    narrow = _bern(rng, 0.11)
    big_nose = _bern(rng, 0.52 if male else 0.18)
    big_lips = _bern(rng, 0.22 if male else 0.45)
    bushy = _bern(rng, 0.35 if male else 0.09)
    arched = _bern(rng, 0.07 if male else 0.55)
    hair_name = _pick(
        rng,
        ("black", "brown", "blond", "red"),
        (0.32, 0.32, 0.07, 0.29) if male else (0.22, 0.24, 0.32, 0.22),
    )
    texture = _pick(
        rng, ("straight", "wavy", "plain"), (0.14, 0.14, 0.72) if male else (0.27, 0.52, 0.21)
    )
    bald = male and base_age > 30 and _bern(rng, 0.14)
    receding = not bald and _bern(rng, (0.12 + 0.2 * (base_age > 40)) if male else 0.03)
    beard = "none"
    if male:
        beard = _pick(
            rng,
            ("none", "stubble", "goatee", "goatee+mustache", "mustache", "full"),
            (0.45, 0.32, 0.1, 0.09, 0.02, 0.05),
        )
    return Identity(
        identity=identity,
        male=male,
        base_age=float(base_age),
        grey_onset=float(rng.uniform(38, 64)),
        skin_tone=tone,
        skin=_jitter(rng, SKIN_TONES[tone], 4.0),
        face_width=float(rng.uniform(0.70, 0.78) + 0.04 * male + 0.11 * chubby - 0.08 * oval),
        jaw_power=float(2.0 if oval else (2.5 if chubby else rng.uniform(2.15, 2.4) + 0.35 * male)),
        oval_face=oval,
        chubby=chubby,
        double_chin=double_chin,
        eye_spacing=float(rng.uniform(0.27, 0.36)),
        eye_open=float(0.032 if narrow else rng.uniform(0.058, 0.072)),
        narrow_eyes=narrow,
        eye_level=float(rng.uniform(-0.04, 0.04)),
        iris=_IRIS[int(rng.integers(len(_IRIS)))],
        nose_width=float((0.14 if big_nose else 0.085) + rng.uniform(-0.01, 0.01)),
        nose_length=float((0.05 if big_nose else 0.0) + rng.uniform(-0.02, 0.02)),
        big_nose=big_nose,
        pointy_nose=_bern(rng, 0.2 if male else 0.42),
        lip_thickness=float((1.55 if big_lips else 1.0) * rng.uniform(0.9, 1.1)),
        big_lips=big_lips,
        brow_thickness=float(0.065 if bushy else (0.038 if male else 0.026)),
        brow_arch=float(0.075 if arched else 0.02),
        bushy_eyebrows=bushy,
        arched_eyebrows=arched,
        hair_name=hair_name,
        hair_rgb=_jitter(rng, HAIR_COLORS[hair_name], 6.0),
        hair_texture=texture,
        long_hair=_bern(rng, 0.08 if male else 0.9),
        bangs=not bald and _bern(rng, 0.07 if male else 0.27),
        bald=bald,
        receding_hairline=receding,
        sideburns=male and not bald and _bern(rng, 0.22),
        beard=beard,
        bags_tendency=float(rng.uniform(0.0, 0.35) + 0.12 * male),
        attractive_base=float(0.72 if not male else 0.34),
    )


def sample_face(
    person: Identity,
    rng: np.random.Generator,
    detail_seed: int | None = None,
    age: float | None = None,
) -> FaceSpec:
    """Draw one image of `person`: age jitter, expression, make-up and accessories.

    `age` (1-90) replaces the person's base age plus jitter, e.g. to study the age cues.
    """
    jitter = rng.normal(0.0, 2.0)
    if age is not None and not 1 <= age <= 90:
        raise ValueError(f"age must be in [1, 90], got {age}")
    age = float(np.clip(round(person.base_age + jitter), 1, 90) if age is None else age)
    male, adult = person.male, age >= 18
    hairy = not person.bald
    grey_share = float(np.clip((age - person.grey_onset) / 22.0, 0.0, 1.0))
    a: dict[str, bool] = {}
    a["Male"] = male
    a["Young"] = age < YOUNG_BELOW
    smiling = _bern(rng, 0.48)
    a["Smiling"] = smiling
    a["Mouth_Slightly_Open"] = _bern(rng, 0.62 if smiling else 0.3)
    a["High_Cheekbones"] = _bern(rng, 0.8 if smiling else 0.12)
    a["Bald"] = person.bald
    a["Gray_Hair"] = hairy and grey_share > 0.5
    for name in ("black", "brown", "blond"):
        a[f"{name.capitalize()}_Hair"] = hairy and not a["Gray_Hair"] and person.hair_name == name
    a["Bangs"] = hairy and person.bangs
    a["Receding_Hairline"] = hairy and person.receding_hairline
    a["Straight_Hair"] = hairy and person.hair_texture == "straight"
    a["Wavy_Hair"] = hairy and person.hair_texture == "wavy"
    a["Sideburns"] = person.sideburns and adult
    beard = person.beard if male and age >= 17 else "none"
    a["5_o_Clock_Shadow"] = beard == "stubble"
    a["Goatee"] = beard in ("goatee", "goatee+mustache")
    a["Mustache"] = beard in ("mustache", "goatee+mustache", "full")
    a["No_Beard"] = beard == "none"
    a["Chubby"] = person.chubby
    a["Double_Chin"] = person.double_chin
    a["Oval_Face"] = person.oval_face
    a["Pale_Skin"] = person.skin_tone == "pale"
    a["Big_Nose"] = person.big_nose
    a["Pointy_Nose"] = person.pointy_nose
    a["Big_Lips"] = person.big_lips
    a["Bushy_Eyebrows"] = person.bushy_eyebrows
    a["Arched_Eyebrows"] = person.arched_eyebrows
    a["Narrow_Eyes"] = person.narrow_eyes
    a["Bags_Under_Eyes"] = _bern(
        rng, float(np.clip(person.bags_tendency + (age - 30) / 60, 0.02, 0.95))
    )
    makeup_age = not male and age >= 15
    a["Heavy_Makeup"] = makeup_age and _bern(rng, 0.72)
    a["Wearing_Lipstick"] = makeup_age and _bern(rng, 0.97 if a["Heavy_Makeup"] else 0.55)
    a["Rosy_Cheeks"] = _bern(rng, 0.02 if male else 0.17)
    a["Eyeglasses"] = age >= 6 and _bern(rng, 0.08 if male else 0.035)
    a["Wearing_Hat"] = _bern(rng, 0.035)
    a["Wearing_Earrings"] = _bern(rng, 0.03 if male else 0.42)
    a["Wearing_Necklace"] = _bern(rng, 0.01 if male else 0.27)
    a["Wearing_Necktie"] = male and adult and _bern(rng, 0.18)
    a["Blurry"] = _bern(rng, 0.02)
    p_attr = person.attractive_base * (0.55 if age > 45 else 1.0) * (0.4 if person.chubby else 1.0)
    a["Attractive"] = _bern(rng, min(0.95, p_attr + 0.1 * a["Heavy_Makeup"]))
    assert set(a) == set(CELEBA_ATTRIBUTES), set(CELEBA_ATTRIBUTES) ^ set(a)

    hair = np.asarray(person.hair_rgb) * (1 - grey_share) + np.asarray(GREY_HAIR) * grey_share
    return FaceSpec(
        person=person,
        age=age,
        attributes=a,
        smile=float(rng.uniform(0.7, 1.0)) if smiling else float(rng.uniform(0.0, 0.15)),
        mouth_open=float(rng.uniform(0.05, 0.09)) if a["Mouth_Slightly_Open"] else 0.0,
        hair_rgb=(float(hair[0]), float(hair[1]), float(hair[2])),
        grey_share=grey_share,
        yaw=float(rng.uniform(-1, 1)),
        lipstick=_jitter(rng, _LIPSTICK[int(rng.integers(len(_LIPSTICK)))], 8),
        eyeshadow=_jitter(rng, _EYESHADOW[int(rng.integers(len(_EYESHADOW)))], 8),
        clothing=_clutter_color(rng),
        hat_style=_pick(rng, ("cap", "brimmed", "beanie")),
        hat_rgb=_clutter_color(rng),
        glasses_style=_pick(rng, ("round", "square", "sun"), (0.4, 0.4, 0.2)),
        glasses_rgb=_GLASSES_FRAMES[int(rng.integers(len(_GLASSES_FRAMES)))],
        earring_style=_pick(rng, ("hoop", "stud", "drop")),
        earring_rgb=_METALS[int(rng.integers(len(_METALS)))],
        necklace_rgb=_METALS[int(rng.integers(len(_METALS)))],
        tie_rgb=_clutter_color(rng),
        blur_sigma=float(rng.uniform(0.035, 0.07)),
        detail_seed=int(rng.integers(2**31)) if detail_seed is None else detail_seed,
    )


def _clutter_color(rng: np.random.Generator) -> RGB:
    """A colour away from skin, hair and lip hues (red-orange-yellow), or a neutral grey."""
    while True:
        h, s, v = rng.uniform(0, 360), rng.uniform(0, 1), rng.uniform(0.12, 1)
        if s < 0.04 or 55 <= h <= 320:
            r, g, b = colorsys.hsv_to_rgb(h / 360, s, v)
            return (255 * r, 255 * g, 255 * b)


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


# --------------------------------------------------------------------------- writing


def _write_jpeg(path: Path, rgb: np.ndarray) -> None:
    # 4:4:4 chroma: subsampling bleeds saturated clutter edges into skin-coloured fringes
    params = [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY,
              cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]  # fmt: skip
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise OSError(f"{path}: JPEG encoding failed")
    path.write_bytes(buf.tobytes())


def _write_lines(path: Path, lines: Sequence[str], newline: str = "\n") -> None:
    path.write_bytes("".join(line + newline for line in lines).encode("ascii"))


def _split_identities(n: int, rng: np.random.Generator) -> np.ndarray:
    """Partition 0/1/2 per identity (index 0 = identity 1), about 70/15/15, none empty if n >= 3."""
    order = rng.permutation(n)
    n_val = max(1, round(0.15 * n)) if n >= 3 else 0
    n_test = max(1, round(0.15 * n)) if n >= 3 else 0
    split = np.zeros(n, np.int64)
    split[order[n - n_val - n_test : n - n_test]] = 1
    split[order[n - n_test :]] = 2
    return split


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])  # an independent stream per (seed, keys)


def make_synthetic_celeba(
    root: str | Path,
    n_images: int = 200,
    n_identities: int = 40,
    scene_size: int | Sequence[int] = 160,
    aligned_size: int | Sequence[int] = 64,
    seed: int = 0,
    face_free: float = 0.1,
    two_faces: float = 0.15,
) -> Path:
    """Write a synthetic CelebA-format tree under `root` and return `root` as a Path.

    Sizes are an int or (width, height). `face_free` is the number of face-free background
    images as a fraction of `n_images`; `two_faces` the fraction of scenes with a second,
    smaller face. Images are numbered in split order (train, then val, then test) as in
    CelebA. The same arguments give the same files byte for byte.
    """
    if n_images < 1 or n_identities < 1:
        raise ValueError(
            f"need n_images >= 1 and n_identities >= 1, got {n_images}, {n_identities}"
        )
    if not 0 <= face_free <= 10 or not 0 <= two_faces <= 1:
        raise ValueError(
            f"face_free must be in [0, 10] and two_faces in [0, 1], got {face_free}, {two_faces}"
        )
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    _size(scene_size), _size(aligned_size)  # fail before writing anything
    root = Path(root)
    for sub in ("img_celeba", "img_align_celeba", "backgrounds"):
        (root / sub).mkdir(parents=True, exist_ok=True)

    people = [sample_identity(_rng(seed, 1, i), i + 1) for i in range(n_identities)]
    split_of = _split_identities(n_identities, _rng(seed, 2))
    owner = _rng(seed, 3).permutation(np.arange(n_images) % n_identities)
    owner = owner[np.argsort(split_of[owner], kind="stable")]  # CelebA numbers train, val, test

    attr_rows, bbox_rows, all_boxes, align_marks, wild_marks = [], [], [], [], []
    id_rows, part_rows, age_rows = [], [], []
    for i, pid in enumerate(owner):
        name = f"{i + 1:06d}.jpg"
        spec = sample_face(people[pid], _rng(seed, 4, i))
        aligned, marks = render_aligned(spec, aligned_size, _rng(seed, 5, i))
        _write_jpeg(root / "img_align_celeba" / name, aligned)
        scene_rng = _rng(seed, 6, i)
        others = []
        if scene_rng.random() < two_faces:
            stranger = sample_identity(_rng(seed, 7, i), 0)
            others.append(sample_face(stranger, _rng(seed, 8, i)))
        scene, boxes, scene_marks = render_scene(spec, scene_size, scene_rng, others)
        _write_jpeg(root / "img_celeba" / name, scene)

        attr_rows.append(name + "".join(f" {v:>2d}" for v in spec.vector()))
        x0, y0 = int(math.floor(boxes[0, 0])), int(math.floor(boxes[0, 1]))
        x1, y1 = int(math.ceil(boxes[0, 2])), int(math.ceil(boxes[0, 3]))
        bbox_rows.append(f"{name} {x0:>5d} {y0:>3d} {x1 - x0:>3d} {y1 - y0:>3d}")
        for b in boxes:
            bx0, by0 = int(math.floor(b[0])), int(math.floor(b[1]))
            all_boxes.append(f"{name},{bx0},{by0},{int(math.ceil(b[2]))},{int(math.ceil(b[3]))}")
        align_marks.append(_landmark_row(name, marks))
        wild_marks.append(_landmark_row(name, scene_marks))
        id_rows.append(f"{name} {pid + 1}")
        part_rows.append(f"{name} {split_of[pid]}")
        gender = 0 if spec.person.male else 1
        split_name = ("train", "val", "test")[split_of[pid]]
        age_rows.append(f"img_align_celeba/{name},{int(spec.age)},{pid + 1},{split_name},{gender}")

    crlf = "\r\n"  # CelebA's Anno files have DOS line endings
    _write_lines(
        root / "list_attr_celeba.txt",
        [str(n_images), " ".join(CELEBA_ATTRIBUTES) + " ", *attr_rows],
        crlf,
    )
    _write_lines(
        root / "list_bbox_celeba.txt",
        [str(n_images), "image_id x_1 y_1 width height", *bbox_rows],
        crlf,
    )
    header = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
    _write_lines(
        root / "list_landmarks_align_celeba.txt", [str(n_images), header, *align_marks], crlf
    )
    _write_lines(root / "list_landmarks_celeba.txt", [str(n_images), header, *wild_marks], crlf)
    _write_lines(root / "list_bbox_all.csv", ["image_id,x0,y0,x1,y1", *all_boxes])
    _write_lines(root / "identity_CelebA.txt", id_rows)
    _write_lines(root / "list_eval_partition.txt", part_rows)
    _write_lines(root / "ages.csv", ["path,age,identity,split,gender", *age_rows])

    bw, bh = _size(scene_size)
    for j in range(int(round(face_free * n_images))):
        bg = draw_background(_rng(seed, 9, j), bw * _SUPERSAMPLE, bh * _SUPERSAMPLE)
        bg = cv2.resize(bg, (bw, bh), interpolation=cv2.INTER_AREA)
        _write_jpeg(root / "backgrounds" / f"{j + 1:04d}.jpg", _finish(bg, _rng(seed, 10, j)))
    return root


def _landmark_row(name: str, marks: np.ndarray) -> str:
    v = [int(round(float(x))) for x in marks.reshape(-1)]
    return f"{name} {v[0]:>2d}" + "".join(f"{x:>5d}" for x in v[1:])


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m lnet_anet.data.synthetic",
        description="Write a synthetic dataset in CelebA's formats (deterministic per seed).",
    )
    ap.add_argument("out", type=Path, help="output folder (created)")
    ap.add_argument("--n-images", type=int, default=200)
    ap.add_argument("--n-identities", type=int, default=40)
    ap.add_argument("--scene-size", type=int, nargs="+", default=[160], help="S or W H")
    ap.add_argument("--aligned-size", type=int, nargs="+", default=[64], help="S or W H")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--face-free",
        type=float,
        default=0.1,
        help="face-free backgrounds, as a fraction of --n-images",
    )
    ap.add_argument("--two-faces", type=float, default=0.15, help="fraction of two-face scenes")
    args = ap.parse_args(argv)
    sizes = []
    for flag, v in (("--scene-size", args.scene_size), ("--aligned-size", args.aligned_size)):
        if len(v) not in (1, 2):
            ap.error(f"{flag} takes S or W H")
        sizes.append(v[0] if len(v) == 1 else tuple(v))
    root = make_synthetic_celeba(
        args.out,
        args.n_images,
        args.n_identities,
        sizes[0],
        sizes[1],
        args.seed,
        args.face_free,
        args.two_faces,
    )
    for path in sorted(root.iterdir()):
        what = (
            f"{sum(1 for _ in path.iterdir())} images"
            if path.is_dir()
            else f"{path.stat().st_size} bytes"
        )
        print(f"{path}  ({what})")


if __name__ == "__main__":
    main()


def read_synthetic(
    root: str | Path,
    images: str = "img_align_celeba",
    n_images: int = 400,
    n_identities: int = 60,
    seed: int = 0,
    labels: str = "attributes",
    **make_kwargs,
):
    """The index of a synthetic tree at `root`, writing the tree first if it is not there yet
    (so a config can name it like any other dataset). `images`: img_align_celeba | img_celeba;
    labels: "attributes" (the CelebA files) or "age" (ages.csv, aligned images)."""
    from lnet_anet.data.age import read_age_csv
    from lnet_anet.data.celeba import read_celeba  # celeba imports this module's attribute list

    root = Path(root)
    if not (root / "list_attr_celeba.txt").exists():
        make_synthetic_celeba(root, n_images, n_identities, seed=seed, **make_kwargs)
    if labels == "age":
        return read_age_csv(root / "ages.csv")
    coords = "align" if images == "img_align_celeba" else "wild"
    return read_celeba(root, images=images, coords=coords)
