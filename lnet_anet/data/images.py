"""Reading images robustly: always 8-bit RGB out, a clear ImageReadError for anything else.

read_image (OpenCV, stored pixel order) reads training data; load_image (Pillow, EXIF
orientation applied, a pixel cap) reads what users give the predictor."""

from __future__ import annotations

import io
import os
import re
import stat
import warnings
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from lnet_anet.data.errors import ImageReadError
from lnet_anet.data.video import VIDEO_SUFFIXES, video_hint

try:  # an iPhone's HEIC photos: Pillow reads them through pillow-heif's plugin (a dependency)
    import pillow_heif

    pillow_heif.register_heif_opener()  # libheif applies the photo's turn, and its EXIF then says upright
    HEIF_READER = True
except ImportError:  # installed without it: such files get an error saying how to read them
    HEIF_READER = False


def sixteen_to_eight(values: np.ndarray) -> np.ndarray:
    """A uint16 image -> uint8: divided by 257 and rounded (65535 -> 255), except that values all
    within 0-255 are 8-bit values (arr.astype(np.uint16), a 16-bit PNG written from 8-bit pixels)
    kept as they are: / 257 would make them a near-black two-level picture with no face in it
    (trial 85), and a 16-bit picture that dark holds nothing else."""
    if int(values.max(initial=0)) <= 255:
        return values.astype(np.uint8)
    return np.round(values / 257.0).astype(np.uint8)


def to_rgb8(img: np.ndarray) -> np.ndarray:
    """Grayscale, gray+alpha, RGBA (alpha composited onto white), 16-bit (sixteen_to_eight) and
    float arrays in RGB channel order -> uint8 HxWx3 RGB."""
    if img.dtype == np.uint16:
        img = sixteen_to_eight(img)
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



