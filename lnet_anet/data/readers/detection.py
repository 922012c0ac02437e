"""Face-detection benchmarks a user owns -> one table of images with their face boxes.

Every reader returns a DataFrame with one row per image (images without a face included):

    path        absolute image path
    name        the image's name as the labels give it (e.g. `0--Parade/0_Parade_x_1.jpg`)
    boxes       (k, 4) float64 [x0, y0, x1, y1] in pixels, exclusive right/bottom (x1 = x + w)
    dont_care   (k,) bool: a box that is neither a positive nor a false alarm when matched
                (WIDER's `invalid` faces, VOC's `difficult` ones, faces under `min_height`)
    <flag>      (k,) int arrays of per-face labels the format carries (WIDER: blur, expression,
                illumination, invalid, occlusion, pose)

df.attrs["source"] names the label file(s). A malformed row (NaN and inf included) raises
DatasetFormatError naming the file and line; a missing label file or label folder raises
DataNotFoundError (a FileNotFoundError and a DatasetFormatError) naming it (image folders are
not checked here). A VOC box wholly outside the image its <size> gives is kept and warned of
(the other formats give no image size), and a <size> other than its image's as displayed (read
from the image's header, where it can be) is warned of once for the folder.
`mark_small(df, min_height)` adds the "faces under a size" rule afterwards. A detector's saved
output (WIDER's submission folder, FDDB's output, a CSV, bench_detection's JSON) is read by
`read_detections`, matched to the labels by `detection_key`.

Formats:
- WIDER FACE `wider_face_{train,val}_bbx_gt.txt`: name, count, then `x y w h blur expression
  illumination invalid occlusion pose` per face (a count of 0 is followed by one line of zeros),
  and the `.mat` files (`wider_face_{train,val}.mat`: event_list, file_list, face_bbx_list and
  the *_label_list cells; the evaluation settings' `wider_{easy,medium,hard}_val.mat`, whose
  gt_list leaves the other faces don't-care) via scipy.io.loadmat. Images live in
  `<images>/<event>/<name>.jpg`. A face of zero width or height is don't-care (and warned of).
- FDDB: `FDDB-fold-XX.txt` (image names, no extension) and `FDDB-fold-XX-ellipseList.txt`
  (name, count, then `major_radius minor_radius angle centre_x centre_y 1` per face). An ellipse
  becomes the axis-aligned bounding box of the rotated ellipse (half width
  sqrt((a cos t)^2 + (b sin t)^2), half height sqrt((a sin t)^2 + (b cos t)^2)), as the FDDB
  tools do when they draw an ellipse's region.
- CSV: `path,x0,y0,x1,y1` one row per face (optional header; optional `dont_care` column); a row
  `path,,,,` (`path,,,,,` with the dont_care column) is an image without a face.
- Pascal VOC XML: one file per image (`<filename>`, `<object><name>face</name><difficult>`,
  `<bndbox>` 1-based inclusive corners, converted to 0-based exclusive: x0 = xmin - 1, x1 = xmax).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.parsers import expat

import numpy as np
import pandas as pd

from lnet_anet.data.errors import DataNotFoundError, DatasetFormatError
from lnet_anet.data.readers._matlab import cells, load_mat, mat_string
from lnet_anet.data.readers._tables import read_lines, require_path

WIDER_FLAGS = ("blur", "expression", "illumination", "invalid", "occlusion", "pose")
_WIDER_FIELDS = ("x", "y", "w", "h", *WIDER_FLAGS)
_WIDER_FLAG_RANGE = {"blur": 2, "expression": 1, "illumination": 1, "invalid": 1, "occlusion": 2, "pose": 1}


def _frame(rows: list[dict], source: str, extra: Sequence[str] = ()) -> pd.DataFrame:
    columns = ["path", "name", "boxes", "dont_care", *extra]
    df = pd.DataFrame(rows, columns=columns)
    df.attrs["source"] = source
    return df


def _box_array(boxes: Iterable) -> np.ndarray:
    b = np.asarray(list(boxes), dtype=np.float64)
    return b.reshape(-1, 4)


def mark_small(df: pd.DataFrame, min_height: float) -> pd.DataFrame:
    """A copy of `df` whose faces lower than `min_height` pixels (y1 - y0) are also don't-care."""
    out = df.copy()
    out["dont_care"] = [
        dc | ((b[:, 3] - b[:, 1]) < min_height) for b, dc in zip(out["boxes"], out["dont_care"], strict=True)
    ]
    out.attrs = dict(df.attrs, min_height=float(min_height))
    return out


def n_faces(df: pd.DataFrame) -> tuple[int, int]:
    """(faces that count, don't-care faces) of a table."""
    care = sum(int((~dc).sum()) for dc in df["dont_care"])
    return care, sum(len(dc) for dc in df["dont_care"]) - care


