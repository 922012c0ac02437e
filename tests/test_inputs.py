"""What the predictor accepts: paths of every Pillow format (EXIF orientation, a pixel cap, a
truncated file an error), PIL images and numpy arrays; a bad item is an error record."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lnet_anet.data.errors import ImageReadError
from lnet_anet.data.images import image_suffixes, load_image
from lnet_anet.inference.inputs import InputError, array_to_rgb8, to_rgb8

pytestmark = pytest.mark.usefixtures("one_thread")


def _rgb(h: int = 6, w: int = 5) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (h, w, 3), dtype=np.uint8)


# -- numpy arrays ----------------------------------------------------------------------------


def test_array_rules():
    rgb = _rgb()
    assert (array_to_rgb8(rgb) == rgb).all()
    gray = rgb[:, :, 0]
    for g in (gray, gray[:, :, None]):
        out = array_to_rgb8(g)
        assert out.shape == (6, 5, 3) and (out == gray[:, :, None]).all()
    deep = rgb.astype(np.uint16) * 257 + 100  # uint16: v / 257 rounded
    assert (array_to_rgb8(deep) == np.round(deep / 257).astype(np.uint8)).all()
    # a trial (71): 8-bit values upcast to uint16 were read / 257 as a near-black two-level picture
    # in which the exposure stretch still "found" a face; values all within 0-255 are 8-bit values
    assert (array_to_rgb8(rgb.astype(np.uint16)) == rgb).all()
    assert (array_to_rgb8(rgb.astype(np.uint16) + 256) == np.round((rgb + 256.0) / 257).astype(np.uint8)).all()
    assert (array_to_rgb8(rgb / 255.0) == rgb).all()  # float in [0, 1]
    nudged, expected = rgb / 255.0, rgb.copy()  # arithmetic's rounding noise just outside [0, 1]
    nudged[0, 0], expected[0, 0] = [-1e-7, 1 + 1e-7, 0.5], [0, 255, 128]
    assert (array_to_rgb8(nudged) == expected).all()
    with pytest.raises(InputError, match=r"got \[0, 1\.003\]"):  # a real overshoot, said with its digits
        array_to_rgb8(np.array([[0.0, 0.5, 1.003]]))
    assert (array_to_rgb8((rgb / 255.0).astype(np.float32)) == rgb).all()
    rgba = np.dstack([rgb, np.full((6, 5), 255, np.uint8)])
    assert (array_to_rgb8(rgba) == rgb).all()  # opaque
    rgba[..., 3] = 0
    assert (array_to_rgb8(rgba) == 255).all()  # transparent -> white
    assert (array_to_rgb8(rgb[:, :, ::-1], "bgr") == rgb).all()  # OpenCV order
    bgra = np.dstack([rgb[:, :, ::-1], np.full((6, 5), 255, np.uint8)])
    assert (array_to_rgb8(bgra, "bgr") == rgb).all()


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4, 2), np.uint8), "expected"),
        (np.zeros((4, 4, 5), np.uint8), "expected"),
        (np.zeros((2, 4, 4, 3), np.uint8), "expected"),
        (np.zeros((0, 4, 3), np.uint8), "no pixels"),
        (np.zeros((4, 4, 3), np.int64), "dtype"),
        (np.zeros((4, 4, 3), bool), "dtype"),
        (np.full((4, 4, 3), 2.0), r"\[0, 1\]"),
        (np.full((4, 4, 3), -0.5, np.float32), r"\[0, 1\]"),
        (np.full((4, 4, 3), np.nan), "NaN"),
    ],
)
def test_array_refusals_name_what_was_given(array, message):
    with pytest.raises(InputError, match=message):
        array_to_rgb8(array)


def test_channels_first_arrays_and_tensors_are_refused_with_how_to_convert():
    """Trial 60: refused, but without saying how to pass them."""
    import torch

    with pytest.raises(InputError, match=r"channels first\? pass array.transpose\(1, 2, 0\)"):
        to_rgb8(np.zeros((3, 32, 40), np.uint8))
    with pytest.raises(InputError, match=r"pass tensor.permute\(1, 2, 0\).cpu\(\).numpy\(\)"):
        to_rgb8(torch.zeros(3, 32, 40))
    with pytest.raises(InputError) as refused:  # a (H, W, 2) array is no channels-first picture
        to_rgb8(np.zeros((32, 40, 2), np.uint8))
    assert "channels first" not in str(refused.value)


def test_pil_images_of_any_mode():
    rgb = _rgb(8, 10)
    im = Image.fromarray(rgb)
    assert (to_rgb8(im) == rgb).all()
    for mode in ("L", "LA", "RGBA", "P", "1", "CMYK", "I", "F", "I;16"):
        out = to_rgb8(im.convert(mode) if mode != "I;16" else Image.new("I;16", (10, 8), 300))
        assert out.shape == (8, 10, 3) and out.dtype == np.uint8, mode
    # 32-bit integer gray has no stated depth: 8-bit values stay, 16-bit ones are divided by 257.
    gray = np.asarray(im.convert("L"))
    assert (to_rgb8(im.convert("I"))[:, :, 0] == gray).all()  # not divided into black
    assert (to_rgb8(Image.fromarray(gray.astype(np.int32) * 257))[:, :, 0] == gray).all()
    assert to_rgb8(Image.fromarray(np.full((2, 2), 1 << 20, np.int32))).max() == 255


def test_predict_many_gives_an_error_record_per_bad_item_and_goes_on(predictor, scene, tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(scene).save(good)
    items = [good, scene[:, :, 0], np.zeros((4, 4, 7), np.uint8), Image.fromarray(scene),
             np.full((5, 5, 3), 3.0), "no/such/file.jpg", 42, scene / 255.0,
             np.dstack([scene, np.full(scene.shape[:2], 255, np.uint8)])]  # fmt: skip
    records = list(predictor.predict_many(items, batch_size=4))
    assert len(records) == len(items)
    errors = [r["error"] is not None for r in records]
    assert errors == [False, False, True, False, True, True, True, False, False]
    assert "(4, 4, 7)" in records[2]["error"] and "[0, 1]" in records[4]["error"]
    assert "no/such/file.jpg: file not found" in records[5]["error"]
    assert "int" in records[6]["error"]
    reference = records[0]["faces"]
    for r in (records[3], records[7], records[8]):  # the same pixels, another form
        assert r["faces"] == reference
    with pytest.raises(ValueError, match="channel_order"):
        predictor.predict(scene, channel_order="rbg")


def test_bgr_arrays_match_rgb(predictor, scene):
    rgb = predictor.predict(scene)
    bgr = np.ascontiguousarray(scene[:, :, ::-1])
    assert predictor.predict(bgr, channel_order="bgr") == rgb
    assert predictor.predict(bgr, channel_order="BGR") == rgb  # OpenCV's docs spell it in capitals
    assert list(predictor.predict_many([bgr], channel_order="Bgr")) == [rgb]


def test_a_failing_analysis_is_that_items_error(predictor, scene, monkeypatch):
    real = predictor._face_features  # the faces of a batch, analysed together

    def fails_on_wide(faces):
        if any(img.shape[1] == 200 for img, *_ in faces):
            raise RuntimeError("boom")
        return real(faces)

    monkeypatch.setattr(predictor, "_face_features", fails_on_wide)
    wide = np.zeros((100, 200, 3), np.uint8) + scene[:100, :1]
    records = list(predictor.predict_many([scene, wide, scene], batch_size=3))
    assert [r["error"] is None for r in records] == [True, False, True]
    assert "analysis failed (RuntimeError: boom)" in records[1]["error"]


# -- files -----------------------------------------------------------------------------------


def _stored(displayed: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels that EXIF `orientation` shows as `displayed`."""
    return {
        1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1], 5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, 1),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2), 8: lambda a: np.rot90(a, -1),
    }[orientation](displayed)  # fmt: skip


