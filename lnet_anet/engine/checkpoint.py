"""Atomic checkpoints: a killed run never leaves a half-written file behind."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def save_atomic(state: dict[str, Any], path: str | Path) -> None:
    """torch.save to a temporary file beside `path`, then rename: readers see old or new."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)


def save_safetensors_atomic(tensors: dict, path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """safetensors.torch.save_file to a temporary file beside `path`, then rename: readers see the
    old file or the whole new one. The file gets the usual mode (0666 less the umask, e.g. 0644);
    safetensors alone makes it 0600, unreadable to anyone else sharing the models."""
    from safetensors.torch import save_file

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    save_file(tensors, str(tmp), metadata=metadata)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def save_npz_atomic(path: str | Path, arrays: dict[str, Any]) -> None:
    """np.savez to `<path stem>.tmp.npz` beside `path` (its folder made if missing), then
    rename: a cache that a killed run leaves behind is whole or absent."""
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint of plain tensors and numbers; never unpickles code."""
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for truncated or foreign files
        raise RuntimeError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from e