def hash_part(names: Iterable[str], val_fraction: float = 0.3, seed: str = "lnet_anet-wider-v1") -> np.ndarray:
    """A fixed tune/val split by file name: a name is "val" when the first 8 bytes of
    sha256(f"{seed}:{name}"), read as an unsigned big-endian integer over 2**64, fall in the
    last `val_fraction` of [0, 1); otherwise "tune". It depends on the name alone, so adding
    or removing images never moves another image across the split."""
    if not 0 <= val_fraction <= 1:
        raise ValueError(f"val_fraction must be in [0, 1], got {val_fraction}")
    u = np.array([int.from_bytes(hashlib.sha256(f"{seed}:{n}".encode()).digest()[:8], "big") / 2.0**64
                  for n in names])  # fmt: skip
    return np.where(u >= 1 - val_fraction, "val", "tune").astype(object)


# --------------------------------------------------------------------------- WIDER FACE


def read_wider_txt(label_file: str | Path, images: str | Path | None = None) -> pd.DataFrame:
    """WIDER FACE's `*_bbx_gt.txt`. images: the folder holding `<event>/<name>.jpg` (default: the
    `images/` folder of `WIDER_{train,val}` next to `wider_face_split/`, else the label file's
    folder). Faces with invalid=1 are don't-care."""
    path = Path(label_file)
    root = _wider_images(path, images)
    rows: list[dict] = []
    zero: list[int] = []  # the lines of faces of zero width or height
    for name, _, count, body in _counted_blocks(path, _looks_like_image, zero_line=True):
        values = []
        for line_no, fields in body:
            if len(fields) < 4 or (count and len(fields) != 10):
                raise DatasetFormatError(path, f"expected `x y w h` and 6 flags (10 fields), found {len(fields)}", line_no)
            nums = _numbers(fields, path, line_no)
            if count:
                _require_finite(nums, fields, _WIDER_FIELDS, path, line_no)
            if count and not _wider_row_ok(nums):
                raise DatasetFormatError(path, f"bad face row {' '.join(fields)!r} (negative size or flag out of range)",
                                         line_no)  # fmt: skip
            if count and min(nums[2], nums[3]) == 0:
                zero.append(line_no)
            values.append(nums)
        v = np.asarray(values[:count], dtype=np.float64).reshape(-1, 10)
        rows.append(_wider_row(root, name, v[:, :4], v[:, 4:].astype(np.int64)))
    if zero:
        _say_zero_size(f"{path}:{zero[0]}", len(zero))
    return _frame(rows, str(path), WIDER_FLAGS)


def _say_zero_size(first: str, n: int) -> None:
    warnings.warn(f"{first}: a face of zero width or height ({n} in all): read as don't-care, since no box can "
                  "overlap it", stacklevel=3)  # fmt: skip


def _wider_row_ok(nums: list[float]) -> bool:
    if nums[2] < 0 or nums[3] < 0:
        return False
    return all(nums[4 + k] == int(nums[4 + k]) and 0 <= nums[4 + k] <= _WIDER_FLAG_RANGE[f]
               for k, f in enumerate(WIDER_FLAGS))  # fmt: skip


def _wider_row(root: Path, name: str, xywh: np.ndarray, flags: np.ndarray) -> dict:
    boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    row = {"path": os.path.normpath(os.path.join(root, name)), "name": name, "boxes": boxes}
    for k, f in enumerate(WIDER_FLAGS):
        row[f] = flags[:, k].copy()
    # invalid faces, and faces of zero width or height, which no box can overlap
    row["dont_care"] = (row["invalid"] == 1) | (xywh[:, 2:] <= 0).any(axis=1)
    return row


def _looks_like_image(name: str) -> bool:
    return "." in name.rsplit("/", 1)[-1] and len(name.split()) == 1


def _wider_images(label_file: Path, images: str | Path | None) -> Path:
    if images is not None:
        return Path(images).resolve()
    split = re.search(r"wider_face_(train|val|test)", label_file.name)
    parent = label_file.resolve().parent
    if split:
        for base in (parent.parent, parent):
            candidate = base / f"WIDER_{split.group(1)}" / "images"
            if candidate.is_dir():
                return candidate
    return parent


