"""Generated WIDER FACE-format label files for the tests of commands that learn from one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def wider_photos(tmp_path: Path, n: int, faces: list[str], corrupt_first: bool = False) -> tuple[Path, Path]:
    """n random 64 x 96 photos in tmp_path/images/0--Event and their `wider_face_train_bbx_gt.txt`,
    each photo with the face rows `faces` ("x y w h" and 6 flags); the first photo's file not an
    image when corrupt_first. Returns (the label file, the images folder)."""
    images = tmp_path / "images" / "0--Event"
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    lines = []
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)).save(images / f"p{i}.jpg")
        lines += [f"0--Event/p{i}.jpg", str(len(faces)), *faces]
    if corrupt_first:
        (images / "p0.jpg").write_bytes(b"not a jpeg")
    labels = tmp_path / "wider_face_train_bbx_gt.txt"
    labels.write_text("\n".join(lines) + "\n")
    return labels, tmp_path / "images"
