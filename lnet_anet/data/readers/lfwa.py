"""LFWA (the LNets+ANet labelling of LFW) and Columbia's `lfw_attributes.txt` -> index DataFrame.

Images are the LFW tree `lfw/<Person>/<Person>_0001.jpg`; `root` may hold that tree (as `lfw/`,
`lfw-deepfunneled/`, `lfw_funneled/` ...) or be the tree itself.

The labels, either of:
- LFWA as its authors distribute it: `lfw_att_40.mat` (MATLAB v5 or v7.3: `name`, N image names
  such as `Person\\Person_0001.jpg`; `label`, N x 40 in 0/1; `AttrName`, the 40 names) with
  `indices_train_test.mat` (`indices_img_train`, `indices_img_test`: 1-based rows of the label
  file) beside it, which gives the split;
- a list in CelebA's list_attr layout (count, 40 names, `name ±1 x40`); names are
  `<Person>_0001.jpg` or `<Person>/<Person>_0001.jpg`.
The split, first found: the split file given (`name train|val|test` lines, or an
indices_train_test.mat), `lfwa_split.txt` in root, for lfw_att_40.mat the `indices_train_test.mat`
beside it or in root, else the LNets+ANet rule: the first 6,263 rows in file order are train, the rest test
(`n_train`). The split is fixed by row *before* rows with missing images are left out, so a
missing image never moves another row across the split.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lnet_anet.data.errors import DataNotFoundError, DatasetFormatError
from lnet_anet.data.readers._matlab import load_mat, mat_strings
from lnet_anet.data.readers._tables import (
    SPLITS,
    check_attr_spelling,
    existing_files,
    finish_index,
    join_paths,
    keep_existing,
    parse_table,
    person_ids,
    read_lines,
    require_path,
    split_fields,
    warn_missing_attributes,
)
from lnet_anet.data.readers.celeba import read_attr_list

LFWA_N_TRAIN = 6263
LFWA_MAT = "lfw_att_40.mat"  # the label file LFWA's authors distribute
LFWA_INDICES = "indices_train_test.mat"  # and its train/test split
_TREE_NAMES = ("lfw", "lfw-deepfunneled", "lfw_deepfunneled", "lfw_funneled", "lfw-funneled")


def find_lfw_tree(root: str | Path, images: str | Path = "auto") -> Path:
    """The LFW image tree under `root` (or `root` itself when it is one)."""
    root = Path(root)
    if str(images) != "auto":
        tree = root / images
        if not tree.is_dir():
            raise DataNotFoundError(tree, "LFW image folder not found")
        return tree.resolve()
    found = [root / n for n in _TREE_NAMES if (root / n).is_dir()]
    found = [_unnest(t) for t in found]
    if len(found) > 1:
        names = ", ".join(t.name for t in found)
        raise DatasetFormatError(root, f"several LFW image trees ({names}); pass data.index.images=<one of them>")
    if found:
        return found[0].resolve()
    if _is_lfw_tree(root):
        return root.resolve()
    raise DataNotFoundError(root, "no LFW image tree (expected lfw/<Person>/<Person>_0001.jpg or root itself)")


def _unnest(tree: Path) -> Path:
    inner = tree / tree.name  # archives sometimes unpack as lfw/lfw/...
    return inner if inner.is_dir() and not _is_lfw_tree(tree) else tree


def _is_lfw_tree(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        for e in entries:
            if e.is_dir() and (Path(e.path) / f"{e.name}_0001.jpg").is_file():
                return True
    return False


def _lfw_relative(names: np.ndarray) -> np.ndarray:
    """`Person_0001.jpg` -> `Person/Person_0001.jpg`; `Person/...` names are kept, and so are
    Windows ones (`Person\\Person_0001.jpg`, as lfw_att_40.mat lists them), with a forward slash."""
    names = [str(n).replace("\\", "/") for n in names]
    return np.array([n if "/" in n else f"{n.rsplit('_', 1)[0]}/{n}" for n in names], dtype=object)


def find_attr_file(root: Path) -> Path:
    """The one label file in root (or root/anno): a `list_attr*.txt` or LFWA's `lfw_att_40.mat`."""
    found = [f for folder in (root, root / "anno")
             for f in (*sorted(folder.glob("list_attr*.txt")), *sorted(folder.glob(LFWA_MAT)))]  # fmt: skip
    if not found:
        raise DatasetFormatError(root / LFWA_MAT,
                                 f"missing label file: no {LFWA_MAT} or list_attr*.txt in {root} or {root / 'anno'} "
                                 "(pass data.index.attr_file=)")  # fmt: skip
    if len(found) > 1:
        raise DatasetFormatError(root, f"{len(found)} attribute files: {', '.join(str(f.relative_to(root)) for f in found)}; "
                                       "choose one with data.index.attr_file=")  # fmt: skip
    return found[0]