def read_wider_mat(mat_file: str | Path, images: str | Path | None = None) -> pd.DataFrame:
    """WIDER FACE's `wider_face_{train,val}.mat` (event_list, file_list, face_bbx_list and,
    when present, blur_label_list ... pose_label_list; missing label lists read as 0), and the
    files of its evaluation settings, `wider_{easy,medium,hard}_val.mat`, whose `gt_list` names
    (1-based) the faces of each image that count in that setting: the others are don't-care, as
    WIDER's evaluation ignores them. df.attrs["setting"] says which (None without a gt_list)."""
    path = Path(mat_file)
    mat = load_mat(path, "WIDER FACE label file", ("event_list", "file_list", "face_bbx_list"))
    events = [mat_string(e) for e in cells(mat["event_list"])]
    files = cells(mat["file_list"])
    faces = cells(mat["face_bbx_list"])
    labels = {f: cells(mat[f"{f}_label_list"]) if f"{f}_label_list" in mat else None for f in WIDER_FLAGS}
    counted = cells(mat["gt_list"]) if "gt_list" in mat else None  # an evaluation setting's faces
    zero: list[str] = []  # where the faces of zero width or height are
    if not len(files) == len(faces) == len(events) == len(counted if counted is not None else events):
        lists = f", {len(counted)} gt lists" if counted is not None else ""
        raise DatasetFormatError(path, f"{len(events)} events, {len(files)} file lists, {len(faces)} box lists{lists}")
    root = _wider_images(path, images)
    rows = []
    for e, event in enumerate(events):
        names, boxes = cells(files[e]), cells(faces[e])
        if len(names) != len(boxes):
            raise DatasetFormatError(path, f"event {event}: {len(names)} files but {len(boxes)} box lists")
        for j, stem in enumerate(names):
            stem = mat_string(stem)
            b = np.asarray(boxes[j], dtype=np.float64)
            where = f"face_bbx_list{{{e + 1}}}{{{j + 1}}} ({event}/{stem})"
            if b.size and (b.ndim != 2 or b.shape[1] != 4):  # one x y w h row per face
                raise DatasetFormatError(path, f"{where}: boxes must be rows of 4 numbers (x y w h), got shape "
                                               f"{'x'.join(map(str, b.shape))}")  # fmt: skip
            b = b.reshape(-1, 4) if b.size else np.zeros((0, 4))
            bad = ~np.isfinite(b).all(axis=1)
            if bad.any():
                r = int(np.argmax(bad))
                raise DatasetFormatError(path, f"{where}: box {r + 1} {b[r].tolist()} holds a value that is not a finite "
                                               "number (expected x y w h, all finite)")  # fmt: skip
            if (b[:, 2:] < 0).any():
                r = int(np.argmax((b[:, 2:] < 0).any(axis=1)))
                raise DatasetFormatError(path, f"{where}: box {r + 1} {b[r].tolist()} has a negative size (expected "
                                               "w >= 0 and h >= 0)")  # fmt: skip
            flags = np.zeros((len(b), len(WIDER_FLAGS)), dtype=np.int64)
            for k, f in enumerate(WIDER_FLAGS):
                if labels[f] is not None:
                    v = np.asarray(cells(labels[f][e])[j]).reshape(-1)
                    if len(v) != len(b):
                        raise DatasetFormatError(path, f"{where}: {len(v)} {f} labels for {len(b)} boxes")
                    if ((v != np.round(v)) | (v < 0) | (v > _WIDER_FLAG_RANGE[f])).any():  # as the .txt reader checks
                        raise DatasetFormatError(path, f"{where}: {f} label out of range 0-{_WIDER_FLAG_RANGE[f]} "
                                                       f"({v.tolist()})")  # fmt: skip
                    flags[:, k] = v
            name = f"{event}/{stem}" if stem.lower().endswith((".jpg", ".png")) else f"{event}/{stem}.jpg"
            row = _wider_row(root, name, b, flags)
            zero += [f"{where} box {r + 1}" for r in np.flatnonzero((b[:, 2:] == 0).any(axis=1))]
            if counted is not None:
                row["dont_care"] |= ~_listed(cells(counted[e])[j], len(b), path, f"gt_list{{{e + 1}}}{{{j + 1}}} "
                                                                                 f"({event}/{stem})")  # fmt: skip
            rows.append(row)
    if zero:
        _say_zero_size(f"{path}: {zero[0]}", len(zero))
    df = _frame(rows, str(path), WIDER_FLAGS)
    setting = re.search(r"wider_(easy|medium|hard)_val", path.name)
    df.attrs["setting"] = None if counted is None else f"WIDER {setting.group(1)}" if setting else "gt_list"
    return df


def _listed(indices, n: int, path: Path, where: str) -> np.ndarray:
    """(n,) bool: the faces a gt_list cell names (1-based). Raises DatasetFormatError for an index
    that is not a face of the image."""
    k = np.asarray(indices, dtype=np.float64).reshape(-1)
    bad = (k != np.round(k)) | (k < 1) | (k > n)
    if bad.any():
        raise DatasetFormatError(path, f"{where}: face index {k[bad][0]:g} is not one of the image's {n} faces")
    listed = np.zeros(n, dtype=bool)
    listed[k.astype(np.int64) - 1] = True
    return listed


# --------------------------------------------------------------------------- FDDB


def ellipse_to_box(major: float, minor: float, angle: float, cx: float, cy: float) -> np.ndarray:
    """Axis-aligned bounding box [x0, y0, x1, y1] of an FDDB ellipse (radii, angle in radians)."""
    c, s = np.cos(angle), np.sin(angle)
    hw = np.hypot(major * c, minor * s)
    hh = np.hypot(major * s, minor * c)
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh])


