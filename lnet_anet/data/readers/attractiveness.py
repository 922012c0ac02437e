"""Facial attractiveness datasets (SCUT-FBP5500, generic score CSV) -> index DataFrame.

SCUT-FBP5500 release layout (root = the `SCUT-FBP5500_v2` folder, or its parent):
  Images/AF1.jpg ... CM99.jpg
  train_test_files/All_labels.txt                                  `name score`, all 5,500
  train_test_files/split_of_60%training and 40%testing/{train,test}.txt
  train_test_files/5_folders_cross_validations_files/cross_validation_{k}/{train,test}_{k}.txt
  All_Ratings.xlsx                                                 each rater's score of each image
Scores are mean ratings in [1, 5]. The name prefix (AF, AM, CF, CM = Asian/Caucasian,
female/male) gives "gender" (0 male, 1 female) and "race" (UTKFace codes: 0 White, 2 Asian).
With the ratings (`ratings=`), "attractiveness_sigma" is the standard deviation of each image's
ratings: DLDL-v2's label distribution for the image (Gao et al., 2018), where the loss reads it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from lnet_anet.data.errors import DataNotFoundError, DatasetFormatError, data_hint
from lnet_anet.data.readers._tables import (
    PATH_ALIASES,
    SPLIT_ALIASES,
    CsvTable,
    finish_index,
    join_paths,
    keep_existing,
    parse_table,
    read_lines,
    require_path,
)

SCORE_RANGE = (1.0, 5.0)
_SPLIT_DIR = "split_of_60%training and 40%testing"
_FOLDS_DIR = "5_folders_cross_validations_files"
_GROUP_GENDER = {"F": 1, "M": 0}
_GROUP_RACE = {"A": 2, "C": 0}


# How a user goes on past a malformed row (the readers' bad_rows, set from the data config)
SKIP_HINT = "; to leave such rows out, each named in the log, and go on: data.index.bad_rows=skip"


def _scut_root(root: Path) -> Path:
    require_path(root, "SCUT-FBP5500 folder", "root")
    if (root / "train_test_files").is_dir():
        return root
    inner = root / "SCUT-FBP5500_v2"
    if (inner / "train_test_files").is_dir():
        return inner
    raise DataNotFoundError(root, "not a SCUT-FBP5500 release (no train_test_files/ folder, nor "
                                  f"SCUT-FBP5500_v2/train_test_files/); {data_hint('root')}")  # fmt: skip


def scut_split_files(root: str | Path, split: str = "60/40") -> dict[str, Path]:
    """The label files of a SCUT-FBP5500 split: {"train": ..., "test": ...} or {"": all}."""
    files = _scut_root(Path(root)) / "train_test_files"
    if split == "60/40":
        return {s: files / _SPLIT_DIR / f"{s}.txt" for s in ("train", "test")}
    if split.startswith("fold") and split[4:] in {"1", "2", "3", "4", "5"}:
        k = split[4:]
        fold = files / _FOLDS_DIR / f"cross_validation_{k}"
        return {s: fold / f"{s}_{k}.txt" for s in ("train", "test")}
    if split == "all":
        return {"": files / "All_labels.txt"}
    raise ValueError(f"split must be '60/40', 'fold1'..'fold5' or 'all', not {split!r}")


_NAME = re.compile(r"^(AF|AM|CF|CM)\d+\.(jpg|jpeg|png)$", re.IGNORECASE)


def read_score_list(
    path: str | Path,
    score_range: tuple[float, float] = SCORE_RANGE,
    bad_rows: str = "error",
    skipped: list[str] | None = None,
    check_names: bool = False,
):
    """`name score` lines -> (names, scores, table). A malformed row (not two fields, a score
    that is not a number in score_range, with check_names a name that is not SCUT's
    `{AF,AM,CF,CM}<n>.jpg`) names its file and line: bad_rows="error" raises DatasetFormatError,
    "skip" leaves the row out and appends "file:line: reason" to `skipped`."""
    if bad_rows not in ("error", "skip"):
        raise ValueError(f"bad_rows must be 'error' or 'skip', not {bad_rows!r}")
    path = Path(path)
    lines = read_lines(path)
    lo, hi = score_range
    for i, line in enumerate(lines):
        if not line:
            continue
        fields = line.split()
        reason = None
        if len(fields) != 2:
            reason = f"expected 2 fields (name score), found {len(fields)}"
        elif check_names and not _NAME.match(fields[0]):
            reason = f"image name {fields[0]!r} is not SCUT's {{AF,AM,CF,CM}}<n>.jpg"
        else:
            try:
                value = float(fields[1])
            except ValueError:
                value = float("nan")
            if not (np.isfinite(value) and lo <= value <= hi):
                reason = f"score: expected a number in [{lo:g}, {hi:g}], found {fields[1]!r}"
        if reason is None:
            continue
        if bad_rows == "error":
            raise DatasetFormatError(path, reason + SKIP_HINT, i + 1)
        if skipped is not None:
            skipped.append(f"{path}:{i + 1}: {reason}")
        lines[i] = ""  # blank lines are ignored below; the others keep their line numbers
    table = parse_table(path, lines, 0, 2)
    names = table.unique_strings(0, "image name")
    scores = table.numbers(1, "score", lo=score_range[0], hi=score_range[1])
    return names, scores, table


def read_scut_ratings(path: str | Path) -> pd.Series:
    """SCUT-FBP5500's per-rater scores, `All_Ratings.xlsx` (its sheet "ALL" when it has one, else
    every sheet; columns Rater, Filename, Rating) or a CSV of those columns -> Series image name ->
    the sample standard deviation of its ratings (points on the 1-5 scale). Raises
    DataNotFoundError for a missing file; DatasetFormatError for a file without the columns, a
    rating outside 1-5, or an .xlsx without openpyxl installed (its message says what to do)."""
    path = require_path(path, "SCUT-FBP5500 ratings file", folder=False, hint=False)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            sheets = pd.read_excel(path, sheet_name=None)
        except ImportError:
            raise DatasetFormatError(path, "reading .xlsx needs openpyxl: pip install openpyxl, or save the sheet as "
                                           "CSV and give that") from None  # fmt: skip
        except ValueError as e:
            raise DatasetFormatError(path, f"not an Excel workbook pandas can read ({e})") from None
        named = {str(k).strip().lower(): v for k, v in sheets.items()}
        table = named["all"] if "all" in named else pd.concat(list(sheets.values()), ignore_index=True)
    else:
        table = pd.read_csv(path)
    columns = {str(c).strip().lower(): c for c in table.columns}
    if "filename" not in columns or "rating" not in columns:
        raise DatasetFormatError(path, f"expected the columns Filename and Rating (and Rater), found {list(table.columns)}")
    table = table.drop_duplicates() if "rater" in columns else table  # a rating in two sheets counts once
    rating = pd.to_numeric(table[columns["rating"]], errors="coerce")
    bad = ~rating.between(*SCORE_RANGE)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DatasetFormatError(path, f"rating {str(table[columns['rating']].iloc[row])!r} of "
                                       f"{table[columns['filename']].iloc[row]!r}: expected a number in 1-5")  # fmt: skip
    spread = rating.groupby(table[columns["filename"]].astype(str).str.strip()).std(ddof=1)
    return spread.rename("attractiveness_sigma")


def read_scut_fbp5500(
    root: str | Path,
    split: str = "60/40",
    check_images: bool = True,
    bad_rows: str = "error",
    ratings: str | Path | None = None,
) -> pd.DataFrame:
    """SCUT-FBP5500 with one of its official splits ("60/40", "fold1".."fold5"; "all" reads
    All_labels.txt with an empty split). The split's files that are present are read (the
    shared copy ships train.txt without test.txt); none present is an error. An image in both
    train and test is an error; with All_labels.txt present, a split row whose name or score
    disagrees with it is one too. bad_rows: "error" or "skip" a malformed row (see
    read_score_list; skipped rows are listed in df.attrs["skipped"] with file and line). A
    missing root, or one that is not a release, raises DataNotFoundError (a FileNotFoundError)
    naming it and how to point at the data. ratings: All_Ratings.xlsx (or its CSV), for each
    image's "attractiveness_sigma" (read_scut_ratings; NaN for an image with fewer than 2 ratings,
    whose loss then takes data.sigma)."""
    root = Path(root)
    images = _scut_root(root) / "Images"
    skipped: list[str] = []
    files = {s: p for s, p in scut_split_files(root, split).items() if p.is_file()}
    if not files:
        wanted = ", ".join(str(p) for p in scut_split_files(root, split).values())
        also = ("; All_labels.txt is there: data.index.split=all reads it, with a hold-out for val and test "
                "(data.holdout='{frac: 0.2, seed: 0, by: null, holdout: val, from_split: null}')"
                if split != "all" and (_scut_root(root) / "train_test_files" / "All_labels.txt").is_file() else "")  # fmt: skip
        raise DatasetFormatError(root, f"split {split!r}: none of its label files exists ({wanted}){also}")
    all_labels = _scut_root(root) / "train_test_files" / "All_labels.txt"
    reference = None
    if split != "all" and all_labels.is_file():
        ref_names, ref_scores, _ = read_score_list(all_labels, bad_rows=bad_rows, skipped=skipped, check_names=True)
        reference = dict(zip(ref_names.tolist(), ref_scores.tolist(), strict=True))
    names, scores, splits, seen = [], [], [], {}
    for split_name, path in files.items():
        part_names, part_scores, table = read_score_list(path, bad_rows=bad_rows, skipped=skipped,
                                                         check_names=True)  # fmt: skip
        keep = np.ones(len(part_names), dtype=bool)
        for row, name in enumerate(part_names):
            if name in seen:
                raise table.error(row, f"image {name!r} is also in {seen[name]}")
            seen[name] = path.name
            if reference is not None:
                problem = None
                if name not in reference:
                    problem = f"image {name!r} is not in {all_labels.name}"
                elif abs(reference[name] - float(part_scores[row])) > 1e-4:
                    problem = (f"score {float(part_scores[row]):g} of {name!r} disagrees with "
                               f"{all_labels.name} ({reference[name]:g})")  # fmt: skip
                if problem is not None:
                    if bad_rows == "error":
                        raise table.error(row, problem + SKIP_HINT)
                    skipped.append(f"{path}:{int(table.lines[row])}: {problem}")
                    keep[row] = False
        names.append(np.asarray(part_names)[keep])
        scores.append(np.asarray(part_scores)[keep])
        splits.append(np.full(int(keep.sum()), split_name, dtype=object))
    names_all = np.concatenate(names)
    paths = join_paths(images, names_all)
    group = pd.Series(names_all, dtype=object).str[:2].str.upper()
    columns = {
        "path": paths,
        "split": np.concatenate(splits),
        "attractiveness": np.concatenate(scores),
        "gender": group.str[1].map(_GROUP_GENDER).fillna(-1).to_numpy(np.int64),
        "race": group.str[0].map(_GROUP_RACE).fillna(-1).to_numpy(np.int64),
    }
    if ratings is not None:
        spread = read_scut_ratings(ratings).reindex(names_all)
        columns["attractiveness_sigma"] = spread.to_numpy(np.float64)
        if spread.isna().all():
            raise DatasetFormatError(Path(ratings), "none of the listed images has 2 or more ratings here (names as "
                                                    "in the split files, e.g. AF1.jpg)")  # fmt: skip
    keep = keep_existing(paths, skipped) if check_images else None
    return finish_index(columns, f"SCUT-FBP5500 {root}", skipped=skipped, keep=keep)


def scut_group(path: str) -> str:
    """AF, AM, CF or CM (Asian/Caucasian x female/male) from a SCUT-FBP5500 file name."""
    return Path(path).name[:2].upper()


def read_score_csv(
    csv_path: str | Path,
    image_root: str | Path | None = None,
    score_range: tuple[float, float] = SCORE_RANGE,
    check_images: bool = True,
) -> pd.DataFrame:
    """A generic `path,score` CSV (header optional; an optional split column with a header).
    Paths resolve against image_root (default: the CSV's folder). A missing CSV or image_root
    raises DataNotFoundError (a FileNotFoundError)."""
    require_path(csv_path, "score CSV", "csv_path", folder=False)
    if image_root is not None and check_images:
        require_path(image_root, f"image folder of {csv_path}", "image_root")
    aliases = {
        "path": PATH_ALIASES,
        "attractiveness": ("attractiveness", "score", "rating", "beauty"),
        "split": SPLIT_ALIASES,
    }
    csv = CsvTable(csv_path, aliases, ("path", "attractiveness"), ("path", "attractiveness"))
    paths = csv.image_paths(image_root)
    columns = {
        "path": paths,
        "split": csv.splits() if "split" in csv else np.full(len(paths), "", dtype=object),
        "attractiveness": csv.numbers("attractiveness", lo=score_range[0], hi=score_range[1]),
    }
    skipped: list[str] = []
    keep = keep_existing(paths, skipped) if check_images else None
    return finish_index(columns, f"score CSV {csv_path}", skipped=skipped, keep=keep)


__all__ = [
    "read_score_csv",
    "read_score_list",
    "read_scut_fbp5500",
    "scut_group",
    "scut_split_files",
]
