"""The shared training engine: resume after a kill, DDP == one process, bad batches, configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.checkpoint import CheckpointError, load_checkpoint, save_atomic
from lnet_anet.engine.config import ConfigError
from lnet_anet.engine.distributed import EpochSampler

sys.path.insert(0, str(Path(__file__).parent))
from _tiny import RandomFaces, TinyAttributeNet, bce_loss  # noqa: E402

CFG = dict(epochs=3, batch_size=8, lr=0.05, num_workers=0, progress=False, checkpoint_every=3)


def train(run_dir: Path, loss_fn=bce_loss, data=None, **overrides) -> Trainer:
    torch.manual_seed(0)
    trainer = Trainer(TinyAttributeNet(), loss_fn, data or RandomFaces(), TrainConfig(**{**CFG, **overrides}), run_dir)
    trainer.fit()
    return trainer


def dies_at_step(n: int):
    """bce_loss that is interrupted (as by Ctrl-C) at its n-th call."""
    calls = {"n": 0}

    def loss_fn(model, batch):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt("killed")
        return bce_loss(model, batch)

    return loss_fn


def same_weights(a: torch.nn.Module, b: torch.nn.Module, atol: float = 0.0) -> bool:
    return all(torch.allclose(x, y, atol=atol, rtol=0) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_fit_writes_run_folder_and_learns(tmp_path):
    data = RandomFaces()
    batch = {"image": data.images, "attributes": data.attributes}
    torch.manual_seed(0)
    before = bce_loss(TinyAttributeNet(), batch)[0].item()
    trainer = train(tmp_path, epochs=20, lr=0.01, data=data)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == trainer.total_steps == 20 * 8
    assert bce_loss(trainer.model, batch)[0].item() < before - 0.1
    assert json.loads((tmp_path / "train_config.json").read_text())["lr"] == 0.01
    assert (tmp_path / "checkpoints" / "last.pt").exists() and (tmp_path / "train.log").exists()
    # the loop's lines in Hydra's format, as the command's own lines beside them on the console
    import re

    first = (tmp_path / "train.log").read_text().splitlines()[0]
    assert re.match(r"\[\d{4}-\d\d-\d\d [\d:,]+\]\[lnet_anet\.train[.\w]*\]\[INFO\] - training ", first), first


def test_a_finished_run_refuses_train_settings_it_would_not_use(tmp_path):
    """A finished run rerun with another train.lr trained nothing, yet its .hydra record took the
    new value (a fresh-user trial): refused now (RunRefusedError, which keeps the record); the
    run's own settings, settings free to change, or more epochs go on."""
    from lnet_anet.engine.lock import RunRefusedError

    first = train(tmp_path)
    assert train(tmp_path, num_workers=0, progress=False).step == first.step  # the same: nothing to do
    assert train(tmp_path, log_every=5).step == first.step  # free to change
    with pytest.raises(RunRefusedError, match=r"finished at step 24 with other train settings \(lr 0.05 -> 0.01\): "
                                              "a rerun trains nothing with them"):  # fmt: skip
        train(tmp_path, lr=0.01)
    assert train(tmp_path, epochs=4).step == 32  # a longer run goes on
    # trial 77: a lower max_steps (or fewer epochs) trained nothing, yet train_config.json took it
    recorded = (tmp_path / "train_config.json").read_text()
    with pytest.raises(RunRefusedError, match=r"finished at step 32 with other train settings \(max_steps None -> 2\)"):
        train(tmp_path, epochs=4, max_steps=2)
    with pytest.raises(RunRefusedError, match=r"finished at step 32 with other train settings \(epochs 4 -> 3\)"):
        train(tmp_path, epochs=3)
    assert (tmp_path / "train_config.json").read_text() == recorded