def read_fddb(
    folds_dir: str | Path,
    images: str | Path | None = None,
    folds: Sequence[int] = tuple(range(1, 11)),
    clip: bool = False,
) -> pd.DataFrame:
    """FDDB folds (`FDDB-fold-XX.txt` and `FDDB-fold-XX-ellipseList.txt` in folds_dir). images:
    the `originalPics` folder (default: folds_dir/../originalPics, else folds_dir/.. when it holds 2002/, as
    originalPics.tar.gz unpacks, else folds_dir); image names
    get `.jpg`. The fold list orders the images; each must appear once in the ellipse list.
    clip=True clips boxes at 0 (image sizes are not read, so the right/bottom are left).
    Each row also keeps its ellipses (k, 5) as the list gives them (column "ellipses"), for
    FDDB's own ROC (lnet_anet.metrics.fddb)."""
    folds_dir = require_path(folds_dir, "FDDB folds folder", hint=False)
    if images is None:  # originalPics.tar.gz unpacks to 2002/ and 2003/ themselves: beside FDDB-folds too
        parent = folds_dir.resolve().parent
        images = (parent / "originalPics" if (parent / "originalPics").is_dir()
                  else parent if (parent / "2002").is_dir() else folds_dir)  # fmt: skip
    root = Path(images).resolve()
    rows: list[dict] = []
    sources = []
    for k in folds:
        fold = folds_dir / f"FDDB-fold-{k:02d}.txt"
        ell = folds_dir / f"FDDB-fold-{k:02d}-ellipseList.txt"
        sources.append(str(ell))
        listed = read_lines(fold)
        order = [line for line in listed if line]
        first: dict[str, int] = {}
        for line_no, name in enumerate(listed, 1):
            if name and name in first:
                raise DatasetFormatError(fold, f"{name} is listed twice (first on line {first[name]})", line_no)
            first.setdefault(name, line_no)
        by_name = _read_ellipses(ell)
        for name in order:
            if name not in by_name:
                raise DatasetFormatError(fold, f"{name} has no entry in {ell.name}", first[name])
            _, ellipses = by_name.pop(name)
            boxes = _box_array(ellipse_to_box(*e) for e in ellipses)
            if clip:
                boxes = np.maximum(boxes, 0)
            rows.append({"path": os.path.normpath(os.path.join(root, name + ".jpg")), "name": name,
                         "boxes": boxes, "dont_care": np.zeros(len(boxes), bool), "ellipses": ellipses})  # fmt: skip
        if by_name:
            extra, (line_no, _) = next(iter(by_name.items()))
            more = f" (nor are {len(by_name) - 1} more of its images)" if len(by_name) > 1 else ""
            raise DatasetFormatError(ell, f"{extra} is not in {fold.name}{more}", line_no)
    return _frame(rows, ", ".join(sources), ("ellipses",))


_FDDB_FIELDS = ("major_radius", "minor_radius", "angle", "centre_x", "centre_y")


def _read_ellipses(path: Path) -> dict[str, tuple[int, np.ndarray]]:
    """name -> (the line of the name, its ellipses (k, 5): major radius, minor radius, angle in
    radians, centre x, centre y)."""
    out: dict[str, tuple[int, np.ndarray]] = {}
    for name, name_line, _, body in _counted_blocks(path, lambda name: len(name.split()) == 1):
        if name in out:  # _counted_blocks says so first; kept should that change
            raise DatasetFormatError(path, f"duplicate image {name} (first on line {out[name][0]})", name_line)
        ellipses = []
        for line_no, fields in body:
            if len(fields) not in (5, 6):
                raise DatasetFormatError(path, f"expected `major minor angle cx cy 1` (6 fields), found {len(fields)}",
                                         line_no)  # fmt: skip
            nums = _numbers(fields[:5], path, line_no)
            _require_finite(nums, fields, _FDDB_FIELDS, path, line_no)
            major, minor, angle, cx, cy = nums
            if not (major > 0 and minor > 0 and np.isfinite([angle, cx, cy]).all()):
                raise DatasetFormatError(path, f"bad ellipse {' '.join(fields)!r}", line_no)
            if abs(angle) > np.pi:  # FDDB's angles are radians in [-pi/2, pi/2]: degrees would turn the box
                raise DatasetFormatError(path, f"ellipse angle {angle:g} is beyond +-pi: FDDB angles are in radians "
                                         f"({' '.join(fields)!r})", line_no)  # fmt: skip
            ellipses.append(nums)
        out[name] = (name_line, np.asarray(ellipses, np.float64).reshape(-1, 5))
    return out


def _numbers(fields: list[str], path: Path, line_no: int) -> list[float]:
    try:
        return [float(f) for f in fields]
    except ValueError:
        raise DatasetFormatError(path, f"not a number in {' '.join(fields)!r}", line_no) from None


