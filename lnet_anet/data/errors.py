"""Errors for bad dataset input: every message names the file (and the line, when there is one)."""

from __future__ import annotations

import os
from pathlib import Path


class DatasetFormatError(ValueError):
    """A label file that cannot be parsed. `str(err)` reads `path:line: message`."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


# How the configs find a dataset (conf/paths/default.yaml), for the readers' "not found" errors.
DATA_HINT = ("the configs look for every dataset under paths.datasets (default ../shared/datasets): "
             "point it at the folder holding your copies with paths.datasets=DIR on the command line "
             "or the LNET_ANET_DATASETS environment variable")  # fmt: skip


def data_hint(key: str | None = None) -> str:
    """DATA_HINT, with `data.index.<key>=PATH` (the reader's own argument) for one dataset
    alone, and where the layouts are described."""
    alone = f", or data.index.{key}=PATH for this dataset alone" if key else ""
    return f"{DATA_HINT}{alone} (the expected layouts: data/README.md of the source repository)"


class DataNotFoundError(DatasetFormatError, FileNotFoundError):
    """A dataset folder or label file that is not there: a FileNotFoundError (and, as a missing
    label file always was, a DatasetFormatError). `str(err)` reads `path: message`, the message
    saying how to point at the data where a config names the path; a relative path is followed by
    the absolute one it stands for (a relative default resolves from the working directory)."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        if not Path(path).is_absolute():
            message = f"{message} [looked at {os.path.abspath(path)}]"
        super().__init__(path, message, line)


class ImageReadError(OSError):
    """An image file that is missing, empty, truncated or not an image."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
