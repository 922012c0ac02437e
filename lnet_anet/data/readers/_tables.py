"""Shared plumbing of the dataset readers: label tables with line numbers, image listings, index.

Every label file is read once as text, parsed by pandas' C parser (fast for 200k rows) and
validated with vectorised checks. Only when a check fails do we walk lines in Python, to name the
first offending line exactly.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lnet_anet.data.attributes import CELEBA_ATTRIBUTES
from lnet_anet.data.errors import DataNotFoundError, DatasetFormatError, data_hint

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
BOX_COLUMNS = ("x0", "y0", "x1", "y1")
LANDMARK_COLUMNS = (
    "lefteye_x", "lefteye_y", "righteye_x", "righteye_y", "nose_x", "nose_y",
    "leftmouth_x", "leftmouth_y", "rightmouth_x", "rightmouth_y",
)  # fmt: skip
SPLITS = ("train", "val", "test")
# Column order of every index; anything else a reader adds (e.g. "person") goes last.
_LEADING = ("path", "split", "identity")
_TRAILING = (*BOX_COLUMNS, *LANDMARK_COLUMNS, "age", "age_sigma", "gender", "race", "attractiveness", "attractiveness_sigma")


def read_lines(path: str | Path) -> list[str]:
    """A text file as a list of lines (CRLF/CR/LF, UTF-8 with or without BOM), stripped."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(path, "a folder, not a label file" if path.is_dir() else "missing label file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DatasetFormatError(path, f"not UTF-8 text ({e.reason})", line) from None
    return [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def split_fields(line: str, sep: str | None) -> list[str]:
    """Fields of one line as the fast parser sees them (whitespace runs or a CSV delimiter)."""
    if sep is None:
        return line.split()
    return next(csv.reader([line], delimiter=sep))


@dataclass
class Table:
    """Rows of a label file: `frame` has positional columns 0..k-1; `lines` the 1-based line
    number of each row in the file, so that every error can point at it."""

    path: Path
    frame: pd.DataFrame
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)

    def error(self, row: int, message: str) -> DatasetFormatError:
        return DatasetFormatError(self.path, message, int(self.lines[row]))

    def strings(self, col: int, what: str) -> np.ndarray:
        """Column `col` as an object array of non-empty strings."""
        values = self.frame[col].astype(str).to_numpy(dtype=object)
        empty = values == ""
        if empty.any():
            raise self.error(int(np.argmax(empty)), f"empty {what}")
        return values

    def unique_strings(self, col: int, what: str) -> np.ndarray:
        """Like `strings`, and a duplicate is an error naming both lines."""
        values = self.strings(col, what)
        dup = pd.Series(values).duplicated().to_numpy()
        if dup.any():
            row = int(np.argmax(dup))
            first = int(np.argmax(values == values[row]))
            raise self.error(
                row, f"duplicate {what} {values[row]!r} (first at line {self.lines[first]})"
            )
        return values

    def numbers(
        self,
        cols: int | Sequence[int],
        what: str | Sequence[str],
        *,
        integer: bool = False,
        allowed: Iterable[float] | None = None,
        lo: float | None = None,
        hi: float | None = None,
    ) -> np.ndarray:
        """Numeric column(s) as float64 (1-D for one column, 2-D for several), validated.
        The first bad value raises an error naming its line and field."""
        single = isinstance(cols, int)
        col_list = [cols] if single else list(cols)
        names = [what] if isinstance(what, str) else list(what)
        block = self.frame[col_list]
        if all(pd.api.types.is_numeric_dtype(t) for t in block.dtypes):
            arr = block.to_numpy(dtype=np.float64)
        else:  # some column holds text: coerce, the bad cells become NaN and are reported below
            arr = (
                np.column_stack(
                    [
                        pd.to_numeric(block[c], errors="coerce").to_numpy(np.float64)
                        for c in col_list
                    ]
                )
                if len(block)
                else np.zeros((0, len(col_list)))
            )
        bad = ~np.isfinite(arr)
        if integer:
            bad |= np.where(bad, False, arr != np.round(np.nan_to_num(arr)))
        if allowed is not None:
            bad |= ~np.isin(arr, list(allowed))
        if lo is not None:
            bad |= arr < lo
        if hi is not None:
            bad |= arr > hi
        if bad.any():
            row, j = divmod(int(np.argmax(bad)), len(col_list))
            raw = self.frame.iloc[row, self.frame.columns.get_loc(col_list[j])]
            name = names[j] if len(names) == len(col_list) else names[0]
            expect = _describe(integer, allowed, lo, hi)
            raise self.error(row, f"{name}: expected {expect}, found {str(raw)!r}")
        return arr[:, 0] if single else arr