def _require_finite(nums: Sequence[float], fields: Sequence[str], names: Sequence[str], path: Path, line_no: int,
                    sep: str = " ") -> None:
    """Raises DatasetFormatError naming the first field that reads as NaN or +-inf (float() takes
    "nan" and "inf", and a NaN fails every later comparison, so it would pass or be misreported)."""
    for value, field, what in zip(nums, fields, names, strict=False):  # FDDB rows carry a 6th field, not read
        if not np.isfinite(value):
            raise DatasetFormatError(path, f"{what} is {field!r}, not a finite number (in {sep.join(fields)!r})", line_no)


def _counted_blocks(path: Path, is_name, zero_line: bool = False):
    """The `name / face count / one line per face` blocks of WIDER FACE's and FDDB's lists, blank
    lines skipped: yields (name, its line number, count, [(line number, fields)]). zero_line: a count of 0 may be
    followed by one line of zeros (the official WIDER files; some copies drop it). Raises
    DatasetFormatError naming the file and line of a name, count or block that is not there."""
    lines = read_lines(path)
    i, n = 0, len(lines)
    seen: dict[str, int] = {}  # name -> its line: an image listed twice would count its faces twice
    while i < n:
        if not lines[i]:
            i += 1
            continue
        name = lines[i]
        if not is_name(name):
            why = " (a name here is one word: no spaces)" if len(name.split()) > 1 and "." in name else ""
            raise DatasetFormatError(path, f"expected an image name, found {name!r}{why}", i + 1)
        if name in seen:
            raise DatasetFormatError(path, f"{name} is listed twice (first on line {seen[name]})", i + 1)
        seen[name] = i + 1
        if not any(lines[i + 1 :]):  # read_lines gives a file ending in a newline a last empty line
            raise DatasetFormatError(path, f"the file ends after image name {name}, where its face count was expected",
                                     i + 1)  # fmt: skip
        if not lines[i + 1].isdigit():
            found = repr(lines[i + 1]) if lines[i + 1] else "a blank line"
            raise DatasetFormatError(path, f"expected the face count of {name}, found {found}", i + 2)
        count = body = int(lines[i + 1])
        if count == 0 and zero_line:
            nxt = lines[i + 2].split() if i + 2 < n else []
            body = 1 if nxt and all(f.lstrip("-").replace(".", "", 1).isdigit() for f in nxt) else 0
            if body and any(float(f) != 0 for f in nxt):  # a face's line, not the filler of zeros
                raise DatasetFormatError(path, f"{name}: count says 0 faces, but a face box follows "
                                               "(the line after a count of 0 may only be all zeros)", i + 3)  # fmt: skip
        if i + 2 + body > n:
            raise DatasetFormatError(path, f"{name}: count says {count} faces, file ends first", i + 2)
        for j in range(i + 2, i + 2 + body):  # a blank line or the next image's name: the block is short
            if not lines[j] or (is_name(lines[j]) and len(lines[j].split()) == 1):
                raise DatasetFormatError(path, f"{name}: count says {count} faces, {j - i - 2} face lines follow",
                                         i + 2)  # fmt: skip
        yield name, i + 1, count, [(j + 1, lines[j].split()) for j in range(i + 2, i + 2 + body)]
        i += 2 + body


# --------------------------------------------------------------------------- saved detections

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
_DETECTION_FIELDS = ("x", "y", "w", "h", "score")


def detection_key(name: str | Path) -> str:
    """How saved detections meet the labels: an image's name with forward slashes and without its
    image extension (`0--Parade/0_Parade_a_1.jpg` -> `0--Parade/0_Parade_a_1`; FDDB's names have none)."""
    name = str(name).replace("\\", "/").strip("/")
    stem, dot, ext = name.rpartition(".")
    return stem if dot and f".{ext.lower()}" in _IMAGE_SUFFIXES else name


