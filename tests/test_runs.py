"""Training runs that survive faults: a finished run is a no-op, a folder in use is refused,
weights are written atomically with a done-marker last, the seed comes before the model, and
stale temporary files go."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from safetensors.torch import load_file

from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.checkpoint import load_checkpoint
from lnet_anet.engine.lock import RunInUseError, lock_run_dir, release_run_dir
from lnet_anet.engine.runs import is_done, mark_done, save_weights

sys.path.insert(0, str(Path(__file__).parent))
from _tiny import RandomFaces, TinyAttributeNet, bce_loss  # noqa: E402

CFG = dict(epochs=3, batch_size=8, lr=0.05, num_workers=0, progress=False, checkpoint_every=3)
REPO = Path(__file__).resolve().parents[1]


def _trainer(run_dir: Path, **overrides) -> Trainer:
    torch.manual_seed(0)
    return Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, **overrides}),
                   run_dir)  # fmt: skip


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("length", [{"max_steps": 5}, {"epochs": 1}])
def test_rerunning_a_finished_run_trains_nothing(tmp_path, length):
    first = _trainer(tmp_path, **length)
    done = first.fit()
    metrics = (tmp_path / "metrics.jsonl").read_text()
    again = _trainer(tmp_path, **length)
    result = again.fit()
    assert result["step"] == done["step"] == first.total_steps
    for k, v in _weights(first.model).items():
        assert torch.equal(again.model.state_dict()[k], v)
    assert (tmp_path / "metrics.jsonl").read_text() == metrics  # no step, no evaluation
    assert "finished before at step" in (tmp_path / "train.log").read_text()
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["finished"] is True


def test_a_finished_run_returns_its_last_evaluation_and_a_longer_one_goes_on(tmp_path):
    def evaluate(model, loader, device):
        return {"neg_loss": -float(sum(bce_loss(model, b)[0] for b in loader))}

    def trainer(**kw):
        torch.manual_seed(0)
        return Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, **kw}),
                       tmp_path, val_set=RandomFaces(n=16), evaluate_fn=evaluate)  # fmt: skip

    first = trainer(max_steps=4).fit()
    assert trainer(max_steps=4).fit() == first  # the same figures, nothing trained
    longer = trainer(max_steps=7).fit()
    assert longer["step"] == 7

    # a run finished at the end of its epochs, given more: the next epoch, not the last one again
    epochs = tmp_path / "epochs"
    runs = [Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, "max_steps": None, "epochs": n}),
                    epochs, val_set=RandomFaces(n=16), evaluate_fn=evaluate) for n in (1, 2)]  # fmt: skip
    for run in runs:
        torch.manual_seed(0)
        run.fit()
    rows = [json.loads(line) for line in (epochs / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if "eval_seconds" in r] == [0, 1]  # each epoch evaluated once
    assert runs[1].step == 2 * runs[0].step


def test_resuming_with_another_model_or_other_settings_says_so(tmp_path, caplog):
    _trainer(tmp_path, max_steps=3).fit()
    torch.manual_seed(0)
    other = Trainer(TinyAttributeNet(num_attributes=3), bce_loss, RandomFaces(), TrainConfig(**CFG), tmp_path)
    with pytest.raises(ValueError, match="checkpoint of another model .*another name=") as err:
        other.fit()
    assert len(str(err.value).splitlines()) == 1  # one line, not the state dict's every mismatch
    with caplog.at_level("WARNING", logger="lnet_anet.train"):
        _trainer(tmp_path, max_steps=6, lr=0.01, num_workers=1).fit()  # a longer run, another lr
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "lr 0.05 -> 0.01" in warned and "max_steps 3 -> 6" in warned and "num_workers" not in warned


@pytest.mark.parametrize(("option", "value", "message"), [
    ("epochs", "abc", "train.epochs must be int, got 'abc'"), ("amp", "yes", "train.amp must be bool"),
    ("max_steps", 2.5, "train.max_steps must be int or null"), ("optimizer", "sgd", "train/optimizer=NAME"),
])  # fmt: skip
def test_a_bad_train_option_is_named(option, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        TrainConfig(**{option: value})
    assert TrainConfig(lr=1, grad_clip=None).lr == 1  # an int stands for a float; None where allowed


def test_only_the_main_process_writes_a_dldl_run(tmp_path, monkeypatch):
    """Under torchrun every process ends the run; rank 0 alone evaluates and writes its files."""
    from lnet_anet.dldl.training import finish_dldl_run

    monkeypatch.setenv("RANK", "1")
    assert finish_dldl_run(tmp_path, None, None, None, None, [], None, "val") == {}
    assert list(tmp_path.iterdir()) == []


def test_a_run_folder_in_use_is_refused_and_a_dead_owners_lock_taken_over(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from lnet_anet.engine.lock import lock_run_dir;"
         "lock_run_dir(sys.argv[1]); print('locked', flush=True); time.sleep(120)", str(tmp_path)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunInUseError, match=rf"in use by another run \(process {holder.pid}"):
            _trainer(tmp_path, max_steps=2).fit()
        assert not (tmp_path / "checkpoints").exists()  # nothing written
    finally:
        holder.send_signal(signal.SIGKILL)  # killed: its lock file stays, its lock does not
        holder.wait()
    assert (tmp_path / ".lock").read_text().strip() == str(holder.pid)
    assert _trainer(tmp_path, max_steps=2).fit()["step"] == 2
    lock_run_dir(tmp_path)  # this process: re-entrant, and free again after fit()
    lock_run_dir(tmp_path)
    release_run_dir(tmp_path)
    release_run_dir(tmp_path)
    # a lock held until the process ends is closed on the way out: no "unclosed file" warning
    ended = subprocess.run([sys.executable, "-X", "dev", "-c", "import sys; from lnet_anet.engine.lock import "
                            "lock_run_dir; lock_run_dir(sys.argv[1])", str(tmp_path / "held")],
                           cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)  # fmt: skip
    assert ended.returncode == 0 and "ResourceWarning" not in ended.stderr, ended.stderr


def test_two_processes_on_one_folder_train_once(tmp_path):
    script = (
        "import sys, torch; sys.path.insert(0, 'tests'); from _tiny import *;"
        "from lnet_anet.engine import TrainConfig, Trainer;"
        "from lnet_anet.engine.lock import RunInUseError;\n"
        "try:\n"
        "    Trainer(TinyAttributeNet(), bce_loss, RandomFaces(n=256), TrainConfig(epochs=4,"
        " batch_size=8, num_workers=0, progress=False), sys.argv[1]).fit(); print('trained')\n"
        "except RunInUseError as e:\n"
        "    print('refused', e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for _ in range(2)]  # fmt: skip
    outs = sorted(p.communicate(timeout=300)[0].strip() for p in runs)
    # Either one refuses while the other trains, or the second starts after the first finished
    # (then it finds the run done and trains nothing): never two trainings at once.
    steps = [json.loads(x)["step"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and len(steps) == len(set(steps))
    if outs[0].startswith("refused"):
        assert "in use by another run" in outs[0] and outs[1] == "trained"
    else:
        assert outs == ["trained", "trained"]
        assert "finished before" in (tmp_path / "train.log").read_text()


def test_stale_temporaries_are_removed_on_start(tmp_path):
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir(parents=True)
    for name in (".last.pt.tmp4242", ".best.pt.tmp17"):
        (checkpoints / name).write_bytes(b"half a checkpoint")
    (checkpoints / "keep.tmp.txt").write_text("not ours")
    (tmp_path / ".weights.safetensors.tmp99").write_bytes(b"half the weights")
    _trainer(tmp_path, max_steps=2).fit()
    assert sorted(p.name for p in checkpoints.iterdir()) == ["keep.tmp.txt", "last.pt"]
    assert not (tmp_path / ".weights.safetensors.tmp99").exists()


def test_weights_are_atomic_and_done_only_with_the_marker(tmp_path):
    model = TinyAttributeNet()
    path = tmp_path / "w.safetensors"
    save_weights(model, path)
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temporary left
    assert not is_done(path)
    mark_done(path, step=3)
    assert is_done(path)
    assert json.loads((tmp_path / "w.safetensors.done").read_text()) == {"file": "w.safetensors", "step": 3}


def test_weights_get_the_usual_file_mode(tmp_path):
    """safetensors alone writes 0600: weights and bundles shared with others must be readable."""
    old = os.umask(0o022)
    try:
        save_weights(TinyAttributeNet(), tmp_path / "w.safetensors")
    finally:
        os.umask(old)
    assert (tmp_path / "w.safetensors").stat().st_mode & 0o777 == 0o644


def test_a_stage_killed_while_writing_its_weights_is_redone_without_training(tmp_path):
    from lnet_anet.anet.training import train_stage

    cfg = OmegaConf.create({"train": {**CFG, "max_steps": 4}})
    torch.manual_seed(0)
    model = TinyAttributeNet()
    train_stage("stage", model, bce_loss, RandomFaces(), None, None, cfg, {}, tmp_path)
    weights = tmp_path / "stage" / "weights.safetensors"
    trained = {k: v.clone() for k, v in load_file(str(weights)).items()}  # not the mapped file
    assert is_done(weights)
    # As after a kill mid-write in the old code: a cut weights file and no marker.
    weights.write_bytes(weights.read_bytes()[:100])
    (tmp_path / "stage" / "weights.safetensors.done").unlink()
    torch.manual_seed(1)
    again = TinyAttributeNet()
    train_stage("stage", again, bce_loss, RandomFaces(), None, None, cfg, {}, tmp_path)
    assert is_done(weights)
    for k, v in load_file(str(weights)).items():
        assert torch.equal(v, trained[k])  # the finished checkpoint's weights, no extra step
    assert len((tmp_path / "stage" / "metrics.jsonl").read_text().splitlines()) == 1
    torch.manual_seed(2)
    loaded = TinyAttributeNet()
    train_stage("stage", loaded, bce_loss, RandomFaces(), None, None, cfg, {}, tmp_path)
    assert all(torch.equal(v, trained[k]) for k, v in loaded.state_dict().items())


def test_start_run_locks_cleans_and_seeds_before_the_model(tmp_path, monkeypatch):
    import lnet_anet.engine.runs as runs

    monkeypatch.setattr(runs, "run_dir", lambda: tmp_path)
    (tmp_path / ".model.safetensors.tmp99").write_bytes(b"stale")
    nets = []
    for _ in range(2):
        torch.manual_seed(12345 + len(nets))  # whatever came before
        assert runs.start_run(7) == tmp_path
        nets.append(TinyAttributeNet())
    assert all(torch.equal(a, b) for a, b in zip(nets[0].state_dict().values(),
                                                 nets[1].state_dict().values(), strict=True))  # fmt: skip
    assert not (tmp_path / ".model.safetensors.tmp99").exists()
    assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())
    release_run_dir(tmp_path)
    release_run_dir(tmp_path)


@pytest.mark.parametrize("module, function", [
    ("cli/train_anet.py", "main"), ("cli/train_lnet.py", "main"), ("dldl/recipes.py", "train_on_image"),
    ("dldl/recipes.py", "train_on_anet_layers"), ("dldl/recipes.py", "train_on_anet_features"),
])  # fmt: skip
def test_every_training_command_seeds_before_building_its_model(module, function):
    source = (REPO / "lnet_anet" / module).read_text()
    body = source[source.index(f"def {function}("):]
    body = body[: body.find("\ndef ", 1) if "\ndef " in body[1:] else len(body)]
    start = body.index("start_run(")
    built = re.search(r"instantiate\(cfg\.model|label_model\(cfg", body)  # label_model instantiates it, checked
    assert built and start < built.start()


def test_kill_9_mid_run_still_resumes(tmp_path):
    """The fault the engine always survived: kill -9 at any moment, then the same command."""
    script = (
        "import sys, time, torch; sys.path.insert(0, 'tests'); from _tiny import *;"
        "from lnet_anet.engine import TrainConfig, Trainer\n"
        "def slow(m, b):\n    time.sleep(0.05)\n    return bce_loss(m, b)\n"
        "torch.manual_seed(0)\n"
        "r = Trainer(TinyAttributeNet(), slow, RandomFaces(), TrainConfig(epochs=3, batch_size=8,"
        " lr=0.05, num_workers=0, progress=False, checkpoint_every=3), sys.argv[1]).fit()\n"
        "torch.save(r, sys.argv[1] + '/result.pt')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", script, str(run)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    last = run / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 120
    while not last.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    subprocess.run([sys.executable, "-c", script, str(run)], cwd=REPO, env=env, check=True,
                   capture_output=True)  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the subprocesses (OMP_NUM_THREADS=1): the same sums in the same order
    try:
        reference = _trainer(tmp_path / "ref")
        reference.fit()
    finally:
        torch.set_num_threads(threads)
    resumed = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["model"]
    for k, v in reference.model.state_dict().items():
        assert torch.equal(resumed[k], v)


def test_run_records_are_strict_json(tmp_path):
    import numpy as np

    from lnet_anet.engine.runs import write_json

    write_json(tmp_path / "r.json", {"ap": float("nan"), "by_size": [np.float32(0.5), np.inf], "n": np.int64(3)})
    text = (tmp_path / "r.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {"ap": None, "by_size": [0.5, None], "n": 3.0}


def test_a_run_folder_refuses_other_data_once_it_has_trained(tmp_path):
    """A rerun resumes; with another fold (or dataset) it would score one fold with another's model."""
    import pandas as pd
    from omegaconf import OmegaConf

    from lnet_anet.engine.runs import record_data

    cfg = OmegaConf.create({"name": "scut", "index": {"_target_": "reader", "root": "/data"}})
    index = pd.DataFrame({"path": ["a", "b", "c"], "split": ["train", "train", "val"]})
    index.attrs["fold"] = {"k": 1, "n": 5, "seed": 0}
    record_data(tmp_path, cfg, index)
    index.attrs["fold"] = {"k": 2, "n": 5, "seed": 0}
    record_data(tmp_path, cfg, index)  # nothing trained yet: the new data is recorded
    (tmp_path / "checkpoints").mkdir()
    record_data(tmp_path, cfg, index)  # the same data: a resume
    index.attrs["fold"] = {"k": 3, "n": 5, "seed": 0}
    with pytest.raises(ValueError, match="trained on other data \\(fold differ.*another name="):
        record_data(tmp_path, cfg, index)
    assert json.loads((tmp_path / "data.json").read_text())["fold"]["k"] == 2



