"""Reading images robustly: always 8-bit RGB out, a clear ImageReadError for anything else."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from lnet_anet.data.errors import ImageReadError


def to_rgb8(img: np.ndarray) -> np.ndarray:
    """Grayscale, gray+alpha, RGBA (alpha composited onto white), 16-bit and float arrays in RGB
    channel order -> uint8 HxWx3 RGB."""
    if img.dtype == np.uint16:
        img = (img / 257.0).round().astype(np.uint8)
    elif img.dtype.kind == "f":
        scale = 255.0 if img.max(initial=0) <= 1.0 else 1.0
        img = np.clip(img * scale, 0, 255).round().astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 2:  # gray + alpha
        img = np.concatenate([np.repeat(img[:, :, :1], 3, axis=2), img[:, :, 1:]], axis=2)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    elif img.ndim == 3 and img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    elif img.ndim == 3 and img.shape[2] == 4:
        rgb, alpha = img[:, :, :3].astype(np.float32), img[:, :, 3:].astype(np.float32) / 255.0
        img = (rgb * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)  # onto white
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"unsupported image shape {img.shape}")
    return np.ascontiguousarray(img)


def read_image(path: str | Path) -> np.ndarray:
    """Read any image file as uint8 RGB (H, W, 3). Raises ImageReadError naming the file for a
    missing, empty, truncated, non-image or unsupported file."""
    path = Path(path)
    if not path.exists():
        raise ImageReadError(path, "file not found")
    if path.is_dir():
        raise ImageReadError(path, "is a directory, not an image")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImageReadError(path, f"cannot read ({e.strerror or e})") from None
    if not data:
        raise ImageReadError(path, "file is empty")
    if _looks_truncated(data):
        raise ImageReadError(path, "truncated image (no end marker)")
    try:  # IMREAD_UNCHANGED keeps alpha and 16 bits, which to_rgb8 then handles explicitly
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as e:
        raise ImageReadError(path, f"cannot decode ({str(e).strip().splitlines()[-1]})") from None
    if img is None or img.size == 0:
        raise ImageReadError(path, "not a readable image (corrupt, truncated or unknown format)")
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    try:
        return to_rgb8(img)
    except ValueError as e:
        raise ImageReadError(path, str(e)) from None


def _looks_truncated(data: bytes) -> bool:
    # Older OpenCV builds decode a cut JPEG into a grey-padded image with only a warning. A whole
    # JPEG has an end-of-image marker after its last start-of-scan (embedded EXIF thumbnails come
    # before it, trailing vendor data after it); a whole PNG ends with its IEND chunk.
    if data[:2] == b"\xff\xd8":
        return data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda")
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return b"IEND" not in data[-64:]
    return False
