"""Image transforms shared by training and inference: the face crop (a box made square and
enlarged about its centre, black outside the image), ANet's patch crops (training sees random
P x P patches of the canonical face crop, the same distribution as the dense test-time patches at
offsets 0, stride, 2*stride, ...), and the mirror view of a face."""

from __future__ import annotations

import io

import cv2
import numpy as np
import torch
from PIL import Image


class _Patch:
    def __init__(self, size: int):
        self.size = int(size)

    def _room(self, img: np.ndarray) -> tuple[int, int]:
        """How far the patch can move in y and x."""
        h, w = img.shape[:2]
        if h < self.size or w < self.size:
            raise ValueError(f"image {h}x{w} is smaller than the {self.size}px patch")
        return h - self.size, w - self.size


class RandomPatch(_Patch):
    def __call__(self, img: np.ndarray) -> np.ndarray:
        room_y, room_x = self._room(img)
        y = int(torch.randint(0, room_y + 1, ()))  # torch RNG: seeded per worker
        x = int(torch.randint(0, room_x + 1, ()))
        return np.ascontiguousarray(img[y:y + self.size, x:x + self.size])


class CenterPatch(_Patch):
    def __call__(self, img: np.ndarray) -> np.ndarray:
        room_y, room_x = self._room(img)
        y, x = room_y // 2, room_x // 2
        return np.ascontiguousarray(img[y:y + self.size, x:x + self.size])


def mirror(img: np.ndarray) -> np.ndarray:
    """The image flipped left-right (H, W, C): a face's mirror view."""
    return np.ascontiguousarray(img[:, ::-1])


class ZoomOut:
    """The face framed more loosely, as a box that also takes in hair and surroundings frames
    it: the (H, W, 3) uint8 image shrunk `zoom` times (>= 1) and placed on an (H, W) canvas,
    centred up to `jitter` of the side off (torch RNG, seeded per worker), the rest black (what
    `crop_face` pads beyond a photo's edge) or, fill="blur", the image's edge pixels carried
    outwards and blurred (a stand-in for the surroundings a photo has). flip mirrors the image
    first. Why: on photos LNet's box frames face and hair (~1.7x a tight face box), on a tightly
    cropped chip it frames the chip (~1.0x); a head trained on chips alone reads the looser
    crop as an older face (UTKFace, experiments/2026-11-30-age-framing)."""

    FILLS = ("black", "blur")

    def __init__(self, zoom: float, fill: str = "black", jitter: float = 0.0, flip: bool = False):
        if not zoom >= 1:
            raise ValueError(f"zoom must be >= 1, got {zoom}")
        if fill not in self.FILLS:
            raise ValueError(f"fill must be one of {self.FILLS}, got {fill!r}")
        if not 0 <= jitter < 0.5:
            raise ValueError(f"jitter must be in [0, 0.5), got {jitter}")
        self.zoom, self.fill, self.jitter, self.flip = float(zoom), fill, float(jitter), bool(flip)

    def __repr__(self) -> str:
        return f"ZoomOut(zoom={self.zoom}, fill={self.fill!r}, jitter={self.jitter}, flip={self.flip})"

    def __call__(self, img: np.ndarray) -> np.ndarray:
        if self.flip:
            img = mirror(img)
        h, w = img.shape[:2]
        nh, nw = max(1, round(h / self.zoom)), max(1, round(w / self.zoom))
        shift = (torch.rand(2) * 2 - 1).numpy() * self.jitter * np.array([h, w])
        y0 = int(np.clip(round((h - nh) / 2 + shift[0]), 0, h - nh))
        x0 = int(np.clip(round((w - nw) / 2 + shift[1]), 0, w - nw))
        small = resize(img, nh, nw)
        pads = (y0, h - nh - y0, x0, w - nw - x0)
        if self.fill == "black":
            return cv2.copyMakeBorder(small, *pads, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        canvas = cv2.copyMakeBorder(small, *pads, cv2.BORDER_REPLICATE)
        blurred = cv2.GaussianBlur(canvas, (0, 0), sigmaX=max(h, w) / 16)
        blurred[y0:y0 + nh, x0:x0 + nw] = small
        return blurred


class Photometric:
    """The photo as a darker, brighter or colourless shot of the same face: uint8 (H, W, 3) ->
    255 * gain * (img / 255) ** gamma, clipped, then (gray) the ITU-R 601 luma in all three
    channels. Why: a dark, over-exposed or black-and-white photo of a face is the same age (issue
    15's stability benchmark perturbs brightness x0.6 / x1.5 and grayscale)."""

    def __init__(self, gain: float = 1.0, gamma: float = 1.0, gray: bool = False):
        if not (gain > 0 and gamma > 0):
            raise ValueError(f"gain and gamma must be > 0, got {gain}, {gamma}")
        self.gain, self.gamma, self.gray = float(gain), float(gamma), bool(gray)
        self.lut = np.clip(255.0 * gain * (np.arange(256) / 255.0) ** gamma, 0, 255).round().astype(np.uint8)

    def __repr__(self) -> str:
        return f"Photometric(gain={self.gain}, gamma={self.gamma}, gray={self.gray})"

    def __call__(self, img: np.ndarray) -> np.ndarray:
        out = cv2.LUT(np.ascontiguousarray(img), self.lut)
        if self.gray:
            out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        return out


EXPOSURE_KINDS = ("brightness", "grayscale", "jpeg")


def exposure_view(image: np.ndarray, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """The same photo as another camera or file would give it, drawn with `rng`: one of its
    brightness x U(0.5, 1.7) (clipped), grayscale (Pillow's ITU-R 601 luma in all three channels)
    or a JPEG re-save at quality U(50, 95) (Pillow). uint8 RGB (H, W, 3) -> (kind, uint8 RGB of the
    same shape); the pixels do not move. The box head learns to ignore these changes
    (lnet_anet.cli.fit_box_head --invariance; experiments/2026-12-02-box-head-views)."""
    kind = EXPOSURE_KINDS[int(rng.integers(len(EXPOSURE_KINDS)))]
    if kind == "brightness":
        return kind, np.clip(image * rng.uniform(0.5, 1.7), 0, 255).astype(np.uint8)
    img = Image.fromarray(image)
    if kind == "grayscale":
        return kind, np.asarray(img.convert("L").convert("RGB"))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(50, 96)))
    return kind, np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