def _displayed(stored: np.ndarray, orientation: int) -> np.ndarray:
    """What a viewer shows for stored pixels with EXIF `orientation` (written independently
    of Pillow's exif_transpose)."""
    return {
        1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1], 5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2), 8: lambda a: np.rot90(a, 1),
    }[orientation](stored)  # fmt: skip


def _jpeg_with_orientation(path: Path, displayed: np.ndarray, orientation: int) -> Path:
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = np.ascontiguousarray(_stored(displayed, orientation))
    Image.fromarray(stored).save(path, quality=95, subsampling=0, exif=exif)
    return path


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_so_boxes_are_in_displayed_pixels(
    predictor, scene, tmp_path, orientation
):
    path = _jpeg_with_orientation(tmp_path / f"o{orientation}.jpg", scene, orientation)
    loaded = load_image(path)
    stored = np.asarray(Image.open(path).convert("RGB"))  # as stored, no orientation
    assert loaded.shape == scene.shape
    assert (loaded == _displayed(stored, orientation)).all()
    assert np.abs(loaded.astype(int) - scene).mean() < 3  # JPEG noise only
    record = predictor.predict(path)
    assert (record["width"], record["height"]) == (180, 140)
    assert record["faces"] == predictor.predict(loaded)["faces"]  # boxes on the displayed image
    upright = predictor.predict(_jpeg_with_orientation(tmp_path / "upright.jpg", scene, 1))
    for face, ref in zip(record["faces"], upright["faces"], strict=True):
        assert np.abs(np.subtract(face["box"], ref["box"])).max() <= 4