def _describe(integer: bool, allowed, lo, hi) -> str:
    if allowed is not None:
        return " or ".join(f"{v:g}" for v in allowed)
    kind = "an integer" if integer else "a number"
    if lo is not None and hi is not None:
        return f"{kind} in [{lo:g}, {hi:g}]"
    if lo is not None:
        return f"{kind} >= {lo:g}"
    return kind


def parse_table(
    path: str | Path,
    lines: list[str],
    start: int,
    n_fields: int | None,
    sep: str | None = None,
    text_cols: Sequence[int] | str = (0,),
) -> Table:
    """Parse `lines[start:]` (blank lines ignored) into a Table of `n_fields` columns.

    sep=None splits on runs of whitespace (CelebA's lists); otherwise a CSV delimiter.
    text_cols: columns kept as text ("all" for every column); the others are inferred.
    n_fields=None takes the field count of the first row.
    """
    path = Path(path)
    numbers = [i + 1 for i in range(start, len(lines)) if lines[i]]
    body = [lines[i - 1] for i in numbers]
    if n_fields is None:
        n_fields = len(split_fields(body[0], sep)) if body else 0
    if not body:
        frame = pd.DataFrame({i: pd.Series(dtype=object) for i in range(n_fields)})
        return Table(path, frame, np.zeros(0, dtype=np.int64))
    dtype = str if text_cols == "all" else dict.fromkeys(text_cols, str)
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(body)),
            sep=r"\s+" if sep is None else sep,
            header=None,
            dtype=dtype,
            keep_default_na=False,  # "NA" or "nan" are names or bad values, never silently NaN
            quoting=csv.QUOTE_NONE if sep is None else csv.QUOTE_MINIMAL,
            engine="c",
            skip_blank_lines=False,
        )
    except pd.errors.ParserError:
        _raise_field_count(path, body, numbers, n_fields, sep)
        raise  # the parser saw a problem our own field count did not: let it speak
    short_rows = any(
        not pd.api.types.is_numeric_dtype(frame[c]) and (frame[c] == "").any()
        for c in frame.columns
    )
    if frame.shape[1] != n_fields or short_rows:
        # Short rows are padded with "" by the parser: count fields line by line to tell them
        # from legitimately empty CSV fields (which the value checks report later).
        _raise_field_count(path, body, numbers, n_fields, sep)
    return Table(path, frame, np.asarray(numbers, dtype=np.int64))


def _raise_field_count(path, body, numbers, n_fields, sep) -> None:
    for line_no, line in zip(numbers, body, strict=True):
        n = len(split_fields(line, sep))
        if n != n_fields:
            raise DatasetFormatError(path, f"expected {n_fields} fields, found {n}", line_no)


def parse_count_line(path: Path, lines: list[str], n_rows: int) -> None:
    """CelebA lists start with the number of rows; it must agree with the rows that follow."""
    first = lines[0] if lines else ""
    if not first.isdigit():
        raise DatasetFormatError(
            path, f"expected the row count on the first line, found {first!r}", 1
        )
    if int(first) != n_rows:
        raise DatasetFormatError(
            path, f"count line says {int(first)} rows but the file has {n_rows}", 1
        )


def header_fields(path: Path, lines: list[str], line_index: int, sep: str | None) -> list[str]:
    if line_index >= len(lines) or not lines[line_index]:
        raise DatasetFormatError(path, "missing header line", line_index + 1)
    return split_fields(lines[line_index], sep)


def check_attr_spelling(path: Path, names: Sequence[str], line: int | None, note: str = "CelebA's 40 attribute names") -> None:
    """A header name close to one of CelebA's 40 that the header lacks is a misspelling: read as
    it is, the attribute would only be missed later (when scoring), far from the label file.
    Other extra names are left alone (a list may carry more attributes). line: the header's
    1-based line number; note: what the names should be, said in the error."""
    missing = [a for a in CELEBA_ATTRIBUTES if a not in names]
    for name in names:
        if name in CELEBA_ATTRIBUTES:
            continue
        close = difflib.get_close_matches(name, missing, n=1, cutoff=0.75) or [
            a for a in missing if a.lower() == name.lower()
        ]
        if close:
            raise DatasetFormatError(path, f"bad header: found attribute name {name!r}, expected {close[0]!r} ({note})",
                                     line)  # fmt: skip