def test_the_same_data_by_another_path_is_the_same_data(tmp_path):
    """paths.datasets=DIR/ against DIR, a link to the folder, or a relative path: a resume, not
    "trained on other data" (a trial could not resume after adding a trailing slash)."""
    import os

    import pandas as pd
    from omegaconf import OmegaConf

    from lnet_anet.engine.lock import RunRefusedError
    from lnet_anet.engine.runs import record_data

    data = tmp_path / "datasets" / "utkface"
    data.mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "datasets")
    run = tmp_path / "run"
    index = pd.DataFrame({"path": ["a", "b"], "split": ["train", "val"]})

    def cfg(folder: str):
        return OmegaConf.create({"name": "utk", "index": {"_target_": "reader", "folder": folder, "images": "auto"}})

    record_data(run, cfg(str(data)), index)
    (run / "checkpoints").mkdir()
    for same in (f"{tmp_path}/datasets//utkface/", str(tmp_path / "link" / "utkface"),
                 os.path.relpath(data)):  # fmt: skip
        record_data(run, cfg(same), index)
    other = tmp_path / "datasets" / "other"
    other.mkdir()
    with pytest.raises(RunRefusedError, match="root differ"):
        record_data(run, cfg(str(other)), index)


def test_training_commands_end_on_ctrl_c_with_status_130_and_no_traceback(capsys):
    from lnet_anet.engine.runs import training_command

    @training_command
    def main():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 130 and "run the same command again: it reuses what was finished or checkpointed" in capsys.readouterr().err

    @training_command
    def stopped():  # a scheduler's SIGTERM outside the training loop (computing caches, scoring): the same
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as done:
        stopped()
    assert done.value.code == 130 and "run the same command again: it reuses what was finished or checkpointed" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before  # put back
    for name in ("train_lnet", "train_anet", "train_age", "train_anet_dldl", "train_dldl_head", "fit_svms",
                 "evaluate_attributes", "evaluate_localization"):  # fmt: skip
        assert "@training_command\ndef main(" in (REPO / "lnet_anet" / "cli" / f"{name}.py").read_text(), name