def _declared_size(path: Path) -> tuple[int, int] | None:
    """(width, height) as the file's header declares them (Pillow reads the header only), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: the caller's cap rules
            with Image.open(path, formats=_pillow_formats()) as image:
                return image.size
    except Exception:  # noqa: BLE001 - only to word the error better; unreadable headers say nothing
        return None


def _largest_file(max_pixels: int) -> int:
    """The most bytes an image file under `max_pixels` can hold: 16-bit RGBA, uncompressed, + 1 MB."""
    return 8 * max_pixels + (1 << 20)


def _file_bytes(path: Path, max_pixels: int | None = None) -> bytes:
    """The file's bytes, or ImageReadError naming it: missing, a link to nothing, a folder, a
    pipe, socket or device (opening a pipe would wait for a writer forever), unreadable, empty,
    an image cut before its end marker, or (max_pixels) larger than an image under the cap can be."""
    try:
        if path.is_dir():
            raise ImageReadError(path, "is a directory, not an image")
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ImageReadError(path, "not a regular file (a pipe, socket or device), not read")
        size = st.st_size
        if max_pixels is not None and size > _largest_file(max_pixels):
            declared = _declared_size(path)
            problem = check_pixels(*declared, max_pixels) if declared else None
            raise ImageReadError(path, problem or (
                f"file is {size / 1e6:.0f} MB, more than an image under the limit of {max_pixels / 1e6:g} "
                f"megapixels holds" + (f" (its header says {declared[0]}x{declared[1]})" if declared else "")))
        data = path.read_bytes()
    except ImageReadError:  # an OSError too: as it is, not wrapped in "cannot read"
        raise
    except FileNotFoundError:
        if path.is_symlink():
            raise ImageReadError(path, f"a link to {os.readlink(path)}, which does not exist") from None
        raise ImageReadError(path, "file not found" + _other_case(path)) from None
    except OSError as e:
        raise ImageReadError(path, f"cannot read ({e.strerror or e})") from None
    return _whole(data, path)


def _whole(data: bytes, name: str | Path) -> bytes:
    """`data`, or ImageReadError naming `name`: empty, or an image cut before its end marker."""
    if not data:
        raise ImageReadError(name, "file is empty")
    if _looks_truncated(data):
        raise ImageReadError(name, "truncated image (no end marker)")
    return data

def read_image(path: str | Path) -> np.ndarray:
    """Read any image file as uint8 RGB (H, W, 3). Raises ImageReadError naming the file for a
    missing, empty, truncated, non-image or unsupported file."""
    path = Path(path)
    data = _file_bytes(path)
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
    """Whether a JPEG or PNG file ends before its image does. Older OpenCV builds decode a cut
    JPEG into a grey-padded image with only a warning, so the file's structure is walked: a JPEG's
    segments (by their lengths: an EXIF thumbnail inside APP1 is skipped whole) and, after each
    start of scan, its entropy-coded data up to the next marker, until the end-of-image marker; a
    PNG's chunks until IEND. Bytes after the end (a phone's "motion photo" video, vendor data)
    are not part of the image. Other formats, or a structure this walk does not follow: False
    (the decoder decides)."""
    if data[:2] == b"\xff\xd8":
        return _jpeg_truncated(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        pos = 8
        while pos + 8 <= len(data):
            if data[pos + 4:pos + 8] == b"IEND":
                return False
            pos += 12 + int.from_bytes(data[pos:pos + 4], "big")  # length, type, data, CRC
        return True
    return False


def _jpeg_truncated(data: bytes) -> bool:
    n, pos = len(data), 2
    while pos + 1 < n:
        if data[pos] != 0xFF:
            return False  # not a marker where one belongs: leave it to the decoder
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:  # end of image
            return False
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        if pos + 4 > n:
            return True
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    return True
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:  # a stuffed 0xFF or a restart marker
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break
    return True


# -- any image a user has: Pillow, EXIF orientation, a pixel cap -------------------------------
#
# The predictor reads files with load_image (Pillow): every format Pillow decodes, EXIF
# orientation applied, the pixel count checked from the header before decoding. Training data
# keeps read_image above (OpenCV, stored pixel order): dataset labels are in stored pixels.

# Pillow warns "Corrupt EXIF data" (a UserWarning) on a broken EXIF block; such an image is read as
# stored (oriented). A warnings.catch_warnings block cannot hide it: the filters are global and the
# predictor decodes in threads (a trial saw Pillow's line on stderr), so this one message is ignored.
warnings.filterwarnings("ignore", message="Corrupt EXIF data", category=UserWarning)
DEFAULT_MAX_PIXELS = 100_000_000  # 100 MP: a 30000 x 30000 header would need 2.7 GB decoded
# Formats Pillow can identify but not safely or usefully decode here: EPS runs Ghostscript (an
# external program) on the file; BUFR/GRIB/HDF5/WMF are stubs without a handler; MPEG is video.
EXCLUDED_FORMATS = frozenset({"EPS", "BUFR", "GRIB", "HDF5", "WMF", "MPEG"})


def _pillow_formats() -> list[str]:
    Image.init()
    return sorted(set(Image.OPEN) - EXCLUDED_FORMATS)


def image_suffixes() -> frozenset[str]:
    """Lower-case file suffixes (".jpg", ".gif", ".tif", ...) of the formats load_image reads:
    Pillow's registered extensions, less EXCLUDED_FORMATS."""
    formats = set(_pillow_formats())
    return frozenset(e.lower() for e, f in Image.registered_extensions().items() if f in formats)


def pil_to_rgb8(image: Image.Image) -> np.ndarray:
    """A decoded PIL image of any mode -> uint8 RGB (H, W, 3). Rules: 8-bit RGB as is; "L" and
    "1" gray copied to the three channels; alpha ("RGBA", "LA", "PA", palette transparency)
    composited onto white; 16-bit gray ("I;16*") and colour (read by OpenCV, as Pillow keeps only
    the high byte) by sixteen_to_eight, as lnet_anet.inference.inputs reads uint16 arrays; 32-bit integer
    gray ("I": 32-bit TIFFs, Image.convert("I"), 16-bit PNGs on old Pillow) by its values'
    range (_int32_gray); float ("F") as to_rgb8 does; anything else (CMYK, YCbCr, LAB, ...) through Pillow's convert("RGB").
    Raises ValueError when a mode cannot be converted."""
    mode = image.mode
    if mode == "RGB":
        return np.ascontiguousarray(np.asarray(image))
    if mode in ("L", "LA", "RGBA"):
        return to_rgb8(np.asarray(image))
    if mode == "1":
        return to_rgb8(np.asarray(image.convert("L")))
    if mode.startswith("I;16"):
        return to_rgb8(np.asarray(image).astype(np.uint16))
    if mode == "I":  # 32-bit integers: no bit depth stated, so the values' range decides
        return to_rgb8(_int32_gray(np.asarray(image)))
    if mode == "F":
        return to_rgb8(np.nan_to_num(np.asarray(image, dtype=np.float32)))
    if mode in ("P", "PA") and (mode == "PA" or "transparency" in image.info):
        return to_rgb8(np.asarray(image.convert("RGBA")))
    if mode in ("RGBa", "La", "RGBX"):  # premultiplied alpha un-multiplied; Pillow turns La only into LA
        return to_rgb8(np.asarray(image.convert({"RGBa": "RGBA", "La": "LA", "RGBX": "RGB"}[mode])))
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def _int32_gray(values: np.ndarray) -> np.ndarray:
    """32-bit integer gray (H, W) -> uint8: values within 0..255 are 8-bit gray as they are (an
    8-bit image converted to "I"), within 0..65535 16-bit gray (divided by 257), larger ones
    scaled so the maximum is 255; negatives are 0."""
    values = np.clip(values, 0, None)
    top = int(values.max(initial=0))
    if top <= 255:
        return values.astype(np.uint8)
    if top <= 65535:
        return values.astype(np.uint16)
    return (values * (255.0 / top)).round().astype(np.uint8)