def test_a_stop_during_a_checkpoint_waits_for_the_file_and_its_step(tmp_path, monkeypatch, capfd):
    """Trial 93: a SIGTERM landing just after last.pt was renamed into place, before the Trainer
    noted its step, made the stop message name the step before ("it holds step 8" of a file at 12).
    Stops are held while a checkpoint is written and its step noted (signals.interrupts_deferred)."""
    import signal

    import lnet_anet.engine.trainer as trainer_module
    from lnet_anet.engine.signals import interrupts_deferred, sigterm_as_interrupt

    done = []
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt(), interrupts_deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        done.append("the rest of the block ran")
    assert done == ["the rest of the block ran"]
    real = trainer_module.save_atomic
    sent = []

    def stopped_after_rename(state, path):  # the stop arrives the moment the new file is in place
        real(state, path)
        if state["step"] == 6 and not sent:
            sent.append(signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(trainer_module, "save_atomic", stopped_after_rename)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, epochs=20)
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["step"] == 6
    err = capfd.readouterr().err
    assert "interrupted at step 6;" in err and "it holds step" not in err, err


def test_an_interrupted_run_is_finished_at_the_step_it_reached(tmp_path):
    """Trial 79 (r20): a run stopped at step 6 relaunched with train.max_steps=6 was refused as
    "trains nothing"; it finishes the run (its evaluation, finished at 6), as before; 5 is refused."""
    from lnet_anet.engine.lock import RunRefusedError

    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, loss_fn=dies_at_step(8), data=RandomFaces(), epochs=20)
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["step"] == 6
    with pytest.raises(RunRefusedError, match=r"has trained 6 steps, and this launch asks for 5"):
        train(tmp_path, epochs=20, max_steps=5)
    done = Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, "epochs": 20, "max_steps": 6}),
                   tmp_path, val_set=RandomFaces(n=8), evaluate_fn=lambda m, loader, d: {"score": 1.0})  # fmt: skip
    assert done.fit() == {"step": 6, "skipped_images": 0, "score": 1.0}
    state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["finished"] and state["step"] == 6 and state["train_config"]["max_steps"] == 6
    assert train(tmp_path, epochs=20, max_steps=6).step == 6  # finished: nothing to train, no error
    with pytest.raises(RunRefusedError, match=r"finished at step 6 with other train settings \(max_steps 6 -> 4\)"):
        train(tmp_path, epochs=20, max_steps=4)


def test_more_epochs_that_max_steps_caps_name_max_steps(tmp_path, capfd):
    """Trial 79 (r13): more epochs at the max_steps a finished run reached said "trains nothing"
    without naming the cap."""
    from lnet_anet.engine.lock import RunRefusedError

    train(tmp_path / "capped", epochs=1, max_steps=30)  # trial 93: 1 epoch of 8 steps cut 30 unsaid
    assert "train.max_steps=30 is more than train.epochs=1 makes (8 steps, 8 an epoch): training 8 steps" in capfd.readouterr().err
    train(tmp_path, epochs=1, max_steps=4)
    assert "is more than train.epochs" not in capfd.readouterr().err
    with pytest.raises(RunRefusedError, match=r"\(epochs 1 -> 3\): a rerun trains nothing with them \(train.max_steps=4 "
                                              r"caps the run at the 4 steps it has trained: raise train.max_steps, or "
                                              r"set train.max_steps=null, to train on\)"):  # fmt: skip
        train(tmp_path, epochs=3, max_steps=4)
    assert train(tmp_path, epochs=3, max_steps=6).step == 6


def test_resume_after_kill_gives_the_uninterrupted_model(tmp_path):
    reference = train(tmp_path / "ref").model

    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "run", loss_fn=dies_at_step(8), log_every=1)
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["step"] == 6
    resumed = train(tmp_path / "run", log_every=1)  # same folder: picks up at step 6, mid-epoch
    assert resumed.step == 24
    assert same_weights(resumed.model, reference)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "resumed from" in log and "at step 6" in log
    assert "interrupted at step 7" in log and "Run the same command again to resume" in log
    assert "last.pt is kept (it holds step 6: a rerun redoes the steps after it)" in log
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps))  # the steps redone after the resume are logged once
    assert "step 24/24 epoch 2: loss" in log  # the step lines (log_every) are in train.log too


