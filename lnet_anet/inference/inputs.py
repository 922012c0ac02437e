"""What the predictor accepts as an image, and how each kind becomes uint8 RGB (H, W, 3).

- a path (str, bytes or os.PathLike; bytes holding a NUL are image data, not a name, and are
  refused: pass io.BytesIO(data)): read by lnet_anet.data.images.load_image (Pillow: every
  format it decodes, the first frame of a GIF/TIFF, EXIF orientation applied, the pixel cap
  checked from the header before decoding; alpha composited onto white);
- an open binary file or stream (io.BytesIO, a web framework's upload: anything with read()),
  read from where it stands to its end and decoded as a file is (load_image's rules);
- a PIL.Image.Image of any mode: EXIF orientation applied, then the same conversion as a file
  (pil_to_rgb8);
- a numpy array, in RGB order (or BGR with channel_order="bgr", as OpenCV gives):
    (H, W) or (H, W, 1)  gray, copied to the three channels
    (H, W, 3)            RGB (BGR)
    (H, W, 4)            RGBA (BGRA), composited onto white: rgb * a + 255 * (1 - a), a = alpha/max
  with dtype uint8 (as is), uint16 (v / 257, rounded: 65535 -> 255; but values all within 0-255
  are 8-bit values, as after arr.astype(np.uint16), read as they are: / 257 would make them a
  near-black two-level picture, and a 16-bit picture that dark holds nothing else; 32-bit "I"
  images follow the same rule) or float16/32/64 in
  [0, 1] (v * 255, rounded; a float that rounds into 0-255, such as 1.0000001 after some
  arithmetic, is taken as 0 or 255). Any other shape, dtype, an empty array, a float outside
  that or not finite is an InputError.

Every refusal is an InputError (a ValueError) whose message says what was given and what is
accepted; the predictor turns it into that item's error record.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from lnet_anet.data.errors import ImageReadError
from lnet_anet.data.images import (
    DEFAULT_MAX_PIXELS,
    check_pixels,
    load_image,
    oriented,
    pil_to_rgb8,
    read_stream,
    sixteen_to_eight,
)

CHANNEL_ORDERS = ("rgb", "bgr")
URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")  # http://, https://, s3://, ...: names no file here


class InputError(ValueError):
    """An item the predictor cannot turn into an RGB image; the message names it."""


def _image_data(item: Any) -> bool:
    """Bytes that cannot be a file name (a NUL in them): a file's contents passed by mistake."""
    return isinstance(item, (bytes, bytearray)) and b"\0" in item


def describe(item: Any) -> str:
    """A short name of an input for messages: the path, or the array's shape and dtype."""
    if _image_data(item):
        return f"{len(item)} bytes of data"
    if isinstance(item, np.ndarray):
        return f"array {tuple(item.shape)} {item.dtype}"
    if isinstance(item, Image.Image):
        return f"PIL image {item.size[0]}x{item.size[1]} mode {item.mode}"
    if isinstance(item, (str, bytes, os.PathLike)):
        return os.fsdecode(item)
    if is_stream(item):
        name = getattr(item, "name", None)
        return f"{type(item).__name__} {name}" if isinstance(name, str) else type(item).__name__
    return type(item).__name__


def is_stream(item: Any) -> bool:
    """An open file or stream (it has read()), not a path, a PIL image or an array."""
    return callable(getattr(item, "read", None)) and not isinstance(item, Image.Image)


def source_of(item: Any) -> str | None:
    """The record's "image" field: the path as a str (undecodable bytes of a file name as
    os.fsdecode's surrogates, which json.dumps escapes as \\udcXX), None for in-memory images."""
    if isinstance(item, (str, bytes, os.PathLike)) and not _image_data(item):
        return os.fsdecode(item)
    return None


def channel_order_of(channel_order: str) -> str:
    """channel_order as CHANNEL_ORDERS spells it, any case ("BGR" -> "bgr"). Raises ValueError
    for anything else."""
    order = channel_order.lower() if isinstance(channel_order, str) else channel_order
    if order not in CHANNEL_ORDERS:
        raise ValueError(f"channel_order must be one of {CHANNEL_ORDERS} (any case), not {channel_order!r}")
    return order


# Half a uint8 step: a float within it of [0, 1] rounds to 0 or 255 (rounding noise, not a 0-255 image)
FLOAT_SLACK = 0.5 / 255