def warn_missing_attributes(path: Path, names: Sequence[str]) -> None:
    """A label file read whole whose attributes are CelebA's short of at most half of them: a
    warning naming those it lacks (a trial's 39-attribute LFWA file trained a model without Young,
    unsaid). A set of fewer of them is a set of one's own: not warned."""
    missing = [a for a in CELEBA_ATTRIBUTES if a not in names]
    if missing and len(missing) <= len(CELEBA_ATTRIBUTES) // 2:
        warnings.warn(f"{path}: lacks {len(missing)} of CelebA's 40 attributes ({', '.join(missing)}); a model "
                      f"trained on it has {'none of them' if len(missing) > 1 else 'no ' + missing[0]}, and its "
                      f"bundle's records leave {'them' if len(missing) > 1 else 'it'} out", stacklevel=3)  # fmt: skip


# --------------------------------------------------------------------------- CSVs by column name

PATH_ALIASES = (
    "path",
    "file",
    "filename",
    "file_name",
    "photo",
    "image",
    "img",
    "image_path",
    "name",
)
SIGMA_ALIASES = ("sigma", "age_sigma", "std", "stdv", "apparent_age_std")
SPLIT_ALIASES = ("split", "subset", "partition")


class CsvTable:
    """A CSV/`;`-separated table whose columns are found by name (header) or by position."""

    def __init__(
        self,
        path: str | Path,
        aliases: dict[str, Sequence[str]],
        positional: Sequence[str],
        required: Sequence[str],
    ):
        self.path = Path(path)
        lines = read_lines(self.path)
        first = next((i for i, line in enumerate(lines) if line), None)
        if first is None:
            raise DatasetFormatError(self.path, "empty label file")
        self.sep = ";" if ";" in lines[first] else "\t" if "\t" in lines[first] else ","
        fields = [f.strip().lower() for f in split_fields(lines[first], self.sep)]
        known = {a for names in aliases.values() for a in names}
        self.has_header = any(f in known for f in fields)
        if self.has_header:
            # Each key takes the column of its most preferred alias (aliases are in order).
            self.col = {}
            for key, names in aliases.items():
                hit = next((name for name in names if name in fields), None)
                if hit is not None:
                    self.col[key] = fields.index(hit)
            start, n_fields = first + 1, len(fields)
        else:  # no header: the first fields are `positional`, in that order
            self.col = {key: j for j, key in enumerate(positional[: len(fields)])}
            start, n_fields = first, len(fields)
        for key in required:
            if key not in self.col:
                wanted = ", ".join(aliases[key])
                raise DatasetFormatError(
                    self.path, f"bad header: no column for {key!r} (looked for {wanted})", first + 1
                )
        self.table = parse_table(self.path, lines, start, n_fields, self.sep, "all")
        frame = self.table.frame
        for c in frame.columns:  # `a.jpg, 23` is common: spaces around fields mean nothing here
            frame[c] = frame[c].str.strip()

    def __contains__(self, key: str) -> bool:
        return key in self.col

    def strings(self, key: str) -> np.ndarray:
        return self.table.strings(self.col[key], key)

    def numbers(self, key: str, **limits) -> np.ndarray:
        j = self.col[key]
        if self.sep == ";":  # `;`-separated files often use a decimal comma
            frame = self.table.frame
            frame[j] = frame[j].str.replace(",", ".", regex=False)
        return self.table.numbers(j, key, **limits)

    def codes(self, key: str, mapping: dict[str, int]) -> np.ndarray:
        values = np.array([s.lower() for s in self.strings(key)], dtype=object)
        codes = pd.Series(values).map(mapping)
        bad = codes.isna().to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            raise self.table.error(row, f"{key}: unknown value {values[row]!r}")
        return codes.to_numpy(np.int64)

    def splits(self) -> np.ndarray:
        values = self.strings("split")
        bad = ~np.isin(values, SPLITS)
        if bad.any():
            row = int(np.argmax(bad))
            raise self.table.error(
                row, f"split: expected train, val or test, found {values[row]!r}"
            )
        return values

    def image_paths(self, image_root: str | Path | None) -> np.ndarray:
        """Absolute image paths: relative names resolve against image_root (default: the
        CSV's folder); a duplicate is an error naming its line."""
        root = Path(image_root) if image_root is not None else self.path.parent
        root = root.resolve()
        names = self.strings("path")
        # Backslashes: CSVs written on Windows (e.g. MORPH's `Album2\\003285_00M21.JPG`).
        paths = np.array(
            [os.path.normpath(os.path.join(root, n.replace("\\", "/"))) for n in names],
            dtype=object,
        )
        dup = pd.Series(paths).duplicated().to_numpy()
        if dup.any():
            row = int(np.argmax(dup))
            raise self.table.error(row, f"duplicate image {names[row]!r}")
        return paths


