"""Writing a synthetic tree in CelebA's file formats, and reading it back."""

from __future__ import annotations

import argparse
import inspect
import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from lnet_anet.data.attributes import CELEBA_ATTRIBUTES
from lnet_anet.data.synthetic.faces import (
    _JPEG_QUALITY,
    _SUPERSAMPLE,
    sample_face,
    sample_identity,
)
from lnet_anet.data.synthetic.render import (
    _finish,
    _size,
    draw_background,
    render_aligned,
    render_scene,
)

# --------------------------------------------------------------------------- writing


def _write_jpeg(path: Path, rgb: np.ndarray) -> None:
    # 4:4:4 chroma: subsampling bleeds saturated clutter edges into skin-coloured fringes
    params = [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY,
              cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]  # fmt: skip
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise OSError(f"{path}: JPEG encoding failed")
    path.write_bytes(buf.tobytes())


def _write_lines(path: Path, lines: Sequence[str], newline: str = "\n") -> None:
    path.write_bytes("".join(line + newline for line in lines).encode("ascii"))


def _split_identities(n: int, rng: np.random.Generator) -> np.ndarray:
    """Partition 0/1/2 per identity (index 0 = identity 1), about 70/15/15, none empty if n >= 3."""
    order = rng.permutation(n)
    n_val = max(1, round(0.15 * n)) if n >= 3 else 0
    n_test = max(1, round(0.15 * n)) if n >= 3 else 0
    split = np.zeros(n, np.int64)
    split[order[n - n_val - n_test : n - n_test]] = 1
    split[order[n - n_test :]] = 2
    return split


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])  # an independent stream per (seed, keys)


def make_synthetic_celeba(
    root: str | Path,
    n_images: int = 200,
    n_identities: int = 40,
    scene_size: int | Sequence[int] = 160,
    aligned_size: int | Sequence[int] = 64,
    seed: int = 0,
    face_free: float = 0.1,
    two_faces: float = 0.15,
) -> Path:
    """Write a synthetic CelebA-format tree under `root` and return `root` as a Path.

    Sizes are an int or (width, height). `face_free` is the number of face-free background
    images as a fraction of `n_images`; `two_faces` the fraction of scenes with a second,
    smaller face. Images are numbered in split order (train, then val, then test) as in
    CelebA. The same arguments give the same files byte for byte.
    """
    if n_images < 1 or n_identities < 1:
        raise ValueError(
            f"need n_images >= 1 and n_identities >= 1, got {n_images}, {n_identities}"
        )
    if not 0 <= face_free <= 10 or not 0 <= two_faces <= 1:
        raise ValueError(
            f"face_free must be in [0, 10] and two_faces in [0, 1], got {face_free}, {two_faces}"
        )
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    _size(scene_size), _size(aligned_size)  # fail before writing anything
    root = Path(root)
    for sub in ("img_celeba", "img_align_celeba", "backgrounds"):
        (root / sub).mkdir(parents=True, exist_ok=True)

    people = [sample_identity(_rng(seed, 1, i), i + 1) for i in range(n_identities)]
    split_of = _split_identities(n_identities, _rng(seed, 2))
    owner = _rng(seed, 3).permutation(np.arange(n_images) % n_identities)
    owner = owner[np.argsort(split_of[owner], kind="stable")]  # CelebA numbers train, val, test

    attr_rows, bbox_rows, all_boxes, align_marks, wild_marks = [], [], [], [], []
    id_rows, part_rows, age_rows = [], [], []
    for i, pid in enumerate(owner):
        name = f"{i + 1:06d}.jpg"
        spec = sample_face(people[pid], _rng(seed, 4, i))
        aligned, marks = render_aligned(spec, aligned_size, _rng(seed, 5, i))
        _write_jpeg(root / "img_align_celeba" / name, aligned)
        scene_rng = _rng(seed, 6, i)
        others = []
        if scene_rng.random() < two_faces:
            stranger = sample_identity(_rng(seed, 7, i), 0)
            others.append(sample_face(stranger, _rng(seed, 8, i)))
        scene, boxes, scene_marks = render_scene(spec, scene_size, scene_rng, others)
        _write_jpeg(root / "img_celeba" / name, scene)

        attr_rows.append(name + "".join(f" {v:>2d}" for v in spec.vector()))
        x0, y0 = int(math.floor(boxes[0, 0])), int(math.floor(boxes[0, 1]))
        x1, y1 = int(math.ceil(boxes[0, 2])), int(math.ceil(boxes[0, 3]))
        bbox_rows.append(f"{name} {x0:>5d} {y0:>3d} {x1 - x0:>3d} {y1 - y0:>3d}")
        for b in boxes:
            bx0, by0 = int(math.floor(b[0])), int(math.floor(b[1]))
            all_boxes.append(f"{name},{bx0},{by0},{int(math.ceil(b[2]))},{int(math.ceil(b[3]))}")
        align_marks.append(_landmark_row(name, marks))
        wild_marks.append(_landmark_row(name, scene_marks))
        id_rows.append(f"{name} {pid + 1}")
        part_rows.append(f"{name} {split_of[pid]}")
        gender = 0 if spec.person.male else 1
        split_name = ("train", "val", "test")[split_of[pid]]
        age_rows.append(f"img_align_celeba/{name},{int(spec.age)},{pid + 1},{split_name},{gender}")

    crlf = "\r\n"  # CelebA's Anno files have DOS line endings
    _write_lines(
        root / "list_attr_celeba.txt",
        [str(n_images), " ".join(CELEBA_ATTRIBUTES) + " ", *attr_rows],
        crlf,
    )
    _write_lines(
        root / "list_bbox_celeba.txt",
        [str(n_images), "image_id x_1 y_1 width height", *bbox_rows],
        crlf,
    )
    header = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
    _write_lines(
        root / "list_landmarks_align_celeba.txt", [str(n_images), header, *align_marks], crlf
    )
    _write_lines(root / "list_landmarks_celeba.txt", [str(n_images), header, *wild_marks], crlf)
    _write_lines(root / "list_bbox_all.csv", ["image_id,x0,y0,x1,y1", *all_boxes])
    _write_lines(root / "identity_CelebA.txt", id_rows)
    _write_lines(root / "list_eval_partition.txt", part_rows)
    _write_lines(root / "ages.csv", ["path,age,identity,split,gender", *age_rows])

    bw, bh = _size(scene_size)
    for j in range(int(round(face_free * n_images))):
        bg = draw_background(_rng(seed, 9, j), bw * _SUPERSAMPLE, bh * _SUPERSAMPLE)
        bg = cv2.resize(bg, (bw, bh), interpolation=cv2.INTER_AREA)
        _write_jpeg(root / "backgrounds" / f"{j + 1:04d}.jpg", _finish(bg, _rng(seed, 10, j)))
    return root