def read_lfwa_mat(path: str | Path) -> pd.DataFrame:
    """LFWA's own label file, `lfw_att_40.mat` (MATLAB v5 or v7.3): `name` (N image names, LFW
    paths with either slash), `label` (N x 40, 0/1; -1/1 is read too) and `AttrName` (the 40
    names; spaces read as `_`). Returns what read_attr_list returns for a list: a DataFrame indexed
    by image name, one int8 0/1 column per attribute, in the file's row order. Raises
    DatasetFormatError naming the file for a missing variable, shapes that disagree, a label
    other than 0/1 (or -1/1), a name listed twice or an attribute name close to one of CelebA's
    40 but not it."""
    path = Path(path)
    mat = load_mat(path, "LFWA label file", ("name", "label", "AttrName"))
    names = mat_strings(mat["name"])
    attributes = [a.strip().replace(" ", "_") for a in mat_strings(mat["AttrName"])]
    labels = np.asarray(mat["label"] if mat["label"] is not None else [], dtype=np.float64)
    if labels.ndim == 2 and labels.shape == (len(attributes), len(names)) != labels.shape[::-1]:
        labels = labels.T  # stored one attribute per row
    if labels.shape != (len(names), len(attributes)):
        raise DatasetFormatError(path, f"label is {'x'.join(map(str, labels.shape)) or 'empty'} but the file names "
                                       f"{len(names)} images and {len(attributes)} attributes")  # fmt: skip
    values = set(np.unique(labels).tolist())
    if not values <= {0.0, 1.0} and not values <= {-1.0, 1.0}:
        raise DatasetFormatError(path, f"label holds {sorted(values)[:5]}: expected 0/1 (or -1/1) in every cell")
    check_attr_spelling(path, attributes, None, "LFWA uses CelebA's 40 attribute names")
    twice = pd.Index(names).duplicated()
    if twice.any():
        raise DatasetFormatError(path, f"image {names[int(np.argmax(twice))]!r} listed twice")
    frame = pd.DataFrame((labels > 0).astype(np.int8), columns=attributes)
    frame.index = pd.Index(np.array(names, dtype=object), name="image_id")
    warn_missing_attributes(path, attributes)
    return frame


def read_lfwa_indices(path: str | Path, n_rows: int) -> np.ndarray:
    """LFWA's `indices_train_test.mat`: `indices_img_train` and `indices_img_test`, 1-based rows of
    the label file (lfw_att_40.mat's order) -> (n_rows,) object array of "train", "test" or ""
    (a row in neither). Raises DatasetFormatError naming the file for an index that is not an
    integer in 1..n_rows, or a row in both parts."""
    path = Path(path)
    mat = load_mat(path, "LFWA split file", ("indices_img_train", "indices_img_test"))
    split = np.full(n_rows, "", dtype=object)
    for part in ("train", "test"):
        rows = np.asarray(mat[f"indices_img_{part}"], dtype=np.float64).reshape(-1)
        bad = (rows != np.round(rows)) | (rows < 1) | (rows > n_rows)
        if bad.any():
            raise DatasetFormatError(path, f"indices_img_{part} holds {rows[bad][0]:g}: expected row numbers 1-{n_rows} "
                                           "of the label file")  # fmt: skip
        rows = rows.astype(np.int64) - 1
        if (split[rows] != "").any():
            raise DatasetFormatError(path, f"row {int(rows[split[rows] != ''][0]) + 1} is in both indices_img_train "
                                           "and indices_img_test")  # fmt: skip
        split[rows] = part
    return split