def test_a_run_stopped_after_an_evaluation_logs_it_once(tmp_path, monkeypatch):
    """Trial 81: a run stopped after its evaluation was logged, before its checkpoint moved on,
    evaluated that step again when resumed, and metrics.jsonl held the evaluation twice."""
    draw, calls = Trainer._draw_curves, []

    def stopped(self):  # right after the evaluation's line is written
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return draw(self)

    monkeypatch.setattr(Trainer, "_draw_curves", stopped)
    score = {"val_set": RandomFaces(n=8), "evaluate_fn": lambda m, loader, d: {"score": 1.0}}
    with pytest.raises(KeyboardInterrupt):
        trainer = Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, "epochs": 2}), tmp_path, **score)
        trainer.fit()
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert sum("val/score" in line for line in lines) == 1
    Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, "epochs": 2}), tmp_path, **score).fit()
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    evaluated = [line["step"] for line in lines if "val/score" in line]
    assert len(evaluated) == 2 and evaluated == sorted(set(evaluated))  # each epoch's evaluation once


def test_a_run_killed_before_its_first_checkpoint_logs_each_step_once(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "run", loss_fn=dies_at_step(3), log_every=1)  # first checkpoint at step 3
    assert not (tmp_path / "run" / "checkpoints" / "last.pt").exists()
    assert (tmp_path / "run" / "metrics.jsonl").read_text()  # steps 1-2 were logged
    log = (tmp_path / "run" / "train.log").read_text()  # nothing to resume from: said so (a user trial)
    assert "no checkpoint was written yet" in log and "start this stage over" in log and "to resume" not in log
    assert train(tmp_path / "run", log_every=1).step == 24  # from the start again
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps))


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")  # the schedules alone are stepped
def test_a_run_resumed_with_another_lr_trains_at_it(tmp_path):
    """A fresh-user trial: resumed with a new train.lr, the log said the rest of the run follows it,
    but the checkpoint's optimizer and scheduler put the old lr back. Now the new lr (and weight
    decay) take over from the resumed step: the same lr as a run launched with it from the start."""
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "run", loss_fn=dies_at_step(8))
    resumed = Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, "lr": 0.01, "weight_decay": 0.02}),
                      tmp_path / "run")  # fmt: skip
    fresh = Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, "lr": 0.01, "weight_decay": 0.02}),
                    tmp_path / "fresh")  # fmt: skip
    resumed._resume()
    assert resumed.step == 6
    for _ in range(6):
        fresh.scheduler.step()
    assert resumed.scheduler.get_last_lr() == pytest.approx(fresh.scheduler.get_last_lr())
    assert [g["lr"] for g in resumed.optimizer.param_groups] == pytest.approx(fresh.scheduler.get_last_lr())
    assert [g["weight_decay"] for g in resumed.optimizer.param_groups] == [0.02] * len(resumed.optimizer.param_groups)
    resumed.scheduler.step()
    fresh.scheduler.step()
    assert resumed.scheduler.get_last_lr() == pytest.approx(fresh.scheduler.get_last_lr())


def test_sigterm_stops_like_ctrl_c_and_the_run_resumes(tmp_path):
    import signal

    calls = {"n": 0}

    def stopped_at_step_8(model, batch):  # a job scheduler's stop (SIGTERM) in the middle of a step
        calls["n"] += 1
        if calls["n"] == 8:
            os.kill(os.getpid(), signal.SIGTERM)
        return bce_loss(model, batch)

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "run", loss_fn=stopped_at_step_8)
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is the caller's again
    assert "interrupted at step" in (tmp_path / "run" / "train.log").read_text()
    assert train(tmp_path / "run").step == 24  # the lock was released: the same command resumes



STOPPED_WITH_WORKERS = """
import sys, time
sys.path[:0] = [{tests!r}, {repo!r}]
from _tiny import RandomFaces, TinyAttributeNet, bce_loss
from lnet_anet.engine import TrainConfig, Trainer

class Slow(RandomFaces):
    def __getitem__(self, i):
        time.sleep(0.05)
        return super().__getitem__(i)

cfg = TrainConfig(epochs=100, batch_size=8, num_workers=2, progress=False, checkpoint_every=1)
try:
    Trainer(TinyAttributeNet(), bce_loss, Slow(n=64), cfg, {run!r}).fit()
except KeyboardInterrupt:
    raise SystemExit(130)
"""


