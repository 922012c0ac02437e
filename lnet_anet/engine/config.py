"""TrainConfig: every knob of the training loop, filled from Hydra's `train` group."""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """A setting that cannot work, named with what to do instead. The training commands report it
    in one line and exit with status 2 (engine.runs.training_command)."""


# The defaults of conf/train/optimizer/adamw.yaml and conf/train/scheduler/cosine.yaml, for
# TrainConfigs made in code (tests, scripts) rather than from Hydra.
ADAMW = {"_target_": "torch.optim.AdamW", "_partial_": True}
WARMUP_COSINE = {"_target_": "lnet_anet.engine.schedules.warmup_cosine", "_partial_": True}


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 64  # global batch: split evenly over DDP processes
    lr: float = 1e-3
    weight_decay: float = 1e-4
    # A `_target_` / `_partial_` mapping (conf/train/optimizer/, conf/train/scheduler/), built by
    # hydra.utils.instantiate: optimizer(param_groups), scheduler(optimizer, total_steps).
    optimizer: dict[str, Any] = dataclasses.field(default_factory=lambda: dict(ADAMW))
    scheduler: dict[str, Any] = dataclasses.field(default_factory=lambda: dict(WARMUP_COSINE))
    warmup_steps: int = 0
    grad_clip: float | None = None
    max_steps: int | None = None  # stop early after this many optimizer steps (smoke runs)
    num_workers: int = 2
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    amp: bool = True  # mixed precision; only ever used on CUDA
    num_threads: int | None = None  # torch intra-op threads on CPU (None: torch's default)
    checkpoint_every: int = 200  # optimizer steps between checkpoints (and one per epoch)
    eval_every: int = 1  # epochs between evaluations of val_set
    monitor: str | None = None  # metric of evaluate_fn whose best value is kept as best.pt
    monitor_mode: str = "max"  # max | min
    log_every: int = 20  # optimizer steps between metrics.jsonl lines
    progress: bool = True  # tqdm progress bar (rank 0 only)
    resume: bool = True  # continue from run_dir/checkpoints/last.pt when it exists

    def __post_init__(self) -> None:
        _check_types(self)
        for key in ("optimizer", "scheduler"):
            value = getattr(self, key)
            if isinstance(value, Mapping):  # a Hydra DictConfig: plain values, interpolations resolved
                value = {k: value[k] for k in value}
                setattr(self, key, value)
            if not (isinstance(value, dict) and isinstance(value.get("_target_"), str) and value.get("_partial_")):
                raise ConfigError(f"train.{key} must be a mapping with _target_ and _partial_: true, got {value!r} "
                                 f"(a preset is chosen with train/{key}=NAME, a file of conf/train/{key}/)")
        if self.monitor_mode not in ("max", "min"):
            raise ConfigError(f"train.monitor_mode must be max or min, not {self.monitor_mode!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("train.epochs and train.batch_size must be >= 1")
        _check_ranges(self)
        check_device(self.device, "train.device")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a (Hydra) mapping, naming any key this config does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown train options {unknown}; known: {sorted(known)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_types(cfg: TrainConfig) -> None:
    """Each plain option has its field's type (an int may stand for a float), or ValueError
    naming the option: `train.epochs=abc` fails here, not deep in the loop."""
    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        kinds = typing.get_args(hints[f.name]) or (hints[f.name],)  # `int | None` -> (int, NoneType)
        if not all(k in (int, float, bool, str, type(None)) for k in kinds):
            continue  # mappings: checked by their own rule
        value = getattr(cfg, f.name)
        if not any(_fits(value, k) for k in kinds):
            names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise ConfigError(f"train.{f.name} must be {names}, got {value!r}")


def _check_ranges(cfg: TrainConfig) -> None:
    """Values that type-check but cannot train (train.lr=-1): ConfigError naming the option."""
    rules = {"lr": (cfg.lr, "> 0", lambda v: v > 0), "weight_decay": (cfg.weight_decay, ">= 0", lambda v: v >= 0),
             "warmup_steps": (cfg.warmup_steps, ">= 0", lambda v: v >= 0),
             "num_workers": (cfg.num_workers, ">= 0", lambda v: v >= 0),
             "grad_clip": (cfg.grad_clip, "> 0 or null", lambda v: v is None or v > 0),
             "max_steps": (cfg.max_steps, ">= 1 or null", lambda v: v is None or v >= 1),
             **{k: (getattr(cfg, k), ">= 1", lambda v: v >= 1) for k in ("checkpoint_every", "eval_every", "log_every")}}  # fmt: skip
    for key, (value, rule, ok) in rules.items():
        if isinstance(value, float) and not math.isfinite(value) or not ok(value):
            raise ConfigError(f"train.{key} must be {rule}, got {value!r}")


def check_at_least(settings: Any, lows: dict[str, int]) -> None:
    """An evaluation command's counts (batch_size, num_workers, images) as integers of at least
    their low, checked before any data is read: ConfigError naming the setting (torch's own error
    came after the run's output folder was made)."""
    for key, low in lows.items():
        value = settings.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{key} must be an integer >= {low}, got {value!r}")


def check_device(device: str, key: str = "device") -> None:
    """train.device (and evaluate_attributes' device=; `key`: the setting's name in messages): auto,
    cpu, cuda or cuda:N, and a CUDA device only where torch sees one: said before any data is read,
    not when the loop starts."""
    if device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", device):
        raise ConfigError(f"{key} must be auto, cpu, cuda or cuda:N, got {device!r}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"{key}={device} but torch sees no CUDA device on this machine: use {key}=auto (a GPU "
                              f"when there is one) or {key}=cpu")  # fmt: skip


def _fits(value: Any, kind: type) -> bool:
    if kind is type(None):
        return value is None
    if kind is bool or isinstance(value, bool):  # True is an int to Python, not to a config
        return kind is bool and isinstance(value, bool)
    return isinstance(value, (int, float) if kind is float else kind)