def read_split_file(path: str | Path) -> pd.Series:
    """`name train|val|test` lines -> Series name -> split."""
    table = parse_table(path, read_lines(path), 0, 2, text_cols="all")
    names = table.unique_strings(0, "image name")
    split = table.strings(1, "split")
    bad = ~np.isin(split, SPLITS)
    if bad.any():
        row = int(np.argmax(bad))
        raise table.error(row, f"split: expected train, val or test, found {split[row]!r}")
    return pd.Series(split, index=pd.Index(names, name="image_id"), name="split")


def read_lfwa(
    root: str | Path,
    attr_file: str | Path | None = None,
    images: str | Path = "auto",
    n_train: int = LFWA_N_TRAIN,
    split_file: str | Path | None = None,
    check_images: bool = True,
) -> pd.DataFrame:
    """Read LFWA: the LFW tree + its labels, lfw_att_40.mat or a list in CelebA layout (see the
    module docstring).

    attr_file: default: the one `lfw_att_40.mat` or `list_attr*.txt` in root (or root/anno).
    split_file: a `name split` list or an indices_train_test.mat; default: root/lfwa_split.txt,
    then (for lfw_att_40.mat) indices_train_test.mat beside it or in root, else the first-n_train rule.
    Adds a "person" column (the LFW name) and "identity" (person rank in sorted order).
    A missing root raises DataNotFoundError (a FileNotFoundError) naming it and how to point at
    the data.
    """
    root = require_path(root, "LFWA root folder", "root")
    tree = find_lfw_tree(root, images)
    attr_path = Path(attr_file) if attr_file is not None else find_attr_file(root)
    mat = attr_path.suffix.lower() == ".mat"
    attrs = read_lfwa_mat(attr_path) if mat else read_attr_list(attr_path, note="LFWA uses CelebA's 40 attribute names")
    relative = _lfw_relative(attrs.index.to_numpy(object))
    dup = pd.Series(relative).duplicated().to_numpy()
    if dup.any():  # `A_0001.jpg` and `A/A_0001.jpg` name the same image
        raise DatasetFormatError(attr_path, f"image {relative[np.argmax(dup)]!r} listed twice")
    persons = np.array([r.split("/", 1)[0] for r in relative], dtype=object)
    skipped: list[str] = []
    keep = np.ones(len(attrs), dtype=bool)
    paths = join_paths(tree, relative)
    exists = existing_files(list(paths)) if check_images else np.ones(len(paths), dtype=bool)
    if split_file is None:
        # indices_train_test.mat numbers the rows of lfw_att_40.mat: not taken for a list of another order
        beside = (attr_path.parent / LFWA_INDICES, root / LFWA_INDICES) if mat else ()
        split_file = next((f for f in (root / "lfwa_split.txt", *beside) if f.is_file()), None)
    if split_file is not None and Path(split_file).suffix.lower() == ".mat":
        split = read_lfwa_indices(split_file, len(attrs))
        listed = split != ""
        skipped += [f"{p}: in neither part of {Path(split_file).name}" for p in paths[~listed & exists]]
        keep &= listed
    elif split_file is not None:
        by_name = read_split_file(split_file)
        # The split file may name images either way; match on the tree-relative form.
        by_name.index = pd.Index(_lfw_relative(by_name.index.to_numpy(object)))
        split = by_name.reindex(relative)
        listed = split.notna().to_numpy()
        skipped += [f"{p}: not in {Path(split_file).name}" for p in paths[~listed & exists]]  # missing ones: below
        keep &= listed
        unknown = ~by_name.index.isin(relative)
        if unknown.any():
            warnings.warn(f"{split_file}: {int(unknown.sum())} row(s) name images {attr_path.name} does not list, "
                          f"e.g. {by_name.index[unknown][0]}; ignored", stacklevel=2)  # fmt: skip
        split = split.fillna("").to_numpy(object)
    else:
        if len(attrs) <= n_train:
            raise DatasetFormatError(
                attr_path, f"n_train={n_train} (the paper's split: the first n_train rows train, the rest test) "
                f"but the list has only {len(attrs)} rows; pass data.index.n_train=N with N < {len(attrs)}, or "
                "data.index.split_file=FILE (lines 'name train|val|test', or LFWA's indices_train_test.mat)")  # fmt: skip
        split = np.where(np.arange(len(attrs)) < n_train, "train", "test").astype(object)
    skipped += [f"{p}: image file not found" for p in paths[~exists]]
    keep &= exists
    columns = {"path": paths, "split": split, "identity": person_ids(persons), "person": persons}
    columns.update({a: attrs[a].to_numpy() for a in attrs.columns})
    return finish_index(columns, f"LFWA {root}", list(attrs.columns), skipped, keep)