@pytest.mark.slow
def test_sigterm_to_the_process_group_stops_a_run_with_workers_without_a_traceback(tmp_path):
    """`timeout` and job schedulers signal the whole process group: the DataLoader workers
    leave SIGTERM to the main process (engine.signals.ignore_sigterm), which stops as on Ctrl-C,
    not with torch's "DataLoader worker is killed by signal" traceback."""
    import signal
    import time

    run = tmp_path / "run"
    script = tmp_path / "train.py"
    script.write_text(STOPPED_WITH_WORKERS.format(tests=str(Path(__file__).parent), repo=str(Path(__file__).parents[1]),
                                                  run=str(run)))  # fmt: skip
    job = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (run / "checkpoints" / "last.pt").exists() and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.2)
    os.killpg(job.pid, signal.SIGTERM)
    _, err = job.communicate(timeout=120)
    assert job.returncode == 130 and "interrupted at step" in err, err[-3000:]
    assert "Traceback" not in err and "DataLoader worker" not in err, err[-3000:]


def test_a_workers_fd_sharing_error_at_a_stop_is_not_printed(capsys):
    """The suite once saw the test above fail on a traceback from a DataLoader worker's
    multiprocessing.resource_sharer thread: the main process, stopping, dropped its connection while
    fetching a batch's file descriptors. A worker's thread hook (engine.signals.ignore_sigterm) drops
    that connection error; any other error in a thread is printed as Python prints it."""
    import threading

    from lnet_anet.engine.signals import quiet_fd_sharing_errors

    def raised(code: str, filename: str) -> threading.ExceptHookArgs:
        try:
            exec(compile(code, filename, "exec"))
        except BaseException as e:  # noqa: BLE001 - the exception is the fixture
            return threading.ExceptHookArgs([type(e), e, e.__traceback__, threading.current_thread()])
        raise AssertionError("the code raised nothing")

    quiet_fd_sharing_errors(raised("raise ConnectionResetError(104, 'reset by peer')", "/x/multiprocessing/resource_sharer.py"))
    assert capsys.readouterr().err == ""
    quiet_fd_sharing_errors(raised("raise ConnectionResetError(104, 'reset by peer')", "/x/my_code.py"))
    quiet_fd_sharing_errors(raised("raise ValueError('a bug')", "/x/multiprocessing/resource_sharer.py"))
    err = capsys.readouterr().err
    assert err.count("Traceback") == 2 and "ConnectionResetError" in err and "ValueError: a bug" in err


def test_resume_false_starts_over(tmp_path):
    train(tmp_path, epochs=1)
    again = train(tmp_path, epochs=1, resume=False, max_steps=2)
    assert again.step == 2


def test_unreadable_samples_are_skipped_and_counted(tmp_path):
    trainer = Trainer(TinyAttributeNet(), bce_loss, RandomFaces(bad=(1, 2, 5)), TrainConfig(**{**CFG, "epochs": 1}), tmp_path)
    result = trainer.fit()
    assert result["skipped_images"] == 3
    assert result["step"] == 8


def test_a_batch_with_no_readable_image_is_skipped(tmp_path):
    data = RandomFaces(n=16, bad=tuple(range(16)))
    result = Trainer(TinyAttributeNet(), bce_loss, data, TrainConfig(**{**CFG, "epochs": 1}), tmp_path).fit()
    assert result["step"] == 0
    assert "whole batch was unreadable" in (tmp_path / "train.log").read_text()