class OneOf:
    """One of several views per call, drawn uniformly with torch's generator (seeded per
    DataLoader worker); None among them is the image as it is. Used to train a network on the
    face crop with the looser framings and exposures the anet_layers recipe caches as extra
    views (lnet_anet.dldl.recipes.framing_views), one drawn per sample instead."""

    def __init__(self, *views):
        if not views:
            raise ValueError("OneOf needs at least one view")
        self.views = views

    def __repr__(self) -> str:
        return f"OneOf{self.views!r}"

    def __call__(self, img: np.ndarray) -> np.ndarray:
        view = self.views[int(torch.randint(len(self.views), ()))]
        return img if view is None else view(img)


class Chain:
    """Transforms applied in order (a picklable composition for DataLoader workers)."""

    def __init__(self, *steps):
        self.steps = steps

    def __repr__(self) -> str:
        return f"Chain{self.steps!r}"

    def __call__(self, img: np.ndarray) -> np.ndarray:
        for step in self.steps:
            img = step(img)
        return img


def resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """img resized to (height, width): area averaging when it shrinks, bilinear otherwise."""
    shrink = img.shape[0] > height or img.shape[1] > width
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def focus(img: np.ndarray) -> float:
    """How much fine detail a face crop holds: the variance of the 3x3 Laplacian (cv2) of the
    grey uint8 (H, W, 3) RGB image's central half (H/2 x W/2), a standard focus measure. UTKFace's
    128 px train chips: median 1,978, p90 5,052; CelebA-HQ's 128 px files: median 7,631
    (experiments/2026-12-04-age-gpu/detail.json)."""
    grey = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    return float(cv2.Laplacian(grey[h // 4: h - h // 4, w // 4: w - w // 4], cv2.CV_64F, ksize=3).var())


def soften(img: np.ndarray, times: float) -> np.ndarray:
    """The uint8 (H, W, 3) image with less fine detail, same size: shrunk `times` (>= 1) times by
    area averaging and enlarged back bilinearly. Why: an age net that learnt from soft chips reads
    fine detail as age (experiments/2026-12-04-age-gpu)."""
    if not times >= 1:
        raise ValueError(f"soften times must be >= 1, got {times}")
    h, w = img.shape[:2]
    small = resize(img, max(1, round(h / times)), max(1, round(w / times)))
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def soften_sharp(img: np.ndarray, times: float, above: float) -> np.ndarray:
    """soften(img, times) when focus(img) > above; else img itself (times 1: always img)."""
    return soften(img, times) if times != 1 and focus(img) > above else img


def face_region(box, enlarge: float) -> np.ndarray:
    """The square region (x0, y0, x1, y1) of a face box (pixels, exclusive ends): side = the
    box's longer side times `enlarge`, centred on the box. Raises ValueError for a box that is
    not finite or has no area, or enlarge <= 0."""
    x0, y0, x1, y1 = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    if not (np.isfinite([x0, y0, x1, y1]).all() and x1 > x0 and y1 > y0 and enlarge > 0):
        raise ValueError(f"bad box {box} (need finite x1 > x0, y1 > y0) or enlarge {enlarge}")
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * enlarge / 2
    return np.array([cx - half, cy - half, cx + half, cy + half])


def crop_face(img: np.ndarray, box, enlarge: float, size: int, pad: str = "black") -> np.ndarray:
    """The uint8 (size, size, 3) crop of a face: `face_region(box, enlarge)` cut and resized
    the way FaceDataset cuts training crops; `pad` as crop_resize's."""
    return crop_resize(img, face_region(box, enlarge), (size, size), pad)[0]


PYRAMID_FROM = 8  # AreaPyramid: a region this many times the crop's side is cut from a shrunk copy


class AreaPyramid:
    """An image (uint8 (H, W, 3)) and its copies shrunk 2, 4, 8, ... times by area averaging, each
    made when first needed, to cut crops of large regions from. A crop whose region is at least
    PYRAMID_FROM times its side is cut from the smallest copy on which the region is still at least
    PYRAMID_FROM / 2 times its side (area averaging from 4x the size or more changes next to
    nothing; tests/test_transforms.py): the face crops of a 24 MP photo read ~4 MP each otherwise
    (20-400 ms a crop). Pictures of a megapixel or less never have such regions but for their
    whole-picture region, so their crops are as before. Regions that reach outside the picture
    are cut so only when filled black (`pad` "black"): the other fills repeat the edge pixels,
    which a shrunk copy does not have."""

    def __init__(self, img: np.ndarray):
        self._levels = [img]

    def crop_face(self, box, enlarge: float, size: int, pad: str = "black") -> np.ndarray:
        """crop_face(img, box, enlarge, size, pad), cut from the copy as the class says."""
        img = self._levels[0]
        region = face_region(box, enlarge)
        h, w = img.shape[:2]
        k = 0
        while (region[2] - region[0]) / 2 ** (k + 1) >= PYRAMID_FROM / 2 * size and min(h, w) >> (k + 1) >= 1:
            k += 1
        if k == 0 or (pad != "black" and leaves_picture((h, w), region)):
            return crop_resize(img, region, (size, size), pad)[0]
        level = self._level(k)
        fx, fy = level.shape[1] / w, level.shape[0] / h
        return crop_resize(level, region * [fx, fy, fx, fy], (size, size), pad)[0]

    def _level(self, k: int) -> np.ndarray:
        while len(self._levels) <= k:
            last = self._levels[-1]
            self._levels.append(cv2.resize(last, (max(1, last.shape[1] // 2), max(1, last.shape[0] // 2)),
                                           interpolation=cv2.INTER_AREA))  # fmt: skip
        return self._levels[k]


def leaves_picture(hw: tuple[int, int], region: np.ndarray) -> bool:
    """Whether crop_resize's cut of `region` (x0, y0, x1, y1) reaches outside an (H, W) picture."""
    return bool(np.floor(region[0]) < 0 or np.floor(region[1]) < 0 or np.ceil(region[2]) > hw[1]
                or np.ceil(region[3]) > hw[0])  # fmt: skip


MAX_CROP_PIXELS = 16_000_000  # a padded crop region larger than this (and 4x the image) is shrunk
# How a crop region is filled outside the picture: black, the edge pixels repeated, or the picture
# mirrored at its edge (cv2's border modes; a tight chip's black band above the head reads as a hat).
PAD_MODES = {"black": cv2.BORDER_CONSTANT, "edge": cv2.BORDER_REPLICATE, "reflect": cv2.BORDER_REFLECT_101}


def crop_resize(
    img: np.ndarray, region: np.ndarray, size: tuple[int, int], pad: str = "black"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut `region` = (x0, y0, x1, y1) image pixels (exclusive ends, filled outside the image as
    `pad` says: PAD_MODES; a region wholly outside is black) out of the uint8 (H, W, 3) `img` and
    resize it to size=(H', W') (area when
    shrinking, bilinear when enlarging). Returns the uint8 (H', W', 3) crop, the region's integer
    origin (x, y) and the scale (sx, sy) that map source coordinates to output ones:
    out = (src - origin) * scale. A region far larger than the image (a square around a wide
    box on a panorama) is cut from a shrunk copy of the image, so that the padded region is never
    allocated whole."""
    h, w = img.shape[:2]
    x0, y0 = int(np.floor(region[0])), int(np.floor(region[1]))
    x1, y1 = max(int(np.ceil(region[2])), x0 + 1), max(int(np.ceil(region[3])), y0 + 1)
    limit = max(4 * h * w, MAX_CROP_PIXELS)
    if (y1 - y0) * (x1 - x0) > limit:
        f = (limit / ((y1 - y0) * (x1 - x0))) ** 0.5
        sw, sh = max(1, round(w * f)), max(1, round(h * f))
        small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
        fx, fy = sw / w, sh / h
        out = _cut(small, np.array([x0 * fx, y0 * fy, x1 * fx, y1 * fy]), size, pad)[0]
        return out, np.array([x0, y0], dtype=np.float64), np.array([size[1] / (x1 - x0), size[0] / (y1 - y0)])
    return _cut(img, region, size, pad)


def _cut(img: np.ndarray, region: np.ndarray, size: tuple[int, int],
         pad: str = "black") -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    h, w = img.shape[:2]
    x0, y0 = int(np.floor(region[0])), int(np.floor(region[1]))
    x1, y1 = max(int(np.ceil(region[2])), x0 + 1), max(int(np.ceil(region[3])), y0 + 1)
    patch = img[max(y0, 0) : min(y1, h), max(x0, 0) : min(x1, w)]
    pads = (max(-y0, 0), max(y1 - h, 0), max(-x0, 0), max(x1 - w, 0))
    if any(pads):
        if patch.size == 0:  # the region lies wholly outside the image
            patch = np.zeros((y1 - y0, x1 - x0, 3), dtype=np.uint8)
        else:
            thin = max(pads[0], pads[1]) >= patch.shape[0] or max(pads[2], pads[3]) >= patch.shape[1]
            if pad == "reflect" and thin:
                patch = cv2.copyMakeBorder(patch, *pads, cv2.BORDER_REPLICATE)  # too thin a picture to mirror
            else:
                patch = cv2.copyMakeBorder(patch, *pads, PAD_MODES[pad], value=(0, 0, 0))
    out_h, out_w = size
    shrink = patch.shape[0] > out_h or patch.shape[1] > out_w
    out = cv2.resize(
        patch, (out_w, out_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )
    scale = np.array([out_w / (x1 - x0), out_h / (y1 - y0)])
    return out, np.array([x0, y0], dtype=np.float64), scale