def read_detections(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A detector's saved output -> {detection_key(image): (boxes (k, 4) float64 [x0, y0, x1, y1] in
    pixels, exclusive right/bottom; scores (k,) float64)}, to score beside the detectors a benchmark
    runs. Formats, by what `path` is:
    - a folder: WIDER FACE's submission layout, one `<event>/<image stem>.txt` per image (its name,
      the box count, then `x y w h score` per box); the key is the file's place under the folder;
    - a .txt: such blocks one after another (FDDB's detection output, `name / count / x y w h
      score`); the key is each block's name;
    - a .csv with a header `name,x0,y0,x1,y1,score` (a row `name,,,,,` for an image with none);
    - a .json list of {"name", "boxes": [[x0, y0, x1, y1], ...], "scores"} (bench_detection's own
      detections_<detector>.json).
    Raises DataNotFoundError for a missing path; DatasetFormatError naming the file (and line) for
    a row that is not 5 finite numbers, a negative size, an image given twice or an empty folder."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(path, "detections file or folder not found")
    if path.is_dir():
        files = sorted(path.rglob("*.txt"))
        if not files:
            raise DatasetFormatError(path, "no .txt files: a folder of detections holds WIDER FACE's <event>/<image>.txt")
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for f in files:
            blocks = _detection_blocks(f)
            if len(blocks) != 1:
                raise DatasetFormatError(f, f"{len(blocks)} images' blocks: a WIDER submission file holds one (the "
                                            "image name, the box count, then x y w h score per box)")  # fmt: skip
            (out[detection_key(f.relative_to(path).with_suffix(""))],) = blocks.values()
        return out
    if path.suffix.lower() == ".json":
        return _json_detections(path)
    if path.suffix.lower() == ".csv":
        return _csv_detections(path)
    return _detection_blocks(path)


def _is_block_name(line: str) -> bool:
    return len(line.split()) == 1 and not line.replace(".", "", 1).isdigit()


def _detection_blocks(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, line, _, body in _counted_blocks(path, _is_block_name):
        rows = []
        for line_no, fields in body:
            if len(fields) != 5:
                raise DatasetFormatError(path, f"expected x y w h score (5 fields), found {len(fields)}", line_no)
            nums = _numbers(fields, path, line_no)
            _require_finite(nums, fields, _DETECTION_FIELDS, path, line_no)
            if nums[2] < 0 or nums[3] < 0:
                raise DatasetFormatError(path, f"negative size in {' '.join(fields)!r}", line_no)
            rows.append(nums)
        _add(out, detection_key(name), np.asarray(rows, np.float64).reshape(-1, 5), path, line, xywh=True)
    return out


def _add(out: dict, key: str, rows: np.ndarray, path: Path, line: int | None, xywh: bool) -> None:
    if key in out:
        raise DatasetFormatError(path, f"{key}: detections given twice", line)
    boxes = rows[:, :4].copy()
    if xywh:
        boxes[:, 2:] += boxes[:, :2]
    out[key] = (boxes, rows[:, 4].copy())


def _csv_detections(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    lines = read_lines(path)
    header = [f.strip() for f in lines[0].split(",")] if lines else []
    columns = ("name", "x0", "y0", "x1", "y1", "score")
    if header != list(columns):
        raise DatasetFormatError(path, f"expected the header {','.join(columns)}, found {lines[0] if lines else ''!r}", 1)
    rows: dict[str, list] = {}
    first: dict[str, int] = {}
    for i, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = next(csv.reader([line]))
        if len(fields) != 6:
            raise DatasetFormatError(path, f"expected 6 fields ({','.join(columns)}), found {len(fields)}", i)
        key = detection_key(fields[0])
        first.setdefault(key, i)
        rows.setdefault(key, [])
        if all(not f.strip() for f in fields[1:]):  # an image without a detection
            continue
        nums = _numbers(fields[1:], path, i)
        _require_finite(nums, fields[1:], ("x0", "y0", "x1", "y1", "score"), path, i, sep=",")
        if nums[2] < nums[0] or nums[3] < nums[1]:
            raise DatasetFormatError(path, f"bad box {nums[:4]} (need x0 <= x1, y0 <= y1)", i)
        rows[key].append(nums)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key, values in rows.items():
        _add(out, key, np.asarray(values, np.float64).reshape(-1, 5), path, first[key], xywh=False)
    return out


def _json_detections(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    import json

    try:
        items = json.loads(path.read_text())
    except ValueError as e:
        raise DatasetFormatError(path, f"not JSON ({e})") from None
    if not isinstance(items, list):
        raise DatasetFormatError(path, "expected a list of {\"name\", \"boxes\", \"scores\"}")
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for k, item in enumerate(items):
        where = f"item {k}"
        try:
            boxes = np.asarray(item["boxes"], np.float64).reshape(-1, 4)
            scores = np.asarray(item["scores"], np.float64).reshape(-1)
            name = str(item["name"])
        except (KeyError, TypeError, ValueError) as e:
            raise DatasetFormatError(path, f"{where}: expected {{\"name\", \"boxes\": [[x0, y0, x1, y1], ...], "
                                           f"\"scores\"}} ({e!r})") from None  # fmt: skip
        if len(boxes) != len(scores) or not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
            raise DatasetFormatError(path, f"{where} ({name}): {len(boxes)} boxes, {len(scores)} scores, all finite needed")
        _add(out, detection_key(name), np.concatenate([boxes, scores[:, None]], axis=1), path, None, xywh=False)
    return out


# --------------------------------------------------------------------------- CSV and VOC XML

_CSV_NAMES = {"path": ("path", "file", "filename", "image", "name")}


def read_box_csv(csv_file: str | Path, images: str | Path | None = None) -> pd.DataFrame:
    """`path,x0,y0,x1,y1[,dont_care]` one face per row (header optional; a row with empty
    coordinates is an image without a face). Relative paths resolve against `images` (default:
    the CSV's folder). Rows of one image need not be adjacent; images keep first-seen order."""
    path = Path(csv_file)
    lines = read_lines(path)
    root = Path(images).resolve() if images is not None else path.resolve().parent
    per_image: dict[str, tuple[list, list]] = {}
    n_fields, repeated = None, []
    for number, line in enumerate(lines, start=1):
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in next(csv.reader([line]))]
        if n_fields is None:  # the first row: a header or data
            n_fields = len(fields)
            if n_fields not in (5, 6):
                raise DatasetFormatError(path, f"expected `path,x0,y0,x1,y1[,dont_care]`, found {n_fields} fields", number)
            if fields[0].lower() in _CSV_NAMES["path"]:
                header = [f.lower() for f in fields]
                if header[1:5] != ["x0", "y0", "x1", "y1"] or header[5:] not in ([], ["dont_care"], ["ignore"], ["difficult"]):
                    raise DatasetFormatError(path, f"header must be `path,x0,y0,x1,y1[,dont_care]`, found {line!r}", number)
                continue
        if len(fields) != n_fields:
            raise DatasetFormatError(path, f"expected {n_fields} fields, found {len(fields)}", number)
        name = fields[0]
        if not name:
            raise DatasetFormatError(path, "empty image path", number)
        boxes, flags = per_image.setdefault(name, ([], []))
        coords = fields[1:5]
        if all(c == "" for c in coords):
            continue  # an image without a face
        try:
            box = [float(c) for c in coords]
        except ValueError:
            raise DatasetFormatError(path, f"not a number in {','.join(coords)!r}", number) from None
        _require_finite(box, coords, ("x0", "y0", "x1", "y1"), path, number, sep=",")
        if box[2] <= box[0] or box[3] <= box[1]:  # no area: no detection can match it
            raise DatasetFormatError(path, f"bad box {box} (need x0 < x1, y0 < y1)", number)
        flag = fields[5].lower() if len(fields) == 6 else "0"
        if flag not in ("0", "1", "true", "false", ""):
            raise DatasetFormatError(path, f"dont_care: expected 0 or 1, found {fields[5]!r}", number)
        if box in boxes:  # the same face twice would count as two faces, one of them never found
            repeated.append(number)
        boxes.append(box)
        flags.append(flag in ("1", "true"))
    if repeated:
        warnings.warn(f"{path}: {len(repeated)} rows repeat a box of the same image (line{'s' if len(repeated) > 1 else ''} "
                      f"{', '.join(map(str, repeated[:5]))}{' ...' if len(repeated) > 5 else ''}); each counts as a face "
                      "of its own", stacklevel=2)  # fmt: skip
    rows = [{"path": os.path.normpath(os.path.join(root, name.replace("\\", "/"))), "name": name,
             "boxes": _box_array(b), "dont_care": np.asarray(f, dtype=bool)}
            for name, (b, f) in per_image.items()]  # fmt: skip
    return _frame(rows, str(path))


def read_voc_xml(
    annotations: str | Path | Sequence[str | Path],
    images: str | Path | None = None,
    classes: Sequence[str] = ("face",),
) -> pd.DataFrame:
    """Pascal VOC XML files (a folder of `*.xml`, sorted, or a list of files). Objects whose
    <name> is in `classes` are faces; <difficult>1</difficult> ones are don't-care. images: the
    folder of the images (default: `JPEGImages` beside the annotations folder, else that folder)."""
    if isinstance(annotations, str | Path):
        folder = require_path(annotations, "VOC annotation folder", hint=False)
        files = sorted(folder.glob("*.xml"))
        if not files:
            raise FileNotFoundError(f"{folder}: no .xml annotation files")
        default = folder.resolve().parent / "JPEGImages"
        root = Path(images) if images is not None else default if default.is_dir() else folder
    else:
        files = [Path(f) for f in annotations]
        root = Path(images) if images is not None else files[0].parent if files else Path(".")
    root = root.resolve()
    wanted = {c.lower() for c in classes}
    rows = []
    others: set[str] = set()  # the names of the objects left out: said when no object is a face
    first_of: dict[str, Path] = {}  # image -> the file that named it first (a copy would score it twice)
    resized: list[str] = []  # files whose <size> is not their image's (trial 83: unsaid)
    for f in files:
        tree, line_of = _parse_xml(f)
        name = _text(tree, "filename", f, line_of)
        path = os.path.normpath(os.path.join(root, name))
        if path in first_of:
            raise DatasetFormatError(f, f"<filename> {name} is named by {first_of[path]} too: one annotation file "
                                        "per image (remove the copy)", line_of.get(id(tree.find("filename"))))  # fmt: skip
        first_of[path] = f
        size = _voc_size(tree)
        boxes, dont_care, outside = [], [], []
        for obj in tree.iter("object"):
            label = _text(obj, "name", f, line_of).lower()
            if label not in wanted:
                others.add(label)
                continue
            bb = obj.find("bndbox")
            if bb is None:
                raise DatasetFormatError(f, "object without <bndbox>", line_of[id(obj)])
            corners = [_text(bb, k, f, line_of) for k in ("xmin", "ymin", "xmax", "ymax")]
            try:
                x0, y0, x1, y1 = (float(v) for v in corners)
            except ValueError:
                raise DatasetFormatError(f, f"<bndbox> coordinate is not a number: {corners}", line_of[id(bb)]) from None
            _require_finite([x0, y0, x1, y1], corners, ("<xmin>", "<ymin>", "<xmax>", "<ymax>"), f, line_of[id(bb)])
            if x1 < x0 or y1 < y0:
                raise DatasetFormatError(f, f"bad box xmin={x0} ymin={y0} xmax={x1} ymax={y1}", line_of[id(bb)])
            boxes.append([x0 - 1, y0 - 1, x1, y1])  # 1-based inclusive -> 0-based exclusive
            if size and (x0 - 1 >= size[0] or y0 - 1 >= size[1] or x1 <= 0 or y1 <= 0):
                outside.append(line_of[id(bb)])
            diff = obj.find("difficult")
            dont_care.append(diff is not None and (diff.text or "0").strip() == "1")
        if outside:  # kept as read: such a face can never be found, so it would pass for a missed one
            warnings.warn(f"{f}: {len(outside)} box{'es lie' if len(outside) > 1 else ' lies'} wholly outside the "
                          f"{size[0]:g}x{size[1]:g} image its <size> gives (line{'s' if len(outside) > 1 else ''} "
                          f"{', '.join(map(str, outside[:5]))}{' ...' if len(outside) > 5 else ''}); kept, each is a "
                          "face no detection can match", stacklevel=2)  # fmt: skip
        if size is not None and (shown := _displayed_size(path)) is not None and shown != size:
            resized.append(f"{f.name}: <size> {size[0]:g}x{size[1]:g}, image {shown[0]:g}x{shown[1]:g}")
        rows.append({"path": path, "name": name,
                     "boxes": _box_array(boxes), "dont_care": np.asarray(dont_care, dtype=bool)})  # fmt: skip
    if resized:  # the boxes were drawn on another copy of the photo (resized, or turned): scored as given
        warnings.warn(f"{files[0].parent}: {len(resized)} of {len(files)} annotation files give a <size> other than "
                      f"their image's as displayed, so their boxes may be on another copy of it; scored as given "
                      f"({'; '.join(resized[:3])}{' ...' if len(resized) > 3 else ''})", stacklevel=2)  # fmt: skip
    if others and not any(len(r["boxes"]) for r in rows):
        warnings.warn(f"{files[0].parent}: no object is named {' or '.join(sorted(wanted))}, so every image reads as "
                      f"face-free; the objects are named {', '.join(sorted(others)[:8])} (read_voc_xml's classes=, bench_detection's --voc-classes)",
                      stacklevel=2)  # fmt: skip
    return _frame(rows, str(files[0].parent) if files else "")


def _voc_size(tree: ET.Element) -> tuple[float, float] | None:
    """(width, height) of <size>, or None when it is absent, not a number or 0 (some tools write 0
    for "unknown"): only used to warn of boxes outside the image, so never an error."""
    try:
        w, h = (float(tree.findtext(f"size/{k}") or "") for k in ("width", "height"))
    except ValueError:
        return None
    return (w, h) if np.isfinite([w, h]).all() and w > 0 and h > 0 else None


def _displayed_size(path: str) -> tuple[float, float] | None:
    """(width, height) of the image at `path` as displayed (EXIF orientations 5-8 swap them), from
    its header; None when it cannot be read (the benchmark says so when it reads the pixels)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            w, h = image.size
            turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except Exception:  # noqa: BLE001 - only for a warning: a missing or broken image is reported where it is read
        return None
    return (float(h), float(w)) if turned else (float(w), float(h))


def _parse_xml(path: Path) -> tuple[ET.Element, dict[int, int]]:
    """An XML file as an Element tree, with the line of every element (by id)."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    line_of: dict[int, int] = {}

    def start(tag, attrs):
        line_of[id(builder.start(tag, attrs))] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        with open(path, "rb") as fh:
            parser.ParseFile(fh)
    except expat.ExpatError as e:
        raise DatasetFormatError(path, f"not well-formed XML ({expat.ErrorString(e.code)})", e.lineno) from None
    root = builder.close()
    return root, line_of


def _text(el: ET.Element, tag: str, path: Path, line_of: dict[int, int]) -> str:
    child = el.find(tag)
    if child is None or not (child.text or "").strip():
        raise DatasetFormatError(path, f"<{el.tag}> has no <{tag}>", line_of.get(id(el)))
    return child.text.strip()


__all__ = [
    "WIDER_FLAGS",
    "ellipse_to_box",
    "hash_part",
    "mark_small",
    "n_faces",
    "read_box_csv",
    "read_fddb",
    "read_voc_xml",
    "read_wider_mat",
    "read_wider_txt",
]
