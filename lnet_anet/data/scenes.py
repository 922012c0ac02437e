"""In-the-wild scenes composed from aligned face crops, for training and evaluating LNet.

Real aligned faces (e.g. CelebA-HQ crops) have no surrounding scene, so LNet, which must learn
*where* the face is from image-level tags alone, sees each one pasted at a random position, scale
and small rotation onto a face-free background. The paste mask is a feathered ellipse of random
shape and softness, so the seam is a gradual blend rather than a sharp edge the network could key
on. Backgrounds are procedural clutter (`synthetic.draw_background`) and face-free photos shipped
with scikit-image, randomly cropped, flipped and colour-jittered.

The box of a composed face is the bounding box of the pasted region where the mask is >= 0.5, in
canvas pixels [x0, y0, x1, y1] (exclusive ends): what the ground-truth box of the scene is.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from lnet_anet.data.errors import ImageReadError
from lnet_anet.data.images import read_image, to_rgb8
from lnet_anet.data.preprocess import INCEPTION_MEAN, INCEPTION_STD
from lnet_anet.data.readers._tables import BOX_COLUMNS
from lnet_anet.data.synthetic import draw_background
from lnet_anet.data.transforms import Photometric, resize

# scikit-image sample photos checked by eye to hold no face, human or animal. Left out on purpose:
# astronaut and camera (a person), coins (most coins show a head), chelsea (a cat's face), logo
# (a snake's head), horse (a bare silhouette), and the ones scikit-image downloads at run time.
SKIMAGE_FACE_FREE: tuple[str, ...] = (
    "coffee", "rocket", "brick", "grass", "gravel", "hubble_deep_field", "immunohistochemistry",
    "moon", "page", "text", "retina",
)  # fmt: skip

Canvas = tuple[int, int]  # (height, width), like FaceDataset's image_size


def _canvas(canvas: int | Sequence[int]) -> Canvas:
    h, w = (canvas, canvas) if isinstance(canvas, int) else tuple(canvas)
    if h < 16 or w < 16:
        raise ValueError(f"canvas must be at least 16x16 pixels, got {h}x{w}")
    return int(h), int(w)


def _check_rgb8(img: np.ndarray, what: str) -> None:
    if (
        not isinstance(img, np.ndarray)
        or img.dtype != np.uint8
        or img.ndim != 3
        or img.shape[2] != 3
    ):
        shape = getattr(img, "shape", None)
        raise ValueError(
            f"{what} must be a uint8 HxWx3 RGB array, got {type(img).__name__} {shape}"
        )


def feathered_ellipse(
    height: int, width: int, rng: np.random.Generator, feather: tuple[float, float] = (0.1, 0.3)
) -> np.ndarray:
    """A float32 (height, width) mask in [0, 1]: an ellipse nearly inscribed in the patch (axes
    90-100% of the half sides, drawn at random) that fades to 0 over a random fraction `feather`
    of its radius with a smoothstep, so the seam has no sharp edge."""
    ax = 0.5 * width * rng.uniform(0.9, 1.0)
    ay = 0.5 * height * rng.uniform(0.9, 1.0)
    soft = rng.uniform(*feather)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rho = np.hypot((x + 0.5 - width / 2) / ax, (y + 0.5 - height / 2) / ay)
    t = np.clip((1.0 - rho) / soft, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def compose_scene(
    face_rgb: np.ndarray,
    background_rgb: np.ndarray,
    rng: np.random.Generator,
    canvas: int | Sequence[int] = (300, 300),
    scale_range: tuple[float, float] = (0.15, 0.7),
    max_rotation_deg: float = 10.0,
    feather: tuple[float, float] = (0.1, 0.3),
) -> tuple[np.ndarray, np.ndarray]:
    """Paste a face crop onto a background: (canvas RGB uint8 (H, W, 3), box float64 (4,)).

    canvas: (height, width) or an int; the background is resized to it when it differs.
    scale_range: the face patch's longer side as a fraction of the canvas's shorter side.
    max_rotation_deg: the patch turns by a uniform angle in +- this.
    The patch lies wholly inside the canvas; `box` bounds its visible part (mask >= 0.5).
    """
    _check_rgb8(face_rgb, "face_rgb")
    _check_rgb8(background_rgb, "background_rgb")
    height, width = _canvas(canvas)
    lo, hi = scale_range
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"scale_range must satisfy 0 < low <= high <= 1, got {scale_range}")
    if background_rgb.shape[:2] != (height, width):
        background_rgb = resize(background_rgb, height, width)

    side = rng.uniform(lo, hi) * min(height, width)
    f = side / max(face_rgb.shape[:2])
    ph = max(2, round(face_rgb.shape[0] * f))
    pw = max(2, round(face_rgb.shape[1] * f))
    patch = resize(face_rgb, ph, pw)
    mask = feathered_ellipse(ph, pw, rng, feather)

    angle = rng.uniform(-max_rotation_deg, max_rotation_deg)
    c, s = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    half_x, half_y = (pw * c + ph * s) / 2, (pw * s + ph * c) / 2
    cx = rng.uniform(half_x, width - half_x) if 2 * half_x < width else width / 2
    cy = rng.uniform(half_y, height - half_y) if 2 * half_y < height else height / 2
    # Rotate about the patch centre, then move that centre to (cx, cy); OpenCV puts pixel i's
    # centre at coordinate i, hence the -0.5 shifts between the continuous and pixel frames.
    matrix = cv2.getRotationMatrix2D((pw / 2 - 0.5, ph / 2 - 0.5), angle, 1.0)
    matrix[:, 2] += (cx - pw / 2, cy - ph / 2)
    size = (width, height)
    warped = cv2.warpAffine(
        patch, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    alpha = cv2.warpAffine(mask, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
    out = background_rgb.astype(np.float32) * (1.0 - alpha) + warped.astype(np.float32) * alpha
    ys, xs = np.nonzero(alpha[..., 0] >= 0.5)
    if len(xs) == 0:
        raise ValueError(f"face patch of {pw}x{ph} pixels is too small to be visible")
    box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float64)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), box


class BackgroundBank:
    """Face-free backgrounds of one canvas size: procedural clutter with probability
    `procedural_prob`, otherwise a random crop of a face-free photo (scikit-image's sample photos
    named in `photos`, plus any `extra_paths`), flipped and colour-jittered.

    crop_scale: the crop's side as a fraction of the largest canvas-shaped crop of the photo.
    color_jitter: brightness, contrast, saturation and per-channel gain change by at most this
    fraction (the per-channel gain also tints grey photos, so colour alone never marks a face).
    """

    def __init__(
        self,
        canvas: int | Sequence[int] = (300, 300),
        photos: Sequence[str] = SKIMAGE_FACE_FREE,
        extra_paths: Sequence[str | Path] = (),
        procedural_prob: float = 0.5,
        crop_scale: tuple[float, float] = (0.3, 1.0),
        color_jitter: float = 0.2,
    ):
        if not 0 <= procedural_prob <= 1:
            raise ValueError(f"procedural_prob must be in [0, 1], got {procedural_prob}")
        if not 0 < crop_scale[0] <= crop_scale[1] <= 1:
            raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {crop_scale}")
        self.canvas = _canvas(canvas)
        self.procedural_prob = procedural_prob
        self.crop_scale = crop_scale
        self.color_jitter = color_jitter
        self.photos = [_skimage_photo(name) for name in photos]
        self.photos += [read_image(p) for p in extra_paths]  # ImageReadError names the file
        if not self.photos and procedural_prob < 1:
            raise ValueError("no background photos: give photos/extra_paths or procedural_prob=1")

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One background, uint8 RGB (H, W, 3) at the canvas size."""
        height, width = self.canvas
        if rng.random() < self.procedural_prob:
            return draw_background(rng, width, height)
        photo = self.photos[int(rng.integers(len(self.photos)))]
        return self._jitter(self._crop(photo, rng), rng)

    def _crop(self, photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        height, width = self.canvas
        ih, iw = photo.shape[:2]
        fit = min(ih / height, iw / width)  # largest canvas-shaped crop is (fit*H, fit*W)
        k = fit * rng.uniform(*self.crop_scale)
        ch, cw = max(1, min(ih, round(k * height))), max(1, min(iw, round(k * width)))
        y0, x0 = int(rng.integers(ih - ch + 1)), int(rng.integers(iw - cw + 1))
        crop = resize(photo[y0 : y0 + ch, x0 : x0 + cw], height, width)
        return np.ascontiguousarray(crop[:, ::-1]) if rng.random() < 0.5 else crop

    def _jitter(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        j = self.color_jitter
        brightness, contrast, saturation = 1.0 + rng.uniform(-j, j, 3)
        gains = (1.0 + rng.uniform(-j, j, 3)).astype(np.float32)
        x = img.astype(np.float32) * gains * brightness
        gray = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        x = gray[..., None] + (x - gray[..., None]) * saturation
        x = gray.mean() + (x - gray.mean()) * contrast
        return np.clip(x + 0.5, 0, 255).astype(np.uint8)


class ScenePhotometric:
    """A composed scene as a different shot (issue 14, photometric range: LNet trained on dark,
    over-exposed, low-contrast, grayscale, blurred and heavily JPEG-compressed photos). With
    probability p the whole scene, face and background alike (so that no photometric cue marks a
    face), gets a gain drawn log-uniformly from `gain` and a gamma from `gamma` (Photometric),
    then, each with its own probability, turns gray, is blurred (Gaussian, sigma in pixels from
    `blur_sigma`) and is re-saved as JPEG at a quality from `jpeg_quality`. Every number is drawn
    whether used or not, so a scene's other draws never shift. Raises ValueError naming a setting
    of the wrong type or out of range."""

    FIELDS = ("p", "gain", "gamma", "p_gray", "p_blur", "blur_sigma", "p_jpeg", "jpeg_quality")

    def __init__(self, p: float = 0.5, gain: Sequence[float] = (0.3, 2.5), gamma: Sequence[float] = (0.7, 1.4),
                 p_gray: float = 0.3, p_blur: float = 0.2, blur_sigma: Sequence[float] = (0.5, 2.0),
                 p_jpeg: float = 0.3, jpeg_quality: Sequence[int] = (25, 90)):  # fmt: skip
        def number(name: str, value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"ScenePhotometric: {name} must be a finite number, got {value!r}")
            return float(value)

        for name, value in (("p", p), ("p_gray", p_gray), ("p_blur", p_blur), ("p_jpeg", p_jpeg)):
            if not 0 <= number(name, value) <= 1:
                raise ValueError(f"ScenePhotometric: {name} must be in [0, 1], got {value}")
        for name, pair in (("gain", gain), ("gamma", gamma), ("blur_sigma", blur_sigma), ("jpeg_quality", jpeg_quality)):
            if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise ValueError(f"ScenePhotometric: {name} must be [low, high], got {pair!r}")
            lo, hi = (number(name, v) for v in pair)
            if not 0 < lo <= hi:
                raise ValueError(f"ScenePhotometric: {name} must be [low, high] with 0 < low <= high, got {list(pair)}")
        if jpeg_quality[1] > 100:
            raise ValueError(f"ScenePhotometric: jpeg_quality must be at most 100, got {jpeg_quality}")
        self.p, self.p_gray, self.p_blur, self.p_jpeg = p, p_gray, p_blur, p_jpeg
        self.gain, self.gamma = tuple(gain), tuple(gamma)
        self.blur_sigma, self.jpeg_quality = tuple(blur_sigma), tuple(int(q) for q in jpeg_quality)

    def __repr__(self) -> str:
        return (f"ScenePhotometric(p={self.p}, gain={self.gain}, gamma={self.gamma}, p_gray={self.p_gray}, "
                f"p_blur={self.p_blur}, blur_sigma={self.blur_sigma}, p_jpeg={self.p_jpeg}, "
                f"jpeg_quality={self.jpeg_quality})")  # fmt: skip

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """uint8 RGB (H, W, 3) -> the same shape, changed with probability p."""
        on, gray, blur, jpeg = rng.random(4) < (self.p, self.p_gray, self.p_blur, self.p_jpeg)
        gain = math.exp(rng.uniform(math.log(self.gain[0]), math.log(self.gain[1])))
        gamma = math.exp(rng.uniform(math.log(self.gamma[0]), math.log(self.gamma[1])))
        sigma = rng.uniform(*self.blur_sigma)
        quality = int(rng.integers(self.jpeg_quality[0], self.jpeg_quality[1] + 1))
        if not on:
            return image
        out = Photometric(gain, gamma, bool(gray))(image)
        if blur:
            out = cv2.GaussianBlur(out, (0, 0), sigmaX=sigma)
        if jpeg:
            _, data = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
            out = np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1])
        return out


