"""MATLAB label files (.mat) as the benchmarks distribute them: v5 files through scipy.io.loadmat,
v7.3 files (HDF5) through mat73. Cells of strings come back as plain Python strings either way."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lnet_anet.data.errors import DatasetFormatError
from lnet_anet.data.readers._tables import require_path


def load_mat(path: str | Path, what: str, needs: Sequence[str]) -> dict:
    """The variables of a .mat file (v5 or v7.3) by name. what: the file's role, for the errors.
    Raises DataNotFoundError for a missing file, DatasetFormatError for a file neither reader
    can open or one that lacks a variable of `needs` (the variables found are named)."""
    path = require_path(path, what, folder=False, hint=False)
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
    except Exception as e:  # scipy: NotImplementedError for v7.3; ValueError/TypeError/MatReadError for bad files
        if not _is_hdf5(path):
            raise DatasetFormatError(path, f"not a MATLAB file scipy can read ({e})") from None
        mat = _load_v73(path)
    found = sorted(k for k in mat if not k.startswith("__"))
    missing = [k for k in needs if k not in mat]
    if missing:
        raise DatasetFormatError(path, f"no {missing[0]!r} variable in this {what} (found {found})")
    return mat


def _is_hdf5(path: Path) -> bool:
    """Whether the file is HDF5, as MATLAB v7.3 files are (its signature at 0, 512, 1024, ...)."""
    import h5py

    return bool(h5py.is_hdf5(str(path)))


def _load_v73(path: Path) -> dict:
    import mat73

    try:
        return mat73.loadmat(str(path), verbose=False)
    except Exception as e:  # noqa: BLE001 - h5py and mat73 raise many kinds for a damaged file
        raise DatasetFormatError(path, f"a MATLAB v7.3 (HDF5) file mat73 cannot read ({e})") from None


def cells(x) -> list:
    """The elements of a MATLAB cell array as loadmat gives it (an object array of any shape)."""
    a = np.asarray(x)
    if a.dtype != object:
        return [a]
    return list(a.reshape(-1, order="F"))


def mat_string(x) -> str:
    """One MATLAB char array (as scipy or mat73 gives it, however nested) as a str."""
    if isinstance(x, str):
        return x
    if isinstance(x, (list, tuple)):
        return mat_string(x[0]) if len(x) == 1 else ""
    a = np.asarray(x)
    while a.dtype == object and a.size == 1:
        a = np.asarray(a.reshape(-1)[0])
    return str(a.reshape(-1)[0]) if a.size else ""


def mat_strings(x) -> list[str]:
    """A MATLAB cell array of strings (N x 1 or 1 x N; scipy's object array or mat73's nested
    lists) as a flat list of str, in MATLAB's column order."""
    if isinstance(x, str):
        return [x]
    if isinstance(x, (list, tuple)):  # mat73: [s, ...] or [[s], [s], ...]
        return [s for item in x for s in mat_strings(item)]
    return [mat_string(c) for c in cells(x)]