def test_evaluation_and_best_checkpoint(tmp_path):
    def evaluate(model, loader, device):
        n = sum(len(b["image"]) for b in loader)
        return {"n": n, "neg_loss": -float(sum(bce_loss(model, b)[0] for b in loader))}

    trainer = Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, "monitor": "neg_loss"}),
                      tmp_path, val_set=RandomFaces(n=24), evaluate_fn=evaluate)  # fmt: skip
    result = trainer.fit()
    assert result["n"] == 24
    evals = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines() if "val/n" in x]
    assert len(evals) == 3
    best = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    assert best["neg_loss"] == max(e["val/neg_loss"] for e in evals)
    import re  # the last figures in the log as a line, rounded (a trial read 300 characters of float digits)

    assert re.search(r"done at step 24; n=24, neg_loss=-?[\d.e+-]{1,9}$", (tmp_path / "train.log").read_text(), re.M)


@pytest.mark.parametrize("epochs", [1, 2])
def test_a_stop_during_an_evaluation_keeps_the_epoch_and_the_rerun_evaluates(tmp_path, epochs):
    """Ctrl-C in the evaluation at an epoch's end lost the epoch (no checkpoint yet: a trial saw
    "no checkpoint was written yet" after four steps). The steps are kept now; the rerun trains
    no step twice and runs the evaluation it missed (the last one too)."""
    calls = {"n": 0}

    def evaluate(model, loader, device):
        calls["n"] += 1
        if calls["n"] == epochs:  # the last epoch's evaluation
            raise KeyboardInterrupt
        return {"n": float(sum(len(b["image"]) for b in loader))}

    def trainer():
        torch.manual_seed(0)
        return Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), TrainConfig(**{**CFG, "epochs": epochs}), tmp_path,
                       val_set=RandomFaces(n=24), evaluate_fn=evaluate)  # fmt: skip

    with pytest.raises(KeyboardInterrupt):
        trainer().fit()
    kept = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert kept["step"] == 8 * epochs and not kept["finished"]
    resumed = trainer()
    result = resumed.fit()
    assert result["step"] == 8 * epochs and result["n"] == 24 and calls["n"] == epochs + 1
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["finished"]
    assert trainer().fit()["step"] == 8 * epochs and calls["n"] == epochs + 1  # finished: nothing more


def test_nonfinite_loss_stops_with_a_clear_error(tmp_path):
    with pytest.raises(FloatingPointError, match="lower train.lr"):
        train(tmp_path, loss_fn=lambda m, b: (bce_loss(m, b)[0] * float("nan"), {}))


def test_config_rejects_unknown_and_bad_values():
    with pytest.raises(ValueError, match="unknown train options.*'lrr'"):
        TrainConfig.from_dict({"lrr": 1})
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="adam")
    # values of the right type that cannot train: said before any data is read (a fresh-user trial)
    for bad, says in (({"lr": -1}, r"train.lr must be > 0, got -1"), ({"lr": float("nan")}, "train.lr must be > 0"),
                      ({"eval_every": 0}, "train.eval_every must be >= 1"), ({"grad_clip": 0.0}, "> 0 or null"),
                      ({"num_workers": -2}, "train.num_workers must be >= 0"),
                      ({"device": "gpu"}, "train.device must be auto, cpu, cuda or cuda:N, got 'gpu'")):  # fmt: skip
        with pytest.raises(ConfigError, match=says):
            TrainConfig(**bad)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="train.device=cuda:0 but torch sees no CUDA device.*train.device=auto"):
            TrainConfig(device="cuda:0")


def test_a_mistyped_monitor_stops_the_run_before_its_first_step(tmp_path):
    """train.monitor names a metric of the stage's evaluation: a typo was found only at the first
    evaluation, after a whole epoch; a stage without evaluation cannot monitor anything."""

    def evaluate(model, loader, device):
        return {"neg_loss": -float(sum(bce_loss(model, b)[0] for b in loader))}

    cfg = TrainConfig(**{**CFG, "monitor": "neg_los"})
    trainer = Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), cfg, tmp_path, val_set=RandomFaces(n=24),
                      evaluate_fn=evaluate)  # fmt: skip
    with pytest.raises(ConfigError, match=r"train.monitor=neg_los is not among this stage's metrics \['neg_loss'\]"):
        trainer.fit()
    assert trainer.step == 0 and not (tmp_path / "checkpoints").exists()
    with pytest.raises(ConfigError, match="no evaluation to take it from"):
        Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), cfg, tmp_path / "b")


