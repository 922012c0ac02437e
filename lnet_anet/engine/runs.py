"""Run-folder helpers shared by the entry points: where a run lives and what it records.

A training entry point starts with `out = start_run(cfg.train.seed)`: the run folder, locked
for this process (a second process on the same folder stops with RunInUseError), cleared of
temporary files a killed run left, and every random generator seeded BEFORE the model is
built. Weights are written atomically (save_weights: temporary file + os.replace), and a stage
is done only when its marker, written last (mark_done), exists (is_done).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import platform
import re
import sys
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException, InstantiationException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue
from safetensors import SafetensorError

from lnet_anet.data.errors import DatasetFormatError
from lnet_anet.engine.checkpoint import CheckpointError, save_safetensors_atomic
from lnet_anet.engine.config import ConfigError, TrainConfig
from lnet_anet.engine.lock import (  # noqa: F401 - part of this module's interface
    RunInUseError,
    RunRefusedError,
    lock_run_dir,
    release_run_dir,
    remove_stale_temporaries,
)
from lnet_anet.engine.signals import sigterm_as_interrupt

if TYPE_CHECKING:  # torch and pandas load where used: a training command's --help needs neither
    import pandas as pd
    import torch


def is_main_process() -> bool:
    """engine.distributed.is_main_process, loading torch only when called."""
    from lnet_anet.engine.distributed import is_main_process as main_process

    return main_process()


def run_dir() -> Path:
    """The Hydra run folder of this job (conf: hydra.run.dir = runs/<name>)."""
    return Path(HydraConfig.get().runtime.output_dir)


HYDRA_RECORD = ("config.yaml", "hydra.yaml", "overrides.yaml")  # what Hydra writes into <run>/.hydra


class RunNotFoundError(FileNotFoundError):
    """A run folder a command reads (run=, init_from=, anet_run=), or a file it must hold, is not
    there; the message names the file."""


class RunFileError(ValueError):
    """A file a command reads from a run folder (weights, features, a cache) that exists but cannot
    be read: cut short or overwritten. The message names the file, why, and what to do."""


# What a user fixes in the command or the data: one line, exit status 2 (training_command)
USER_ERRORS = (ConfigError, DatasetFormatError, RunRefusedError, RunInUseError, RunNotFoundError, CheckpointError,
               RunFileError)  # fmt: skip
# What reading a damaged file raises: safetensors' header error, numpy's zip and pickle errors, a cut-short stream
UNREADABLE = (SafetensorError, OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error)


@contextlib.contextmanager
def reading(path: str | Path, fix: str) -> Iterator[None]:
    """Around the read of a run's file `path`: an error that says the file is damaged
    (UNREADABLE, not one of USER_ERRORS, which name their file already) becomes RunFileError
    "PATH: cannot be read (REASON): FIX", where safetensors and numpy name no file."""
    try:
        yield
    except USER_ERRORS:
        raise
    except UNREADABLE as e:
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise RunFileError(f"{path}: cannot be read ({reason}): {fix}") from None


def load_npz(path: Path, fix: str = "delete it: the same command computes it again") -> dict[str, np.ndarray]:
    """The arrays a run cached in `path` (.npz); RunFileError naming the file when it cannot be
    read (a trial cut one short and got zipfile's traceback, naming no file)."""
    with reading(path, fix):
        with np.load(path) as z:
            return {k: z[k] for k in z.files}


def _to_log_files(line: str, level: int) -> None:
    """`line` in every log file open (Hydra's <run>/<command>.log, the trainer's train.log), once
    each, and not on the console, where the command prints it itself: the log of a launch that
    ended on an error says why, as the terminal did."""
    loggers = [logging.getLogger(), *(v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger))]
    files = {id(h): h for lg in loggers for h in lg.handlers if isinstance(h, logging.FileHandler)}
    record = logging.LogRecord("lnet_anet", level, __file__, 0, line, None, None)
    for handler in files.values():
        if level >= handler.level:
            handler.handle(record)


