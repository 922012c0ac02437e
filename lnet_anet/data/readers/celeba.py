"""CelebA in its original release formats -> the index DataFrame (see lnet_anet.data).

Accepted layouts of `root` (label files are looked up in root, root/Anno and root/Eval; image
folders in root and root/Img, so the official Google-Drive tree and Kaggle's flat copy both work):

  img_align_celeba/ | img_celeba/ | any folder of CelebA-named images (e.g. img_celeba_hq/)
  list_attr_celeba.txt            count line, 40 names, rows `name ±1 x40` (or the .csv variant)
  list_eval_partition.txt         `name 0|1|2`  (or list_eval_partition.csv `image_id,partition`)
  identity_CelebA.txt             `name id`
  list_bbox_celeba.txt            count, `image_id x_1 y_1 width height`, rows (in-the-wild images)
  list_landmarks_align_celeba.txt count, 10 names, rows (or the .csv variant; aligned images)
  list_landmarks_celeba.txt       the same for the in-the-wild images

Rules (decided here, so that nothing is used silently):
- An image folder is required: the index holds absolute paths. The rows come from the attribute
  list when there is one, else from the partition file; with neither, DatasetFormatError.
- Rows whose image is missing from the folder, or (when a partition file exists) that the
  partition file does not list, are left out, listed in df.attrs["skipped"] and warned about.
  Without a partition file "split" is "" for every row (a warning says so).
- Boxes and landmarks are pixel coordinates of one particular image set, so they are joined only
  to that set: `coords="auto"` attaches aligned landmarks to img_align_celeba*, and boxes plus
  in-the-wild landmarks to img_celeba; other folders (e.g. CelebA-HQ crops) get neither.
  Rows missing from a box/landmark/identity file get NaN / -1 (counted in a warning).
- When both the .txt original and a .csv variant exist, the .txt original is read.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lnet_anet.data.attributes import CELEBA_ATTRIBUTES
from lnet_anet.data.errors import DataNotFoundError, DatasetFormatError
from lnet_anet.data.readers._tables import (
    BOX_COLUMNS,
    LANDMARK_COLUMNS,
    check_attr_spelling,
    finish_index,
    header_fields,
    join_paths,
    keep_existing,
    parse_count_line,
    parse_table,
    read_lines,
    require_path,
    split_fields,
    warn_missing_attributes,
)

PARTITION_NAMES = {0: "train", 1: "val", 2: "test"}
BBOX_HEADER = ("image_id", "x_1", "y_1", "width", "height")

_LABEL_DIRS = (".", "Anno", "Eval")
_IMAGE_PARENTS = (".", "Img")
_CELEBA_IMAGE = re.compile(r"^\d+\.(jpe?g|png)$", re.IGNORECASE)
_ATTR_NAME = re.compile(r"^[A-Za-z0-9_]*[A-Za-z_][A-Za-z0-9_]*$")  # not a bare number


# --------------------------------------------------------------------------- single files


def read_attr_list(path: str | Path, note: str = "CelebA's 40 attribute names") -> pd.DataFrame:
    """CelebA's attribute list (`list_attr_celeba.txt` layout, or its `image_id,...` CSV variant).

    Returns a DataFrame indexed by image name with one int8 0/1 column per attribute, in file
    order. Labels must be -1 or 1 (0/1 files are rejected: 0 would be ambiguous). A header name
    close to one of CelebA's 40 that the header lacks (`EyeGlasses`) is refused, naming the
    header line (check_attr_spelling; note: what the names should be, said in the error).
    """
    path = Path(path)
    lines = read_lines(path)
    if path.suffix.lower() == ".csv":
        header = header_fields(path, lines, 0, ",")
        if header[0] != "image_id":
            raise DatasetFormatError(
                path, f"bad header: first column must be image_id, found {header[0]!r}", 1
            )
        names = _check_attr_names(path, header[1:], 1)
        check_attr_spelling(path, names, 1, note)
        _check_header_fits_rows(path, lines, 1, len(names), ",")
        table = parse_table(path, lines, 1, len(names) + 1, sep=",")
    else:
        # The header line lists the attribute names; some writers prefix it with "image_id".
        header = header_fields(path, lines, 1, None)
        names = _check_attr_names(path, header[1:] if header[0] == "image_id" else header, 2)
        check_attr_spelling(path, names, 2, note)  # line 2: the header, after the count line
        _check_header_fits_rows(path, lines, 2, len(names), None)
        table = parse_table(path, lines, 2, len(names) + 1)
        parse_count_line(path, lines, len(table))
    images = table.unique_strings(0, "image name")
    labels = table.numbers(range(1, len(names) + 1), names, allowed=(-1, 1))
    frame = pd.DataFrame((labels > 0).astype(np.int8), columns=names)
    frame.index = pd.Index(images, name="image_id")
    warn_missing_attributes(path, names)
    return frame


def _check_header_fits_rows(path: Path, lines: list[str], first_row: int, n_names: int, sep: str | None) -> None:
    """A header naming an attribute too few (or too many) puts every row off by one: said of the
    header, not of the first row, when the first rows (two to five) all hold -1/1 labels of one
    other count. first_row: the first row's 0-based index, which is the header's 1-based line
    number. Raises DatasetFormatError."""
    rows = [(i + 1, split_fields(line, sep)[1:]) for i, line in enumerate(lines) if i >= first_row and line][:5]
    counts = {len(labels) for _, labels in rows}
    if len(rows) < 2 or len(counts) != 1 or n_names in counts:
        return
    if all(f in ("-1", "1") for _, labels in rows for f in labels):
        n = counts.pop()
        raise DatasetFormatError(path, f"bad header: it names {n_names} attributes, and the rows hold {n} labels "
                                       f"(lines {rows[0][0]}-{rows[-1][0]}): "
                                       f"{'a name is missing from' if n > n_names else 'a name too many in'} the "
                                       "header", first_row)  # fmt: skip


def _check_attr_names(path: Path, names: list[str], line: int) -> list[str]:
    if not names:
        raise DatasetFormatError(path, "bad header: no attribute names", line)
    for name in names:
        if not _ATTR_NAME.match(name):
            raise DatasetFormatError(
                path,
                f"bad header: {name!r} is not an attribute name (is the count line missing?)",
                line,
            )
    dup = pd.Index(names).duplicated()
    if dup.any():
        raise DatasetFormatError(
            path, f"bad header: attribute {names[int(np.argmax(dup))]!r} twice", line
        )
    return names


def read_partition(path: str | Path) -> pd.Series:
    """`list_eval_partition.txt` (`name 0|1|2`) or .csv (`image_id,partition`) -> name -> split."""
    path = Path(path)
    lines = read_lines(path)
    if path.suffix.lower() == ".csv":
        header = header_fields(path, lines, 0, ",")
        if header != ["image_id", "partition"]:
            raise DatasetFormatError(
                path, f"bad header: expected image_id,partition, found {lines[0]!r}", 1
            )
        table = parse_table(path, lines, 1, 2, sep=",")
    else:
        table = parse_table(path, lines, 0, 2)
    images = table.unique_strings(0, "image name")
    codes = table.numbers(1, "partition", allowed=(0, 1, 2)).astype(np.int64)
    split = np.array([PARTITION_NAMES[0], PARTITION_NAMES[1], PARTITION_NAMES[2]], dtype=object)
    return pd.Series(split[codes], index=pd.Index(images, name="image_id"), name="split")


def read_identities(path: str | Path) -> pd.Series:
    """`identity_CelebA.txt` (`name id`) -> name -> int identity."""
    table = parse_table(path, read_lines(path), 0, 2)
    images = table.unique_strings(0, "image name")
    ids = table.numbers(1, "identity", integer=True, lo=0).astype(np.int64)
    return pd.Series(ids, index=pd.Index(images, name="image_id"), name="identity")


def read_boxes(path: str | Path) -> pd.DataFrame:
    """`list_bbox_celeba.txt` (or .csv) -> name -> x0, y0, x1, y1 (exclusive right/bottom)."""
    path = Path(path)
    lines = read_lines(path)
    if path.suffix.lower() == ".csv":
        _expect_header(path, header_fields(path, lines, 0, ","), BBOX_HEADER, 1)
        table = parse_table(path, lines, 1, 5, sep=",")
    else:
        _expect_header(path, header_fields(path, lines, 1, None), BBOX_HEADER, 2)
        table = parse_table(path, lines, 2, 5)
        parse_count_line(path, lines, len(table))
    images = table.unique_strings(0, "image name")
    xy = table.numbers([1, 2], ["x_1", "y_1"])
    wh = table.numbers([3, 4], ["width", "height"], lo=1)
    box = np.column_stack([xy, xy + wh]).astype(np.float64)
    return pd.DataFrame(box, columns=list(BOX_COLUMNS), index=pd.Index(images, name="image_id"))


def read_landmarks(path: str | Path) -> pd.DataFrame:
    """`list_landmarks_[align_]celeba.txt` (or .csv) -> name -> the 10 landmark coordinates."""
    path = Path(path)
    lines = read_lines(path)
    if path.suffix.lower() == ".csv":
        _expect_header(path, header_fields(path, lines, 0, ","), ("image_id", *LANDMARK_COLUMNS), 1)
        table = parse_table(path, lines, 1, 11, sep=",")
    else:
        header = header_fields(path, lines, 1, None)
        _expect_header(
            path, header[1:] if header[:1] == ["image_id"] else header, LANDMARK_COLUMNS, 2
        )
        table = parse_table(path, lines, 2, 11)
        parse_count_line(path, lines, len(table))
    images = table.unique_strings(0, "image name")
    xy = table.numbers(range(1, 11), list(LANDMARK_COLUMNS))
    return pd.DataFrame(xy, columns=list(LANDMARK_COLUMNS), index=pd.Index(images, name="image_id"))


def _expect_header(path: Path, found: list[str], expected: tuple[str, ...], line: int) -> None:
    if tuple(found) != expected:
        raise DatasetFormatError(
            path, f"bad header: expected {' '.join(expected)!r}, found {' '.join(found)!r}", line
        )


# --------------------------------------------------------------------------- the whole release


def find_label_file(root: Path, stem: str) -> Path | None:
    """`<stem>.txt` (preferred) or `<stem>.csv` in root, root/Anno or root/Eval."""
    for sub in _LABEL_DIRS:
        for suffix in (".txt", ".csv"):
            p = root / sub / f"{stem}{suffix}"
            if p.is_file():
                return p.resolve()
    return None


def find_image_dir(root: Path, images: str | Path = "auto") -> Path:
    """The folder of CelebA images: `images` names it (relative to root, or to root/Img as in the
    official tree), or "auto" finds the one folder holding CelebA-named images. Kaggle's nesting
    (`img_align_celeba/img_align_celeba/`) is followed."""
    if str(images) != "auto":
        for parent in _IMAGE_PARENTS:
            folder = root / parent / images
            if folder.is_dir():
                return _unnest(folder).resolve()
        raise DataNotFoundError(root / images, f"image folder not found (nor {root / 'Img' / images})")
    found = [
        _unnest(d)
        for parent in _IMAGE_PARENTS
        if (root / parent).is_dir()
        for d in sorted((root / parent).iterdir())
        if d.is_dir() and _holds_celeba_images(_unnest(d))
    ]
    if not found:
        raise DataNotFoundError(root, "no folder of CelebA images (looked for sub-folders such as img_align_celeba/ "
                                      "holding files named like 000001.jpg, in the root and in Img/)")  # fmt: skip
    if len(found) > 1:
        names = ", ".join(str(d.relative_to(root)) for d in found)
        raise DatasetFormatError(root, f"several image folders ({names}); pass data.index.images=<one of them>")
    return found[0].resolve()


def _unnest(folder: Path) -> Path:
    inner = folder / folder.name
    return inner if inner.is_dir() else folder


def _holds_celeba_images(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return any(_CELEBA_IMAGE.match(e.name) for e in entries)


def _coords_mode(image_dir: Path, coords: str) -> str:
    if coords not in ("auto", "align", "wild", "none"):
        raise ValueError(f"coords must be auto, align, wild or none, not {coords!r}")
    if coords != "auto":
        return coords
    name = image_dir.name
    if name.startswith("img_align_celeba"):
        return "align"
    return "wild" if name == "img_celeba" else "none"


def _as_stored(image_dir: Path, names) -> list[str]:
    """The lists' `000001.jpg` names as the folder stores them: the official img_align_celeba_png
    holds `000001.png` for the same lists (the first listed image decides)."""
    names = [str(n) for n in names]
    if not names or (image_dir / names[0]).exists():
        return names
    stem, ext = os.path.splitext(names[0])
    for other in (".png", ".jpg", ".jpeg"):
        if other != ext.lower() and (image_dir / (stem + other)).exists():
            return [os.path.splitext(n)[0] + other for n in names]
    return names


def read_celeba(
    root: str | Path,
    images: str | Path = "auto",
    check_images: bool = True,
    coords: str = "auto",
) -> pd.DataFrame:
    """Read a CelebA release (see the module docstring for layouts and rules).

    images: "auto" or the image folder (name relative to root, or a path).
    check_images: leave out (and report) rows whose image file is missing; one folder listing.
    coords: which boxes/landmarks to attach: "auto", "align", "wild" or "none".
    A missing root raises DataNotFoundError (a FileNotFoundError) naming it and how to point at
    the data.
    """
    root = require_path(root, "CelebA root folder", "root")
    image_dir = find_image_dir(root, images)
    attr_file = find_label_file(root, "list_attr_celeba")
    part_file = find_label_file(root, "list_eval_partition")
    if attr_file is None and part_file is None:
        raise DatasetFormatError(
            root / "list_attr_celeba.txt",
            "missing label file: need list_attr_celeba.txt (or .csv) or "
            "list_eval_partition.txt (or .csv)",
        )
    skipped: list[str] = []
    attrs = read_attr_list(attr_file) if attr_file else None
    partition = read_partition(part_file) if part_file else None
    names = (attrs if attrs is not None else partition).index
    columns: dict[str, object] = {"path": join_paths(image_dir, _as_stored(image_dir, names))}
    keep = np.ones(len(names), dtype=bool)
    if partition is not None:
        split = partition.reindex(names)
        listed = split.notna().to_numpy()
        skipped += [f"{p}: not in {part_file.name}" for p in columns["path"][~listed]]
        keep &= listed
        columns["split"] = split.fillna("").to_numpy(object)
    else:
        warnings.warn(f"{root}: no list_eval_partition file; 'split' left empty", stacklevel=2)
        columns["split"] = np.full(len(names), "", dtype=object)
    id_file = find_label_file(root, "identity_CelebA")
    if id_file is not None:
        ids = read_identities(id_file).reindex(names)
        _warn_unlisted(ids.isna().to_numpy() & keep, id_file, "identity -1")
        columns["identity"] = ids.fillna(-1).to_numpy(np.int64)
    if attrs is not None:
        columns.update({a: attrs[a].to_numpy() for a in attrs.columns})
    mode = _coords_mode(image_dir, coords)
    coord_files = {"align": ("list_landmarks_align_celeba",),
                   "wild": ("list_bbox_celeba", "list_landmarks_celeba")}.get(mode, ())  # fmt: skip
    for stem in coord_files:
        f = find_label_file(root, stem)
        if f is None:
            continue
        table = (read_boxes if stem.startswith("list_bbox") else read_landmarks)(f).reindex(names)
        _warn_unlisted(table.isna().any(axis=1).to_numpy() & keep, f, "NaN coordinates")
        columns.update({c: table[c].to_numpy(np.float64) for c in table.columns})
    if check_images:
        exists = keep_existing(columns["path"][keep], skipped)
        keep[np.flatnonzero(keep)[~exists]] = False
    attributes = list(attrs.columns) if attrs is not None else []
    return finish_index(columns, f"CelebA {root}", attributes, skipped, keep)


def _warn_unlisted(missing: np.ndarray, path: Path, fill: str) -> None:
    if missing.any():
        warnings.warn(
            f"{path}: {int(missing.sum())} image(s) not listed; given {fill}", stacklevel=3
        )


__all__ = [
    "CELEBA_ATTRIBUTES",
    "PARTITION_NAMES",
    "find_image_dir",
    "find_label_file",
    "read_attr_list",
    "read_boxes",
    "read_celeba",
    "read_identities",
    "read_landmarks",
    "read_partition",
]