def check_pixels(width: int, height: int, max_pixels: int | None) -> str | None:
    """Why an image of width x height cannot be analysed, or None when it can."""
    if width < 1 or height < 1:
        return f"image has no pixels ({width}x{height})"
    if max_pixels is not None and width * height > max_pixels:
        return (f"{width}x{height} = {width * height / 1e6:.3g} megapixels, over the limit of "
                f"{max_pixels / 1e6:g} megapixels (--max-pixels {max_pixels}; Predictor.load(max_pixels=))")  # fmt: skip
    return None


def oriented(image: Image.Image, in_place: bool = False) -> Image.Image:
    """The image as displayed: its EXIF orientation (1-8) applied (ImageOps.exif_transpose). A
    broken EXIF block leaves the image as stored rather than failing it. in_place: `image` itself
    is turned (for an image the caller owns: no copy of a 24 MP photo already upright, 50 ms);
    else a turned copy, or `image` unchanged when it needs no turn."""
    try:
        if in_place:
            ImageOps.exif_transpose(image, in_place=True)
            return image
        if image.getexif().get(ExifTags.Base.Orientation, 1) in (1, None):
            return image
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - orientation is metadata; the pixels are still good
        return image


def load_image(path: str | Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as displayed, as uint8 RGB (H, W, 3); H, W are the displayed size
    (EXIF orientation applied), so boxes on it are in the pixels a viewer shows. Decodes every
    format of image_suffixes() (multi-frame GIF/TIFF/WebP: the first frame), converted by
    pil_to_rgb8's rules. `max_pixels` (None: no cap) is checked from the header, before any
    pixel is decoded. Raises ImageReadError naming the file for a missing, unreadable, empty,
    truncated, corrupt, over-the-cap or unknown file; never anything else. A video file (a
    suffix of data.video.VIDEO_SUFFIXES that is not an image) is said to be one, naming the
    command that reads its frames (video_hint)."""
    path = Path(path)
    try:
        return decode_image(_file_bytes(path, max_pixels), path, max_pixels)
    except ImageReadError:
        if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file() and path.stat().st_size > 0:
            raise ImageReadError(path, video_hint(path)) from None
        raise


def read_stream(stream: BinaryIO, name: str, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """An open binary file or stream (io.BytesIO, a web framework's upload) read from where it
    stands to its end and decoded as load_image decodes a file: uint8 RGB (H, W, 3), as displayed.
    name: the stream's name in errors. Raises ImageReadError naming it for a stream that cannot
    be read, gives text (opened without "b"), is empty, truncated, corrupt or over the cap (not
    read past the size an image under `max_pixels` can have)."""
    limit = None if max_pixels is None else _largest_file(max_pixels)
    try:
        data = stream.read() if limit is None else stream.read(limit + 1)
    except OSError as e:
        raise ImageReadError(name, f"cannot read ({e.strerror or e})") from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageReadError(name, f"read() gave {type(data).__name__}, not bytes: open the file in binary mode (\"rb\")")
    if limit is not None and len(data) > limit:
        raise ImageReadError(name, f"over {limit / 1e6:.0f} MB, more than an image under the limit of "
                                   f"{max_pixels / 1e6:g} megapixels holds")  # fmt: skip
    return decode_image(_whole(bytes(data), name), name, max_pixels)


def decode_image(data: bytes, name: str | Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """An encoded image's bytes (a whole file's) decoded as load_image says; ImageReadError names `name`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: our cap rules
            image = Image.open(io.BytesIO(data), formats=_pillow_formats())
            problem = check_pixels(*image.size, max_pixels)
            if problem is not None:
                raise ImageReadError(name, problem)
            # 16-bit colour (Pillow keeps only the high byte) and CMYK JPEGs (Pillow's conversion
            # rounds otherwise): OpenCV's pixels, as the predictor read them before Pillow.
            by_opencv = _deep_colour(image) or (image.format == "JPEG" and image.mode == "CMYK")
            image.load()  # raises on a decode that ends early (ImageFile.LOAD_TRUNCATED_IMAGES)
            if by_opencv:
                pixels = _opencv_pixels(data, image)
                if pixels is not None:
                    return pixels
            return pil_to_rgb8(oriented(image, in_place=True))  # the image opened here
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        reason = _heif_reason(data) or "not a readable image (corrupt, truncated or unknown format)"
        raise ImageReadError(name, reason) from None
    except Image.DecompressionBombError as e:  # Pillow's own cap, checked inside Image.open
        found = re.search(r"\((\d+) pixels\)", str(e))
        pixels = int(found.group(1)) if found else 0
        if max_pixels is not None and pixels > max_pixels:
            reason = (f"{pixels / 1e6:.3g} megapixels, over the limit of {max_pixels / 1e6:g} megapixels "
                      f"(--max-pixels {max_pixels})")  # fmt: skip
        else:
            reason = f"over Pillow's limit (PIL.Image.MAX_IMAGE_PIXELS): {e}"
        raise ImageReadError(name, reason) from None
    except Exception as e:  # noqa: BLE001 - Pillow raises many types on corrupt data
        reason = "truncated image" if "truncated" in str(e).lower() else "cannot decode"
        raise ImageReadError(name, f"{reason} ({type(e).__name__}: {e})") from None


# HEIF brands (ISO/IEC 23008-12) in an ISO base media file's "ftyp" box: an iPhone's HEIC photos
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})