def training_command(main: Callable) -> Callable:
    """A training or evaluation command's main (under @hydra.main): Ctrl-C ends it with exit status 130 and one
    line on resuming (the trainer has logged the step reached), not a traceback. A setting or
    dataset that cannot work (ConfigError, DatasetFormatError: the message names it) or a folder
    that refuses the run ends it with "error: ..." on stderr and exit status 2, not a traceback;
    a run folder that then holds nothing trained (only Hydra's record, the lock, data.json and the
    log) is removed, so a mistyped command leaves no empty run behind.

    It also keeps the run folder's record true. Hydra writes this launch's config into
    <run>/.hydra before main starts, so a launch the folder refuses (RunRefusedError: another
    model, other data) would leave its config there, over the one the weights were trained with,
    and build_bundle would copy it into a bundle's provenance. Every launch that is not refused
    keeps a copy in .hydra/accepted/; a refused one puts that copy back."""

    command = Path(main.__code__.co_filename).stem  # train_age, train_lnet, ...: the module run

    @functools.wraps(main)
    def run(*args: Any, **kwargs: Any) -> Any:
        _warnings_as_log_lines()
        started = time.time()
        try:
            try:
                _check_experiment_command(args[0] if args else None, command)
                _check_train_settings(args[0] if args else None)  # before any data is read
                _check_data_settings(args[0] if args else None)
                with sigterm_as_interrupt():  # a scheduler's stop, also outside the training loop (caches, scoring)
                    result = main(*args, **kwargs)
            except InstantiationException as e:  # hydra.utils.instantiate wraps what a reader raised
                if isinstance(e.__cause__, USER_ERRORS):
                    raise e.__cause__ from None
                if isinstance(e.__cause__, (ImportError, TypeError, ValueError, OSError)):  # a _target_ or argument mistyped
                    raise ConfigError(_instantiation_line(e)) from None
                raise
            except ValueError as e:  # a bundle a setting names that no caller turned into a ConfigError: it names the file
                bundle = sys.modules.get("lnet_anet.inference.bundle")
                if bundle is not None and isinstance(e, bundle.BundleError) and not isinstance(e, USER_ERRORS):
                    raise ConfigError(str(e)) from None
                raise
            except MissingMandatoryValue as e:  # a config's ??? left unset
                raise ConfigError(f"{e.full_key} is required (??? in its config): set it on the command line, "
                                  f"e.g. {e.full_key}=...") from None  # fmt: skip
        except USER_ERRORS as e:
            _hydra_record(restore=True)
            kept = isinstance(e, (RunRefusedError, RunInUseError))  # the folder is another run's
            removed = None if kept else _remove_untrained_run(args[0] if args else None)
            said = f"error: {e}" + (f" ({removed})" if removed else "")
            if removed is None:  # a run folder left behind: its log says why the launch ended too
                _to_log_files(said, logging.ERROR)
            print(said, file=sys.stderr)
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            _hydra_record(restore=not _trained_since(started))
            said = ("interrupted: run the same command again: it reuses what was finished or checkpointed "
                    "and redoes the rest")
            _to_log_files(said, logging.WARNING)
            print(said, file=sys.stderr)
            raise SystemExit(130) from None
        except BaseException:
            _hydra_record(restore=not _trained_since(started))  # what trained with this config makes it the run's
            raise
        _hydra_record(restore=False)
        return result

    return run


def _instantiation_line(e: InstantiationException) -> str:
    """Hydra's instantiate error in one line, without its HYDRA_FULL_ERROR advice: which _target_
    could not be found or called, why, and the config key (full_key)."""
    text = re.sub(r",? ?set env var HYDRA_FULL_ERROR=1 to see chained exception\.?", "", str(e))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    key = next((line for line in lines if line.startswith("full_key:")), None)
    cause = str(e.__cause__).strip()
    why = cause.splitlines()[-1] if isinstance(e.__cause__, ImportError) else cause  # ImportError's last line: what, where
    return f"{lines[0].rstrip(':')}: {why}" + (f" ({key})" if key else "")


class ConfigSyntaxError(ConfigCompositionException):
    """A config file that is not valid YAML, named by file, line and column."""


class RunFolderCheck(Callback):
    """Hydra callback (conf/hydra/default.yaml's hydra.callbacks, so every command's): the launch's
    run folder checked by _check_run_folder when the run starts, before Hydra makes it (Hydra's
    own mkdir ends in a traceback). A run folder that cannot be made, or a bad name=, ends in one
    line and exit status 2."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_run_folder(config, "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check_run_folder(config, "hydra.sweep.dir")


def yaml_errors_named(command: Callable) -> Callable:
    """The outermost decorator of a Hydra command (above @hydra.main). A YAML syntax error in a
    config file the launch reads (a user's experiment file, an edited conf/) is reported in one
    line naming the file, line and column, where Hydra prints a ~90-line traceback because it
    shortens only its own errors. The exit status stays Hydra's for a config error, 1. (The run
    folder is checked by the RunFolderCheck callback.)

    Hydra reads every config file with OmegaConf.load (its file and package config sources), so
    OmegaConf.load is wrapped for the launch and put back after."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        load = OmegaConf.load

        def load_named(file_: Any) -> Any:
            try:
                return load(file_)
            except yaml.MarkedYAMLError as e:
                raise ConfigSyntaxError(f"error: {_yaml_error_line(e, getattr(file_, 'name', file_))}") from None

        OmegaConf.load = staticmethod(load_named)
        try:
            return command(*args, **kwargs)
        finally:
            OmegaConf.load = load

    return run


