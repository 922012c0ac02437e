"""Facial attractiveness datasets (SCUT-FBP5500, generic score CSV) -> index DataFrame.

SCUT-FBP5500 release layout (root = the `SCUT-FBP5500_v2` folder, or its parent):
  Images/AF1.jpg ... CM99.jpg
  train_test_files/All_labels.txt                                  `name score`, all 5,500
  train_test_files/split_of_60%training and 40%testing/{train,test}.txt
  train_test_files/5_folders_cross_validations_files/cross_validation_{k}/{train,test}_{k}.txt
Scores are mean ratings in [1, 5]. The name prefix (AF, AM, CF, CM = Asian/Caucasian,
female/male) gives "gender" (0 male, 1 female) and "race" (UTKFace codes: 0 White, 2 Asian).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lnet_anet.data.readers._tables import (
    PATH_ALIASES,
    SPLIT_ALIASES,
    CsvTable,
    finish_index,
    join_paths,
    keep_existing,
    parse_table,
    read_lines,
)

SCORE_RANGE = (1.0, 5.0)
_SPLIT_DIR = "split_of_60%training and 40%testing"
_FOLDS_DIR = "5_folders_cross_validations_files"
_GROUP_GENDER = {"F": 1, "M": 0}
_GROUP_RACE = {"A": 2, "C": 0}


def _scut_root(root: Path) -> Path:
    if (root / "train_test_files").is_dir():
        return root
    inner = root / "SCUT-FBP5500_v2"
    if (inner / "train_test_files").is_dir():
        return inner
    raise FileNotFoundError(f"{root}: not a SCUT-FBP5500 release (no train_test_files/ folder)")


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


def read_score_list(path: str | Path, score_range: tuple[float, float] = SCORE_RANGE):
    """`name score` lines -> (names, scores); a score outside score_range names its line."""
    table = parse_table(path, read_lines(path), 0, 2)
    names = table.unique_strings(0, "image name")
    scores = table.numbers(1, "score", lo=score_range[0], hi=score_range[1])
    return names, scores, table


def read_scut_fbp5500(
    root: str | Path, split: str = "60/40", check_images: bool = True
) -> pd.DataFrame:
    """SCUT-FBP5500 with one of its official splits ("60/40", "fold1".."fold5"; "all" reads
    All_labels.txt with an empty split). An image in both train and test is an error."""
    root = Path(root)
    images = _scut_root(root) / "Images"
    names, scores, splits, seen = [], [], [], {}
    for split_name, path in scut_split_files(root, split).items():
        part_names, part_scores, table = read_score_list(path)
        for row, name in enumerate(part_names):
            if name in seen:
                raise table.error(row, f"image {name!r} is also in {seen[name]}")
            seen[name] = path.name
        names.append(part_names)
        scores.append(part_scores)
        splits.append(np.full(len(part_names), split_name, dtype=object))
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
    skipped: list[str] = []
    keep = keep_existing(paths, skipped) if check_images else None
    return finish_index(columns, f"SCUT-FBP5500 {root}", skipped=skipped, keep=keep)


def read_score_csv(
    csv_path: str | Path,
    image_root: str | Path | None = None,
    score_range: tuple[float, float] = SCORE_RANGE,
    check_images: bool = True,
) -> pd.DataFrame:
    """A generic `path,score` CSV (header optional; an optional split column with a header).
    Paths resolve against image_root (default: the CSV's folder)."""
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
    "scut_split_files",
]
