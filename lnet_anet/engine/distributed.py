"""torchrun support: the same script runs on one process or under DDP with no code change."""

from __future__ import annotations

import atexit
import datetime
import os
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch.utils.data import Sampler


def world() -> tuple[int, int]:
    """(rank, world_size) of this process; (0, 1) outside torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """Whether this process writes a run's outputs: rank 0 of the process group, or of the
    torchrun environment (RANK) before the group is joined; always true outside torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


def init_from_env(device: torch.device) -> bool:
    """Join the process group torchrun describes in the environment (gloo on CPU, nccl on GPU).
    Returns whether this is a distributed run."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        # Left to the interpreter's exit, gloo's threads can abort the process ("terminate called
        # without an active exception", SIGABRT) after a run that finished well: close the group first.
        atexit.register(_leave_process_group)
    return True


def _leave_process_group() -> None:
    if dist.is_available() and dist.is_initialized():
        try:  # every rank here before any tears gloo down (one rank leaving first aborted the other, under load)
            if dist.get_backend() == "gloo":
                dist.monitored_barrier(timeout=datetime.timedelta(seconds=30))
        except Exception:  # noqa: BLE001 - a rank that failed or left: close this one's group all the same
            pass
        finally:
            dist.destroy_process_group()


def all_true(flag: bool, device: torch.device) -> bool:
    """Whether `flag` holds on every process (a no-op outside DDP)."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    t = torch.tensor([int(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item())


class EpochSampler(Sampler[int]):
    """A seeded permutation per epoch, split across processes by interleaving, that can start
    part-way (to resume mid-epoch). Rank r takes positions r, r+W, ... of the permutation, so
    with a global batch B the W per-process batches of step k together are exactly the
    single-process batch k: DDP and one process train the same model."""

    def __init__(self, n: int, seed: int, rank: int = 0, world_size: int = 1,
                 shuffle: bool = True):  # fmt: skip
        self.n, self.seed, self.rank, self.world_size, self.shuffle = n, seed, rank, world_size, shuffle
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """start: number of this process's samples to skip (already trained on)."""
        self.epoch, self.start = epoch, start

    def __len__(self) -> int:
        return self.n // self.world_size - self.start

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = list(range(self.n))
        usable = self.n - self.n % self.world_size  # equal shares, so no process waits
        mine = order[self.rank:usable:self.world_size]
        return iter(mine[self.start:])