def read_lfw_attributes(
    path: str | Path,
    lfw_root: str | Path,
    images: str | Path = "auto",
    check_images: bool = True,
) -> pd.DataFrame:
    """Columbia's `lfw_attributes.txt` (Kumar et al., 73 real-valued attribute scores).

    Layout: comment line(s); a header `#<TAB>person<TAB>imagenum<TAB><73 names>`; rows
    `Name Words<TAB>1<TAB><73 floats>`. Row -> lfw/Name_Words/Name_Words_0001.jpg.
    Attribute names get "_" for spaces ("Black Hair" -> "Black_Hair"); columns hold the score
    binarised at 0 (int8 0/1) and `raw_<name>` the score itself. "split" is "" (none defined).
    A missing lfw_root raises DataNotFoundError (a FileNotFoundError) naming it.
    """
    path = Path(path)
    tree = find_lfw_tree(require_path(lfw_root, "LFW root folder", "lfw_root"), images)
    lines = read_lines(path)
    n_comments = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    if n_comments == 0:
        found = lines[0][:60] if lines else ""
        raise DatasetFormatError(path, f"bad header: expected a line '#\\tperson\\timagenum\\t<names>', found {found!r}", 1)
    header = [f.strip() for f in split_fields(lines[n_comments - 1], "\t")]
    expected = ["#", "person", "imagenum"]
    if header[:3] != expected or len(header) < 4:
        k = next((k for k, e in enumerate(expected) if k >= len(header) or header[k] != e), 3)
        got = repr(header[k]) if k < len(header) else "nothing"
        found = f"{got} where {expected[k]!r} belongs" if k < 3 else "no attribute names"
        raise DatasetFormatError(
            path, f"bad header: expected '#\\tperson\\timagenum\\t<names>' (tab-separated), found {found} "
            f"(the header: {header[:4]})", n_comments,
        )  # fmt: skip
    names = [h.replace(" ", "_") for h in header[3:]]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise DatasetFormatError(path, f"bad header: attribute name {twice!r} appears twice", n_comments)
    table = parse_table(path, lines, n_comments, len(names) + 2, sep="\t")
    person_names = table.strings(0, "person name")
    number = table.numbers(1, "imagenum", integer=True, lo=1).astype(np.int64)
    scores = table.numbers(range(2, len(names) + 2), names)
    folders = np.array([p.strip().replace(" ", "_") for p in person_names], dtype=object)
    relative = np.array(
        [f"{f}/{f}_{k:04d}.jpg" for f, k in zip(folders, number, strict=True)], dtype=object
    )
    dup = pd.Series(relative).duplicated().to_numpy()
    if dup.any():
        raise table.error(int(np.argmax(dup)), f"image {relative[np.argmax(dup)]!r} listed twice")
    paths = join_paths(tree, relative)
    skipped: list[str] = []
    keep = keep_existing(paths, skipped) if check_images else np.ones(len(paths), dtype=bool)
    columns = {
        "path": paths,
        "split": np.full(len(paths), "", dtype=object),
        "identity": person_ids(folders),
        "person": folders,
    }
    columns.update({n: (scores[:, j] > 0).astype(np.int8) for j, n in enumerate(names)})
    columns.update({f"raw_{n}": scores[:, j] for j, n in enumerate(names)})
    return finish_index(columns, f"lfw_attributes {path}", names, skipped, keep)


__all__ = [
    "LFWA_N_TRAIN",
    "find_lfw_tree",
    "read_lfw_attributes",
    "read_lfwa",
    "read_lfwa_indices",
    "read_lfwa_mat",
    "read_split_file",
]
