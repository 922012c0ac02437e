"""read_image: every kind of image file comes out as uint8 RGB; every bad file names itself."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from PIL import Image

from lnet_anet.data.errors import ImageReadError
from lnet_anet.data.images import read_image


def _png(path, array) -> str:
    assert cv2.imwrite(str(path), array)
    return str(path)


def test_colour_order_is_rgb(tmp_path):
    bgr = np.zeros((4, 5, 3), np.uint8)
    bgr[..., 2] = 200  # red, in OpenCV's BGR order
    img = read_image(_png(tmp_path / "red.png", bgr))
    assert img.shape == (4, 5, 3) and img.dtype == np.uint8
    assert img[0, 0].tolist() == [200, 0, 0]


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    img = read_image(_png(tmp_path / "g.png", gray))
    assert img.shape == (3, 4, 3)
    assert (img == gray[:, :, None]).all()


def test_rgba_is_composited_onto_white(tmp_path):
    bgra = np.zeros((2, 2, 4), np.uint8)
    bgra[..., 1] = 100  # green
    bgra[0, 0, 3], bgra[0, 1, 3], bgra[1, :, 3] = 255, 0, 128
    img = read_image(_png(tmp_path / "a.png", bgra))
    assert img[0, 0].tolist() == [0, 100, 0]
    assert img[0, 1].tolist() == [255, 255, 255]
    expected = round(255 * (1 - 128 / 255)), round(100 * 128 / 255 + 255 * (1 - 128 / 255))
    assert img[1, 0].tolist() == [expected[0], expected[1], expected[0]]


def test_gray_alpha_png(tmp_path):
    la = np.stack([np.full((3, 3), 40, np.uint8), np.full((3, 3), 255, np.uint8)], axis=2)
    path = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(path)
    assert (read_image(path) == 40).all()


@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_png_is_scaled_to_8_bits(tmp_path, channels):
    shape = (3, 4) if channels == 1 else (3, 4, 3)
    deep = np.random.default_rng(0).integers(0, 65536, shape, dtype=np.uint16)
    img = read_image(_png(tmp_path / "deep.png", deep))
    expected = np.round(deep / 257.0).astype(np.uint8)
    expected = np.repeat(expected[:, :, None], 3, 2) if channels == 1 else expected[:, :, ::-1]
    assert img.dtype == np.uint8 and (img == expected).all()


@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_png_of_8_bit_values_reads_as_8_bit(tmp_path, channels):
    """Trial 85: a 16-bit PNG written from 8-bit pixels (Image.fromarray(a.astype(np.uint16)),
    cv2.imwrite) was read / 257 as a black picture, "no face" and no error, where the same array
    was read right; files, PIL images and arrays now share one rule (sixteen_to_eight)."""
    from lnet_anet.data.images import load_image
    from lnet_anet.inference.inputs import array_to_rgb8, to_rgb8

    shape = (3, 4) if channels == 1 else (3, 4, 3)
    eight = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    rgb = np.repeat(eight[:, :, None], 3, 2) if channels == 1 else eight
    path = tmp_path / "shallow.png"
    if channels == 1:
        Image.fromarray(eight.astype(np.uint16)).save(path)  # mode I;16
        assert (to_rgb8(Image.fromarray(eight.astype(np.uint16))) == rgb).all()
    else:
        cv2.imwrite(str(path), eight[:, :, ::-1].astype(np.uint16))  # BGR, 16 bits
    for read in (read_image, load_image):
        assert (read(path) == rgb).all(), read.__name__
    assert (array_to_rgb8(eight.astype(np.uint16)) == rgb).all()


def _jpeg_bytes() -> bytes:
    img = np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", img)[1].tobytes()


def _png_bytes() -> bytes:
    return cv2.imencode(".png", np.full((32, 32, 3), 7, np.uint8))[1].tobytes()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.jpg", b"", "file is empty"),
        ("cut.jpg", _jpeg_bytes()[:-300], "truncated"),
        ("cut_end.jpg", _jpeg_bytes()[:-2], "truncated"),
        ("cut.png", _png_bytes()[:-20], "truncated"),
        ("notes.jpg", b"this is not an image at all", "not a readable image"),
        ("half_header.png", _png_bytes()[:12], "truncated"),
    ],
)
def test_bad_files_raise_naming_the_file(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=reason) as err:
        read_image(path)
    assert err.value.path == str(path) and str(err.value).startswith(f"{path}: ")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ImageReadError, match="nope.jpg: file not found"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageReadError, match="is a directory"):
        read_image(tmp_path)
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "moved.jpg")
    with pytest.raises(ImageReadError, match=r"gone.jpg: a link to .*moved.jpg, which does not exist"):
        read_image(tmp_path / "gone.jpg")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    """Opening a pipe blocks until something writes to it: a folder holding one hung predict."""
    import threading

    from lnet_anet.data.images import load_image

    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    errors = []

    def read(reader):
        try:
            reader(fifo)
        except ImageReadError as e:
            errors.append(str(e))

    for reader in (load_image, read_image):
        worker = threading.Thread(target=read, args=(reader,), daemon=True)  # a hang fails the test, not the run
        worker.start()
        worker.join(timeout=20)
        assert not worker.is_alive(), f"{reader.__name__} waits on a named pipe"
    assert errors == [f"{fifo}: not a regular file (a pipe, socket or device), not read"] * 2


def test_whole_jpeg_with_trailing_bytes_is_accepted(tmp_path):
    path = tmp_path / "tail.jpg"
    path.write_bytes(_jpeg_bytes() + b"\x00" * 2000)  # vendor data after the end marker
    assert read_image(path).shape == (32, 32, 3)


def _progressive_jpeg_bytes() -> bytes:
    img = np.random.default_rng(2).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()


def test_a_whole_image_followed_by_other_data_is_read_and_a_cut_scan_is_not(tmp_path):
    """A phone's "motion photo" is a JPEG with a video after its end marker, whose bytes may hold
    0xFFDA (a start of scan) anywhere; a PNG may have bytes after IEND. Both are whole images. A
    progressive JPEG (several scans) is whole only up to its end marker."""
    from lnet_anet.data.images import load_image

    video = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    assert b"\xff\xda" in video
    cases = {"motion.jpg": _jpeg_bytes() + b"\x00\x00\x00\x18ftypmp42" + video,
             "tail.png": _png_bytes() + b"\x00" * 200 + b"IEND" * 3 + video[:500],
             "progressive.jpg": _progressive_jpeg_bytes()}  # fmt: skip
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert read_image(path).shape[2] == 3 and load_image(path).shape[2] == 3
    whole = _progressive_jpeg_bytes()
    first_scan_end = whole.index(b"\xff\xda", whole.index(b"\xff\xda") + 2)  # inside the scans
    path = tmp_path / "cut-progressive.jpg"
    path.write_bytes(whole[:first_scan_end - 10])
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(path)


def test_a_heic_photo_is_read_as_displayed_and_a_broken_one_says_why(tmp_path, monkeypatch):
    """An iPhone's HEIC photo is read through pillow-heif, turned as its EXIF orientation says
    (once: libheif turns it, and the EXIF it leaves says upright); a corrupt one gets an error
    naming the file; without the plugin the error says how to read such files."""
    pytest.importorskip("pillow_heif")
    from lnet_anet.data import images
    from lnet_anet.data.images import image_suffixes, load_image

    assert {".heic", ".heif"} <= image_suffixes()
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:, :30] = 255  # white on the left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: the white half on top
    path = tmp_path / "IMG_0002.HEIC"
    Image.fromarray(stored).save(path, format="HEIF", exif=exif.tobytes(), quality=90)
    shown = load_image(path)
    assert shown.shape == (60, 40, 3)
    assert shown[:25].mean() > 200 and shown[35:].mean() < 50
    broken = tmp_path / "IMG_0001.HEIC"
    broken.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(500))
    with pytest.raises(ImageReadError, match="HEIC/HEIF photo that pillow-heif cannot decode") as err:
        load_image(broken)
    assert err.value.path == str(broken)
    monkeypatch.setattr(images, "HEIF_READER", False)  # a machine without the plugin
    assert "`pip install pillow-heif`" in images._heif_reason(broken.read_bytes())

