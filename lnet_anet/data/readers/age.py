"""Age datasets (UTKFace, MORPH II, ChaLearn LAP, FG-NET, generic CSV) -> index DataFrame.

Columns: path, split ("" unless the format defines one), age (float) and, where the format has
them, age_sigma, gender (0 male, 1 female), race (UTKFace codes: 0 White, 1 Black, 2 Asian,
3 Indian, 4 Others) and identity. `holdout_split` adds a deterministic split afterwards.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lnet_anet.data.readers._tables import (
    PATH_ALIASES,
    SIGMA_ALIASES,
    SPLIT_ALIASES,
    CsvTable,
    finish_index,
    is_image_name,
    keep_existing,
    list_files,
    require_path,
)

MAX_AGE = 130.0
_UTKFACE = re.compile(r"^(\d+)_(\d+)_(\d+)_(\d+)\.jpg(?:\.chip\.jpg)?$", re.IGNORECASE)
_FGNET = re.compile(r"^(\d+)A(\d+)[a-z]?\.jpe?g$", re.IGNORECASE)
_MORPH_NAME = re.compile(r"^(\d+)_\d+[MF]\d+\.", re.IGNORECASE)
_GENDER = {"m": 0, "male": 0, "0": 0, "f": 1, "female": 1, "1": 1}
# MORPH's letters onto UTKFace's codes; Hispanic has no UTKFace class and counts as Others.
_RACE = {
    "w": 0, "white": 0, "b": 1, "black": 1, "a": 2, "asian": 2, "i": 3, "indian": 3,
    "h": 4, "hispanic": 4, "o": 4, "other": 4, "others": 4,
    "0": 0, "1": 1, "2": 2, "3": 3, "4": 4,
}  # fmt: skip

# --------------------------------------------------------------------------- file-name formats


def read_utkface(folder: str | Path) -> pd.DataFrame:
    """UTKFace: labels in file names `age_gender_race_datetime.jpg.chip.jpg` (or `.jpg`).

    Malformed names (a missing field, a space, a missing dot, out-of-range codes) and other files
    are left out with the reason in df.attrs["skipped"] and a warning with the count. Raises
    DataNotFoundError (a FileNotFoundError) naming a missing folder and how to point at the data.
    """
    folder = require_path(folder, "UTKFace folder", "folder").resolve()
    names = sorted(list_files(folder))
    parts = pd.Series(names, dtype=object).str.extract(_UTKFACE)
    age, gender, race = (pd.to_numeric(parts[i]).to_numpy() for i in range(3))
    ok = parts[0].notna().to_numpy() & (age <= MAX_AGE) & (gender <= 1) & (race <= 4)
    skipped = [f"{folder / n}: {_utkface_problem(n)}" for n in np.array(names)[~ok]]
    columns = {
        "path": np.array([os.path.join(folder, n) for n in names], dtype=object),
        "split": np.full(len(names), "", dtype=object),
        "age": age.astype(np.float64),
        "gender": np.nan_to_num(gender, nan=-1).astype(np.int64),
        "race": np.nan_to_num(race, nan=-1).astype(np.int64),
    }
    return finish_index(columns, f"UTKFace {folder}", skipped=skipped, keep=ok)


def _utkface_problem(name: str) -> str:
    """Why a file name is not `age_gender_race_datetime.jpg.chip.jpg` (only for the few bad)."""
    if not is_image_name(name):
        return "not an image file"
    if any(c.isspace() for c in name):
        return "malformed name: contains a space"
    stem = name[: -len(".chip.jpg")] if name.lower().endswith(".chip.jpg") else name
    if not stem.lower().endswith(".jpg"):
        return "malformed name: missing '.' before 'jpg'"
    fields = stem[:-4].split("_")
    if len(fields) != 4:
        n = len(fields)
        return f"malformed name: {n} '_'-separated fields, expected 4 (age_gender_race_datetime)"
    if not all(f.isdigit() for f in fields):
        return "malformed name: a non-numeric field"
    age, gender, race = (int(f) for f in fields[:3])
    if age > MAX_AGE:
        return f"age {age} out of range"
    if gender > 1:
        return f"gender {gender} is not 0 or 1"
    return f"race {race} is not 0-4"


def read_fgnet(folder: str | Path) -> pd.DataFrame:
    """FG-NET: `001A02.JPG` (subject 1, age 2; `078A11a.JPG` suffix letters allowed).
    identity = subject; "split" is "" (FG-NET is evaluated leave-one-person-out: see
    holdout_split(by="identity")). Raises DataNotFoundError (a FileNotFoundError) naming a
    missing folder and how to point at the data."""
    folder = require_path(folder, "FG-NET folder", "folder").resolve()
    names = sorted(list_files(folder))
    parts = pd.Series(names, dtype=object).str.extract(_FGNET)
    ok = parts[0].notna().to_numpy()
    skipped = [f"{folder / n}: not an FG-NET name like 001A02.JPG" for n in np.array(names)[~ok]]
    columns = {
        "path": np.array([os.path.join(folder, n) for n in names], dtype=object),
        "split": np.full(len(names), "", dtype=object),
        "identity": pd.to_numeric(parts[0]).fillna(-1).to_numpy(np.int64),
        "age": pd.to_numeric(parts[1]).to_numpy(np.float64),
    }
    return finish_index(columns, f"FG-NET {folder}", skipped=skipped, keep=ok)


# --------------------------------------------------------------------------- CSV formats

_ID = ("identity", "id_num", "subject", "subject_id", "person_id", "id")


def _age_index(
    csv: CsvTable,
    source: str,
    image_root: str | Path | None,
    check_images: bool,
    age_key: str = "age",
    sigma_key: str = "sigma",
) -> pd.DataFrame:
    if image_root is not None and check_images:
        require_path(image_root, f"image folder of {csv.path}", "image_root")
    paths = csv.image_paths(image_root)
    columns: dict[str, object] = {
        "path": paths,
        "split": csv.splits() if "split" in csv else np.full(len(paths), "", dtype=object),
        "age": csv.numbers(age_key, lo=0, hi=MAX_AGE),
    }
    if sigma_key in csv:
        columns["age_sigma"] = csv.numbers(sigma_key, lo=0)
    if "identity" in csv:
        columns["identity"] = csv.numbers("identity", integer=True).astype(np.int64)
    if "gender" in csv:
        columns["gender"] = csv.codes("gender", _GENDER)
    if "race" in csv:
        columns["race"] = csv.codes("race", _RACE)
    skipped: list[str] = []
    keep = keep_existing(paths, skipped) if check_images else None
    return finish_index(columns, source, skipped=skipped, keep=keep)


def read_morph(
    csv_path: str | Path, image_root: str | Path | None = None, check_images: bool = True
) -> pd.DataFrame:
    """MORPH II CSV (e.g. the Album2 commercial release: id_num, ..., race, gender, age, photo).

    Columns are found by name: path/file/filename/photo, age, gender (M/F, male/female or 0/1 as
    0 male 1 female), race (B/W/A/H/O/I letters or 0-4), id_num. Without an id column the
    identity comes from MORPH file names `003285_00M21.JPG` when they follow that pattern.
    Paths resolve against image_root (default: the CSV's folder). A missing CSV or image_root
    raises DataNotFoundError (a FileNotFoundError) naming it and how to point at the data.
    """
    require_path(csv_path, "MORPH CSV", "csv_path", folder=False)
    aliases = {
        "path": PATH_ALIASES,
        "age": ("age",),
        "gender": ("gender", "sex"),
        "race": ("race", "ethnicity"),
        "identity": _ID,
        "split": SPLIT_ALIASES,
    }
    csv = CsvTable(csv_path, aliases, ("path", "age", "gender", "race"), ("path", "age"))
    df = _age_index(csv, f"MORPH {csv_path}", image_root, check_images)
    if "identity" not in df:
        ids = df["path"].map(os.path.basename).str.extract(_MORPH_NAME)[0]
        if len(df) and ids.notna().all():
            df.insert(2, "identity", pd.to_numeric(ids).to_numpy(np.int64))
    return df


def read_chalearn(
    csv_path: str | Path, image_root: str | Path, check_images: bool = True
) -> pd.DataFrame:
    """ChaLearn LAP apparent age (2015 `image;mean;stdv`, 2016 `image,mean,stdv`, with or
    without header; APPA-REAL's gt_avg_*.csv column names work too): mean -> age,
    stdv -> age_sigma. A missing CSV or image_root raises DataNotFoundError (a
    FileNotFoundError) naming it and how to point at the data."""
    require_path(csv_path, "ChaLearn CSV", "csv_path", folder=False)
    aliases = {
        "path": ("image", "file", "filename", "file_name", "name", "path"),
        "mean": ("mean", "apparent_age_avg"),
        "sigma": SIGMA_ALIASES,
        "split": SPLIT_ALIASES,
    }
    csv = CsvTable(csv_path, aliases, ("path", "mean", "sigma"), ("path", "mean"))
    return _age_index(csv, f"ChaLearn {csv_path}", image_root, check_images, age_key="mean")


def read_age_csv(
    csv_path: str | Path, image_root: str | Path | None = None, check_images: bool = True
) -> pd.DataFrame:
    """A generic `path,age[,sigma]` CSV (header optional; optional split, identity, gender and
    race columns when there is a header). Paths resolve against image_root (default: the CSV's
    folder). A missing CSV or image_root raises DataNotFoundError (a FileNotFoundError)."""
    require_path(csv_path, "age CSV", "csv_path", folder=False)
    aliases = {
        "path": PATH_ALIASES,
        "age": ("age",),
        "sigma": SIGMA_ALIASES,
        "split": SPLIT_ALIASES,
        "identity": _ID,
        "gender": ("gender", "sex"),
        "race": ("race",),
    }
    csv = CsvTable(csv_path, aliases, ("path", "age", "sigma"), ("path", "age"))
    return _age_index(csv, f"age CSV {csv_path}", image_root, check_images)


# --------------------------------------------------------------------------- splits


def _unit_hash(keys: Sequence[str], seed: int) -> np.ndarray:
    """A uniform [0, 1) number per key, stable across runs, machines and Python versions."""
    out = np.empty(len(keys), dtype=np.float64)
    for i, k in enumerate(keys):
        digest = hashlib.blake2b(f"{seed}\0{k}".encode(), digest_size=8).digest()
        out[i] = int.from_bytes(digest, "little") / 2.0**64
    return out


def holdout_split(
    df: pd.DataFrame,
    frac: float = 0.2,
    seed: int = 0,
    by: str | None = None,
    holdout: str = "val",
    overwrite: bool = False,
) -> pd.DataFrame:
    """A copy of `df` with "split" set to "train" or `holdout` (about `frac` of the rows).

    Each row's side is decided by a hash of its image file name (or of its `by` column, e.g.
    by="identity" keeps each person on one side), so adding or removing files never moves the
    others. Refuses to replace an existing split unless overwrite=True.
    """
    if not 0.0 < frac < 1.0:
        raise ValueError(f"frac must be in (0, 1), got {frac}")
    if holdout not in ("val", "test"):
        raise ValueError(f"holdout must be 'val' or 'test', got {holdout!r}")
    if not overwrite and "split" in df and (df["split"].astype(str) != "").any():
        raise ValueError("df already has a split; pass overwrite=True to replace it")
    keys = df["path"].map(os.path.basename) if by is None else df[by].astype(str)
    held = _unit_hash(keys.tolist(), seed) < frac
    out = df.copy()
    out["split"] = np.where(held, holdout, "train").astype(object)
    return out


def fold_of(names: Sequence[str], n: int, seed: int = 0) -> np.ndarray:
    """The fold (1..n) of each image file name: floor(n * blake2b(seed, name) / 2^64) + 1, so
    the folds are disjoint by image, about equal in size, and a file keeps its fold whatever
    other files are added or removed."""
    if n < 2:
        raise ValueError(f"n (folds) must be >= 2, got {n}")
    return np.minimum((_unit_hash([os.path.basename(str(k)) for k in names], seed) * n).astype(np.int64), n - 1) + 1


def fold_split(
    df: pd.DataFrame, k: int, n: int = 5, seed: int = 0, holdout: str = "val", from_split: str | None = "train"
) -> pd.DataFrame:
    """A copy of `df` where the rows of `from_split` (all rows when None) in fold k of n (see
    fold_of) get split `holdout` and the other folds "train": k-fold cross-validation. Rows
    of other splits keep theirs. The index gains a "fold" column (0 for rows not folded)."""
    if not 1 <= int(k) <= int(n):
        raise ValueError(f"fold k must be in 1..{n}, got {k}")
    if holdout not in ("val", "test"):
        raise ValueError(f"holdout must be 'val' or 'test', got {holdout!r}")
    part = np.ones(len(df), dtype=bool) if from_split is None else (df["split"] == from_split).to_numpy()
    if not part.any():
        found = sorted(df["split"].astype(str).unique())
        raise ValueError(f"fold_split: no {from_split!r} rows to fold (the splits: {found})")
    folds = np.zeros(len(df), dtype=np.int64)
    folds[part] = fold_of(df["path"].to_numpy()[part].tolist(), int(n), seed)
    out = df.copy()
    out["fold"] = folds
    split = out["split"].to_numpy(dtype=object).copy()
    split[part] = np.where(folds[part] == int(k), holdout, "train")
    out["split"] = split
    return out


__all__ = [
    "fold_of",
    "fold_split",
    "holdout_split",
    "read_age_csv",
    "read_chalearn",
    "read_fgnet",
    "read_morph",
    "read_utkface",
]
