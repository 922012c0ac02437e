"""Learning-rate schedules for the Trainer, as factories `(optimizer, total_steps) -> LRScheduler`
(configs build them with `_target_` and `_partial_`, conf/train/scheduler/). Stepped once per
optimizer step."""

from __future__ import annotations

import math

import torch


def warmup_cosine(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0
                  ) -> torch.optim.lr_scheduler.LambdaLR:  # fmt: skip
    """Linear warm-up over `warmup_steps`, then cosine decay to zero at `total_steps`."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        span = max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup_steps) / span)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def warmup_constant(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0
                    ) -> torch.optim.lr_scheduler.LambdaLR:  # fmt: skip
    """Linear warm-up over `warmup_steps`, then the optimizer's learning rate unchanged."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / max(1, warmup_steps)))