def test_a_pil_image_whose_file_was_closed_says_so(tmp_path):
    """Trial 71: an image opened in a `with` block and passed after it got "cannot convert
    (AssertionError: )"; the message says the file was closed before the pixels were read."""
    path = tmp_path / "a.jpg"
    Image.fromarray(_rgb(8, 10)).save(path)
    with Image.open(path) as image:
        pass
    with pytest.raises(InputError, match=r"its file was closed before its pixels were read .* call image\.load\(\)"):
        to_rgb8(image)
    with Image.open(path) as image:
        image.load()
    assert to_rgb8(image).shape == (8, 10, 3)  # loaded inside the block: read


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_pil_image_given_is_read_as_displayed_and_left_as_it_was(tmp_path, orientation):
    """Its EXIF orientation is applied to the pixels read, never to the caller's image object."""
    y, x = np.mgrid[0:16, 0:20]
    rgb = np.stack([x * 12, y * 15, np.full_like(x, 90)], axis=-1).astype(np.uint8)  # smooth: little JPEG noise
    image = Image.open(_jpeg_with_orientation(tmp_path / "o.jpg", rgb, orientation))
    size, tag = image.size, image.getexif().get(0x0112)
    out = to_rgb8(image)
    assert out.shape == (16, 20, 3) and np.abs(out.astype(int) - rgb).mean() < 3
    assert image.size == size and image.getexif().get(0x0112) == tag
    assert (to_rgb8(image) == out).all()  # read again: the same


def _save(array: np.ndarray, path: Path, mode_hint: str | None = None, **kw) -> Path:
    image = Image.fromarray(array)
    (image.convert(mode_hint) if mode_hint else image).save(path, **kw)
    return path


def test_every_pillow_format_reads_as_rgb(tmp_path):
    rgb = _rgb(16, 20)
    for suffix, kw in ((".gif", {}), (".tif", {}), (".tiff", {"compression": "tiff_lzw"}),
                       (".webp", {"lossless": True}), (".bmp", {}), (".ppm", {}), (".tga", {}),
                       (".png", {}), (".qoi", {}), (".pcx", {}), (".jp2", {})):  # fmt: skip
        assert suffix in image_suffixes()
        out = load_image(_save(rgb, tmp_path / f"x{suffix}", **kw))
        assert out.shape == (16, 20, 3) and out.dtype == np.uint8, suffix
        if suffix in (".tif", ".tiff", ".webp", ".bmp", ".ppm", ".tga", ".png", ".qoi"):
            assert (out == rgb).all(), suffix
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (10, 200)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    assert (load_image(tmp_path / "anim.gif") == 10).all()  # the first frame
    assert ".eps" not in image_suffixes() and ".ps" not in image_suffixes()  # runs Ghostscript


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))  # fmt: skip


