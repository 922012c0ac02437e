"""Atomic checkpoints: a killed run never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def _replacing(path: Path, tmp: Path) -> Iterator[Path]:
    """Yield `tmp` to write, then rename it to `path`; when writing or renaming fails (a full
    disk, `path` a folder), `tmp` is removed and the error raised: nothing is left behind."""
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_atomic(state: dict[str, Any], path: str | Path) -> None:
    """torch.save to a temporary file beside `path`, then rename: readers see old or new."""
    import torch  # here, not above: the training commands' --help reads this module

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _replacing(path, path.with_name(f".{path.name}.tmp{os.getpid()}")) as tmp:
        torch.save(state, tmp)


def save_safetensors_atomic(tensors: dict, path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """safetensors.torch.save_file to a temporary file beside `path`, then rename: readers see the
    old file or the whole new one. The file gets the usual mode (0666 less the umask, e.g. 0644);
    safetensors alone makes it 0600, unreadable to anyone else sharing the models."""
    from safetensors.torch import save_file

    path = Path(path)
    with _replacing(path, path.with_name(f".{path.name}.tmp{os.getpid()}")) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read (load_checkpoint): a user error, reported in one line."""


def save_npz_atomic(path: str | Path, arrays: dict[str, Any]) -> None:
    """np.savez to `<path stem>.tmp.npz` beside `path` (its folder made if missing), then
    rename: a cache that a killed run leaves behind is whole or absent."""
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _replacing(path, path.with_suffix(".tmp.npz")) as tmp:
        np.savez(tmp, **arrays)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint of plain tensors and numbers; never unpickles code. A file that is not
    one (cut short, emptied, foreign) raises CheckpointError naming it and the ways on."""
    import torch

    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"{path}: not a readable checkpoint ({_why_unreadable(e)}); delete it to train this "
                              "run from its start, or give the run another name=") from e  # fmt: skip


def _why_unreadable(e: Exception) -> str:
    """torch.load's error in a line. Its weights_only refusal carries torch's advice to load the
    file with weights_only=False (running whatever code it holds), which is not advice this
    project gives: only the unpickler's own reason is kept."""
    text = str(e)
    if "Weights only load failed" in text:
        detail = text.split("WeightsUnpickler error:", 1)[-1].strip() if "WeightsUnpickler error:" in text else ""
        detail = detail.splitlines()[0].split(". Please")[0].strip() if detail else ""  # torch's allow-list advice goes too
        return "not a file of plain tensors and numbers" + (f": {detail}" if detail else "") + \
            "; files that would run code are never loaded"  # fmt: skip
    return f"{type(e).__name__}: {text.strip().splitlines()[0] if text.strip() else 'no detail'}"