def test_a_refused_launch_leaves_the_runs_recorded_config_as_it_was(tmp_path, monkeypatch, capsys):
    """Hydra writes each launch's config into <run>/.hydra before main runs; a launch the folder
    refuses (another model, other data) must not leave its config there for build_bundle."""
    from lnet_anet.engine import runs
    from lnet_anet.engine.runs import RunRefusedError, training_command

    monkeypatch.setattr(runs, "run_dir", lambda: tmp_path)
    hydra = tmp_path / ".hydra"
    hydra.mkdir()

    def launch(overrides: str, refused: bool):
        for name in ("config.yaml", "overrides.yaml"):  # what Hydra writes first
            (hydra / name).write_text(overrides)

        @training_command
        def main():
            if refused:
                raise RunRefusedError("this run folder holds a checkpoint of another model")
            return "trained"

        return main()

    assert launch("- model=lite0_dldl", refused=False) == "trained"
    with pytest.raises(SystemExit) as done:  # one line and status 2, not a traceback
        launch("- model=tiny_age_net", refused=True)
    assert done.value.code == 2
    assert capsys.readouterr().err == "error: this run folder holds a checkpoint of another model\n"
    assert (hydra / "overrides.yaml").read_text() == "- model=lite0_dldl"  # put back
    assert launch("- train.epochs=9", refused=False) == "trained"  # an accepted launch is the record now
    with pytest.raises(SystemExit):
        launch("- data=other", refused=True)
    assert (hydra / "config.yaml").read_text() == "- train.epochs=9"
    assert tmp_path.is_dir()  # a refused folder is another run's: kept



