"""One training loop for every stage, readable top to bottom (`Trainer.fit`).

A run folder holds everything about a run:
  run_dir/train_config.json     the TrainConfig used (Hydra's resolved config sits in .hydra/)
  run_dir/train.log             the loop's log: resumes, evaluations, a line per log_every steps
  run_dir/metrics.jsonl         one JSON object per logged step and per evaluation
  run_dir/curves.png            metrics.jsonl drawn (engine.plots.plot_metrics): at each evaluation,
                                and when the run ends or is stopped
  run_dir/checkpoints/last.pt   written atomically every `checkpoint_every` steps and per epoch
  run_dir/checkpoints/best.pt   model weights at the best `monitor` value
Running again with the same run_dir resumes from last.pt at the exact step it reached; a run
that finished (last.pt marks it) is not trained again: fit() says so and returns its last
figures. While fit() runs, run_dir is locked (engine.runs.lock_run_dir): a second process on the
same folder stops with RunInUseError. Temporary files a killed run left in run_dir and
checkpoints/ are removed when fit() starts.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.engine.checkpoint import CheckpointError, load_checkpoint, save_atomic
from lnet_anet.engine.config import ConfigError, TrainConfig
from lnet_anet.engine.distributed import EpochSampler, all_true, init_from_env, world
from lnet_anet.engine.lock import (
    RunRefusedError,
    lock_run_dir,
    release_run_dir,
    remove_stale_temporaries,
)
from lnet_anet.engine.plots import logged_step, plot_metrics
from lnet_anet.engine.signals import ignore_sigterm, interrupts_deferred, sigterm_as_interrupt

LossFn = Callable[[nn.Module, dict], tuple[torch.Tensor, dict[str, float]]]
EvalFn = Callable[[nn.Module, DataLoader, torch.device], dict[str, float]]
# The loop's own lines (train.log and the console); the commands' lines (data, stages, results) go
# to "lnet_anet.train", which Hydra writes to <command>.log. Step lines go to train.log, and to the
# console only where no progress bar shows (output redirected to a file).
log = logging.getLogger("lnet_anet.train.loop")
step_log = logging.getLogger("lnet_anet.train.steps")
# Train settings a resumed run may change without a warning: they do not change what is learnt.
CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "scaler", "step", "epoch", "batch_in_epoch", "best")  # _resume's
FREE_TO_CHANGE = frozenset({"num_workers", "device", "num_threads", "checkpoint_every", "eval_every", "log_every",
                             "progress", "resume"})  # fmt: skip


def changed_settings(before: dict[str, Any], now: dict[str, Any]) -> str:
    """"key old -> new, ..." of the train settings a run recorded (`before`) that `now` changes,
    FREE_TO_CHANGE aside; "" when none. Keys a record lacks (kept since) are not compared."""
    return ", ".join(f"{k} {before[k]!r} -> {now.get(k)!r}" for k in sorted(before)
                     if k not in FREE_TO_CHANGE and now.get(k) != before[k])  # fmt: skip


def refuse_unused_settings(folder: Path, done: str, before: dict[str, Any], now: dict[str, Any],
                           why: str = "") -> None:  # fmt: skip
    """A finished run or stage (`done`, in words) relaunched with train settings other than those
    it trained with (`before`): nothing would train with them, yet the launch's .hydra record
    would say them. RunRefusedError naming each change (training_command then puts the run's own
    record back), and `why` nothing trains when said (a train.max_steps that caps more epochs);
    the same settings, or only FREE_TO_CHANGE ones, pass."""
    moves = changed_settings(before, now)
    if moves:
        raise RunRefusedError(f"{folder}: {done} with other train settings ({moves}): a rerun trains nothing with "
                              f"them{why}; give the run another name= to train with them, or rerun with the run's own")  # fmt: skip

LENGTH_KEYS = frozenset({"epochs", "max_steps"})  # how long a run trains: a finished run given more trains on


def trains_on(before: dict[str, Any], now: dict[str, Any], checkpoint: Path) -> bool:
    """Whether a finished run (LNet, a done train_anet stage) whose train settings were `before`
    goes on to the Trainer with `now`, as a train_age run does: the changes, if any, only in its
    length (train.epochs, train.max_steps), and its checkpoint there to resume. The Trainer then
    trains a longer run on, and refuses a shorter one or one that max_steps caps at the steps
    trained; any other change is refused by refuse_unused_settings."""
    moved = {k for k in before if k not in FREE_TO_CHANGE and now.get(k) != before[k]}
    return bool(moved) and moved <= LENGTH_KEYS and checkpoint.exists()


def no_full_batch(n_samples: int, batch_size: int) -> ConfigError:
    """The error of a training set of n_samples that makes no full batch of batch_size (the Trainer
    drops a last partial batch), naming train.batch_size."""
    return ConfigError(f"{n_samples} training samples make no full batch of {batch_size}: "
                       f"set train.batch_size to {n_samples} or less, or train on more of the data")  # fmt: skip


def check_full_batch(n_samples: int, batch_size: int) -> None:
    """Raise no_full_batch when n_samples < batch_size. A command that caches maps before training
    (train_anet's trunk maps, train_lnet's scenes) asks first, so that a batch too large stops it
    before minutes of caching, not after."""
    if n_samples < batch_size:
        raise no_full_batch(n_samples, batch_size)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"train.device={name} but no CUDA device is visible; use train.device=cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"  # Hydra's own: one format on the console


def setup_logging(run_dir: Path, main_process: bool, bar_shown: bool = True) -> None:
    """The loop's lines to run_dir/train.log and the console, its step lines to train.log and,
    when no progress bar shows (bar_shown False), the console too (rank 0 only); a new run_dir
    moves the file."""
    if not main_process:
        return
    for logger in (log, step_log):
        for handler in [h for h in logger.handlers if getattr(h, "_lnet_anet", False)]:
            logger.removeHandler(handler)
            handler.close()
    file, console = logging.FileHandler(run_dir / "train.log"), logging.StreamHandler()
    for handler in (file, console):
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._lnet_anet = True  # type: ignore[attr-defined]
    for logger, handlers in ((log, (file, console)), (step_log, (file,) if bar_shown else (file, console))):
        for handler in handlers:
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        train_set: Dataset,
        cfg: TrainConfig,
        run_dir: str | Path,
        val_set: Dataset | None = None,
        evaluate_fn: EvalFn | None = None,
        collate_fn: Callable = collate_skip_bad,
        param_groups: list[dict[str, Any]] | None = None,
    ):
        self.cfg, self.run_dir = cfg, Path(run_dir)
        self.loss_fn, self.evaluate_fn, self.collate_fn = loss_fn, evaluate_fn, collate_fn
        self.train_set, self.val_set = train_set, val_set
        if cfg.monitor and (val_set is None or evaluate_fn is None):
            raise ConfigError(f"train.monitor={cfg.monitor}: this stage has no evaluation to take it from; "
                              "drop train.monitor")  # fmt: skip
        self.device = pick_device(cfg.device)
        self.distributed = init_from_env(self.device)
        self.rank, self.world_size = world()
        self.main = self.rank == 0
        if cfg.batch_size % self.world_size:
            raise ValueError(
                f"train.batch_size={cfg.batch_size} must divide evenly over {self.world_size} processes"
            )
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        seed_everything(cfg.seed)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # tqdm's bar (disable=None) shows on a terminal only; elsewhere the step lines stand in for it
        setup_logging(self.run_dir, self.main, bar_shown=bool(cfg.progress) and sys.stderr.isatty())

        self.model = model.to(self.device)
        self.ddp_model: nn.Module = (
            DistributedDataParallel(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
            if self.distributed else self.model
        )  # fmt: skip
        self.sampler = EpochSampler(len(train_set), cfg.seed, self.rank, self.world_size)
        self.steps_per_epoch = len(self.sampler) // (cfg.batch_size // self.world_size)
        if self.steps_per_epoch == 0:
            raise no_full_batch(len(train_set), cfg.batch_size)
        self.total_steps = cfg.epochs * self.steps_per_epoch
        if cfg.max_steps is not None:
            self.total_steps = min(self.total_steps, cfg.max_steps)
        self.optimizer = self._make_optimizer(param_groups or [{"params": model.parameters()}])
        self.scheduler = self._build(cfg.scheduler, {"warmup_steps": cfg.warmup_steps})(self.optimizer, self.total_steps)
        self.use_amp = cfg.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        # Progress: optimizer steps taken, and batches consumed (skipped ones too) in the epoch.
        self.step, self.epoch, self.batch_in_epoch, self.best = 0, 0, 0, None
        self.saved_step: int | None = None  # the step last.pt holds (said when a run is interrupted)
        self.finished, self.last_eval = False, {}  # whether the run ended; its last figures
        self._curves_of: tuple[int, int] | None = None  # metrics.jsonl's (size, mtime) curves.png was drawn from

    # ---- the loop -------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train to the end (or resume there) and return {"step", "skipped_images", and the
        last evaluation's metrics}. Raises RunInUseError when another process holds run_dir.
        Ctrl-C and SIGTERM (a job scheduler's stop, `kill`) end it alike: KeyboardInterrupt,
        after a line saying which checkpoint a rerun resumes from."""
        if not self.main:
            return self._fit()
        lock_run_dir(self.run_dir)
        try:
            with sigterm_as_interrupt():
                for folder in (self.run_dir, self.run_dir / "checkpoints"):  # ours, left by a kill
                    remove_stale_temporaries(folder)
                return self._fit()
        except KeyboardInterrupt:
            self._draw_curves()  # the steps so far
            kept = self.run_dir / "checkpoints" / "last.pt"
            saved = self.saved_step
            since = (f" (it holds step {saved}: a rerun redoes the steps after it)"
                     if saved is not None and saved < self.step else "")  # fmt: skip
            if kept.exists():
                log.warning("interrupted at step %d; %s is kept%s. Run the same command again to resume.", self.step,
                            kept, since)  # fmt: skip
            else:  # nothing to resume from: a rerun starts this stage over
                log.warning("interrupted at step %d; no checkpoint was written yet (one is written every %d steps "
                            "and each epoch). Run the same command again to start this stage over.", self.step,
                            self.cfg.checkpoint_every)  # fmt: skip
            raise
        finally:
            release_run_dir(self.run_dir)

    def _fit(self) -> dict[str, Any]:
        cfg = self.cfg
        self._resume()
        if self.finished:  # re-running a finished run trains nothing
            if self.main:
                log.info("run %s finished before at step %d: nothing to train (delete %s to "
                         "train it again)", self.run_dir, self.step,
                         self.run_dir / "checkpoints" / "last.pt")  # fmt: skip
                if not (self.run_dir / "curves.png").exists():  # a run from before the picture
                    self._draw_curves()
            return {"step": self.step, "skipped_images": 0, **self.last_eval}
        if self.main:
            if cfg.monitor and self.step == 0:
                self._check_monitor()
            (self.run_dir / "train_config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
            log.info("training %s steps (%s per epoch) on %s, %d process(es); run folder %s",
                     self.total_steps, self.steps_per_epoch, self.device, self.world_size, self.run_dir)  # fmt: skip
            if cfg.max_steps is not None and cfg.max_steps > self.total_steps:  # e.g. over experiment=smoke's 1 epoch (a trial)
                log.warning("train.max_steps=%d is more than train.epochs=%d makes (%d steps, %d an epoch): training "
                            "%d steps; raise train.epochs to train more", cfg.max_steps, cfg.epochs,
                            self.total_steps, self.steps_per_epoch, self.total_steps)  # fmt: skip
            per_process = cfg.batch_size // self.world_size
            left = len(self.sampler) - self.steps_per_epoch * per_process
            if left >= 0.1 * len(self.sampler):  # small data: the last, incomplete batch is dropped (a trial)
                log.info("each epoch leaves out %d of its %d samples (the last batch, incomplete; others each epoch, "
                         "as the order is shuffled): a train.batch_size that divides %d uses them all",
                         left, len(self.sampler), len(self.sampler))  # fmt: skip
            if cfg.warmup_steps > self.total_steps > 0:  # a short trial run: the rate never reaches train.lr
                log.warning("warmup_steps %d is longer than the run's %d steps: the learning rate stays below "
                            "train.lr %g throughout; set train.warmup_steps lower for a short run",
                            cfg.warmup_steps, self.total_steps, cfg.lr)  # fmt: skip
        last_eval: dict[str, float] = dict(self.last_eval)
        skipped_images = 0
        # disable=None: no bar when stderr is not a terminal (a log file); the epochs are logged anyway
        bar = tqdm(total=self.total_steps, initial=self.step, disable=None if self.main and cfg.progress else True,
                   desc="train", dynamic_ncols=True)  # fmt: skip
        for epoch in range(self.epoch, cfg.epochs):
            self.epoch = epoch
            self.model.train()
            # a run resumed from the checkpoint written before its last evaluation has no step left
            batches = self._train_loader(epoch, self.batch_in_epoch) if self.step < self.total_steps else ()
            for batch in batches:
                self.batch_in_epoch += 1
                if not all_true(batch is not None, self.device):
                    log.warning("step %d: a whole batch was unreadable; skipped", self.step)
                    continue  # every process skips together, so DDP stays in step
                skipped_images += int(batch.pop("n_skipped", 0))
                stats = self._train_step(batch)
                self.step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{stats['loss']:.4f}", lr=f"{self.scheduler.get_last_lr()[0]:.2e}")
                if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                    lr = self.scheduler.get_last_lr()[0]
                    self._log_metrics({"step": self.step, "epoch": epoch, **stats, "lr": lr, "skipped_images": skipped_images})
                    if self.main:
                        step_log.info("step %d/%d epoch %d: loss %.4f, lr %.2e", self.step, self.total_steps, epoch,
                                      stats["loss"], lr)  # fmt: skip
                if self.step % cfg.checkpoint_every == 0:
                    self._save_last()
                if self.step >= self.total_steps:
                    break
            finished = self.step >= self.total_steps or epoch + 1 == cfg.epochs
            if self.val_set is not None and self.evaluate_fn is not None and (
                finished or (epoch + 1) % cfg.eval_every == 0
            ):
                if self.saved_step != self.step:  # a stop during a long evaluation keeps the epoch's steps
                    self._save_last()
                last_eval = self._evaluate(epoch)
            if finished:
                self.finished, self.last_eval = True, last_eval
                self._save_last()
                break
            self.epoch, self.batch_in_epoch = epoch + 1, 0
            self._save_last()
        bar.close()
        self._draw_curves()  # the whole run (unless the last evaluation drew it already)
        if skipped_images:
            log.warning("%d unreadable training images were skipped (named in the warnings above)",
                        skipped_images)  # fmt: skip
        if self.main:
            log.info("done at step %d; %s", self.step,
                     ", ".join(f"{k}={v:.4g}" for k, v in last_eval.items()) or "no evaluation")  # fmt: skip
        return {"step": self.step, "skipped_images": skipped_images, **last_eval}

    def _train_step(self, batch: dict) -> dict[str, float]:
        batch = {k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v
                 for k, v in batch.items()}  # fmt: skip
        autocast = torch.autocast("cuda", dtype=torch.float16) if self.use_amp else nullcontext()
        with autocast:
            loss, parts = self.loss_fn(self.ddp_model, batch)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at step {self.step}; lower train.lr")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.cfg.grad_clip:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return {"loss": float(loss.detach()), **{k: float(v) for k, v in parts.items()}}

    @torch.no_grad()
    def _evaluate(self, epoch: int) -> dict[str, float]:
        if not self.main:  # rank 0 evaluates; the others wait at the next collective
            return {}
        self.model.eval()
        loader = DataLoader(self.val_set, batch_size=self.cfg.batch_size, shuffle=False,
                            num_workers=self.cfg.num_workers, collate_fn=self.collate_fn,
                            worker_init_fn=ignore_sigterm)  # fmt: skip
        t0 = time.perf_counter()
        metrics = {k: float(v) for k, v in self.evaluate_fn(self.model, loader, self.device).items()}
        self._forget_evaluation_at(self.step)
        self._log_metrics({"step": self.step, "epoch": epoch, "eval_seconds": time.perf_counter() - t0,
                           **{f"val/{k}": v for k, v in metrics.items()}})  # fmt: skip
        log.info("epoch %d step %d: %s", epoch, self.step,
                 ", ".join(f"{k}={v:g}" if float(v).is_integer() else f"{k}={v:.4f}" for k, v in metrics.items()))  # fmt: skip
        self._draw_curves()
        if self.cfg.monitor:
            if self.cfg.monitor not in metrics:
                raise ConfigError(f"train.monitor={self.cfg.monitor} is not among this stage's metrics {sorted(metrics)}")
            value = metrics[self.cfg.monitor]
            better = self.best is None or (value > self.best if self.cfg.monitor_mode == "max" else value < self.best)
            if better:
                self.best = value
                save_atomic({"model": self.model.state_dict(), "step": self.step, self.cfg.monitor: value},
                            self.run_dir / "checkpoints" / "best.pt")  # fmt: skip
        self.model.train()
        return metrics

    @torch.no_grad()
    def _check_monitor(self) -> None:
        """A mistyped train.monitor stops the run now, not after its first epoch: the metric
        names are those of evaluate_fn on one batch of val_set. An evaluation that fails on so few
        faces is not a verdict: the name is then checked at the first evaluation."""
        probe = Subset(self.val_set, range(min(len(self.val_set), self.cfg.batch_size)))
        loader = DataLoader(probe, batch_size=self.cfg.batch_size, num_workers=0, collate_fn=self.collate_fn)
        self.model.eval()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a metric of one batch may be undefined: only its name is read
                names = set(self.evaluate_fn(self.model, loader, self.device))
        except Exception as e:  # noqa: BLE001 - the first evaluation checks it instead
            log.debug("train.monitor not checked before training: %r", e)
            return
        finally:
            self.model.train()
        if self.cfg.monitor not in names:
            raise ConfigError(f"train.monitor={self.cfg.monitor} is not among this stage's metrics {sorted(names)}")

    # ---- pieces ---------------------------------------------------------------------------
    def _train_loader(self, epoch: int, done_in_epoch: int) -> DataLoader:
        """This epoch's batches, starting after the `done_in_epoch` already consumed."""
        per_process = self.cfg.batch_size // self.world_size
        self.sampler.set_epoch(epoch, start=done_in_epoch * per_process)
        # Worker seeds come from this generator: an epoch run whole gets the same augmentation. A
        # resume mid-epoch restarts the draws at the checkpoint's batch, so the rest of that epoch
        # sees other augmentations (and dropout masks) than an uninterrupted run would.
        g = torch.Generator().manual_seed(self.cfg.seed * 7919 + epoch * 104729 + self.rank)
        torch.manual_seed(self.cfg.seed + epoch * 1000 + done_in_epoch)
        return DataLoader(self.train_set, batch_size=per_process, sampler=self.sampler,
                          num_workers=self.cfg.num_workers, collate_fn=self.collate_fn,
                          drop_last=True, generator=g, pin_memory=self.device.type == "cuda",
                          persistent_workers=False, worker_init_fn=ignore_sigterm)  # fmt: skip

    def _make_optimizer(self, groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
        return self._build(self.cfg.optimizer, {"lr": self.cfg.lr, "weight_decay": self.cfg.weight_decay})(groups)

    @staticmethod
    def _build(spec: dict[str, Any], defaults: dict[str, Any]):
        """The partial that a `_target_` / `_partial_` mapping names; `defaults` fill the keys it
        leaves out (a Hydra config gives them all, by interpolation of the train group)."""
        from hydra.utils import instantiate

        return instantiate({**defaults, **spec})

    def _forget_evaluation_at(self, step: int) -> None:
        """Drop metrics.jsonl's evaluation line of `step`, if any: a run stopped after logging it
        but before its checkpoint moved on evaluates that step again when resumed (trial 81 read
        the same evaluation twice)."""
        path = self.run_dir / "metrics.jsonl"
        if not self.main or not path.exists():
            return
        lines = path.read_text().splitlines(keepends=True)
        kept = [line for line in lines if not (logged_step(line) == step and '"val/' in line)]
        if len(kept) < len(lines):
            path.write_text("".join(kept))

    def _forget_metrics_after(self, step: int) -> None:
        """Drop metrics.jsonl's lines of steps after `step`: a resumed run takes those steps again,
        so each step keeps one line."""
        path = self.run_dir / "metrics.jsonl"
        if not self.main or not path.exists():
            return
        lines = path.read_text().splitlines(keepends=True)
        kept = [line for line in lines if logged_step(line) <= step]  # a line cut by a kill goes too
        if len(kept) < len(lines):
            path.write_text("".join(kept))

    def _draw_curves(self) -> None:
        """run_dir/curves.png drawn from metrics.jsonl (plots.plot_metrics; rank 0), unless the file
        is unchanged since the last drawing or holds nothing to draw yet. A picture that fails is a
        warning in the log: it never stops the run."""
        path = self.run_dir / "metrics.jsonl"
        if not self.main or not path.exists():
            return
        stat = path.stat()
        if (stat.st_size, stat.st_mtime_ns) == self._curves_of:
            return
        name = "/".join(self.run_dir.resolve().parts[-2:])
        try:
            plot_metrics(path, self.run_dir / "curves.png", name)
        except ValueError:  # no complete line yet
            return
        except Exception as e:  # noqa: BLE001 - a picture is not worth a run
            log.warning("%s not drawn: %s: %s", self.run_dir / "curves.png", type(e).__name__, e)
            return
        self._curves_of = (stat.st_size, stat.st_mtime_ns)

    def _log_metrics(self, record: dict[str, Any]) -> None:
        if self.main:
            with open(self.run_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")

    def _state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "best": self.best,
            "world_size": self.world_size,
            "finished": self.finished,
            "total_steps": self.total_steps,
            "last_eval": dict(self.last_eval),
            "train_config": self.cfg.to_dict(),
        }

    def _save_last(self) -> None:
        if self.main:
            with interrupts_deferred():  # a stop waits for the file and saved_step to agree
                save_atomic(self._state(), self.run_dir / "checkpoints" / "last.pt")
                self.saved_step = self.step

    def _resume(self) -> None:
        path = self.run_dir / "checkpoints" / "last.pt"
        if not (self.cfg.resume and path.exists()):
            self._forget_metrics_after(-1)  # trained from the start: a run killed before its first checkpoint logged steps it takes again
            return
        state = load_checkpoint(path)
        missing = [k for k in CHECKPOINT_KEYS if not isinstance(state, dict) or k not in state]
        if missing:  # readable, but not this trainer's (a bare state_dict saved over it, another tool's file)
            raise CheckpointError(f"{path}: not a checkpoint of this trainer (no {', '.join(missing)}); delete it to "
                                  "train this run from its start, or give the run another name=")  # fmt: skip
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as e:  # another model (or other sizes) trained in this folder before
            first = next((line.strip() for line in str(e).splitlines()[1:] if line.strip()), str(e))
            first = first if len(first) <= 240 else first[:240] + " ..."  # torch lists every missing key
            raise RunRefusedError(f"{path}: this run folder holds a checkpoint of another model ({first}); "
                                  "give the run another name= (or remove the folder to start over)") from None
        before, now = state.get("train_config", {}), self.cfg.to_dict()
        moves = changed_settings(before, now)
        # The checkpoint's optimizer and scheduler states hold the run's old hyperparameters (lr,
        # weight decay, the scheduler's base lrs): this launch's, built from its settings, are put
        # back over them, so that a resume with a new train.lr trains at it, as the log says.
        settings = [{k: v for k, v in g.items() if k not in ("params", "lr")} for g in self.optimizer.param_groups]
        base_lrs = list(getattr(self.scheduler, "base_lrs", []))
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        for group, own in zip(self.optimizer.param_groups, settings, strict=True):
            group.update(own)
        if base_lrs and hasattr(self.scheduler, "lr_lambdas"):  # LambdaLR (engine.schedules): lr = base * factor(step)
            self.scheduler.base_lrs = base_lrs
            lrs = [base * factor(self.scheduler.last_epoch) for base, factor in zip(base_lrs, self.scheduler.lr_lambdas, strict=True)]
            for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
                group["lr"] = lr
            self.scheduler._last_lr = lrs
        self.scaler.load_state_dict(state["scaler"])
        self.step, self.best = int(state["step"]), state["best"]
        self.saved_step = self.step
        self.epoch, self.batch_in_epoch = int(state["epoch"]), int(state["batch_in_epoch"])
        self.last_eval = {k: float(v) for k, v in state.get("last_eval", {}).items()}
        self._forget_metrics_after(self.step)
        # Finished: marked so by a run of the same length, or every step taken (checkpoints
        # from before the mark); a longer run (more epochs or steps) goes on.
        same_length = state.get("total_steps", self.total_steps) == self.total_steps
        if "finished" in state:  # False: stopped, perhaps in the evaluation after its last step, which is then run
            self.finished = bool(state["finished"]) and same_length
        else:  # checkpoints from before the mark
            self.finished = self.step >= self.total_steps
        if state.get("finished") and not self.finished and self.batch_in_epoch >= self.steps_per_epoch:
            # a finished run made longer, its last epoch whole (trained and evaluated): go on with the
            # next one, rather than loop over that epoch's spent batches and evaluate it again
            self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        if self.finished:
            capped = (self.cfg.max_steps is not None and self.cfg.max_steps <= self.step
                      and self.cfg.epochs * self.steps_per_epoch > self.step)  # fmt: skip
            why = (f" (train.max_steps={self.cfg.max_steps} caps the run at the {self.step} steps it has trained: "
                   "raise train.max_steps, or set train.max_steps=null, to train on)") if capped else ""  # fmt: skip
            refuse_unused_settings(self.run_dir, f"this run finished at step {self.step}", before, now, why)
        elif self.step > self.total_steps:  # a shorter run (max_steps, epochs lowered) than the steps already trained:
            # nothing would train, yet train_config.json and the .hydra record would say the shorter length (a trial).
            # At the very step reached, an unfinished run is finished: its model and evaluation are written (a trial)
            done = (f"this run finished at step {self.step}" if state.get("finished")
                    else f"this run has trained {self.step} steps, and this launch asks for {self.total_steps},")  # fmt: skip
            refuse_unused_settings(self.run_dir, done, before, now)
        if moves and self.main:
            log.warning("resuming %s with train settings other than the run's: %s (the rest of the run follows "
                        "the new ones; another name= starts afresh)", path, moves)  # fmt: skip
        if self.main and not self.finished:
            log.info("resumed from %s at step %d", path, self.step)