def _check_run_folder(config: DictConfig, key: str) -> None:
    """Before Hydra makes the launch's output folder (config's `key`, hydra.run.dir): a `name` that
    would not name a folder inside the runs folder (empty, absolute, with '..'), or a folder that
    cannot be made (a file on its path, a folder this user cannot write), one "error: ..." line
    naming the folder, what is in the way and paths.runs / LNET_ANET_RUNS, and exit status 2, where
    Hydra's mkdir ends in a traceback (a trial's LNET_ANET_RUNS named a photo). The folder is made
    here, as Hydra would make it next."""
    before = HydraConfig.instance().cfg
    try:
        HydraConfig.instance().set_config(config)  # as run_job does before it reads the folder (${hydra:...})
        folder = Path(str(OmegaConf.select(config, key))).expanduser().absolute()
        runs = OmegaConf.select(config, "paths.runs", default=None)
        name = OmegaConf.select(config, "name", default=None)
    except Exception:  # noqa: BLE001 - a folder the config cannot spell yet: Hydra's own error follows
        return
    finally:
        HydraConfig.instance().cfg = before  # run_job puts back what it found: what was there before this
    parts = Path(str(name)).parts if name is not None else ()
    if name is not None and (not str(name).strip() or Path(str(name)).is_absolute() or ".." in parts
                             or all(part == "." for part in parts)):  # fmt: skip
        # name= trained into the runs folder itself (every run's), ../x outside it (a trial)
        print(f"error: name= must name a folder inside the runs folder (e.g. name=age-try1, or name=ablations/try1), "
              f"not empty, absolute or with '..', got {str(name)!r}", file=sys.stderr)  # fmt: skip
        raise SystemExit(2)
    if name is not None and runs is not None:
        _check_own_folder(folder, Path(str(runs)).expanduser().absolute(), str(name))
    try:
        folder.mkdir(parents=True, exist_ok=True)  # as Hydra would, the line after
        return
    except OSError as e:
        reason = e.strerror or str(e)
    blocked = next((p for p in [folder, *folder.parents] if os.path.lexists(p)), folder)
    why = "is a file, not a folder" if blocked.exists() and not blocked.is_dir() else f"cannot be written ({reason})"
    hint = ""
    if runs is not None:
        root = Path(str(runs)).expanduser().absolute()
        if blocked == root or blocked in root.parents or root in blocked.parents:
            hint = "; point paths.runs=DIR (or LNET_ANET_RUNS) at a folder you can write to"
    print(f"error: cannot make the run folder {folder}: {blocked} {why}{hint}", file=sys.stderr)
    raise SystemExit(2)


RUN_SIGNS = (".hydra", "train_config.json", ".lock")  # what a launch writes first into a run folder


def is_run_folder(folder: Path) -> bool:
    """Whether `folder` holds a run: a launch's .hydra/ record, the Trainer's train_config.json,
    the lock, or a done marker (<file>.done)."""
    try:
        return folder.is_dir() and (any((folder / sign).exists() for sign in RUN_SIGNS)
                                    or any(folder.glob("*.done")))  # fmt: skip
    except OSError:
        return False


def _run_below(folder: Path, depth: int = 4) -> Path | None:
    """A run folder below `folder` (not itself), `depth` levels down at most; None when none."""
    try:
        children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return None
    for child in children:
        if is_run_folder(child):
            return child
    for child in children if depth > 1 else ():
        found = _run_below(child, depth - 1)
        if found is not None:
            return found
    return None


def _check_own_folder(folder: Path, runs: Path, name: str) -> None:
    """A training launch's run folder (runs/<name>, Hydra's default layout; an evaluation's lies
    inside the run it scores, and is not checked) must be a folder of its own: not one inside
    another run's folder (name=age-a/sub), nor a folder that holds other runs (name=grp after
    name=grp/f1), whose removal ("remove the folder to start over") would take them too (a
    trial). One "error: ..." line and exit status 2; nested names under a plain folder pass."""
    if folder != runs / name:
        return
    for above in list(folder.parents)[: len(folder.relative_to(runs).parts) - 1]:  # between the runs folder and it
        if is_run_folder(above):
            print(f"error: name={name} puts this run inside the run {above}: give a run its own folder, e.g. "
                  f"name={folder.relative_to(runs).as_posix().replace('/', '-')}", file=sys.stderr)  # fmt: skip
            raise SystemExit(2)
    if is_run_folder(folder):  # its own stage folders and evaluations lie in it; another run's .hydra/ is at the top
        inside = next((p for p in sorted(folder.iterdir()) if (p / ".hydra").is_dir()), None)
    else:
        inside = _run_below(folder) if folder.is_dir() else None
    if inside is not None:
        print(f"error: name={name}: {folder} holds the run {inside.relative_to(runs).as_posix()}: give a run its "
              f"own folder, e.g. name={folder.relative_to(runs).as_posix()}/another-name", file=sys.stderr)  # fmt: skip
        raise SystemExit(2)


def _yaml_error_line(e: yaml.MarkedYAMLError, file_: Any) -> str:
    """'conf/x.yaml, line 5, column 1: not valid YAML: expected ...' (1-based, as editors count; where
    the construct began, such as an unclosed bracket, follows in brackets)."""
    mark, start = e.problem_mark, e.context_mark
    where = f"{file_}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(file_)
    said = f"{where}: not valid YAML: {e.problem or ''}".rstrip(": ")
    if e.context and start is not None:
        said += f" ({e.context} from line {start.line + 1}, column {start.column + 1})"
    return said