def _jpeg_declaring(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_rgb(16, 16)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5: sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize("make", [_png_header, _jpeg_declaring])
def test_huge_declared_size_is_refused_from_the_header(tmp_path, make):
    path = tmp_path / "huge.img"
    path.write_bytes(make(30000, 30000))
    start = time.perf_counter()
    with pytest.raises(ImageReadError, match="900 megapixels, over the limit of 100 "):
        load_image(path)
    assert time.perf_counter() - start < 1.0  # nothing decoded
    path.write_bytes(make(3000, 2000))  # 6 MP: under a 10 MP cap, over a 5 MP one
    with pytest.raises(ImageReadError, match="over the limit of 5"):
        load_image(path, max_pixels=5_000_000)
    path.write_bytes(make(10, 10) + bytes(2_000_000))  # more bytes than 8 per allowed pixel
    with pytest.raises(ImageReadError, match=r"file is 2 MB, more than an image under the limit .* \(its header says 10x10\)"):
        load_image(path, max_pixels=100_000)
    path.write_bytes(make(600, 400) + bytes(2_000_000))  # the same, its header over the cap: that is the reason
    with pytest.raises(ImageReadError, match="600x400 = 0.24 megapixels, over the limit of 0.1 "):
        load_image(path, max_pixels=100_000)


def test_a_decode_that_ends_early_is_an_error(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(_rgb(64, 64)).save(buffer, "PNG")
    data = buffer.getvalue()
    idat = data.index(b"IDAT")
    (tmp_path / "cut.png").write_bytes(data[: idat + 100] + data[-12:])  # IEND kept
    with pytest.raises(ImageReadError, match="truncated"):
        load_image(tmp_path / "cut.png")
    for fmt in ("GIF", "TIFF", "BMP", "JPEG"):
        buffer = io.BytesIO()
        Image.fromarray(_rgb(64, 64)).save(buffer, fmt)
        (tmp_path / f"cut.{fmt}").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        with pytest.raises(ImageReadError, match="truncated"):
            load_image(tmp_path / f"cut.{fmt}")


def test_a_panorama_does_not_allocate_its_padded_square(predictor):
    wide = np.random.default_rng(0).integers(0, 256, (24, 60000, 3), dtype=np.uint8)
    start = time.perf_counter()
    record = predictor.predict(wide)  # a 60000-px box padded square would be 10 GB
    assert record["error"] is None and (record["width"], record["height"]) == (60000, 24)
    assert time.perf_counter() - start < 20


def test_ordinary_files_decode_to_the_same_pixels_as_before(tmp_path):
    """load_image (Pillow) == read_image (OpenCV, the predictor's reader before): the
    predictor's outputs on these files do not change."""
    import cv2

    from lnet_anet.data.images import read_image

    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    deep = rng.integers(0, 65536, (30, 40, 3), dtype=np.uint16)
    alpha = rng.integers(0, 256, (30, 40, 1), dtype=np.uint8)
    paths = [_save(rgb, tmp_path / "a.png"), _save(rgb, tmp_path / "a.jpg", quality=90),
             _save(rgb, tmp_path / "p.jpg", progressive=True), _save(rgb, tmp_path / "a.bmp"),
             _save(rgb, tmp_path / "a.webp", quality=80), _save(rgb[:, :, 0], tmp_path / "g.png"),
             _save(np.dstack([rgb, alpha]), tmp_path / "rgba.png"),
             _save(rgb, tmp_path / "cmyk.jpg", mode_hint="CMYK")]  # fmt: skip
    for name, array in (("d.png", deep), ("d.tif", deep), ("g16.png", deep[:, :, 0]),
                        ("da.png", np.dstack([deep, deep[:, :, :1]]))):  # fmt: skip
        assert cv2.imwrite(str(tmp_path / name), array)
        paths.append(tmp_path / name)
    for path in paths:
        assert (load_image(path) == read_image(path)).all(), path.name


def test_image_bytes_are_refused_with_what_to_pass_instead(tmp_path):
    from lnet_anet.inference.inputs import describe, source_of

    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 20, 30)).save(buffer, "PNG")
    data = buffer.getvalue()
    with pytest.raises(InputError, match=r"bytes of data: bytes are read as a file name.*BytesIO"):
        to_rgb8(data)
    assert source_of(data) is None and describe(data) == f"{len(data)} bytes of data"
    assert (to_rgb8(io.BytesIO(data)) == to_rgb8(Image.open(io.BytesIO(data)))).all()  # the way the message gives
    path = tmp_path / "a.png"
    path.write_bytes(data)
    assert to_rgb8(bytes(path)).shape == (6, 8, 3)  # a file name as bytes is still a path


