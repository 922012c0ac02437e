"""Errors for bad dataset input: every message names the file (and the line, when there is one)."""

from __future__ import annotations

from pathlib import Path


class DatasetFormatError(ValueError):
    """A label file that cannot be parsed. `str(err)` reads `path:line: message`."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ImageReadError(OSError):
    """An image file that is missing, empty, truncated or not an image."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
