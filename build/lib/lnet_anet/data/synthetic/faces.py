"""Synthetic identities and faces: what each face looks like (sampled, not drawn yet)."""

from __future__ import annotations

import colorsys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