def _heif_reason(data: bytes) -> str | None:
    """For a HEIC/HEIF file that could not be read, why, and what to do; else None."""
    if data[4:8] != b"ftyp" or data[8:12] not in HEIF_BRANDS:
        return None
    if HEIF_READER:
        return "a HEIC/HEIF photo that pillow-heif cannot decode (corrupt or truncated)"
    return ("a HEIC/HEIF photo (an iPhone's default format), which Pillow cannot decode without a plugin: "
            "`pip install pillow-heif` (lnet_anet then reads it), or convert it to JPEG or PNG")


def _deep_colour(image: Image.Image) -> bool:
    """Whether a PNG/TIFF holds 16 bits per colour channel (Pillow shows it as 8-bit RGB)."""
    if image.mode not in ("RGB", "RGBA"):
        return False
    for tile in image.tile:
        args = tile[3] if len(tile) > 3 else None
        rawmode = args[0] if isinstance(args, tuple) and args else args
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


# EXIF orientation -> what a viewer shows for stored pixels a (as ImageOps.exif_transpose).
_ORIENT = {
    2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2), 8: lambda a: np.rot90(a, 1),
}  # fmt: skip


def _opencv_pixels(data: bytes, image: Image.Image) -> np.ndarray | None:
    """The colour image as OpenCV decodes it (16 bits read as every 16-bit input: sixteen_to_eight),
    oriented; None when OpenCV cannot (Pillow's pixels are used then)."""
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
    if img is None or img.dtype not in (np.uint8, np.uint16) or img.ndim != 3 or img.shape[2] not in (3, 4):
        return None
    if img.shape[:2] != (image.size[1], image.size[0]):
        return None
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB if img.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    try:
        orientation = int(image.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block: as stored
        orientation = 1
    return np.ascontiguousarray(to_rgb8(_ORIENT.get(orientation, lambda a: a)(img)))


def _other_case(path: Path) -> str:
    """", as NAME is there: names are case-sensitive" when the folder holds `path`'s name in
    another case (a label file's `x.jpg` for `x.JPG` on disk, as a trial met), else ""."""
    try:
        with os.scandir(path.parent) as entries:
            match = next((e.name for e in entries if e.name.lower() == path.name.lower()), None)
    except OSError:
        return ""
    return f" ({match} is there: file names are case-sensitive)" if match else ""