@pytest.mark.parametrize("stop", [KeyboardInterrupt, TypeError])
def test_a_launch_that_stops_before_it_trains_leaves_the_runs_record(tmp_path, monkeypatch, stop):
    """A crash or Ctrl-C before anything trained (a trial: svm.C=2 crashed after the stages had
    loaded) leaves the run's .hydra record as it was; once it has written a checkpoint, weights or
    a cache, the launch's config is the run's."""
    from lnet_anet.engine import runs
    from lnet_anet.engine.runs import training_command

    monkeypatch.setattr(runs, "run_dir", lambda: tmp_path)
    hydra = tmp_path / ".hydra"
    hydra.mkdir()

    def launch(overrides: str, writes: str | None = None):
        (hydra / "overrides.yaml").write_text(overrides)
        (hydra / "config.yaml").write_text(overrides)

        @training_command
        def main():
            if writes:
                (tmp_path / writes).write_bytes(b"learnt")
            raise stop("stopped")

        with pytest.raises((SystemExit, stop)):
            main()

    (hydra / "accepted").mkdir()
    for name in ("overrides.yaml", "config.yaml"):
        (hydra / "accepted" / name).write_text("- svm.C=[0.1]")
    (tmp_path / "svm.safetensors").write_bytes(b"before this launch")
    launch("- svm.C=2")
    assert (hydra / "overrides.yaml").read_text() == "- svm.C=[0.1]"  # nothing trained: the record stays
    launch("- finetune.epochs=9", writes="weights.safetensors")
    assert (hydra / "overrides.yaml").read_text() == "- finetune.epochs=9"  # it trained with it


