"""One process per run folder: an fcntl lock holding the owner's pid, and the removal of the
temporary files an atomic write leaves when its process is killed."""

from __future__ import annotations

import atexit
import errno
import fcntl
import os
import re
from pathlib import Path

LOCK_NAME = ".lock"
_held: dict[str, list] = {}  # realpath -> [open lock file, depth]: this process's locks


class RunInUseError(RuntimeError):
    """Another process holds the run folder's lock."""


class RunRefusedError(ValueError):
    """A run folder that trained another model, or on other data, refuses this launch."""


def lock_run_dir(folder: str | Path) -> Path:
    """Lock `folder` for this process until it exits (or release_run_dir): an exclusive
    fcntl.flock on folder/.lock, which holds the owner's pid. The kernel drops the lock when
    its process dies, so a lock file left by a killed (even kill -9) run is simply taken over.
    Re-entrant within one process. Raises RunInUseError naming the pid holding it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(folder)
    if key in _held:
        _held[key][1] += 1
        return folder / LOCK_NAME
    f = open(folder / LOCK_NAME, "a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            f.close()
            raise
        f.seek(0)
        owner = f.read().strip() or "unknown"
        f.close()
        raise RunInUseError(
            f"{folder} is in use by another run (process {owner}, lock {folder / LOCK_NAME}); "
            "wait for it to finish or stop it, or give this run another name"
        ) from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    _held[key] = [f, 1]
    return folder / LOCK_NAME


def release_run_dir(folder: str | Path) -> None:
    """Undo one lock_run_dir of this process (the lock goes at the last one)."""
    key = os.path.realpath(folder)
    if key not in _held:
        return
    _held[key][1] -= 1
    if _held[key][1] == 0:
        f, _ = _held.pop(key)
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        f.close()


@atexit.register
def _release_all() -> None:
    """At exit, close the lock files still held (the kernel would drop the locks anyway; closing
    them here keeps Python from warning "unclosed file .lock" as the process ends)."""
    while _held:
        f, _ = _held.popitem()[1]
        f.close()


TEMPORARY = re.compile(r"^\..+\.tmp\d*$")  # save_atomic / save_weights: .<name>.tmp<pid>


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files (".<name>.tmp<pid>") an atomic write left in `folder` when
    its run was killed; call it only while holding the folder's lock. Returns what went."""
    removed = []
    for path in Path(folder).glob(".*.tmp*"):
        if TEMPORARY.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


__all__ = ["LOCK_NAME", "RunInUseError", "lock_run_dir", "release_run_dir", "remove_stale_temporaries"]
