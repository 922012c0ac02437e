"""Fuzz: generated bad files (random bytes behind image signatures, truncated headers, flipped
bytes, huge declared sizes) never crash the reader or the CLI, and each gets an error record."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lnet_anet.inference.build import random_bundle

REPO = Path(__file__).resolve().parents[1]
SIGNATURES = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM",
              b"RIFF\x00\x00\x00\x00WEBP", b"P6\n", b"qoif", b"\x00\x00\x00\x0cjP  "]  # fmt: skip
FORMATS = [("JPEG", ".jpg"), ("PNG", ".png"), ("GIF", ".gif"), ("TIFF", ".tif"), ("BMP", ".bmp"),
           ("WEBP", ".webp"), ("PPM", ".ppm")]  # fmt: skip


def _valid(fmt: str, rng: np.random.Generator) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(buffer, fmt)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _huge(rng: np.random.Generator) -> dict[str, bytes]:
    """Small files whose headers declare 30000 x 30000 (or more) pixels."""
    w = h = 30000
    png = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + _chunk(b"IDAT", zlib.compress(b"\0" * 100000)) + _chunk(b"IEND", b""))  # fmt: skip
    jpeg = bytearray(_valid("JPEG", rng))
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5: sof + 9] = struct.pack(">HH", h, w)
    gif = bytearray(_valid("GIF", rng))
    gif[6:10] = struct.pack("<HH", 65535, 65535)
    gif_frame = bytearray(_valid("GIF", rng))
    desc = gif_frame.index(b"\x2c")  # image descriptor: its own width / height
    gif_frame[6:10] = struct.pack("<HH", 65535, 65535)
    gif_frame[desc + 5: desc + 9] = struct.pack("<HH", 65535, 65535)
    bmp = bytearray(_valid("BMP", rng))
    bmp[18:26] = struct.pack("<ii", w, h)
    ppm = f"P6\n{w} {h}\n255\n".encode() + bytes(1000)
    return {"huge.png": png, "huge.jpg": bytes(jpeg), "huge.gif": bytes(gif),
            "huge_frame.gif": bytes(gif_frame), "huge.bmp": bytes(bmp), "huge.ppm": ppm}  # fmt: skip


def make_fuzz_folder(root: Path, seed: int = 0) -> dict[str, bool]:
    """The fuzz files; name -> whether it must be an error (False: may decode, e.g. flipped
    bytes in pixel data)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[bytes, bool]] = {}
    for n in range(12):
        files[f"random{n}.jpg"] = (rng.bytes(int(rng.integers(1, 5000))), True)
    for n, sig in enumerate(SIGNATURES):
        for k in range(3):
            files[f"sig{n}_{k}.png"] = (sig + rng.bytes(int(rng.integers(0, 3000))), True)
    for fmt, suffix in FORMATS:
        data = _valid(fmt, rng)
        for cut in sorted({1, 4, 8, 12, 16, 24, 33, 50, len(data) // 2, len(data) - 40}):
            if 0 < cut < len(data) - 30:
                files[f"cut{cut}_{fmt}{suffix}"] = (data[:cut], True)
        for k in range(8):  # bytes flipped in the header or anywhere
            flipped = bytearray(data)
            for pos in rng.integers(0, min(len(data), 64 if k < 4 else len(data)), 3):
                flipped[pos] ^= int(rng.integers(1, 256))
            files[f"flip{k}_{fmt}{suffix}"] = (bytes(flipped), False)
    for name, data in _huge(rng).items():
        files[name] = (data, True)
    files["empty.png"] = (b"", True)
    for name, (data, _) in files.items():
        (root / name).write_bytes(data)
    return {name: bad for name, (_, bad) in files.items()}


READER = """
import json, resource, sys, os
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a decoded 30000x30000 would not fit
from lnet_anet.data.errors import ImageReadError
from lnet_anet.data.images import load_image
for name in sorted(os.listdir(sys.argv[1])):
    try:
        img = load_image(os.path.join(sys.argv[1], name))
        out = {"name": name, "error": None, "shape": list(img.shape)}
    except ImageReadError as e:
        out = {"name": name, "error": str(e)}
    except BaseException as e:
        out = {"name": name, "unexpected": f"{type(e).__name__}: {e}"}
    print(json.dumps(out), flush=True)
"""


def test_fuzzed_files_never_crash_the_reader(tmp_path):
    expected = make_fuzz_folder(tmp_path / "fuzz")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-c", READER, str(tmp_path / "fuzz")], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]  # no segfault, no memory blow-up
    results = {r["name"]: r for r in map(json.loads, run.stdout.splitlines())}
    assert set(results) == set(expected)
    assert not [r for r in results.values() if "unexpected" in r]
    for name, must_fail in expected.items():
        if must_fail:
            assert results[name]["error"], name
    assert "over the limit" in results["huge.jpg"]["error"]
    assert "over the limit" in results["huge.png"]["error"]


@pytest.mark.usefixtures("one_thread")
def test_fuzzed_folder_through_the_cli_gives_one_record_each(tmp_path):
    expected = make_fuzz_folder(tmp_path / "fuzz", seed=1)
    for n in range(3):
        Image.fromarray(np.full((20, 30, 3), 60 * n, np.uint8)).save(tmp_path / "fuzz" / f"ok{n}.png")
    bundle = random_bundle(tmp_path / "tiny.lnetanet", threshold=0.0, max_faces=1)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "lnet_anet.predict", str(tmp_path / "fuzz"), "--json",
                          "--bundle", str(bundle), "--output", str(out), "--batch-size", "4",
                          "--top", "1", "--csv", str(tmp_path / "faces.csv")],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 1, run.stderr[-3000:]  # 1: some files could not be read, the others written
    assert "Traceback" not in run.stderr
    records = {Path(r["image"]).name: r for r in map(json.loads, run.stdout.splitlines())}
    assert set(records) == set(expected) | {"ok0.png", "ok1.png", "ok2.png"}
    for name, must_fail in expected.items():
        if must_fail:
            assert records[name]["error"] and records[name]["faces"] == [], name
    assert all(records[f"ok{n}.png"]["error"] is None for n in range(3))
    assert len(out.read_text().splitlines()) == len(records)
    assert "skipped" in run.stderr.splitlines()[-1]  # the summary line