def test_checkpoint_save_is_atomic_and_truncated_files_are_named(tmp_path):
    path = tmp_path / "c.pt"
    save_atomic({"w": torch.ones(3)}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(CheckpointError, match="c.pt: not a readable checkpoint .*delete it to train this run from "
                                              "its start, or give the run another name="):  # fmt: skip
        load_checkpoint(path)
    path.write_bytes(b"not a checkpoint at all")  # torch's refusal advises weights_only=False: not repeated
    with pytest.raises(CheckpointError, match="c.pt: not a readable checkpoint \\(not a file of plain tensors") as e:
        load_checkpoint(path)
    assert "weights_only" not in str(e.value) and "\n" not in str(e.value)


def test_epoch_sampler_shards_partition_the_single_process_batches():
    one = list(EpochSampler(20, seed=1))
    shards = [list(EpochSampler(20, seed=1, rank=r, world_size=2)) for r in range(2)]
    for step in range(5):  # global batch 4 = two per process
        assert sorted(one[4 * step:4 * step + 4]) == sorted(shards[0][2 * step:2 * step + 2] + shards[1][2 * step:2 * step + 2])
    resumed = EpochSampler(20, seed=1)
    resumed.set_epoch(0, start=8)
    assert list(resumed) == one[8:]


@pytest.mark.slow
def test_torchrun_two_cpu_processes_train_the_same_model_as_one(tmp_path):
    from lnet_anet.data.synthetic import make_synthetic_celeba

    root = make_synthetic_celeba(tmp_path / "synth", n_images=80, n_identities=10, seed=0)
    worker = Path(__file__).parent / "ddp_worker.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    subprocess.run([sys.executable, str(worker), str(root), str(tmp_path / "one")], check=True, env=env,
                   capture_output=True)  # fmt: skip
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          str(worker), str(root), str(tmp_path / "two")], env=env, capture_output=True, text=True)  # fmt: skip
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    one = torch.load(tmp_path / "one" / "final.pt", weights_only=True)
    two = torch.load(tmp_path / "two" / "final.pt", weights_only=True)
    assert "2 process(es)" in (tmp_path / "two" / "train.log").read_text()
    moved = max((one[k] - TinyAttributeNet().state_dict()[k]).abs().max() for k in one)
    assert moved > 1e-3  # it trained
    for k in one:
        torch.testing.assert_close(two[k], one[k], atol=1e-5, rtol=1e-4)


def test_optimizer_and_schedule_are_built_from_their_target_configs():
    from pathlib import Path

    from hydra import compose, initialize_config_dir

    import lnet_anet

    conf = str(Path(lnet_anet.__file__).parent / "conf")
    overrides = ["train/optimizer=sgd", "train/scheduler=constant", "train.lr=0.2", "train.warmup_steps=4"]
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        sgd = TrainConfig.from_dict(compose("train_age", overrides=overrides).train)
        default = TrainConfig.from_dict(compose("train_age", overrides=["train.lr=0.1", "train.warmup_steps=2"]).train)
    model = torch.nn.Linear(2, 1)
    opt = Trainer._build(sgd.optimizer, {})(model.parameters())
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["lr"] == 0.2 and opt.defaults["nesterov"]
    sched = Trainer._build(sgd.scheduler, {})(opt, 10)
    lrs = []
    for _ in range(6):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.2, 0.2])
    opt = Trainer._build(default.optimizer, {})(model.parameters())
    assert isinstance(opt, torch.optim.AdamW) and opt.defaults["lr"] == 0.1
    sched = Trainer._build(default.scheduler, {})(opt, 10)  # warm-up, then cosine to zero at step 10
    lrs = []
    for _ in range(10):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert lrs[:3] == pytest.approx([0.05, 0.1, 0.1]) and lrs[-1] < 0.01 and lrs == sorted(lrs[:2]) + sorted(lrs[2:], reverse=True)