def test_open_files_and_streams_are_read_as_the_file_is(tmp_path):
    """Trial 63: a web service's upload (a file object) or io.BytesIO was refused without a way
    round; now it is read from where it stands, as load_image reads the file, EXIF orientation
    included, and a bad stream is an ImageReadError naming it."""
    from lnet_anet.data.errors import ImageReadError
    from lnet_anet.inference.inputs import describe, source_of

    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: shown 90 degrees clockwise
    Image.fromarray(np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)).save(path, exif=exif)
    with open(path, "rb") as f:
        assert (to_rgb8(f) == load_image(path)).all() and to_rgb8(io.BytesIO(path.read_bytes())).shape == (8, 6, 3)
        assert describe(f) == f"BufferedReader {path}" and source_of(f) is None
    data = path.read_bytes()
    for stream, why in ((io.BytesIO(b""), "file is empty"), (io.BytesIO(data[: len(data) // 2]), "truncated"),
                        (io.BytesIO(b"not an image at all"), "not a readable image"),
                        (io.StringIO("text"), "not bytes: open the file in binary mode")):  # fmt: skip
        with pytest.raises(ImageReadError, match=why):
            to_rgb8(stream)
    with pytest.raises(ImageReadError, match="more than an image under the limit of 1e-06 megapixels holds"):
        to_rgb8(io.BytesIO(b"x" * (2 << 20)), max_pixels=1)


def test_urls_and_a_failed_cv2_read_say_what_happened():
    with pytest.raises(InputError, match=r"^https://example.com/a.jpg: a URL; URLs are not fetched"):
        to_rgb8("https://example.com/a.jpg")
    with pytest.raises(InputError, match=r"cv2.imread returns None for a file it cannot read"):
        to_rgb8(None)
    from lnet_anet.data.video import VideoFrame

    with pytest.raises(InputError, match=r"^VideoFrame.*; for a video's frame pass frame.image$"):  # trial 86
        to_rgb8(VideoFrame(0, 0.0, np.zeros((4, 4, 3), np.uint8)))
    for empty in ("", b""):  # trial 85: said ".: is a directory"
        with pytest.raises(InputError, match=r"^an empty path"):
            to_rgb8(empty)


def test_premultiplied_gray_alpha_is_read():
    """Trial 63: mode "La" failed ("conversion from La to L not supported") though it is listed."""
    la = Image.new("LA", (4, 3), (100, 255)).convert("La")
    assert (to_rgb8(la) == 100).all()


def test_a_missing_image_names_the_file_there_in_another_case(tmp_path):
    """Trial 66: a label file's `x.jpg` for `x.JPG` on disk was only "file not found"."""
    from lnet_anet.data.errors import ImageReadError
    from lnet_anet.data.images import load_image

    Image.new("RGB", (8, 8)).save(tmp_path / "Photo.JPG")
    with pytest.raises(ImageReadError, match=r"file not found \(Photo.JPG is there: file names are case-sensitive\)"):
        load_image(tmp_path / "photo.jpg")
    with pytest.raises(ImageReadError, match=r"file not found$"):
        load_image(tmp_path / "other.jpg")


def test_a_broken_exif_block_is_read_as_stored_without_pillows_warning(tmp_path):
    """Trial 71: a PIL image with a corrupt EXIF block was read as stored (documented), but Pillow's
    "Corrupt EXIF data" UserWarning leaked onto stderr (catch_warnings cannot hide it in the decode
    threads). A fresh interpreter with default warnings shows nothing now."""
    import subprocess
    import sys

    path = tmp_path / "bad-exif.jpg"
    Image.fromarray(_rgb(20, 30)).save(path, exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00\x12\x01")
    code = ("import sys; from PIL import Image; from lnet_anet.inference.inputs import to_rgb8; "
            "image = Image.open(sys.argv[1]); print(to_rgb8(image).shape)")  # fmt: skip
    done = subprocess.run([sys.executable, "-W", "default", "-c", code, str(path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], check=True)  # fmt: skip
    assert done.stdout.strip() == "(20, 30, 3)" and "EXIF" not in done.stderr