def array_to_rgb8(array: np.ndarray, channel_order: str = "rgb") -> np.ndarray:
    """A numpy image -> uint8 RGB (H, W, 3) by the rules in the module docstring. Raises
    InputError for anything else, ValueError for a channel_order not in CHANNEL_ORDERS (any case)."""
    channel_order = channel_order_of(channel_order)
    what = describe(array)
    shape = array.shape
    if not (array.ndim == 2 or (array.ndim == 3 and shape[2] in (1, 3, 4))):
        first = array.ndim == 3 and shape[0] in (1, 3, 4)  # (C, H, W), as torch keeps images
        raise InputError(f"{what}: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
                         + (" (channels first? pass array.transpose(1, 2, 0))" if first else ""))  # fmt: skip
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise InputError(f"{what}: the image has no pixels")
    if array.dtype == np.uint8:
        img = array
    elif array.dtype == np.uint16:
        img = sixteen_to_eight(array)
    elif array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise InputError(f"{what}: NaN or infinite values")
        lo, hi = float(array.min()), float(array.max())
        if lo < -FLOAT_SLACK or hi >= 1.0 + FLOAT_SLACK:
            raise InputError(
                f"{what}: float images must hold values in [0, 1], got [{lo:.7g}, {hi:.7g}] "
                "(for 0-255 floats pass array.astype(np.uint8))"
            )
        img = np.clip(np.round(array.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
    else:
        raise InputError(f"{what}: dtype must be uint8, uint16 or float in [0, 1]")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3 and channel_order == "bgr":
        img = img[:, :, [2, 1, 0, 3][: img.shape[2]]]
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    if img.shape[2] == 4:
        rgb, alpha = img[:, :, :3].astype(np.float32), img[:, :, 3:].astype(np.float32) / 255.0
        img = (rgb * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)  # onto white
    return np.ascontiguousarray(img)


def to_rgb8(item: Any, channel_order: str = "rgb",
            max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:  # fmt: skip
    """Any accepted input (module docstring) -> uint8 RGB (H, W, 3). Raises ImageReadError for a
    file that cannot be read, InputError for anything else that is refused."""
    if isinstance(item, np.ndarray):
        return array_to_rgb8(item, channel_order)
    if isinstance(item, Image.Image):
        try:
            problem = check_pixels(*item.size, max_pixels)
            if problem is not None:
                raise InputError(f"{describe(item)}: {problem}")
            return pil_to_rgb8(oriented(item))
        except InputError:
            raise
        except Exception as e:  # noqa: BLE001 - a lazily opened image may fail to decode here
            if getattr(item, "fp", True) is None and getattr(item, "_im", True) is None:  # Pillow's state of it
                raise InputError(f"{describe(item)}: its file was closed before its pixels were read (Image.open "
                                 "reads them lazily): call image.load() (or pass image.copy()) inside the `with` "
                                 "block, or pass the file's path") from None  # fmt: skip
            raise InputError(f"{describe(item)}: cannot convert ({type(e).__name__}: {e})") from None
    if _image_data(item):
        raise InputError(f"{describe(item)}: bytes are read as a file name; for an encoded image pass "
                         "io.BytesIO(data)")  # fmt: skip
    if is_stream(item):
        return read_stream(item, describe(item), max_pixels)
    if isinstance(item, str) and URL.match(item):
        raise InputError(f"{item}: a URL; URLs are not fetched: download the file and pass its path")
    if isinstance(item, (str, bytes, os.PathLike)):
        if not os.fspath(item):  # Path("") is ".": said as what it is, not "a directory" (trial 85)
            raise InputError("an empty path: expected an image file's path")
        try:
            return load_image(Path(os.fsdecode(item)), max_pixels)
        except ImageReadError:
            raise
        except Exception as e:  # noqa: BLE001 - e.g. a NUL byte in the name
            raise ImageReadError(os.fsdecode(item), f"cannot read ({type(e).__name__}: {e})") from None
    tensor = hasattr(item, "permute") and hasattr(item, "numpy")  # a torch.Tensor, torch not imported for it
    raise InputError(
        f"{describe(item)}: expected a path, an open binary file, a PIL.Image or a numpy array (see "
        "lnet_anet.inference.inputs)"
        + ("; for a (C, H, W) tensor pass tensor.permute(1, 2, 0).cpu().numpy()" if tensor else "")
        + (" (cv2.imread returns None for a file it cannot read)" if item is None else "")
        + ("; for a video's frame pass frame.image" if isinstance(getattr(item, "image", None), np.ndarray) else "")
    )


__all__ = ["CHANNEL_ORDERS", "InputError", "array_to_rgb8", "channel_order_of", "describe", "is_stream", "source_of",
           "to_rgb8"]