def with_run_data(argv: list[str], carry: Callable[[DictConfig], dict[str, Any]] | None = None) -> list[str]:
    """An evaluation command's arguments (sys.argv[1:], before Hydra reads them) with the data of
    the run it scores put before the user's overrides, when they name the run (run=FOLDER) and no
    data=: the run's data= choice and data.* and paths.* overrides (where its data was read or
    made), from its .hydra/hydra.yaml and overrides.yaml. `evaluate_localization run=runs/lnet-synthetic` then scores it on the data it was
    trained on, not on the config's default (CelebA-HQ, which may not be there), and names its output
    folder by that data; a data.* override the user gives replaces the run's. Said in a note on
    stderr. Unchanged when no run= is given or the run has no readable record.
    carry: from the run's composed config (.hydra/config.yaml), the data settings to take too,
    {"data.KEY": value}, when the run's overrides and the user's do not set them: what the run's
    own config set (fit_svms' crop=box, which no override names; trial 65)."""
    given = {a.split("=", 1)[0].lstrip("+~"): a.split("=", 1)[1] for a in argv if "=" in a and not a.startswith("-")}
    run = given.get("run")
    if run is None or "${" in run or "data" in given:  # the default run follows data=; data named: kept
        return argv
    record = Path(run).expanduser() / ".hydra"
    try:
        choice = OmegaConf.load(record / "hydra.yaml").hydra.runtime.choices.get("data")
        overrides = [str(o) for o in OmegaConf.load(record / "overrides.yaml")]
    except Exception:  # noqa: BLE001 - no record, or one that does not read: the config's default stays
        return argv
    if not choice:
        return argv
    keys = [o.split("=", 1)[0].lstrip("+~") for o in overrides]
    taken = [f"data={choice}", *(o for o, k in zip(overrides, keys, strict=True)
                                 if "=" in o and k.startswith(("data.", "paths.")) and k not in given)]  # fmt: skip
    if carry is not None:
        try:
            carried = carry(OmegaConf.load(record / "config.yaml"))
        except Exception:  # noqa: BLE001 - no composed config, or one that no longer resolves: its overrides alone
            carried = {}
        taken += [f"{k}={override_value(v)}" for k, v in carried.items() if k not in keys and k not in given]
    print(f"note: scoring on the data {run} was trained on: {' '.join(taken)} (its .hydra record; give data= "
          "for other data)", file=sys.stderr)  # fmt: skip
    first = next(i for i, a in enumerate(argv) if "=" in a and not a.startswith("-"))
    return [*argv[:first], *taken, *argv[first:]]


def override_value(value: Any) -> str:
    """A value as a Hydra command-line override spells it: null, numbers as they are, a string
    quoted when it holds characters the override grammar reads otherwise."""
    if value is None:
        return "null"
    text = str(value)
    return text if isinstance(value, (int, float)) or re.fullmatch(r"[\w./:@+-]+", text) else "'" + text.replace("'", "\\'") + "'"


def refuse_run_file(argv: list[str], command: str,
                    for_bundles: str = "benchmarks/bench_attributes.py scores a bundle's attributes on labelled files") -> None:
    """An evaluation command given run=FILE (a bundle, say) stops here with one error line (exit
    2): Hydra would make its output folder inside run= before the command's own checks, and fail
    with a traceback. run= is resolved first when it is ${lnet_anet.asset:NAME} (a shipped file).
    for_bundles: the tool the line names for a bundle (the one that scores what `command` does)."""
    run = next((a.split("=", 1)[1] for a in argv if a.split("=", 1)[0].lstrip("+~") == "run" and "=" in a), None)
    if run is None:
        return
    try:
        import lnet_anet  # noqa: F401 - registers the lnet_anet.asset resolver

        path = Path(str(OmegaConf.create({"run": run}).run)).expanduser()
    except Exception:  # noqa: BLE001 - an interpolation of other config keys: Hydra resolves it
        return
    if path.is_file():
        kind = f" (a bundle: {for_bundles})" if path.suffix == ".lnetanet" else ""
        print(f"error: run={path} is a file{kind}; {command} scores a training run's folder, e.g. run=runs/NAME",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2)


def _warnings_as_log_lines() -> None:
    """Under a Hydra job (a command run by a user), Python warnings (an unreadable image skipped, a
    metric undefined) become log lines "WARNING UserWarning: <message>" on the console and in the
    command's log file, not "<our file>:<line>: UserWarning" plus that source line; DataLoader
    workers, forked later, inherit it. Outside Hydra (tests, a library caller), nothing changes."""
    try:
        HydraConfig.get()
    except ValueError:
        return
    warnings.formatwarning = lambda message, category, *_, **__: f"{category.__name__}: {message}"
    logging.captureWarnings(True)