class TorchSeededPhotometric:
    """A ScenePhotometric as a FaceDataset transform (uint8 RGB (H, W, 3) -> the same shape): each
    call draws its numbers from a generator seeded by torch's, so torch.manual_seed and DataLoader
    worker seeding make the draws repeatable, as FaceDataset's own augmentation is. Used to train
    ANet on dark, bright, gray, blurred and re-saved face crops (train_anet's photometric=)."""

    def __init__(self, photometric: ScenePhotometric):
        self.photometric = photometric

    def __repr__(self) -> str:
        return f"TorchSeededPhotometric({self.photometric!r})"

    def __call__(self, image: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(int(torch.randint(0, 2**62, ())))
        return self.photometric(image, rng)


def _skimage_photo(name: str) -> np.ndarray:
    import skimage.data

    loader = getattr(skimage.data, name, None)
    if loader is None or not callable(loader):
        raise ValueError(f"scikit-image has no sample image {name!r}")
    return to_rgb8(np.asarray(loader()))


class ComposedScenes(Dataset):
    """One composed scene per row of a face index (see lnet_anet.data for its schema).

    Sample i: with probability p_empty a background alone ("has_face" 0, "attributes" all 0, "box"
    NaN), else face i pasted on a background ("has_face" 1, the face's tags, its box in canvas
    pixels). Keys: image (3xHxW float, (pixel/255 - mean) / std), attributes, box, has_face,
    index. Scenes are a pure function of (seed, i), so a validation set is fixed; train=True
    mixes in a number from torch's generator so every epoch composes new scenes (repeatable
    under torch.manual_seed and DataLoader worker seeding). photometric: a ScenePhotometric that
    changes each finished scene, empty or not (None: none). Unreadable face images: a warning
    naming the file and None (use collate_fn=collate_skip_bad). An index that lists face boxes
    (x0, y0, x1, y1: in-the-wild CelebA's list_bbox_celeba.txt) is read as photos: each face is
    cut to its box before it is pasted, and a row without a box raises ValueError (a trial pasted
    whole photos, background and all, as the "face").
    """

    def __init__(
        self,
        index: pd.DataFrame,
        backgrounds: BackgroundBank | None = None,
        canvas: int | Sequence[int] = (300, 300),
        seed: int = 0,
        p_empty: float = 0.0,
        scale_range: tuple[float, float] = (0.15, 0.7),
        max_rotation_deg: float = 10.0,
        train: bool = False,
        attributes: Sequence[str] | None = None,
        mean: Sequence[float] = INCEPTION_MEAN,
        std: Sequence[float] = INCEPTION_STD,
        photometric: ScenePhotometric | None = None,
    ):
        if not 0 <= p_empty <= 1:
            raise ValueError(f"p_empty must be in [0, 1], got {p_empty}")
        self.canvas = _canvas(canvas)
        if backgrounds is None:
            backgrounds = BackgroundBank(self.canvas)
        elif backgrounds.canvas != self.canvas:
            raise ValueError(
                f"background canvas {backgrounds.canvas} != scene canvas {self.canvas}"
            )
        names = list(index.attrs.get("attributes", []) if attributes is None else attributes)
        missing = [a for a in names if a not in index]
        if missing:
            raise ValueError(f"index lacks attribute columns {missing[:5]}")
        self.backgrounds = backgrounds
        self.photometric = photometric
        self.seed, self.p_empty, self.train = seed, p_empty, train
        self.scale_range, self.max_rotation_deg = scale_range, max_rotation_deg
        self.paths = index["path"].astype(str).tolist()
        self.attributes = index[names].to_numpy(np.float32)
        self.boxes = index[list(BOX_COLUMNS)].to_numpy(np.float64) if set(BOX_COLUMNS) <= set(index.columns) else None
        if self.boxes is not None and not np.isfinite(self.boxes).all():
            bad = int(np.argmax(~np.isfinite(self.boxes).all(axis=1)))
            raise ValueError(f"the index lists face boxes, and {self.paths[bad]} has none: leave such rows out "
                             "(lnet.training.with_listed_boxes) so that no whole photo is pasted as a face")  # fmt: skip
        self.mean = np.asarray(mean, dtype=np.float32) * 255.0
        self.inv_std = 1.0 / (np.asarray(std, dtype=np.float32) * 255.0)
        self._warned: set[str] = set()

    def __len__(self) -> int:
        return len(self.paths)

    def scene(self, i: int) -> tuple[np.ndarray, np.ndarray, bool]:
        """(uint8 RGB canvas, box (4,) with NaN when empty, has_face) of sample i; raises
        ImageReadError for an unreadable face image."""
        keys = [self.seed, int(i)]
        if self.train:
            keys.append(int(torch.randint(2**31 - 1, ())))
        rng = np.random.default_rng(keys)
        empty = rng.random() < self.p_empty  # always drawn, so p_empty never shifts the stream
        background = self.backgrounds.sample(rng)
        if empty:
            image, box = background, np.full(4, np.nan)
        else:
            face = read_image(self.paths[i])
            if self.boxes is not None:  # a photo: its face, as the listed box bounds it
                x0, y0, x1, y1 = np.round(self.boxes[i]).astype(int)
                face = face[max(y0, 0) : max(y1, y0 + 1), max(x0, 0) : max(x1, x0 + 1)]
            image, box = compose_scene(face, background, rng, self.canvas, self.scale_range, self.max_rotation_deg)
        if self.photometric is not None:  # the whole scene, empty or not, after its other draws
            image = self.photometric(image, rng)
        return image, box, not empty

    def __getitem__(self, i: int) -> dict[str, torch.Tensor] | None:
        try:
            image, box, has_face = self.scene(i)
        except ImageReadError as e:
            if e.path not in self._warned:
                self._warned.add(e.path)
                warnings.warn(f"skipping unreadable image {e}", stacklevel=2)
            return None
        x = (image.astype(np.float32) - self.mean) * self.inv_std
        tags = self.attributes[i] if has_face else np.zeros_like(self.attributes[i])
        return {
            "image": torch.from_numpy(x.transpose(2, 0, 1).copy()),
            "attributes": torch.from_numpy(tags.copy()),
            "box": torch.tensor(box, dtype=torch.float32),
            "has_face": torch.tensor(float(has_face)),
            "index": torch.tensor(i, dtype=torch.long),
        }


__all__ = [
    "SKIMAGE_FACE_FREE",
    "BackgroundBank",
    "ComposedScenes",
    "ScenePhotometric",
    "TorchSeededPhotometric",
    "compose_scene",
    "feathered_ellipse",
]