@pytest.mark.parametrize("trained", [False, True])
def test_a_bad_setting_ends_a_command_in_one_line_and_removes_the_run_it_left_empty(tmp_path, monkeypatch, capsys, trained):
    """A ConfigError or a missing dataset (also when hydra's instantiate wraps it): "error: ..."
    and status 2; the run folder goes when it holds only what the launch wrote, and stays when
    anything trained (or anything else) is in it."""
    from types import SimpleNamespace

    from hydra.errors import InstantiationException

    from lnet_anet.data.errors import DataNotFoundError
    from lnet_anet.engine import runs
    from lnet_anet.engine.config import ConfigError, TrainConfig
    from lnet_anet.engine.runs import training_command

    folder = tmp_path / "run"
    monkeypatch.setattr(runs, "run_dir", lambda: folder)
    monkeypatch.setattr(runs, "HydraConfig", SimpleNamespace(get=lambda: SimpleNamespace(job=SimpleNamespace(name="train_age"))))
    def missing_data():  # as hydra.utils.instantiate reports a reader's error
        raise InstantiationException("Error in call to target") from DataNotFoundError("/nowhere", "folder not found")

    for error in (lambda: TrainConfig(epochs="abc"), missing_data):
        (folder / ".hydra").mkdir(parents=True, exist_ok=True)
        for name in (".lock", "data.json", "train_age.log"):
            (folder / name).write_text("x")
        if trained:
            (folder / "checkpoints").mkdir(exist_ok=True)

        @training_command
        def main(error=error):
            error()

        with pytest.raises(SystemExit) as done:
            main()
        err = capsys.readouterr().err
        assert done.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1
        assert ("train.epochs must be int" in err) or ("folder not found" in err)
        assert folder.is_dir() == trained and (f"({folder}, made by this launch, held nothing" in err) != trained
    with pytest.raises(ConfigError):  # a ConfigError is a ValueError to code that catches those
        TrainConfig(epochs=0)