def _check_experiment_command(cfg: Any, command: str) -> None:
    """An experiment recipe (conf/experiment/*.yaml) names the commands it is for in `for_commands`;
    run by another (train_age experiment=lnet_cpu), its settings would be merged in and mostly
    ignored, so the command stops instead. Raises ConfigError."""
    allowed = cfg.get("for_commands") if isinstance(cfg, DictConfig) else None
    if allowed is None or command in allowed:
        return
    try:
        name = HydraConfig.get().runtime.choices.get("experiment")
    except ValueError:  # not under Hydra
        name = None
    which = f"experiment={name}" if name else "this experiment"
    raise ConfigError(f"{which} is a recipe for {' or '.join(f'python -m lnet_anet.cli.{c}' for c in allowed)}, "
                      f"not for {command}; see lnet_anet/conf/experiment/ for the recipes of each command")


def _check_train_settings(cfg: Any) -> None:
    """A command config's `train` group as the loop will read it (TrainConfig.from_dict), so that
    `train.epochs=abc` stops the command before it reads a dataset. Raises ConfigError."""
    if isinstance(cfg, DictConfig) and isinstance(cfg.get("train"), DictConfig):
        TrainConfig.from_dict(OmegaConf.to_container(cfg.train, resolve=True))


def _check_data_settings(cfg: Any) -> None:
    """A command config's `data` group's crop settings (data.from_config.check_data_settings), before
    any data is read. Raises ConfigError."""
    if isinstance(cfg, DictConfig) and isinstance(cfg.get("data"), DictConfig):
        from lnet_anet.data.from_config import check_data_settings

        check_data_settings(cfg.data)


def _remove_untrained_run(cfg: Any = None) -> str | None:
    """Remove this job's run folder when it holds only what a launch writes before training
    (Hydra's record, the lock, data.json, recipe.json, the command's and the trainer's logs); what was removed,
    in words, or None when it was kept (anything else in it, outside a Hydra job, or off rank 0).
    An evaluation's output folder lies inside the run it scores (cfg.run, as <run>/<name>/<time>):
    the folders between, and the run's, go too when they are left empty (Hydra made them for this
    launch's output: a mistyped run=)."""
    import shutil

    if not is_main_process():
        return None
    try:
        folder, job = run_dir(), HydraConfig.get().job.name
    except ValueError:  # HydraConfig not set: called outside @hydra.main
        return None
    launch_files = {".hydra", ".lock", "data.json", "recipe.json", f"{job}.log", "train.log"}  # recipe.json: train_lnet's, train_age's
    if not folder.is_dir() or any(p.name not in launch_files for p in folder.iterdir()) or folder.resolve() == Path.cwd().resolve():
        return None
    logging.shutdown()  # Hydra's file handler holds the command's log open
    shutil.rmtree(folder, ignore_errors=True)
    scored = Path(str(cfg.run)).resolve() if isinstance(cfg, DictConfig) and cfg.get("run") is not None else None
    emptied = []  # the folders above it, up to the scored run, that Hydra made for it and now hold nothing
    parent = folder.resolve().parent
    while scored is not None and (parent == scored or scored in parent.parents) and not any(parent.iterdir()):
        parent.rmdir()
        emptied.append(parent)
        parent = parent.parent
    if emptied and emptied[-1] == scored:
        return f"the output folder {folder} held nothing and was removed, with {scored}, which Hydra had made for it"
    return f"{folder}, made by this launch, held nothing and was removed"


def _trained_since(started: float) -> bool:
    """Whether this launch wrote anything a run learns or caches into its folder (checkpoints,
    weights, caches, done markers, modified at or after `started`): a launch that stopped or
    crashed before that leaves the folder's record as it was. Outside a Hydra job: True."""
    try:
        folder = run_dir()
    except ValueError:
        return True

    def written_since(path: Path) -> bool:
        try:
            return path.stat().st_mtime >= started
        except OSError:  # a temporary file renamed away meanwhile
            return False

    learnt = (".safetensors", ".npz", ".pt", ".done")
    return any(p.suffix in learnt and written_since(p) for p in folder.rglob("*"))


def _hydra_record(restore: bool) -> None:
    """Copy <run>/.hydra's files into .hydra/accepted/ (restore=False), or back (restore=True,
    when there is a copy). Outside a Hydra job, or off rank 0, nothing."""
    import shutil

    if not is_main_process():
        return
    try:
        hydra_dir = run_dir() / ".hydra"
    except ValueError:  # HydraConfig not set: called outside @hydra.main
        return
    kept = hydra_dir / "accepted"
    source, target = (kept, hydra_dir) if restore else (hydra_dir, kept)
    if not source.is_dir() or (restore and not (kept / "config.yaml").is_file()):
        return
    target.mkdir(parents=True, exist_ok=True)
    for name in HYDRA_RECORD:
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)


def start_run(seed: int) -> Path:
    """The Hydra run folder, locked (lock_run_dir; the rank-0 process only under torchrun, whose
    other processes log warnings only), cleared of stale temporary files, with every generator
    seeded by `seed`: call it first,
    before anything random (the model's initial weights) is made. Raises RunInUseError when
    another process is running in that folder."""
    from lnet_anet.engine.trainer import seed_everything

    folder = run_dir()
    if is_main_process():
        lock_run_dir(folder)
        remove_stale_temporaries(folder)
    else:  # under torchrun the rank-0 process reports (results, stages); the others warn only
        logging.getLogger("lnet_anet").setLevel(logging.WARNING)
    seed_everything(seed)
    return folder


