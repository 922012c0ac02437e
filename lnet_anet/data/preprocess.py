"""What each network expects of its input, as typed and validated settings (in the manner of
timm's `PretrainedCfg`).

One schema serves the run writers (patches.json, preprocess.json), the bundle builder and the
bundle loader: each reads its settings with `from_dict`, which checks every field's type and
range and raises `PreprocessError` naming the field, and writes them with `to_dict`. The values
stored are the values used: `Normalize` turns a uint8 image into the network's input with the
stored mean and std, and the face crops use the stored size and enlargement.

  LNetInput   the whole image -> LNet: input_size [H, W], resize (letterbox | stretch), mean, std
  ANetInput   a face -> ANet's dense patches: canonical_size, stride, enlarge, mirror, views, mean, std
  HeadInput   a face -> an age / attractiveness net: image_size, enlarge, mean, std; or
              input="anet_features" for a head that reads ANet's patch-averaged feature

Coordinates are image pixels, (x0, y0, x1, y1) with exclusive ends; `enlarge` is the side of
the square face crop as a multiple of the face box's longer side (lnet_anet.data.transforms).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

# Inception-style normalisation, [0, 1] -> [-1, 1]: what the TF EfficientNet-Lite0 weights
# (tf_efficientnet_lite0) were trained with, not the (0.485, 0.456, 0.406) ImageNet statistics.
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)
MAX_INPUT_SIDE = 4096  # pixels: a bigger input is a malformed setting, not a model
MAX_ENLARGE = 10.0
MAX_SOFTEN = 8.0  # a head crop shrunk more than this before it is read holds little of the face
MAX_SCALE = 4.0  # LNet's canvas grows with a scale > 1: 4x a 224 input is 896 px
DETAIL_RATIO_RANGE = (0.05, 1.0)  # detail_ratio's bounds: canvas pixels per photo pixel
MAX_BOX_STEPS = 5  # crowd_box_steps: each step reads ANet once more per crowd face


LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # Rec. 601 weights of R, G, B


def mean_luma(image: np.ndarray) -> float:
    """The mean Rec. 601 luma (0-255) of an (H, W, 3) uint8 RGB image."""
    # OpenCV's per-channel mean: exact, no float copy, ~10 ms on a 24 MP photo (numpy's took 0.5 s)
    return float(np.asarray(cv2.mean(np.ascontiguousarray(image))[:3], np.float64) @ LUMA)


def flat_share(image: np.ndarray, block: int = 8, level: float = 2.0) -> float:
    """The share (0-1) of an (H, W, 3) uint8 RGB image's `block` x `block` pixel blocks whose luma
    (Rec. 601) varies by less than `level` (standard deviation, 0-255), after the luma is stretched
    so that its 1st and 99th percentiles span 0-255: 1.0 for a blank or one-colour picture, about
    0.96 for a white page with a line of text, at most 0.54 on the tune files of UTKFace (2,000),
    CelebA-HQ (2,367) and SCUT-FBP5500 (1,342), also made x0.15 darker, whose faces may fill the
    picture (experiments/2026-12-03-crowd-zoom, the frame try's gate). A picture smaller than one
    block: 1.0.
    A picture over 1024 px is read at every n-th pixel (a 24 MP photo costs what a 1 MP one does)."""
    step = max(1, max(image.shape[:2]) // 1024)
    image = image[::step, ::step]
    y = image.reshape(-1, 3).astype(np.float32) @ LUMA
    y = y.reshape(image.shape[:2])
    lo, hi = np.percentile(y, [1, 99])
    y = (y - lo) * (255.0 / max(float(hi - lo), 1.0))
    h, w = (side // block * block for side in y.shape)
    if not h or not w:
        return 1.0
    blocks = y[:h, :w].reshape(h // block, block, w // block, block).std(axis=(1, 3))
    return float((blocks < level).mean())


def stretch_contrast(image: np.ndarray, cutoff: float = 1.0) -> np.ndarray:
    """(H, W, 3) uint8 RGB with its luma stretched to the full 0-255 range, hues kept: Pillow's
    ImageOps.autocontrast (the `cutoff` percent darkest and brightest pixels clipped,
    preserve_tone). A dark or washed-out photo comes out as an ordinary one."""
    from PIL import Image, ImageOps

    return np.asarray(ImageOps.autocontrast(Image.fromarray(image), cutoff=cutoff, preserve_tone=True))


class PreprocessError(ValueError):
    """A preprocessing setting of the wrong type or out of range; the message names the field."""


def _number(d: dict, key: str, where: str, lo: float, hi: float, integer: bool = False) -> Any:
    value = d.get(key)
    # JSON true/false are Python bools, which are ints too: never numbers here.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PreprocessError(f"{where}.{key} must be a finite number, got {value!r}")
    if integer and value != int(value):
        raise PreprocessError(f"{where}.{key} must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise PreprocessError(f"{where}.{key} must be in [{lo}, {hi}], got {value!r}")
    return int(value) if integer else float(value)


# Said when a setting that needs rescue_faces is left on without it (a user turning the rescue off).
_RESCUE_OFF = (" (to turn the rescue off, set rescue_frame, verify_faces, verify_luma and arbitrate_nested to null "
               "and arbitrate_picture to false too; build_bundle --lnet-input does so itself)")  # fmt: skip

# LNetInput settings that need another (from_dict refuses them without it), and the value that
# turns each off: turning one off turns its dependents off too (dependents_off; build_bundle).
LNET_DEPENDENTS = {"refine_boxes": ("crowd_box_head",), "crowd_box_head": ("crowd_box_steps", "crowd_box_small"),
                   "rescue_faces": ("rescue_frame", "verify_faces", "arbitrate_nested"), "rescue_frame": ("frame_read",),
                   "verify_faces": ("verify_luma", "zoom_in_refused_p", "zoom_in_refused_any", "zoom_in_lone_p"),
                   "zoom_in_lone_p": ("zoom_in_lone_skip_share",),
                   "arbitrate_nested": ("arbitrate_picture",),
                   "check_faces": ("check_rescue", "find_on_check"),
                   "zoom_in_scales": ("zoom_in_weak", "zoom_in_crowd", "zoom_in_refused", "zoom_in_lone_below",
                                      "zoom_in_lone_p"),
                   "zoom_in_refused": ("zoom_in_refused_p", "zoom_in_refused_any"), "retry_exposure": ("retry_weaker_than",)}  # fmt: skip
LNET_OFF = {"refine_boxes": False, "crowd_box_head": None, "crowd_box_steps": 1, "crowd_box_small": None,
            "rescue_faces": None, "rescue_frame": None, "verify_faces": None, "arbitrate_nested": None,
            "arbitrate_picture": False, "frame_read": "padded", "verify_luma": None, "check_faces": None,
            "check_rescue": False, "find_on_check": False, "zoom_in_scales": [], "zoom_in_weak": None, "zoom_in_crowd": True,
            "zoom_in_refused": False, "zoom_in_refused_p": None, "zoom_in_refused_any": False, "zoom_in_lone_below": None,
            "zoom_in_lone_p": None, "zoom_in_lone_skip_share": None,
            "retry_exposure": None, "retry_weaker_than": None, "wide_canvas": None}  # fmt: skip


def dependents_off(current: dict, given: dict) -> dict:
    """`given` (LNetInput settings to merge over the `current` ones) with the settings that need
    one it turns off (LNET_DEPENDENTS) turned off too, unless `given` sets them itself: turning the
    rescue off takes the frame try, the face filter and the nested-face arbiter with it. A null
    given for a step whose off is another value (false, [], 1) becomes that value: null turns
    any step off (zoom_in_scales null reads as [], zoom_in_refused null as false)."""
    out = {k: LNET_OFF[k] if v is None and k in LNET_OFF else v for k, v in given.items()}
    queue = [k for k, v in out.items() if k in LNET_DEPENDENTS and _is_off(k, v)]
    while queue:
        for dep in LNET_DEPENDENTS.get(queue.pop(), ()):
            if dep not in out and not _is_off(dep, current.get(dep)):
                out[dep] = LNET_OFF[dep]
                queue.append(dep)
    return out


def _is_off(key: str, value: Any) -> bool:
    """Whether `value` of LNetInput setting `key` is its "off" (absent, None: its default, which is off)."""
    off = LNET_OFF[key]
    return value is None or value == off or (off == [] and isinstance(value, list | tuple) and not value)


def _score_and_probability(d: dict, key: str, where: str, names: tuple[str, str]) -> tuple[float, float] | None:
    """d[key] as (an LNet score, a probability in [0, 1]) named `names`; None when null."""
    pair = d.get(key)
    if pair is None:
        return None
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise PreprocessError(f"{where}.{key} must be null or [{', '.join(names)}], got {pair!r}")
    first, second = (f"{key}[{i}] ({name})" for i, name in enumerate(names))
    return (float(_number({first: pair[0]}, first, where, -1e6, 1e6)),
            float(_number({second: pair[1]}, second, where, 0.0, 1.0)))  # fmt: skip


def _flag(d: dict, key: str, where: str, default: bool = False) -> bool:
    """d[key] (default when absent), which must be true or false (PreprocessError names it)."""
    value = d.get(key, default)
    if not isinstance(value, bool):
        raise PreprocessError(f"{where}.{key} must be true or false, got {value!r}")
    return value


def _luma_levels(d: dict, key: str, where: str) -> tuple[float, float] | None:
    """d[key] as (dark, bright) mean luma levels, 0-255, dark below bright; None when null."""
    levels = d.get(key)
    if levels is None:
        return None
    if not isinstance(levels, list | tuple) or len(levels) != 2:
        raise PreprocessError(f"{where}.{key} must be null or [dark, bright], got {levels!r}")
    levels = tuple(_number({key: v}, key, where, 0.0, 255.0) for v in levels)
    if levels[0] >= levels[1]:
        raise PreprocessError(f"{where}.{key}: dark must be below bright, got {list(levels)}")
    return levels


def _canvas_choice(d: dict, key: str, where: str) -> str:
    """d[key] (default "input"), one of "input" and "fit"; PreprocessError otherwise."""
    value = d.get(key, "input")
    if value not in ("input", "fit"):
        raise PreprocessError(f"{where}.{key} must be input or fit, got {value!r}")
    return value


MAX_WIDE_ASPECT = 8.0  # wide_canvas: LNet's canvas at most this many times as long as its input size


def _wide_canvas(d: dict, where: str) -> tuple[float, float] | None:
    """d["wide_canvas"] as (from, most): aspects (longer side / shorter) with 1 < from <= most <=
    MAX_WIDE_ASPECT; None when null or absent; not for a stretched input."""
    pair = d.get("wide_canvas")
    if pair is None:
        return None
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise PreprocessError(f"{where}.wide_canvas must be null or [from, most] (aspects), got {pair!r}")
    start, most = (_number({key: v}, key, where, -1e6, 1e6) for key, v in zip(("wide_canvas[0] (from)", "wide_canvas[1] (most)"),
                                                                                pair, strict=True))  # fmt: skip
    if not 1 < start <= most <= MAX_WIDE_ASPECT:  # one range said once (trial 84: "[1.0, 8.0]", then 1.0 refused)
        raise PreprocessError(f"{where}.wide_canvas: need 1 < from <= most <= {MAX_WIDE_ASPECT:g} (aspects: a photo's "
                              f"longer side / its shorter), got {list(pair)}")  # fmt: skip
    if d["resize"] == "stretch":
        raise PreprocessError(f"{where}.wide_canvas: a stretched input fills its canvas already, got {list(pair)}")
    return (start, most)


def _extra_scales(d: dict, key: str, where: str, lo: float, hi: float, scales: tuple[float, ...]) -> tuple[float, ...]:
    """d[key] (default none): at most 4 scales in [lo, hi] read besides `scales`, none of them
    repeating one, and none for a stretched input; PreprocessError otherwise."""
    values = d.get(key, [])
    if not isinstance(values, list | tuple) or len(values) > 4:
        raise PreprocessError(f"{where}.{key} must be a list of at most 4 numbers, got {values!r}")
    values = tuple(_number({key: v}, key, where, lo, hi) for v in values)
    if values and d["resize"] == "stretch":
        raise PreprocessError(f"{where}.{key}: a stretched input has scale 1 only, got {list(values)}")
    if any(s in scales for s in values):
        raise PreprocessError(f"{where}.{key} {list(values)} repeat a scale of scales {list(scales)}")
    return values


def _known(d: Any, where: str, fields: tuple[str, ...]) -> dict:
    if not isinstance(d, dict):
        raise PreprocessError(f"{where} must be an object, got {type(d).__name__}")
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise PreprocessError(f"{where} has unknown keys {unknown} (known: {list(fields)})")
    return d


@dataclass(frozen=True)
class Normalize:
    """uint8 RGB (H, W, 3) -> float32 (3, H, W): (x / 255 - mean) / std, per channel."""

    mean: tuple[float, float, float] = INCEPTION_MEAN
    std: tuple[float, float, float] = INCEPTION_STD

    def __call__(self, image: np.ndarray) -> np.ndarray:
        m = np.asarray(self.mean, np.float32) * 255.0
        s = np.asarray(self.std, np.float32) * 255.0
        return ((image.astype(np.float32) - m) / s).transpose(2, 0, 1)

    @classmethod
    def from_dict(cls, d: dict, where: str) -> Normalize:
        stats = {}
        for key, lo, hi in (("mean", 0.0, 1.0), ("std", 1e-6, 10.0)):
            values = d.get(key)
            if not isinstance(values, list | tuple) or len(values) != 3:
                raise PreprocessError(f"{where}.{key} must be 3 numbers, got {values!r}")
            stats[key] = tuple(_number({key: v}, key, where, lo, hi) for v in values)
        return cls(**stats)


def _normalize_of(d: dict, where: str) -> dict[str, tuple]:
    return dataclasses.asdict(Normalize.from_dict(d, where))


class _Normalized:
    """A stage's input settings with `mean` and `std`: their Normalize."""

    @property
    def normalize(self) -> Normalize:
        return Normalize(self.mean, self.std)


@dataclass(frozen=True)
class LNetInput(_Normalized):
    """The whole image -> LNet's input: letterboxed (aspect kept, black padding at the right
    and bottom) or stretched to input_size = (H, W) pixels, then normalised. scales: the image
    is also read at these multiples of the letterbox fit (lnet_anet.lnet.multiscale: < 1 for
    faces that fill the photo, > 1 for small ones), the faces of all scales merged;
    zoom_out_canvas: the canvas of a scale < 1, "input" (input_size, the photo padded all round)
    or "fit" (shrunk with the photo, multiscale.canvas_size). zoom_in_scales (each > 1) are read
    after `scales`, only for an image where those found no face or a face whose box is less than
    zoom_in_below pixels on its shorter side, on the scale-1 canvas (multiscale.wants_zoom_in):
    a photo of one large face costs no extra pass, a crowd or a grid of small faces one more;
    zoom_in_lone False: not when a single face was found, whatever its size; zoom_in_lone_below
    (None: off; needs zoom_in_lone false): a single face found whose shorter side is under this many
    pixels on the scale-1 canvas asks all the same (a small lone face, perhaps beside others LNet
    missed; tried, not shipped: experiments/2026-12-06-small-lone-face-zoom); zoom_in_weak (None:
    never; needs zoom_in_scales): with the localizer's weak_threshold, the weak faces decide too
    (their number and sizes) when a picture has at least this many of them, as a crowd does and a
    portrait with one weak blob beside its face does not (multiscale.read_scales;
    experiments/2026-12-03-crowd-zoom); zoom_in_crowd (needs zoom_in_scales): true (default), a
    crowd by the localizer's `crowd` rule has all its faces decide, its weak ones too; false, only
    its best face and those over secondary_threshold, as in any other picture (a photo of one
    face under half its side is a crowd to that rule, and a weak blob beside the face then cost
    a second pass at the zoom-in scale: experiments/2026-12-05-crowd-filter); zoom_in_refused
    (False: off; needs zoom_in_scales): a picture that the check and the face filter leave with no
    face, and that was not read at the zoom-in scales, is read at them before the rescue, and its
    faces there are checked and filtered in turn (several small faces that LNet's base scales see
    as one blob, too large to ask for the zoom-in, that the filter refuses;
    experiments/2026-12-06-filter-small-faces); zoom_in_refused_p (None: verify_faces' p_min; needs
    zoom_in_refused): the P(face) a face of that zoom-in reading needs from the face filter (a
    picture with no face found is more often face-free: a stricter bar there); zoom_in_refused_any
    (False: off; needs zoom_in_refused and verify_faces): a picture that keeps faces but where the
    face filter refused one is read at the zoom-in scales too, and the faces of that reading that
    pass the check and the filter and lie apart from the kept ones are added (multiscale.add_apart:
    a blob of small faces refused beside a face that stays; the check's refusals do not count, as
    they cost a portrait a second reading: experiments/2026-12-06-zoom-in-beside-kept-faces);
    zoom_in_lone_p (None: off; needs zoom_in_scales and verify_faces): a picture that the check and
    the face filter leave with exactly one face, and that was not read at the zoom-in scales, is
    read at them too; the faces of that reading that pass the check, get P(face) > zoom_in_lone_p
    from the face head whatever their LNet score, and lie apart from the kept face are added (the
    kept face never changes: faces LNet's base scales miss beside a large one;
    experiments/2026-12-06-small-lone-face-zoom, round 3); zoom_in_lone_skip_share (None: off;
    needs zoom_in_lone_p): a lone face whose region, clipped to the picture, spans at least this
    share (0-1] of the picture's width and of its height is not read again for zoom_in_lone_p (a
    close-up leaves no room for the faces that reading finds; experiments/2026-12-07-lone-zoom-room);
    zoom_in_canvas "fit": a zoom-in canvas trimmed to the photo (multiscale.place), "input"
    (default): the input size times the scale, whatever the photo's shape. fallback_scales
    (each < 1) are read last, only for an image where no scale found a face (a face filling a
    chip that LNet's map misses at the other scales). detail_ratio (None: off): a photo that every
    scale shrinks below this many canvas pixels per photo pixel (a large photo: 6000 x 4000 at
    scale 2 is 0.075) is also read at this ratio, in overlapping tiles, for faces too small for
    the whole-photo canvases (multiscale.read_scales). retry_exposure (None: off): (dark, bright)
    mean luma levels (Rec. 601, 0-255): an image where no scale found a face (or none scoring
    retry_weaker_than or more, when set) and whose mean luma is below `dark` or above `bright` is
    read again at every scale with its contrast stretched (stretch_contrast); when that reading's
    best face scores higher, its faces are the image's and are analysed on that copy: a photo
    shot in the dark, or over-exposed. rescue_faces (None: off): (min_score, min_probability): an
    image still without a face is read again with the localizer's threshold lowered to min_score,
    and its strongest candidate is kept when the face head (lnet_anet.inference.face_head) gives
    it P(face) > min_probability. refine_boxes (False: off): each face box is moved and resized by
    the box head (lnet_anet.inference.box_head) from ANet's feature of its region. crowd_box_head
    (None: off; needs refine_boxes): the faces of a picture where at least this many were found
    (1: every face) are placed by the crowd box head instead (Predictor.crowd_box_head; the shipped one is the MLP
    head fitted on crowds and grids, experiments/2026-12-06-crowd-box-head). crowd_box_steps
    (default 1; needs crowd_box_head): the crowd box head places each crowd face this many times,
    each time from ANet's feature of the region of the box it placed last (iterative box
    regression: the head learnt on jittered boxes and applies a share of its offsets, so a box
    placed once is again a box it can move; experiments/2026-12-06-box-steps). crowd_box_small
    (None: off; needs crowd_box_head): a face whose box's shorter side is at most this share
    (0-1) of its picture's shorter side is placed by the crowd box head too, however many faces
    the picture has (a small face in a scene, as the crowd head learnt on; a face that fills the
    picture keeps box_head's box). check_faces
    (None: off; needs an LNet with check=True): a face whose region holds no value of at least
    this in LNet's check map, at any scale it was read at (multiscale.check_evidence), is dropped
    before the rescue (experiments/2026-12-02-lnet-wild). check_rescue (False: off; needs
    check_faces): the rescue takes the strongest candidate that passes the check too.
    find_on_check (False: off; needs check_faces, and the bundle's preprocessing.check_localizer):
    after the check, a second localizer fitted on the check map (fit_localizer --check-map) reads
    the check map's readings of each picture and adds the faces it finds that overlap no face
    found (IoU < multiscale.FIND_ON_CHECK_IOU); they then go on like any face (verify_faces, the
    box heads; experiments/2026-12-06-every-face-map, round 2).
    rescue_frame (None: off; needs rescue_faces): min_probability of a last try: an image the
    rescue leaves without a face gets the whole picture as its face box (a face cut by the frame,
    which LNet's map has no blob for) when the face head gives it P(face) > rescue_frame; its
    score is rescue_faces[0] (experiments/2026-12-02-frame-rescue). verify_faces (None: off;
    needs rescue_faces, for its face head): (s_high, p_min): after the check and before the
    rescue, a face LNet scores below s_high is kept only when the face head gives it P(face) >
    p_min; a picture left with no face goes on to the rescue (experiments/2026-12-03-face-filter).
    verify_luma (None: every picture; needs verify_faces): (dark, bright) mean luma levels (Rec.
    601, 0-255): only a picture whose mean luma lies within them is verified (the face head
    learnt from photos exposed as most are; a dark or over-exposed face scores low with it).
    frame_read: the region a face the frame try kept is read through (ANet, its heads, the box
    head): "padded" (default), the frame's own region, which reaches beyond the picture and is
    padded black; "picture", the picture itself, [0, 0, W, H] (experiments/2026-12-03-frame-read).
    arbitrate_nested (None: off; needs rescue_faces, for its face head): when the faces of
    several scales are merged and a stronger face is nested in a weaker one over 1 /
    multiscale.PART_AREA its area (an eye read at scale 1 inside the whole face read at 0.45),
    the face head judges which region is the face, for larger regions whose shorter side is at
    least this share (0-1) of the picture's (Predictor.arbitrate_fill; 0: all).
    arbitrate_picture (needs arbitrate_nested): a picture's only face that may be a part of a face
    filling the picture is judged against the whole picture too (multiscale.lone_part;
    experiments/2026-12-05-nested-faces)."""

    input_size: tuple[int, int]
    resize: str = "letterbox"
    mean: tuple[float, float, float] = INCEPTION_MEAN
    std: tuple[float, float, float] = INCEPTION_STD
    scales: tuple[float, ...] = (1.0,)
    zoom_out_canvas: str = "input"
    zoom_in_scales: tuple[float, ...] = ()
    zoom_in_below: float = 0.0
    zoom_in_lone: bool = True
    zoom_in_lone_below: float | None = None
    zoom_in_canvas: str = "input"
    fallback_scales: tuple[float, ...] = ()
    detail_ratio: float | None = None
    retry_exposure: tuple[float, float] | None = None
    retry_weaker_than: float | None = None
    rescue_faces: tuple[float, float] | None = None
    refine_boxes: bool = False
    crowd_box_head: int | None = None
    crowd_box_steps: int = 1
    crowd_box_small: float | None = None
    check_faces: float | None = None
    check_rescue: bool = False
    find_on_check: bool = False
    rescue_frame: float | None = None
    verify_faces: tuple[float, float] | None = None
    frame_read: str = "padded"
    verify_luma: tuple[float, float] | None = None
    zoom_in_weak: int | None = None
    zoom_in_crowd: bool = True
    zoom_in_refused: bool = False
    zoom_in_refused_p: float | None = None
    zoom_in_refused_any: bool = False
    zoom_in_lone_p: float | None = None
    zoom_in_lone_skip_share: float | None = None
    arbitrate_nested: float | None = None
    arbitrate_picture: bool = False
    wide_canvas: tuple[float, float] | None = None
    FIELDS = ("input_size", "resize", "mean", "std", "scales", "zoom_out_canvas", "zoom_in_scales", "zoom_in_below",
              "zoom_in_lone", "zoom_in_lone_below", "zoom_in_canvas", "fallback_scales", "detail_ratio", "retry_exposure",
              "retry_weaker_than", "rescue_faces", "refine_boxes", "crowd_box_head", "crowd_box_steps", "crowd_box_small",
              "check_faces",
              "check_rescue", "find_on_check", "rescue_frame", "verify_faces", "frame_read", "verify_luma", "zoom_in_weak",
              "zoom_in_crowd", "zoom_in_refused", "zoom_in_refused_p", "zoom_in_refused_any", "zoom_in_lone_p", "zoom_in_lone_skip_share",
              "arbitrate_nested", "arbitrate_picture", "wide_canvas")

    @classmethod
    def from_dict(cls, d: Any, where: str = "lnet") -> LNetInput:
        d = _known(d, where, cls.FIELDS)
        size = d.get("input_size")
        if not isinstance(size, list | tuple) or len(size) != 2:
            raise PreprocessError(f"{where}.input_size must be [H, W], got {size!r}")
        size = tuple(_number({"input_size": v}, "input_size", where, 16, MAX_INPUT_SIDE, True) for v in size)
        if d.get("resize") not in ("letterbox", "stretch"):
            raise PreprocessError(f"{where}.resize must be letterbox or stretch, got {d.get('resize')!r}")
        scales = d.get("scales", [1.0])
        if not isinstance(scales, list | tuple) or not 1 <= len(scales) <= 8:
            raise PreprocessError(f"{where}.scales must be a list of 1 to 8 numbers, got {scales!r}")
        scales = tuple(_number({"scales": v}, "scales", where, 0.1, MAX_SCALE) for v in scales)
        if d["resize"] == "stretch" and scales != (1.0,):
            raise PreprocessError(f"{where}.scales: a stretched input has scale 1 only, got {list(scales)}")
        zoom_out = _canvas_choice(d, "zoom_out_canvas", where)
        zoom_in = _extra_scales(d, "zoom_in_scales", where, 1.0, MAX_SCALE, scales)
        below = _number(d, "zoom_in_below", where, 0.0, 4 * MAX_INPUT_SIDE) if "zoom_in_below" in d else 0.0
        lone = _flag(d, "zoom_in_lone", where, True)
        lone_below = d.get("zoom_in_lone_below")
        if lone_below is not None:
            lone_below = float(_number(d, "zoom_in_lone_below", where, 0.0, 4 * MAX_INPUT_SIDE))
            if not zoom_in or lone:
                raise PreprocessError(f"{where}.zoom_in_lone_below needs zoom_in_scales and zoom_in_lone false "
                                      "(with zoom_in_lone true every face under zoom_in_below asks already)")  # fmt: skip
        zoom_in_weak = d.get("zoom_in_weak")
        if zoom_in_weak is not None:
            zoom_in_weak = int(_number(d, "zoom_in_weak", where, 1, 1000, True))
            if not zoom_in:
                raise PreprocessError(f"{where}.zoom_in_weak needs zoom_in_scales, which are not set")
        zoom_in_crowd = _flag(d, "zoom_in_crowd", where, True)
        if not zoom_in_crowd and not zoom_in:
            raise PreprocessError(f"{where}.zoom_in_crowd needs zoom_in_scales, which are not set")
        zoom_in_refused = _flag(d, "zoom_in_refused", where)
        if zoom_in_refused and not zoom_in:
            raise PreprocessError(f"{where}.zoom_in_refused needs zoom_in_scales, which are not set")
        zoom_in_refused_p = d.get("zoom_in_refused_p")
        if zoom_in_refused_p is not None:
            zoom_in_refused_p = float(_number(d, "zoom_in_refused_p", where, 0.0, 1.0))
            if not zoom_in_refused:
                raise PreprocessError(f"{where}.zoom_in_refused_p needs zoom_in_refused to be true, and it is "
                                      f"{'false' if 'zoom_in_refused' in d else 'not set'}")  # fmt: skip
        zoom_in_refused_any = _flag(d, "zoom_in_refused_any", where)
        if zoom_in_refused_any and not zoom_in_refused:
            raise PreprocessError(f"{where}.zoom_in_refused_any needs zoom_in_refused to be true, and it is "
                                  f"{'false' if 'zoom_in_refused' in d else 'not set'}")  # fmt: skip
        zoom_in_lone_p = d.get("zoom_in_lone_p")
        if zoom_in_lone_p is not None:
            zoom_in_lone_p = float(_number(d, "zoom_in_lone_p", where, 0.0, 1.0))
            if not zoom_in:
                raise PreprocessError(f"{where}.zoom_in_lone_p needs zoom_in_scales, which are not set")
        lone_skip = d.get("zoom_in_lone_skip_share")
        if lone_skip is not None:
            lone_skip = float(_number(d, "zoom_in_lone_skip_share", where, 1e-6, 1.0))
            if zoom_in_lone_p is None:
                raise PreprocessError(f"{where}.zoom_in_lone_skip_share needs zoom_in_lone_p, which is not set")
        zoom_in_canvas = _canvas_choice(d, "zoom_in_canvas", where)
        fallback = _extra_scales(d, "fallback_scales", where, 0.1, 1.0, scales)
        detail = d.get("detail_ratio")
        if detail is not None:
            detail = float(_number(d, "detail_ratio", where, *DETAIL_RATIO_RANGE))
            if d["resize"] == "stretch":
                raise PreprocessError(f"{where}.detail_ratio: a stretched input has scale 1 only, got {detail}")
        retry = _luma_levels(d, "retry_exposure", where)
        weaker = d.get("retry_weaker_than")
        if weaker is not None:
            weaker = float(_number(d, "retry_weaker_than", where, -1e6, 1e6))
            if retry is None:
                raise PreprocessError(f"{where}.retry_weaker_than needs retry_exposure, which is not set")
        rescue = _score_and_probability(d, "rescue_faces", where, ("min_score", "min_probability"))
        refine = _flag(d, "refine_boxes", where)
        crowd_box_head = d.get("crowd_box_head")
        if crowd_box_head is not None:
            crowd_box_head = int(_number(d, "crowd_box_head", where, 1, 1000, True))
            if not refine:
                raise PreprocessError(f"{where}.crowd_box_head needs refine_boxes, which is not set")
        crowd_box_steps = int(_number(d, "crowd_box_steps", where, 1, MAX_BOX_STEPS, True)) if "crowd_box_steps" in d else 1
        if crowd_box_steps != 1 and crowd_box_head is None:
            raise PreprocessError(f"{where}.crowd_box_steps needs crowd_box_head, which is not set")
        crowd_box_small = d.get("crowd_box_small")
        if crowd_box_small is not None:
            crowd_box_small = float(_number(d, "crowd_box_small", where, 0.0, 1.0))
            if crowd_box_small == 0:  # no box is that small: null turns it off
                raise PreprocessError(f"{where}.crowd_box_small must be > 0 (null turns it off), got 0")
            if crowd_box_head is None:
                raise PreprocessError(f"{where}.crowd_box_small needs crowd_box_head, which is not set")
        check = d.get("check_faces")
        if check is not None:
            check = float(_number(d, "check_faces", where, 0.0, 1e6))
            if check == 0:  # the check map is ReLU'd: 0 would keep every face
                raise PreprocessError(f"{where}.check_faces must be > 0 (null turns the check off), got 0")
        check_rescue = _flag(d, "check_rescue", where)
        if check_rescue and check is None:
            raise PreprocessError(f"{where}.check_rescue needs check_faces, which is not set")
        find_on_check = _flag(d, "find_on_check", where)
        if find_on_check and check is None:
            raise PreprocessError(f"{where}.find_on_check needs check_faces, which is not set")
        frame = d.get("rescue_frame")
        if frame is not None:
            frame = float(_number(d, "rescue_frame", where, 0.0, 1.0))
        if frame is not None and rescue is None:
            raise PreprocessError(f"{where}.rescue_frame needs rescue_faces, which is not set{_RESCUE_OFF}")
        verify = _score_and_probability(d, "verify_faces", where, ("s_high", "p_min"))
        if verify is not None and rescue is None:
            raise PreprocessError(f"{where}.verify_faces needs rescue_faces (its face head), which is not set{_RESCUE_OFF}")
        verify_luma = _luma_levels(d, "verify_luma", where)
        if verify_luma is not None and verify is None:
            raise PreprocessError(f"{where}.verify_luma needs verify_faces, which is not set")
        if zoom_in_refused_p is not None and verify is None:  # the face filter's bar for the zoom-in's faces
            raise PreprocessError(f"{where}.zoom_in_refused_p needs verify_faces, which is not set")
        if zoom_in_refused_any and verify is None:  # the face filter's refusals are what it reads again
            raise PreprocessError(f"{where}.zoom_in_refused_any needs verify_faces, which is not set")
        if zoom_in_lone_p is not None and verify is None:  # the face head's bar for the added faces
            raise PreprocessError(f"{where}.zoom_in_lone_p needs verify_faces, which is not set")
        frame_read = d.get("frame_read", "padded")
        if frame_read not in ("padded", "picture"):
            raise PreprocessError(f"{where}.frame_read must be padded or picture, got {frame_read!r}")
        if frame_read != "padded" and frame is None:
            raise PreprocessError(f"{where}.frame_read {frame_read!r} needs rescue_frame, which is not set")
        arbitrate = d.get("arbitrate_nested")
        if arbitrate is not None:
            arbitrate = float(_number(d, "arbitrate_nested", where, 0.0, 1.0))
            if rescue is None:
                raise PreprocessError(f"{where}.arbitrate_nested needs rescue_faces (its face head), which is not set")
        picture = _flag(d, "arbitrate_picture", where)
        if picture and arbitrate is None:
            raise PreprocessError(f"{where}.arbitrate_picture needs arbitrate_nested, which is not set")
        wide = _wide_canvas(d, where)
        return cls(size, d["resize"], **_normalize_of(d, where), scales=scales, zoom_out_canvas=zoom_out,
                   zoom_in_scales=zoom_in, zoom_in_below=float(below), zoom_in_lone=lone,
                   zoom_in_lone_below=lone_below,
                   zoom_in_canvas=zoom_in_canvas, fallback_scales=fallback, detail_ratio=detail,
                   retry_exposure=retry, retry_weaker_than=weaker, rescue_faces=rescue,
                   refine_boxes=refine, crowd_box_head=crowd_box_head, crowd_box_steps=crowd_box_steps,
                   crowd_box_small=crowd_box_small,
                   check_faces=check, check_rescue=check_rescue, find_on_check=find_on_check,
                   rescue_frame=frame, verify_faces=verify, frame_read=frame_read,
                   verify_luma=verify_luma, zoom_in_weak=zoom_in_weak, zoom_in_crowd=zoom_in_crowd,
                   zoom_in_refused=zoom_in_refused, zoom_in_refused_p=zoom_in_refused_p,
                   zoom_in_refused_any=zoom_in_refused_any, zoom_in_lone_p=zoom_in_lone_p,
                   zoom_in_lone_skip_share=lone_skip, arbitrate_nested=arbitrate,
                   arbitrate_picture=picture, wide_canvas=wide)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        d = {"input_size": list(self.input_size), "resize": self.resize, "mean": list(self.mean),
             "std": list(self.std), "scales": list(self.scales), "zoom_out_canvas": self.zoom_out_canvas}  # fmt: skip
        if self.zoom_in_scales:  # absent otherwise: bundles from before zoom-in read the same
            d |= {"zoom_in_scales": list(self.zoom_in_scales), "zoom_in_below": self.zoom_in_below,
                  "zoom_in_lone": self.zoom_in_lone}
            if self.zoom_in_lone_below is not None:
                d["zoom_in_lone_below"] = self.zoom_in_lone_below
            if self.zoom_in_weak is not None:
                d["zoom_in_weak"] = self.zoom_in_weak
            if not self.zoom_in_crowd:  # absent when true: bundles from before read the same
                d["zoom_in_crowd"] = False
            if self.zoom_in_refused:  # absent otherwise: bundles from before read the same
                d["zoom_in_refused"] = True
            if self.zoom_in_refused_p is not None:
                d["zoom_in_refused_p"] = self.zoom_in_refused_p
            if self.zoom_in_refused_any:
                d["zoom_in_refused_any"] = True
            if self.zoom_in_lone_p is not None:
                d["zoom_in_lone_p"] = self.zoom_in_lone_p
            if self.zoom_in_lone_skip_share is not None:
                d["zoom_in_lone_skip_share"] = self.zoom_in_lone_skip_share
        if self.zoom_in_canvas != "input":  # absent otherwise: bundles from before read the same
            d["zoom_in_canvas"] = self.zoom_in_canvas
        if self.fallback_scales:
            d["fallback_scales"] = list(self.fallback_scales)
        if self.detail_ratio is not None:
            d["detail_ratio"] = self.detail_ratio
        if self.retry_exposure is not None:
            d["retry_exposure"] = list(self.retry_exposure)
        if self.retry_weaker_than is not None:
            d["retry_weaker_than"] = self.retry_weaker_than
        if self.rescue_faces is not None:
            d["rescue_faces"] = list(self.rescue_faces)
        if self.refine_boxes:
            d["refine_boxes"] = True
        if self.crowd_box_head is not None:
            d["crowd_box_head"] = self.crowd_box_head
        if self.crowd_box_steps != 1:  # absent otherwise: bundles from before read the same
            d["crowd_box_steps"] = self.crowd_box_steps
        if self.crowd_box_small is not None:
            d["crowd_box_small"] = self.crowd_box_small
        if self.check_faces is not None:
            d["check_faces"] = self.check_faces
        if self.check_rescue:
            d["check_rescue"] = True
        if self.find_on_check:  # absent otherwise: bundles from before read the same
            d["find_on_check"] = True
        if self.rescue_frame is not None:
            d["rescue_frame"] = self.rescue_frame
        if self.verify_faces is not None:
            d["verify_faces"] = list(self.verify_faces)
        if self.frame_read != "padded":  # absent otherwise: bundles from before read the same
            d["frame_read"] = self.frame_read
        if self.verify_luma is not None:
            d["verify_luma"] = list(self.verify_luma)
        if self.arbitrate_nested is not None:
            d["arbitrate_nested"] = self.arbitrate_nested
        if self.arbitrate_picture:
            d["arbitrate_picture"] = True
        if self.wide_canvas is not None:  # absent otherwise: bundles from before read the same
            d["wide_canvas"] = list(self.wide_canvas)
        return d

    def wants_exposure_retry(self, image: np.ndarray, best_score: float | None) -> bool:
        """Whether an image (H, W, 3) uint8 RGB whose best face scored `best_score` (None: no
        face) is read again with its contrast stretched (retry_exposure, retry_weaker_than)."""
        if self.retry_exposure is None:
            return False
        if best_score is not None and (self.retry_weaker_than is None or best_score >= self.retry_weaker_than):
            return False
        level = mean_luma(image)
        return level < self.retry_exposure[0] or level > self.retry_exposure[1]


# (dx, dy, scale) views of a face's region for Predictor.load(box_jitter=True): the region, then
# shifted by 2% of its width or height each way, then scaled by 0.93 and 1.07 about its centre.
# Averaging over them makes the answers depend less on where exactly LNet put the box
# (experiments/2026-12-02-box-jitter).
BOX_JITTER = ((0.0, 0.0, 1.0), (0.02, 0.0, 1.0), (-0.02, 0.0, 1.0), (0.0, 0.02, 1.0), (0.0, -0.02, 1.0),
              (0.0, 0.0, 0.93), (0.0, 0.0, 1.07))  # fmt: skip
MAX_VIEWS = 16


def jitter_box(box, view: tuple[float, float, float]) -> np.ndarray:
    """The box (x0, y0, x1, y1) moved by view = (dx, dy, scale): its centre shifted by dx times
    its width and dy times its height, then its sides multiplied by scale about that centre.
    Float64 (4,), the same pixels; not clipped (the face crop pads outside the image)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    dx, dy, scale = view
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2 + dx * w, (y0 + y1) / 2 + dy * h
    return np.array([cx - scale * w / 2, cy - scale * h / 2, cx + scale * w / 2, cy + scale * h / 2])


def _views(d: dict, where: str) -> tuple[tuple[float, float, float], ...]:
    """d["views"] (default none): at most MAX_VIEWS [dx, dy, scale] triples, |dx|, |dy| <= 0.25
    and scale in [0.5, 2]; PreprocessError otherwise."""
    values = d.get("views", [])
    if not isinstance(values, list | tuple) or len(values) > MAX_VIEWS:
        raise PreprocessError(f"{where}.views must be a list of at most {MAX_VIEWS} [dx, dy, scale], got {values!r}")
    views = []
    for k, view in enumerate(values):
        if not isinstance(view, list | tuple) or len(view) != 3:
            raise PreprocessError(f"{where}.views[{k}] must be [dx, dy, scale], got {view!r}")
        item, at = dict(zip(("dx", "dy", "scale"), view, strict=True)), f"{where}.views[{k}]"
        views.append((_number(item, "dx", at, -0.25, 0.25), _number(item, "dy", at, -0.25, 0.25),
                      _number(item, "scale", at, 0.5, 2.0)))  # fmt: skip
    return tuple(views)


PADS = ("black", "edge", "reflect")  # how a face crop is filled outside the picture (transforms.PAD_MODES)


def _pad(d: dict[str, Any], where: str) -> str:
    """d["pad"] (default "black": a crop region outside the picture is black), one of PADS;
    PreprocessError naming the setting otherwise."""
    pad = d.get("pad", "black")
    if pad not in PADS:
        raise PreprocessError(f"{where}.pad must be one of {', '.join(PADS)}, got {pad!r}")
    return pad


@dataclass(frozen=True)
class ANetInput(_Normalized):
    """A face -> ANet: the face box made square, `enlarge` times its longer side, resized to
    canonical_size; patches at offsets 0, stride, 2*stride, ... (ANet.patch_grid); mirror: the
    crop's mirror image is scored too; views: () reads the face's region as found, else each
    (dx, dy, scale) view of it (jitter_box) is read and the answers averaged (BOX_JITTER); pad:
    how the crop is filled where the region leaves the picture (PADS: black, the edge repeated, or
    the picture mirrored; transforms.PAD_MODES)."""

    canonical_size: int
    stride: int
    enlarge: float
    mirror: bool = False
    views: tuple[tuple[float, float, float], ...] = ()
    mean: tuple[float, float, float] = INCEPTION_MEAN
    std: tuple[float, float, float] = INCEPTION_STD
    pad: str = "black"
    FIELDS = ("canonical_size", "stride", "enlarge", "mirror", "views", "mean", "std", "pad")

    @classmethod
    def from_dict(cls, d: Any, where: str = "anet") -> ANetInput:
        d = _known(d, where, cls.FIELDS)
        size = _number(d, "canonical_size", where, 16, MAX_INPUT_SIDE, True)
        stride = _number(d, "stride", where, 1, size, True)
        mirror = _flag(d, "mirror", where)
        enlarge = _number(d, "enlarge", where, 1e-3, MAX_ENLARGE)
        return cls(size, stride, enlarge, mirror, _views(d, where), **_normalize_of(d, where), pad=_pad(d, where))

    def to_dict(self) -> dict[str, Any]:
        d = {**dataclasses.asdict(self), "mean": list(self.mean), "std": list(self.std)}
        if self.views:  # written only when set: a bundle without views reads as before
            d["views"] = [list(v) for v in self.views]
        else:
            del d["views"]
        if self.pad == "black":  # likewise
            del d["pad"]
        return d


@dataclass(frozen=True)
class HeadInput(_Normalized):
    """A face -> an age or attractiveness net: the square crop (`enlarge` times the box's longer
    side) resized to image_size and normalised, filled outside the picture as `pad` says (as
    ANetInput's); or, with input="anet_features", no crop: the head reads the face's
    patch-averaged ANet feature. soften / soften_above: a crop whose focus measure is over
    soften_above is read with less detail, shrunk soften times and enlarged back
    (transforms.soften_sharp; soften 1, the default: as cut)."""

    image_size: int | None = None
    enlarge: float | None = None
    mean: tuple[float, float, float] = INCEPTION_MEAN
    std: tuple[float, float, float] = INCEPTION_STD
    input: str = "image"
    pad: str = "black"
    soften: float = 1.0
    soften_above: float = 0.0
    FIELDS = ("image_size", "enlarge", "mean", "std", "input", "pad", "soften", "soften_above")

    @property
    def reads_anet_features(self) -> bool:
        return self.input == "anet_features"

    @classmethod
    def from_dict(cls, d: Any, where: str = "head") -> HeadInput:
        d = _known(d, where, cls.FIELDS)
        kind = d.get("input", "image")
        if kind == "anet_features":
            return cls(input="anet_features")
        if kind != "image":
            raise PreprocessError(f"{where}.input must be image or anet_features, got {kind!r}")
        soften = {"soften": _number(d, "soften", where, 1, MAX_SOFTEN)} if "soften" in d else {}
        if "soften_above" in d:
            soften["soften_above"] = _number(d, "soften_above", where, 0, math.inf)
        return cls(_number(d, "image_size", where, 16, MAX_INPUT_SIDE, True),
                   _number(d, "enlarge", where, 1e-3, MAX_ENLARGE), **_normalize_of(d, where), pad=_pad(d, where),
                   **soften)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        if self.reads_anet_features:
            return {"input": "anet_features"}
        # pad black and soften 1 (the defaults) are written as no keys: such a bundle reads as before
        return {"image_size": self.image_size, "enlarge": self.enlarge, "mean": list(self.mean),
                "std": list(self.std), **({"pad": self.pad} if self.pad != "black" else {}),
                **({"soften": self.soften, "soften_above": self.soften_above} if self.soften != 1 else {})}  # fmt: skip


__all__ = ["INCEPTION_MEAN", "INCEPTION_STD", "ANetInput", "HeadInput", "LNetInput", "Normalize",
           "PreprocessError"]  # fmt: skip