def test_a_bad_train_setting_stops_the_command_before_it_reads_data(tmp_path, monkeypatch, capsys):
    from omegaconf import OmegaConf

    from lnet_anet.engine import runs
    from lnet_anet.engine.runs import training_command

    monkeypatch.setattr(runs, "run_dir", lambda: tmp_path / "run")
    called = []

    @training_command
    def main(cfg):
        called.append(cfg)  # where a command would read its dataset

    with pytest.raises(SystemExit) as done:
        main(OmegaConf.create({"train": {"epochs": "abc"}, "data": {"name": "x"}}))
    assert done.value.code == 2 and not called
    assert capsys.readouterr().err.startswith("error: train.epochs must be int, got 'abc'")
    with pytest.raises(SystemExit):
        main(OmegaConf.create({"train": {"epoch": 3}}))  # an unknown train option
    assert "unknown train options ['epoch']" in capsys.readouterr().err and not called
    main(OmegaConf.create({"train": {"epochs": 2}}))
    assert len(called) == 1


@pytest.mark.parametrize("command", ["train_lnet", "train_anet", "fit_svms", "train_age", "train_anet_dldl",
                                     "train_dldl_head", "evaluate_attributes", "evaluate_localization"])
def test_a_yaml_syntax_error_in_a_users_config_is_one_line_naming_file_and_line(tmp_path, launch, command):
    """Trial 59: Hydra printed a 95-line traceback for a broken experiment file; now one line with
    the file, line and column (1-based), nothing run, and OmegaConf.load put back afterwards."""
    broken = tmp_path / "conf" / "experiment" / "broken.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text("# @package _global_\ntrain:\n  epochs: 2\n  lr: [0.1, 0.2\n")
    plus = "+" if command in ("fit_svms", "evaluate_attributes") else ""  # those have no experiment group
    load = OmegaConf.load
    code, err = launch(f"lnet_anet.cli.{command}", "--config-dir", str(tmp_path / "conf"), f"{plus}experiment=broken",
                       f"paths.runs={tmp_path / 'runs'}")  # fmt: skip
    assert code == 1 and "Traceback" not in err
    assert err.startswith(f"error: {broken}, line 5, column 1: not valid YAML: expected ',' or ']'")
    assert "(while parsing a flow sequence from line 4, column 7)" in err
    assert OmegaConf.load is load and not (tmp_path / "runs").exists()


def test_an_evaluation_of_a_run_that_is_not_there_ends_in_one_line_and_leaves_no_folder(tmp_path, monkeypatch, capsys):
    """evaluate_* run=runs/nope: Hydra makes runs/nope/<eval name>/ before main runs; the missing
    run is named in one line (status 2) and both folders go, as the launch made them empty."""
    from types import SimpleNamespace

    from omegaconf import OmegaConf

    from lnet_anet.engine import runs
    from lnet_anet.engine.runs import RunNotFoundError, load_run_net, training_command

    scored = tmp_path / "runs" / "nope"
    folder = scored / "eval-attributes-x-val" / "2026-12-02_08-30-00"
    (folder / ".hydra").mkdir(parents=True)
    (folder / "evaluate_attributes.log").write_text("")
    monkeypatch.setattr(runs, "run_dir", lambda: folder)
    monkeypatch.setattr(runs, "HydraConfig",
                        SimpleNamespace(get=lambda: SimpleNamespace(job=SimpleNamespace(name="evaluate_attributes"))))  # fmt: skip

    @training_command
    def main(cfg):
        load_run_net(Path(cfg.run), "anet.safetensors", "train_anet")

    with pytest.raises(RunNotFoundError, match="nope/model.json: not found; is .* a finished train_anet run"):
        load_run_net(scored, "anet.safetensors", "train_anet")
    with pytest.raises(SystemExit) as done:
        main(OmegaConf.create({"run": str(scored)}))
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.startswith(f"error: {scored}/model.json: not found") and err.count("\n") == 1
    assert not scored.exists() and (tmp_path / "runs").is_dir()

    # A real run's earlier evaluation stays; only this launch's empty folder goes.
    earlier = scored / "eval-attributes-x-val" / "2026-12-01_10-00-00" / "attributes.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("{}")
    (folder / ".hydra").mkdir(parents=True)
    with pytest.raises(SystemExit):
        main(OmegaConf.create({"run": str(scored)}))
    assert earlier.is_file() and not folder.exists()