def record_data(folder: Path, data_cfg: Any, index: pd.DataFrame) -> None:
    """data.json: which dataset, where (real paths), how many rows per split, the hold-out rule or
    fold, which rows were left out."""
    skipped = list(index.attrs.get("skipped", []))
    summary = {
        "name": data_cfg.name,
        "reader": data_cfg.index._target_,
        "root": _real_paths({k: str(v) for k, v in data_cfg.index.items() if k != "_target_"}),
        "rows": len(index),
        "splits": {str(k): int(v) for k, v in index["split"].value_counts().items()},
        "identities": int(index["identity"].nunique()) if "identity" in index else None,
        "attributes": list(index.attrs.get("attributes", [])),
        "skipped": skipped,
    }
    for key in ("fold", "holdout", "boxes", "limit"):  # k-fold CV, a hold-out rule, LNet face boxes, a row limit (data.*)
        if index.attrs.get(key):
            summary[key] = index.attrs[key]
    summary = json.loads(json.dumps(summary))  # as the file will read back (lists, not tuples)
    # "holdout": data.json written before it was kept lacks it; such a run is taken to have used today's rule
    keep_run_record(folder, "data.json", summary, "on other data", ignore=("skipped",), unrecorded=("holdout",),
                    normalize=lambda before: {**before, "root": _real_paths(before.get("root") or {})},
                    hint=_copies_hint)  # fmt: skip


def _copies_hint(before: dict[str, Any], now: dict[str, Any]) -> str | None:
    """keep_run_record's hint for data.json: a run begun before its hold-out left out copies of
    training images (UTKFace's config since data.holdout.drop_copies) is told how to go on."""
    if (now.get("holdout") or {}).get("drop_copies") and not (before.get("holdout") or {}).get("drop_copies"):
        return "It was begun before the hold-out left out copies of training images: data.holdout.drop_copies=false reads the data as it did"
    return None


def _real_paths(settings: dict[str, str]) -> dict[str, str]:
    """A reader's settings with each one that names an existing file or folder made its real path:
    datasets=DIR/ and datasets=DIR, a link to the data or a relative path name the same data.
    Other values ("auto", a count) stay as they are."""
    return {k: os.path.realpath(v) if isinstance(v, str) and v and os.path.exists(v) else v for k, v in settings.items()}


def keep_run_record(folder: Path, name: str, record: dict[str, Any], what: str, ignore: tuple[str, ...] = (),
                    before_records: dict[str, Any] | None = None, unrecorded: tuple[str, ...] = (),
                    normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                    hint: Callable[[dict[str, Any], dict[str, Any]], str | None] | None = None) -> None:  # fmt: skip
    """Write <folder>/<name>, a JSON record of what the run reads or starts from (a rerun resumes,
    so it must be the same). A folder that has trained (checkpoints, weights, caches) refuses a
    record that differs from the one it holds, apart from the `ignore` keys: RunRefusedError
    naming the keys and `what` ("on other data"). before_records: what a trained folder without
    the file counts as (None: anything); unrecorded: keys that records written before they were
    kept lack, taken as they are now when absent. A record that is not JSON raises RunRefusedError
    naming the file. normalize: applied to the record held before comparing (record_data: the paths
    it names made real, as this launch's are). hint: (held, new) -> a sentence added to the
    refusal, or None."""
    path = folder / name
    before = read_run_record(path) if path.exists() else before_records
    if before is not None and normalize is not None:
        before = normalize(before)
    if before is not None and _has_trained(folder):
        before = {**{k: record.get(k) for k in unrecorded}, **before}
        changed = sorted(k for k in set(before) | set(record) if k not in ignore and before.get(k) != record.get(k))
        if changed:
            moves = "; ".join(m for k in changed for m in _moves(k, before.get(k), record.get(k)))
            said = hint(before, record) if hint is not None else None
            raise RunRefusedError(f"{folder}: this run folder was trained {what} ({', '.join(changed)} "
                                  f"{'differs' if len(changed) == 1 else 'differ'} from its "
                                  f"{name}: {moves}); give the run another name= (or remove the folder to start "
                                  "over)" + (f". {said}" if said else ""))  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, json.dumps(record, indent=2))