@pytest.mark.parametrize(("command", "overrides"), [("train_lnet", []), ("train_age", ["input=anet_layers"]),
                                                    ("train_anet_dldl", []), ("train_anet", []),
                                                    ("train_lnet", ["experiment=smoke_lnet"])])
def test_experiment_smoke_wins_over_each_commands_own_train_settings(command, overrides):
    from pathlib import Path

    from hydra import compose, initialize_config_dir

    import lnet_anet

    conf = str(Path(lnet_anet.__file__).parent / "conf")
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        chosen = any(o.startswith("experiment=") for o in overrides)
        cfg = compose(command, overrides=overrides if chosen else [*overrides, "experiment=smoke"])
        train = TrainConfig.from_dict(cfg.train)
    assert (train.epochs, train.batch_size, train.max_steps, train.warmup_steps, train.num_workers) == (1, 16, 4, 0, 0)
    if "experiment=smoke_lnet" in overrides:  # LNet's localizer fitted on a few scenes, one stage
        assert (cfg.calibration_images, cfg.localizer.fit_box, cfg.cascade.enabled) == (20, False, False)


def test_runs_go_where_lnet_anet_runs_says(tmp_path, monkeypatch):
    """Trial 68: from a read-only folder every training command failed making runs/; paths.runs
    was the only way out, and no variable set it as LNET_ANET_DATASETS sets the data root."""
    from pathlib import Path

    from hydra import compose, initialize_config_dir

    import lnet_anet

    conf = str(Path(lnet_anet.__file__).parent / "conf")
    monkeypatch.setenv("LNET_ANET_RUNS", str(tmp_path / "runs-here"))
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        assert compose("train_age").paths.runs == str(tmp_path / "runs-here")
        assert compose("train_age", overrides=["paths.runs=elsewhere"]).paths.runs == "elsewhere"
    monkeypatch.delenv("LNET_ANET_RUNS")
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        assert compose("train_anet").paths.runs == "runs"


@pytest.mark.parametrize(("command", "key", "overrides"), [
    ("fit_svms", "anet_from", []), ("train_attractiveness_anet", "init_from", []),
    ("train_attractiveness_head", "anet_run", []), ("train_anet_dldl", "init_from", ["experiment=age_framed"]),
    ("train_lnet", "init_from", ["experiment=lnet_photometric"]),
])  # fmt: skip
def test_configs_name_the_shipped_bundle_from_any_directory(command, key, overrides, tmp_path, monkeypatch):
    from pathlib import Path

    from hydra import compose, initialize_config_dir

    import lnet_anet

    monkeypatch.chdir(tmp_path)  # not the repository root
    conf = str(Path(lnet_anet.__file__).parent / "conf")
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        path = Path(compose(command, overrides=overrides)[key])
    assert path.is_absolute() and path.is_file() and path.name == "default.lnetanet"


def test_too_few_samples_for_a_batch_name_the_setting(tmp_path):
    from lnet_anet.engine.config import ConfigError

    # a ConfigError: a command ends on it in one line (training_command)
    with pytest.raises(ConfigError, match=r"6 training samples make no full batch of 16: set train.batch_size to 6 or less"):
        train(tmp_path, data=RandomFaces(n=6), batch_size=16)


@pytest.mark.parametrize("command", ["train_age", "train_anet", "train_lnet", "train_attractiveness", "train_anet_dldl"])
def test_a_misspelt_experiment_is_refused_not_ignored(command):
    """experiment=smok must not silently train the full default recipe."""
    from pathlib import Path

    from hydra import compose, initialize_config_dir
    from hydra.errors import MissingConfigException

    import lnet_anet

    conf = str(Path(lnet_anet.__file__).parent / "conf")
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        compose(command, overrides=["experiment=smoke"])
        with pytest.raises(MissingConfigException, match="experiment/smok"):
            compose(command, overrides=["experiment=smok"])