def _landmark_row(name: str, marks: np.ndarray) -> str:
    v = [int(round(float(x))) for x in marks.reshape(-1)]
    return f"{name} {v[0]:>2d}" + "".join(f"{x:>5d}" for x in v[1:])


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m lnet_anet.data.synthetic",
        description="Write a synthetic dataset in CelebA's formats (deterministic per seed).",
    )
    ap.add_argument("out", type=Path, help="output folder (created)")
    ap.add_argument("--n-images", type=int, default=200)
    ap.add_argument("--n-identities", type=int, default=40)
    ap.add_argument("--scene-size", type=int, nargs="+", default=[160], help="S or W H")
    ap.add_argument("--aligned-size", type=int, nargs="+", default=[64], help="S or W H")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--face-free",
        type=float,
        default=0.1,
        help="face-free backgrounds, as a fraction of --n-images",
    )
    ap.add_argument("--two-faces", type=float, default=0.15, help="fraction of two-face scenes")
    args = ap.parse_args(argv)
    sizes = []
    for flag, v in (("--scene-size", args.scene_size), ("--aligned-size", args.aligned_size)):
        if len(v) not in (1, 2):
            ap.error(f"{flag} takes S or W H")
        sizes.append(v[0] if len(v) == 1 else tuple(v))
    root = make_synthetic_celeba(
        args.out,
        args.n_images,
        args.n_identities,
        sizes[0],
        sizes[1],
        args.seed,
        args.face_free,
        args.two_faces,
    )
    for path in sorted(root.iterdir()):
        what = (
            f"{sum(1 for _ in path.iterdir())} images"
            if path.is_dir()
            else f"{path.stat().st_size} bytes"
        )
        print(f"{path}  ({what})")


def read_synthetic(
    root: str | Path,
    images: str = "img_align_celeba",
    n_images: int = 400,
    n_identities: int = 60,
    seed: int = 0,
    labels: str = "attributes",
    **make_kwargs,
):
    """The index of a synthetic tree at `root`, writing the tree first if it is not there yet
    (so a config can name it like any other dataset). `images`: img_align_celeba | img_celeba;
    labels: "attributes" (the CelebA files) or "age" (ages.csv, aligned images)."""
    from lnet_anet.data.readers.age import read_age_csv
    from lnet_anet.data.readers.celeba import (
        read_celeba,  # celeba imports this module's attribute list
    )

    known = inspect.signature(make_synthetic_celeba).parameters
    unknown = sorted(k for k in make_kwargs if k not in known or k in ("root", "n_images", "n_identities", "seed"))
    if unknown:  # checked whether or not the tree is made now: a mistyped key was ignored once it existed (a trial)
        allowed = ", ".join(k for k in dict.fromkeys(("images", "n_images", "n_identities", "seed", "labels", *known))
                            if k != "root")  # fmt: skip
        raise TypeError(f"read_synthetic() got an unexpected keyword argument {unknown[0]!r} (it takes {allowed})")
    root = Path(root)
    if not (root / "list_attr_celeba.txt").exists():
        make_synthetic_celeba(root, n_images, n_identities, seed=seed, **make_kwargs)
        logging.getLogger("lnet_anet.data").info("synthetic data: %d images of %d identities written to %s (made "
                                                 "once; later runs read them)", n_images, n_identities, root)  # fmt: skip
    else:  # made before, perhaps at another size: said, not silently trained on (a trial)
        with open(root / "list_attr_celeba.txt") as f:
            held = f.readline().strip()
        if held != str(int(n_images)):
            warnings.warn(f"{root}: the synthetic tree there was made before with {held} images, and this config asks "
                          f"for n_images={n_images}: it is read as it is; remove {root} to make it again at the new size",
                          stacklevel=2)  # fmt: skip
    if labels == "age":
        return read_age_csv(root / "ages.csv")
    coords = "align" if images == "img_align_celeba" else "wild"
    return read_celeba(root, images=images, coords=coords)