def _write_atomically(path: Path, text: str) -> None:
    """`text` into `path` through a file of this process's own, renamed over it: a reader never
    sees it half written (under torchrun each process writes the run's records; trial 83 saw one
    read the other's half-written data.json and stop as if the folder were damaged)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _moves(key: str, before: Any, now: Any) -> list[str]:
    """The leaves that differ between two values of a record's `key`, "a.b: old -> new" (the keys
    of nested objects dotted), in key order."""
    if isinstance(before, dict) and isinstance(now, dict):
        return [m for k in sorted(set(before) | set(now), key=str) if before.get(k) != now.get(k)
                for m in _moves(f"{key}.{k}", before.get(k), now.get(k))]  # fmt: skip
    return [f"{key}: {before} -> {now}"]


def read_run_record(path: Path) -> dict[str, Any]:
    """A run folder's JSON record (data.json, recipe.json); RunRefusedError naming the file and
    the fix when it is not a JSON object (cut short or overwritten)."""
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RunRefusedError(f"{path}: not a readable run record ({e}); the run folder is damaged: remove the "
                              "folder to start over, or give the run another name=") from None  # fmt: skip
    if not isinstance(record, dict):
        raise RunRefusedError(f"{path}: not a run record (a JSON object); remove the folder to start over, or give "
                              "the run another name=")  # fmt: skip
    return record


RECIPE = "recipe.json"


def keep_recipe(folder: Path, recipe: dict[str, Any], defaults: dict[str, Any] | None, what: str,
                unrecorded: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    """<folder>/recipe.json: a training command's settings beyond its data and model (config
    values made plain) that a rerun in the same folder must keep, so that a changed setting is never
    silently left unused by a resumed or finished run (keep_run_record; `defaults`: what a folder
    trained before the file existed counts as, None: whatever this launch's is; unrecorded: keys
    kept since a later version, which an older recipe.json lacks; `what`: the refusal's wording).
    Returns the record."""
    recipe = {k: OmegaConf.to_container(v, resolve=True) if isinstance(v, DictConfig | ListConfig) else v
              for k, v in recipe.items()}  # fmt: skip
    keep_run_record(folder, RECIPE, recipe, what, before_records=defaults, unrecorded=unrecorded)
    return recipe


def _has_trained(folder: Path) -> bool:
    """Whether a run folder holds what a run learnt or cached: checkpoints, weights, features."""
    return (folder / "checkpoints").is_dir() or any(p.suffix in (".safetensors", ".npz", ".pt")
                                                    for p in folder.rglob("*") if p.is_file())


def say_left_out(entries: list[dict[str, Any]], word: str, limit: int = 20) -> None:
    """Each entry ({"path", "reason"}) on stderr as "<word> PATH: REASON", the first `limit` of
    them, then one line counting the rest (the benchmark's results.json lists them all)."""
    for entry in entries[:limit]:
        print(f"{word} {entry['path']}: {entry['reason']}", file=sys.stderr)
    if len(entries) > limit:
        print(f"{word}: {len(entries) - limit} more (all listed in results.json)", file=sys.stderr)


RECORDED_PACKAGES = ("lnet_anet", "numpy", "onnxruntime", "opencv-python-headless", "opencv-python", "pillow",
                     "scikit-learn", "timm", "torchvision")  # whose versions machine() records, where installed


def machine() -> dict[str, Any]:
    """The machine and code a record was made on, enough to reproduce or doubt a figure: processor
    and CPU model, the platform, cores, the threads torch used, the 1-, 5- and 15-minute load
    averages at the call (a shared machine's timings), Python's and the figures' packages' versions (RECORDED_PACKAGES) and
    `revision`, the code's git commit (source_revision). Trial 85 found three benchmark records
    with none of the last four."""
    import torch

    return {
        "processor": platform.processor() or platform.machine(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "packages": package_versions(),
        "revision": source_revision(),
    }


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str]:
    """{distribution: version} of those of `names` that are installed."""
    from importlib import metadata

    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


@functools.lru_cache(maxsize=1)
def source_revision() -> str | None:
    """The git commit of the lnet_anet code running, 12 hex digits, "+dirty" when tracked files
    differ from it (the figures then came from code no commit holds); None outside a git
    checkout (an installed wheel: package_versions gives lnet_anet's version) or without git."""
    import subprocess

    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    if not (root / ".git").exists():
        return None
    commit = git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return None
    changed = git("status", "--porcelain", "--untracked-files=no")
    return commit + ("+dirty" if changed else "")


def _cpu_model() -> str | None:
    """The CPU's model name (Linux's /proc/cpuinfo), else platform's processor string, else None."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def save_weights(model: torch.nn.Module, path: Path, metadata: dict[str, str] | None = None) -> None:
    """Model weights as safetensors (contiguous copies: shared storages are not allowed),
    written atomically: a temporary file beside `path`, then os.replace, so `path` is either
    absent, the old file or the whole new one."""
    path = Path(path)
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    save_safetensors_atomic(state, path, metadata)


def _marker(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".done")


def mark_done(path: Path, **info: Any) -> None:
    """Record that `path` (a stage's weights, written before) is complete: the marker
    <path>.done, written atomically and last."""
    marker = _marker(path)
    _write_atomically(marker, json.dumps({"file": Path(path).name, **info}))


def is_done(path: Path) -> bool:
    """Whether the stage that writes `path` finished: its marker and the file both exist (a
    file without a marker may be one a killed run was writing)."""
    return _marker(path).exists() and Path(path).exists()


def write_json(path: Path, obj: Any) -> None:
    """`obj` as strict JSON (numpy scalars as numbers): NaN and infinities, which JSON has no
    words for and strict parsers refuse, are written as null; written whole or not at all."""
    _write_atomically(Path(path), json.dumps(_finite(obj), indent=2, default=float, allow_nan=False))


def _finite(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def write_model_json(folder: Path, model_cfg: Any, **extra_kwargs: Any) -> None:
    """model.json: the registry name (registered_name: a builder outside the shipped families by
    its module path) and kwargs that rebuild this run's network (the bundle builder uses them;
    `pretrained` is dropped: the trained weights replace it)."""
    from omegaconf import OmegaConf

    from lnet_anet.models.registry import registered_name

    kwargs = OmegaConf.to_container(model_cfg, resolve=True)
    name = registered_name(kwargs.pop("_target_"))
    kwargs.pop("pretrained", None)
    write_json(folder / "model.json", {"model": name, "kwargs": {**kwargs, **extra_kwargs}})


def run_model(folder: Path) -> str | None:
    """The registry name of the model a run folder trained (its model.json's "model"), or None
    when it has no readable model.json: what an error names when a run of another kind is given."""
    try:
        model = json.loads((Path(folder) / "model.json").read_text()).get("model")
    except (OSError, ValueError, AttributeError):
        return None
    return model if isinstance(model, str) else None


def load_run_net(folder: Path, weights: str, stage: str, also: tuple[str, ...] = ()) -> torch.nn.Module:
    """The network a finished run folder holds (model.json + weights), in eval mode; built only
    through the model registry. `also`: further files the caller needs, checked up front. stage:
    the command that writes such a run, named in the RunNotFoundError a missing file raises (the
    folder's kind is read from its model.json, not checked against stage)."""
    from safetensors.torch import load_file

    from lnet_anet.models.registry import create_model

    for needed in ("model.json", weights, *also):
        if not (folder / needed).exists():
            if not folder.is_dir():
                why = f"no such folder: python -m lnet_anet.cli.{stage} writes it, or name another run"
            else:
                kind = run_model(folder)
                why = (f"its model.json names model {kind}: a run of another kind, or not finished" if kind
                       else "or its training has not finished")
            raise RunNotFoundError(f"{folder / needed}: not found; is {folder} a finished {stage} run? ({why})")
    fix = f"the run folder {folder} is damaged: train it again (python -m lnet_anet.cli.{stage}) or name another run"
    with reading(folder / "model.json", fix):
        spec = json.loads((folder / "model.json").read_text())
        if not isinstance(spec, dict) or not {"model", "kwargs"} <= set(spec):
            raise ValueError("not a record of a model and its kwargs")
    model = create_model(spec["model"], pretrained="none", **spec["kwargs"])
    with reading(folder / weights, fix):
        state = load_file(str(folder / weights))
    model.load_state_dict(state)
    return model.eval()


def write_regression_report(folder: Path, preds: pd.DataFrame, part: pd.DataFrame, split: str, target: str,
                            result: dict[str, Any]) -> None:  # fmt: skip
    """eval.json (the metrics and the error by group), eval.md (that table) and predictions.csv
    (one row per scored face: its image file, prediction, spread, label, gender / race) of an age or
    attractiveness run, and for age age_errors.png (engine.plots.plot_age_errors: predicted against
    true age, MAE by band, CS(theta), the share within 1 and 2 std by band; a picture that fails is
    a warning). preds: collect_predictions' rows, joined to `part` on "index"."""
    from lnet_anet.metrics.age import error_by_group, to_markdown

    groups = preds.join(part[[c for c in ("gender", "race") if c in part]], on="index")
    table = error_by_group(groups, bands=None) if target == "attractiveness" else error_by_group(groups)
    write_json(
        folder / "eval.json", {"split": split, **result, "by_group": table.to_dict("records")}
    )
    unit = "years" if target == "age" else "points"
    (folder / "eval.md").write_text(f"{target} on the {split} split ({len(groups)} faces)\n\n{to_markdown(table)}\n"
                                    f"mae: mean absolute error; bias: mean of predicted - true, in {unit} (> 0: "
                                    "predicted higher)\n")  # fmt: skip
    if "path" in part and "index" in groups:  # the face's file, for looking at the worst ones
        groups = groups.join(part["path"].map(lambda p: Path(p).name).rename("image"), on="index")
    groups.to_csv(folder / "predictions.csv", index=False)
    if target == "age":  # the errors by age band and the std's calibration, drawn (engine.plots)
        from lnet_anet.engine.plots import plot_age_errors

        try:
            plot_age_errors(groups["pred"], groups["pred_std"], groups["true"], folder / "age_errors.png",
                            f"{folder.name}, {split} split")  # fmt: skip
        except Exception as e:  # noqa: BLE001 - the report stands without its picture
            logging.getLogger("lnet_anet.train").warning("%s not drawn: %s: %s", folder / "age_errors.png",
                                                         type(e).__name__, e)  # fmt: skip