def test_a_damaged_checkpoint_or_run_record_ends_the_command_in_one_line_naming_the_file(tmp_path, monkeypatch, capsys):
    """A cut or emptied last.pt, or a cut data.json / recipe.json: "error: <file>: ..." with the
    way on and status 2, not a traceback; the trained folder stays."""
    from types import SimpleNamespace

    from lnet_anet.engine import runs
    from lnet_anet.engine.runs import record_data, training_command

    folder = tmp_path / "run"
    monkeypatch.setattr(runs, "run_dir", lambda: folder)
    monkeypatch.setattr(runs, "HydraConfig", SimpleNamespace(get=lambda: SimpleNamespace(job=SimpleNamespace(name="train_age"))))
    _trainer(folder, max_steps=3).fit()
    last = folder / "checkpoints" / "last.pt"
    cfg = OmegaConf.create({"name": "d", "index": {"_target_": "reader", "root": "/data"}})
    import pandas as pd

    index = pd.DataFrame({"path": ["a", "b"], "split": ["train", "val"]})
    record_data(folder, cfg, index)
    whole = {p: p.read_bytes() for p in (last, folder / "data.json")}
    for damaged, says, resume in ((last, "not a readable checkpoint", lambda: _trainer(folder, max_steps=6).fit()),
                                  (folder / "data.json", "not a readable run record",
                                   lambda: record_data(folder, cfg, index))):  # fmt: skip
        for content in (whole[damaged][:20], b""):
            damaged.write_bytes(content)

            @training_command
            def main(resume=resume):
                resume()

            with pytest.raises(SystemExit) as done:
                main()
            err = capsys.readouterr().err.splitlines()[-1]  # the trainer's log lines before it
            assert done.value.code == 2 and err.startswith(f"error: {damaged}: {says}")
            assert "Traceback" not in err and "another name=" in err and folder.is_dir()
        damaged.write_bytes(whole[damaged])
    record_data(folder, cfg, index)  # whole again: the run goes on


def test_a_done_stage_loaded_with_other_settings_refuses_them(tmp_path, caplog):
    """A done stage is loaded as it was: another lr would not be used, yet the launch's record
    would say it, so the launch is refused (as a finished Trainer run and a finished LNet are)."""
    from lnet_anet.anet.training import train_stage
    from lnet_anet.engine.lock import RunRefusedError

    cfg = OmegaConf.create({"train": {**CFG, "max_steps": 2}})
    train_stage("pretrain", TinyAttributeNet(), bce_loss, RandomFaces(), None, None, cfg, {"lr": 0.05}, tmp_path)
    with caplog.at_level("WARNING", logger="lnet_anet"):
        train_stage("pretrain", TinyAttributeNet(), bce_loss, RandomFaces(), None, None, cfg,
                    {"lr": 0.05, "progress": True}, tmp_path)  # fmt: skip
        assert not [r for r in caplog.records if r.levelname == "WARNING"]  # the same (progress is free to change)
    with pytest.raises(RunRefusedError, match=r"pretrain: stage pretrain is done \(it is loaded as it was\) with other "
                                              r"train settings \(lr 0.05 -> 0.5\)"):  # fmt: skip
        train_stage("pretrain", TinyAttributeNet(), bce_loss, RandomFaces(), None, None, cfg, {"lr": 0.5}, tmp_path)


def test_a_done_stage_given_more_steps_trains_on_as_a_finished_run_does(tmp_path):
    """Trial 79 (ok03): a finished train_age run given a higher max_steps trains on, while a done
    stage (and a finished LNet) refused it as "trains nothing": one rule now. Shorter is refused,
    and so is a longer stage whose next stage, trained from it, is done."""
    from lnet_anet.anet.training import train_stage
    from lnet_anet.engine.lock import RunRefusedError

    cfg = OmegaConf.create({"train": CFG})
    stage = lambda name, steps, **kw: train_stage(name, TinyAttributeNet(), bce_loss, RandomFaces(), None, None, cfg,  # noqa: E731
                                                  {"max_steps": steps}, tmp_path, **kw)  # fmt: skip
    stage("pretrain", 2, then="finetune")
    stage("pretrain", 4, then="finetune")
    assert load_checkpoint(tmp_path / "pretrain" / "checkpoints" / "last.pt")["step"] == 4
    assert json.loads((tmp_path / "pretrain" / "settings.json").read_text())["max_steps"] == 4
    with pytest.raises(RunRefusedError, match=r"finished at step 4 with other train settings \(max_steps 4 -> 3\)"):
        stage("pretrain", 3, then="finetune")
    stage("finetune", 2)
    with pytest.raises(RunRefusedError, match=r"stage pretrain is done with other train settings \(max_steps 4 -> 6\), "
                                              r"and stage finetune was trained from it"):  # fmt: skip
        stage("pretrain", 6, then="finetune")
    assert json.loads((tmp_path / "pretrain" / "settings.json").read_text())["max_steps"] == 4