# --------------------------------------------------------------------------- images on disk


def require_path(path: str | Path, what: str, key: str | None = None, folder: bool = True,
                 hint: bool = True) -> Path:  # fmt: skip
    """`path` as a Path when it is a folder (folder=True) or a file. Otherwise raises
    DataNotFoundError (a FileNotFoundError) naming it and `what` it should be and, with hint,
    how the configs are pointed at the data (paths.datasets, LNET_ANET_DATASETS or
    data.index.<key>; errors.data_hint)."""
    path = Path(path)
    if path.is_dir() if folder else path.is_file():
        return path
    problem = "not found" if not path.exists() else "is not a folder" if folder else "is a folder, not a file"
    raise DataNotFoundError(path, f"{what} {problem}" + (f"; {data_hint(key)}" if hint else ""))


def list_files(folder: str | Path) -> set[str]:
    """Names of the plain files in `folder` (one scandir; no per-file stat on most filesystems)."""
    with os.scandir(folder) as entries:
        return {e.name for e in entries if e.is_file()}


def existing_files(paths: Sequence[str]) -> np.ndarray:
    """Which of `paths` exist, by listing each parent folder once (fast for 200k files)."""
    by_parent: dict[str, list[int]] = {}
    names = []
    for i, p in enumerate(paths):
        parent, _, name = p.rpartition(os.sep)
        by_parent.setdefault(parent, []).append(i)
        names.append(name)
    out = np.zeros(len(names), dtype=bool)
    for parent, rows in by_parent.items():
        files = list_files(parent) if os.path.isdir(parent) else set()
        out[rows] = [names[i] in files for i in rows]
    return out


def keep_existing(
    paths: np.ndarray, skipped: list[str], reason: str = "image file not found"
) -> np.ndarray:
    """Boolean mask of rows whose image exists; the others are recorded in `skipped`."""
    ok = existing_files(list(paths))
    skipped.extend(f"{p}: {reason}" for p in paths[~ok])
    return ok


def join_paths(folder: str | Path, names: Sequence[str]) -> np.ndarray:
    """Absolute paths `folder/name` as an object array."""
    prefix = os.path.join(str(Path(folder).resolve()), "")
    names = np.asarray(names, dtype=object).tolist()  # plain str: iterating pandas arrays is slow
    return np.array([prefix + n for n in names], dtype=object)


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith(".")


# --------------------------------------------------------------------------- the index


def finish_index(
    columns: dict[str, object],
    source: str,
    attributes: Sequence[str] = (),
    skipped: Sequence[str] = (),
    keep: np.ndarray | None = None,
) -> pd.DataFrame:
    """Assemble the index DataFrame in the schema's column order, drop rows not in `keep`,
    set df.attrs and warn (with a count) about every row left out."""
    df = pd.DataFrame(columns)
    if keep is not None:
        df = df.loc[keep].reset_index(drop=True)
    order = [c for c in _LEADING if c in df]
    order += [a for a in attributes if a in df]
    order += [c for c in df.columns if c not in order and c not in _TRAILING]
    order += [c for c in _TRAILING if c in df]
    df = df[order]
    df.attrs["attributes"] = list(attributes)
    df.attrs["skipped"] = list(skipped)
    df.attrs["source"] = source
    if skipped:
        warnings.warn(
            f"{source}: left out {len(skipped)} row(s) (listed in df.attrs['skipped']); "
            f"first: {skipped[0]}",
            stacklevel=3,
        )
    return df


def person_ids(persons: np.ndarray) -> np.ndarray:
    """Integer identities for person names: their rank in sorted order (stable across runs)."""
    return pd.factorize(pd.Series(persons), sort=True)[0].astype(np.int64)
