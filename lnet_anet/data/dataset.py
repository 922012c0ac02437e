"""Serve an index DataFrame (see lnet_anet.data) as a torch Dataset of batch dicts.

Per sample: read (uint8 RGB) -> take a region (the whole image, or the face box made square and
enlarged, padded with black where it leaves the image) -> [train: small random crop jitter and
horizontal flip] -> resize to image_size -> [train: small colour jitter] -> [transform] ->
normalise to a float CHW tensor. Everything is cv2/numpy on one image, cheap enough for a few
DataLoader workers.

Coordinates in a sample ("box", "landmarks") are in the output image's pixels, after cropping,
resizing and flipping. A flip swaps the left/right landmarks; the 40 CelebA attributes have no
left/right meaning, so labels stay valid.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset, default_collate

from lnet_anet.data.errors import ImageReadError
from lnet_anet.data.images import read_image
from lnet_anet.data.preprocess import INCEPTION_MEAN, INCEPTION_STD, Normalize
from lnet_anet.data.readers._tables import BOX_COLUMNS, LANDMARK_COLUMNS
from lnet_anet.data.transforms import crop_resize, face_region

# Train-time augmentation strengths: small, as the paper's faces are already roughly framed.
CROP_SCALE = (0.9, 1.0)  # side of the random crop, as a fraction of the region's side
CROP_ASPECT = (0.95, 1.05)
COLOR_JITTER = 0.1  # brightness, contrast and saturation change by at most +-10 %
# Index pairs of (x, y) columns swapped by a horizontal flip: left eye <-> right eye, mouth corners.
_FLIP_LANDMARKS = np.array([2, 3, 0, 1, 4, 5, 8, 9, 6, 7])
_SCALARS = (("identity", torch.long), ("age", torch.float32), ("age_sigma", torch.float32),
            ("attractiveness", torch.float32), ("attractiveness_sigma", torch.float32), ("age_weight", torch.float32),
            ("attractiveness_weight", torch.float32))  # fmt: skip


class FaceDataset(Dataset):
    """Samples of an index DataFrame as dicts of tensors (the keys of the shared contract):

    image (3xHxW float, normalised), attributes (float 0/1, one per df.attrs["attributes"]),
    identity (long), age, age_sigma, attractiveness, attractiveness_sigma (float), age_weight, attractiveness_weight (float: a
    per-sample loss weight, band_weights), box (4 float), landmarks (10 float),
    index (long: the row position in `index`). A key is present when the index has the column.

    image_size: int or (H, W). crop: "full" (whole image, stretched to image_size) or "box" (the
    index's x0..y1 box, made square and enlarged enlarge times around its centre).
    transform: optional callable on the uint8 HxWx3 RGB image after resizing and augmentation;
    it returns a uint8 image (normalised here) or a torch tensor (used as "image" as it is).
    train: light augmentation (crop jitter, horizontal flip, colour jitter); random numbers come
    from torch's generator, so torch.manual_seed and DataLoader worker seeding make it repeatable.
    Unreadable images: __getitem__ warns once naming the file and returns None; use
    collate_fn=collate_skip_bad.
    """

    def __init__(
        self,
        index: pd.DataFrame,
        image_size: int | tuple[int, int] = 224,
        transform: Callable[[np.ndarray], np.ndarray | torch.Tensor] | None = None,
        crop: str = "full",
        enlarge: float = 1.0,
        mean: Sequence[float] = INCEPTION_MEAN,
        std: Sequence[float] = INCEPTION_STD,
        train: bool = False,
        attributes: Sequence[str] | None = None,
    ):
        if crop not in ("full", "box"):
            raise ValueError(f"crop must be 'full' or 'box', not {crop!r}")
        if enlarge <= 0:
            raise ValueError(f"enlarge must be > 0, got {enlarge}")
        self.size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        self.transform, self.crop, self.enlarge, self.train = transform, crop, enlarge, train
        self.normalize = Normalize(tuple(mean), tuple(std))
        self.paths = index["path"].astype(str).tolist()
        names = list(index.attrs.get("attributes", []) if attributes is None else attributes)
        missing = [a for a in names if a not in index]
        if missing:
            raise ValueError(f"index lacks attribute columns {missing[:5]}")
        # Columns are pulled out once as arrays: per-sample pandas access is slow in workers.
        self.attributes = index[names].to_numpy(np.float32) if names else None
        self.scalars = {k: index[k].to_numpy() for k, _ in _SCALARS if k in index}
        self.boxes = (
            index[list(BOX_COLUMNS)].to_numpy(np.float64) if _has(index, BOX_COLUMNS) else None
        )
        self.landmarks = (
            index[list(LANDMARK_COLUMNS)].to_numpy(np.float64)
            if _has(index, LANDMARK_COLUMNS) else None
        )  # fmt: skip
        if crop == "box":
            if self.boxes is None:
                raise ValueError("crop='box' needs the index's x0, y0, x1, y1 columns")
            bad = ~np.isfinite(self.boxes).all(axis=1)
            if bad.any():
                example = self.paths[int(np.argmax(bad))]
                raise ValueError(f"crop='box': {int(bad.sum())} rows have no box, e.g. {example}")
        self._warned: set[str] = set()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor] | None:
        path = self.paths[i]
        try:
            img = read_image(path)
        except ImageReadError as e:
            if path not in self._warned:
                self._warned.add(path)
                warnings.warn(f"skipping unreadable image {e}", stacklevel=2)
            return None
        h, w = img.shape[:2]
        region = self._region(i, w, h)
        flip = False
        if self.train:
            region = _jitter(region)
            flip = bool(torch.rand(()) < 0.5)
        out, origin, scale = crop_resize(img, region, self.size)
        if flip:
            out = np.ascontiguousarray(out[:, ::-1])
        if self.train:
            out = _color_jitter(out)
        sample: dict[str, torch.Tensor] = {"image": self._to_tensor(out)}
        if self.attributes is not None:
            sample["attributes"] = torch.tensor(self.attributes[i])
        for key, dtype in _SCALARS:
            if key in self.scalars:
                sample[key] = torch.tensor(self.scalars[key][i], dtype=dtype)
        out_w = self.size[1]
        if self.boxes is not None:
            box = (self.boxes[i].reshape(2, 2) - origin) * scale
            if flip:
                box = np.array([[out_w - box[1, 0], box[0, 1]], [out_w - box[0, 0], box[1, 1]]])
            sample["box"] = torch.tensor(box.reshape(4), dtype=torch.float32)
        if self.landmarks is not None:
            # Landmarks are pixel indices: map pixel centres (x + 0.5) through the transform.
            pts = (self.landmarks[i].reshape(5, 2) + 0.5 - origin) * scale - 0.5
            if flip:
                pts[:, 0] = out_w - 1 - pts[:, 0]
                pts = pts.reshape(10)[_FLIP_LANDMARKS].reshape(5, 2)
            sample["landmarks"] = torch.tensor(pts.reshape(10), dtype=torch.float32)
        sample["index"] = torch.tensor(i, dtype=torch.long)
        return sample

    def _region(self, i: int, w: int, h: int) -> np.ndarray:
        """The source rectangle (x0, y0, x1, y1) to show, before augmentation."""
        if self.crop == "full":
            return np.array([0.0, 0.0, w, h])
        return face_region(self.boxes[i], self.enlarge)

    def _to_tensor(self, img: np.ndarray) -> torch.Tensor:
        if self.transform is not None:
            img = self.transform(img)
            if isinstance(img, torch.Tensor):
                return img
        return torch.from_numpy(self.normalize(img))


def _has(index: pd.DataFrame, cols: Sequence[str]) -> bool:
    return all(c in index for c in cols)


def _jitter(region: np.ndarray) -> np.ndarray:
    """A random sub-rectangle: side CROP_SCALE of the region's, aspect within CROP_ASPECT."""
    r = torch.rand(4).tolist()
    x0, y0, x1, y1 = region
    side = CROP_SCALE[0] + (CROP_SCALE[1] - CROP_SCALE[0]) * r[0]
    aspect = np.exp(np.log(CROP_ASPECT[0]) + np.log(CROP_ASPECT[1] / CROP_ASPECT[0]) * r[1])
    w = min((x1 - x0) * side * np.sqrt(aspect), x1 - x0)
    h = min((y1 - y0) * side / np.sqrt(aspect), y1 - y0)
    nx0 = x0 + (x1 - x0 - w) * r[2]
    ny0 = y0 + (y1 - y0 - h) * r[3]
    return np.array([nx0, ny0, nx0 + w, ny0 + h])


def _color_jitter(img: np.ndarray) -> np.ndarray:
    """Brightness, contrast and saturation each scaled by a factor in 1 +- COLOR_JITTER."""
    b, c, s = (1.0 + COLOR_JITTER * (2 * torch.rand(3) - 1)).tolist()
    x = img.astype(np.float32) * b
    gray = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    x = gray[..., None] + (x - gray[..., None]) * s  # saturation around each pixel's gray
    x = gray.mean() + (x - gray.mean()) * c  # contrast around the mean intensity
    return np.clip(x, 0, 255).astype(np.uint8)


def collate_skip_bad(batch: list[dict | None]) -> dict | None:
    """default_collate without the None samples of unreadable images; adds "n_skipped" (int).
    Returns None when every sample in the batch was unreadable."""
    good = [b for b in batch if b is not None]
    if not good:
        return None
    out = default_collate(good)
    out["n_skipped"] = len(batch) - len(good)
    return out


__all__ = ["FaceDataset", "collate_skip_bad"]