def test_a_stage_lr_reaches_the_optimizer_and_a_foreign_or_cut_record_is_named(tmp_path, caplog):
    """train_stage: a stage's own lr wins over the train group's, also where the optimizer's spec
    read it by interpolation (${..lr}, as conf/train/optimizer/*.yaml do); a readable last.pt that
    is not a checkpoint of the trainer, and a cut settings.json, are named, not a traceback."""
    from lnet_anet.anet.training import train_stage
    from lnet_anet.engine.checkpoint import CheckpointError

    cfg = OmegaConf.create({"train": {**CFG, "max_steps": 2, "lr": 1e-3,
                                      "optimizer": {"_target_": "torch.optim.SGD", "_partial_": True, "lr": "${..lr}"}}})  # fmt: skip
    train_stage("s", TinyAttributeNet(), bce_loss, RandomFaces(), None, None, cfg, {"lr": 0.05}, tmp_path)
    groups = load_checkpoint(tmp_path / "s" / "checkpoints" / "last.pt")["optimizer"]["param_groups"]
    assert groups[0]["initial_lr"] == pytest.approx(0.05)
    assert json.loads((tmp_path / "s" / "settings.json").read_text())["optimizer"]["lr"] == pytest.approx(0.05)
    (tmp_path / "s" / "settings.json").write_text('{"lr": 0.0')  # cut
    with caplog.at_level("WARNING", logger="lnet_anet"):
        train_stage("s", TinyAttributeNet(), bce_loss, RandomFaces(), None, None, cfg, {"lr": 0.05}, tmp_path)
    assert "settings.json is not readable" in caplog.text
    run = tmp_path / "foreign"
    _trainer(run, max_steps=2).fit()
    torch.save(TinyAttributeNet().state_dict(), run / "checkpoints" / "last.pt")  # a bare state_dict saved over it
    with pytest.raises(CheckpointError, match="last.pt: not a checkpoint of this trainer \\(no model, optimizer"):
        _trainer(run, max_steps=4).fit()


def test_a_missing_or_other_run_folder_is_named_with_what_it_is(tmp_path):
    """load_run_net (evaluate_attributes, train_anet_dldl's init_from ...): a folder that is not
    there says which command writes it; a run of another model says which model it holds."""
    from lnet_anet.engine.runs import RunNotFoundError, load_run_net

    with pytest.raises(RunNotFoundError, match=r"no such folder: python -m lnet_anet.cli.train_anet writes it"):
        load_run_net(tmp_path / "anet-celeba_hq128", "anet.safetensors", "train_anet")
    age = tmp_path / "age-small"
    age.mkdir()
    (age / "model.json").write_text(json.dumps({"model": "lite0_dldl", "kwargs": {}}))
    with pytest.raises(RunNotFoundError, match=r"anet.safetensors: not found; .*names model lite0_dldl"):
        load_run_net(age, "anet.safetensors", "train_anet")


def test_a_run_record_is_replaced_whole_so_a_reader_never_sees_half_of_it(tmp_path, monkeypatch):
    """Trial 83: under torchrun both processes write the run's data.json; one read the other's
    half-written file and stopped as if the folder were damaged. A write cut short (here: the disk
    full halfway) leaves the record before it whole, and no stray file."""
    from lnet_anet.engine.runs import keep_run_record, read_run_record

    keep_run_record(tmp_path, "data.json", {"name": "celeba", "fold": 1}, "on other data")
    real = Path.write_text

    def half(self, text, *args, **kwargs):
        real(self, text[: len(text) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half)
    with pytest.raises(OSError, match="No space"):
        keep_run_record(tmp_path, "data.json", {"name": "celeba", "fold": 2}, "on other data")
    monkeypatch.undo()
    assert read_run_record(tmp_path / "data.json") == {"name": "celeba", "fold": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.json"]