def test_each_experiment_names_its_commands_and_another_command_refuses_it():
    """train_age experiment=lnet_cpu must stop, not merge LNet's recipe into an age run."""
    from pathlib import Path

    import yaml
    from hydra import compose, initialize_config_dir

    import lnet_anet
    from lnet_anet.engine.config import ConfigError
    from lnet_anet.engine.runs import _check_experiment_command

    conf = Path(lnet_anet.__file__).parent / "conf"
    recipes = {p.stem: yaml.safe_load(p.read_text()).get("for_commands") for p in sorted((conf / "experiment").glob("*.yaml"))}
    assert recipes.pop("smoke") is None  # a few steps of any command
    commands = ("train_age", "train_anet", "train_lnet", "train_anet_dldl")
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        for name, allowed in recipes.items():
            assert allowed and set(allowed) <= set(commands), name
            for command in commands:
                cfg = compose(command, overrides=[f"experiment={name}"])
                if command in allowed:
                    _check_experiment_command(cfg, command)
                else:
                    with pytest.raises(ConfigError, match=f"is a recipe for .*not for {command}"):
                        _check_experiment_command(cfg, command)


def test_the_engine_package_loads_the_trainer_only_when_asked():
    """predict imports lnet_anet.engine.signals: the package must not import the Trainer and its
    data loaders with it (about 0.2 s of every CLI start); `from lnet_anet.engine import Trainer`
    still gives it."""
    script = ("import sys, lnet_anet.engine.signals\n"
              "print('lnet_anet.engine.trainer' in sys.modules)\n"
              "from lnet_anet.engine import TrainConfig, Trainer\n"
              "print(Trainer.__module__, TrainConfig.__module__)\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "lnet_anet.engine.trainer", "lnet_anet.engine.config"]
    import lnet_anet.engine

    with pytest.raises(AttributeError, match="has no attribute 'Trainers'"):
        lnet_anet.engine.Trainers  # noqa: B018


def test_a_warmup_as_long_as_the_run_is_said(tmp_path):
    """A short trial run whose warm-up never ends trains at a fraction of train.lr: its log says so
    (and says nothing when the warm-up ends inside the run)."""
    train(tmp_path / "a", warmup_steps=100, max_steps=4)
    said = (tmp_path / "a" / "train.log").read_text()
    assert "warmup_steps 100 is longer than the run's 4 steps" in said and "train.lr 0.05" in said
    train(tmp_path / "b", warmup_steps=2, max_steps=4)
    assert "warmup_steps" not in (tmp_path / "b" / "train.log").read_text()


def test_samples_an_epoch_leaves_out_are_said(tmp_path):
    """Trial 67: 183 faces at batch 64 trained on 128 of them each epoch (drop_last), unsaid."""
    train(tmp_path / "a", data=RandomFaces(n=30), batch_size=8, max_steps=2)
    assert "each epoch leaves out 6 of its 30 samples" in (tmp_path / "a" / "train.log").read_text()
    train(tmp_path / "b", data=RandomFaces(n=32), batch_size=8, max_steps=2)
    assert "leaves out" not in (tmp_path / "b" / "train.log").read_text()


def test_the_caching_and_feature_passes_leave_sigterm_to_the_main_process(tmp_path, monkeypatch):
    """Trial 83: a stop sent to the process group while LNet cached its scene maps printed torch's
    "DataLoader worker is killed by signal" traceback over the clean "interrupted" line: those
    loaders' workers did not leave SIGTERM to the main process, as the Trainer's do."""
    import lnet_anet.anet.features as features
    import lnet_anet.lnet.training as training
    from lnet_anet.engine.signals import ignore_sigterm

    class Stop(Exception):
        pass

    seen = []

    def loader(*args, **kwargs):
        seen.append(kwargs.get("worker_init_fn"))
        raise Stop

    for module in (training, features):
        monkeypatch.setattr(module, "DataLoader", loader)
    with pytest.raises(Stop):
        training.cache_scenes(torch.nn.Identity(), [0], tmp_path / "maps.npz", num_workers=2)
    with pytest.raises(Stop):
        features.dataset_patch_features(torch.nn.Identity(), [0], stride=8, num_workers=2)
    assert seen == [ignore_sigterm, ignore_sigterm]
