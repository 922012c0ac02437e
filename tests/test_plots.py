"""The pictures: a run's curves.png (engine.plots.plot_metrics, the Trainer, plot_run), the
attributes' calibration (ECE, plot_reliability) and age_errors.png (plot_age_errors, an age run's
report)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _tiny import RandomFaces, TinyAttributeNet, bce_loss  # noqa: E402


def is_png(path: Path, min_size: tuple[int, int] = (400, 250)) -> tuple[int, int]:
    """Assert that `path` is a whole PNG of at least min_size pixels; its (width, height)."""
    from PIL import Image

    assert path.is_file() and path.stat().st_size > 5000, path
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.load()  # a file cut short fails here
        assert image.width >= min_size[0] and image.height >= min_size[1], image.size
        assert len(np.unique(np.asarray(image.convert("L")))) > 10  # drawn, not a blank page
        return image.size


def metrics_lines(n_steps: int = 30, every: int = 10) -> list[str]:
    """metrics.jsonl lines as the Trainer writes them: a train line per step, an evaluation every
    `every` steps."""
    lines = []
    for step in range(1, n_steps + 1):
        lines.append(json.dumps({"step": step, "epoch": (step - 1) // every, "loss": 2.0 / step, "kl": 1.0 / step,
                                 "mae": 10.0 / step, "lr": 1e-3 * min(1.0, step / 5), "skipped_images": 0}))  # fmt: skip
        if step % every == 0:
            lines.append(json.dumps({"step": step, "epoch": step // every - 1, "eval_seconds": 0.1, "val/n": 50.0,
                                     "val/mae": 12.0 / step, "val/pearson_r": 0.5 + step / 100,
                                     **{f"val/cs_{t}": min(1.0, t * step / 300) for t in range(1, 11)}}))  # fmt: skip
    return lines


def test_plot_metrics_draws_a_file_cut_short_and_one_of_train_lines_only(tmp_path):
    from lnet_anet.engine.plots import metric_series, plot_metrics, read_metrics

    lines = metrics_lines()
    cut = tmp_path / "cut" / "metrics.jsonl"
    cut.parent.mkdir()
    cut.write_text("\n".join(lines) + "\n" + lines[-1][:25])  # a kill in the middle of a line
    assert len(read_metrics(cut)) == len(lines)
    out = plot_metrics(cut, tmp_path / "cut" / "curves.png", "runs/cut")
    assert out == tmp_path / "cut" / "curves.png"
    width, height = is_png(out)
    assert width > height  # panels side by side, four a row
    assert not list(out.parent.glob(".*tmp*"))  # written through a temporary file, renamed

    train_only = tmp_path / "train" / "metrics.jsonl"
    train_only.parent.mkdir()
    train_only.write_text("\n".join(line for line in lines if "val/" not in line) + "\n")
    is_png(plot_metrics(train_only, tmp_path / "train" / "curves.png", "runs/train"))

    # a step logged twice (its line kept by a resume) keeps the last value; NOT_DRAWN keys are left out
    series = metric_series([{"step": 2, "loss": 1.0}, {"step": 1, "loss": 3.0}, {"step": 2, "loss": 0.5, "epoch": 0}])
    assert list(series) == ["loss"] and series["loss"][0].tolist() == [1, 2] and series["loss"][1].tolist() == [3.0, 0.5]

    nothing = tmp_path / "nothing.jsonl"
    nothing.write_text('{"step": 1, "lo')
    with pytest.raises(ValueError, match="no complete line"):
        plot_metrics(nothing, tmp_path / "nothing.png", "x")
    assert not (tmp_path / "nothing.png").exists()


def test_the_trainer_draws_its_curves_at_evaluations_at_the_end_and_when_stopped(tmp_path):
    from lnet_anet.engine import TrainConfig, Trainer

    cfg = TrainConfig(epochs=2, batch_size=8, lr=0.05, num_workers=0, progress=False, log_every=2)
    torch.manual_seed(0)
    trainer = Trainer(TinyAttributeNet(), bce_loss, RandomFaces(), cfg, tmp_path / "run", val_set=RandomFaces(n=8),
                      evaluate_fn=lambda model, loader, device: {"score": 0.5})  # fmt: skip
    trainer.fit()
    is_png(tmp_path / "run" / "curves.png")

    calls = {"n": 0}

    def dies_at_step_5(model, batch):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt("stopped")
        return bce_loss(model, batch)

    stopped = Trainer(TinyAttributeNet(), dies_at_step_5, RandomFaces(), cfg, tmp_path / "stopped")
    with pytest.raises(KeyboardInterrupt):
        stopped.fit()
    is_png(tmp_path / "stopped" / "curves.png")  # the steps logged before the stop


def test_plot_run_draws_a_run_and_names_a_missing_metrics_file(tmp_path, capsys):
    from lnet_anet.cli.plot_run import main

    run = tmp_path / "run"
    run.mkdir()
    assert main([str(run)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {run / 'metrics.jsonl'}: not found; is it a training run's folder?\n"
    assert main([str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'none' / 'metrics.jsonl'}: not found; no folder ")

    (run / "finetune").mkdir()
    (run / "finetune" / "metrics.jsonl").write_text("\n".join(metrics_lines(12, 6)) + "\n")
    assert main([str(run)]) == 2  # a train_anet run: its stages are named
    assert f"its stages have theirs: name one, e.g. {run / 'finetune'} (finetune)" in capsys.readouterr().err
    assert main([str(run / "finetune"), "--out", str(tmp_path / "pictures" / "ft.png")]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'pictures' / 'ft.png'}\n"
    is_png(tmp_path / "pictures" / "ft.png")

    (run / "finetune" / "metrics.jsonl").write_text('{"step": 3, "lo')  # nothing whole to draw yet
    assert main([str(run / "finetune")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {run / 'finetune' / 'metrics.jsonl'}: no complete line") and err.count("\n") == 1


def test_the_expected_calibration_error_of_a_small_example_is_the_hand_value():
    from lnet_anet.metrics.attributes import calibration_bins, expected_calibration_error

    probs = np.array([0.05, 0.15, 0.15, 0.95, 0.95, 0.95, 0.95])
    labels = np.array([0, 0, 1, 1, 1, 1, 0])
    # bins [0, .1): one at 0.05, none present: gap 0.05; [.1, .2): two at 0.15, half present: 0.35;
    # [.9, 1]: four at 0.95, three present: 0.2. ECE = (1 * 0.05 + 2 * 0.35 + 4 * 0.2) / 7
    assert expected_calibration_error(probs, labels) == pytest.approx(1.55 / 7)
    b = calibration_bins(probs, labels)
    assert b["count"].tolist() == [1, 2, 0, 0, 0, 0, 0, 0, 0, 4] and b["n"] == 7
    assert b["observed"][1] == pytest.approx(0.5) and np.isnan(b["mean_predicted"][2])
    # pooled over attributes: an (N, A) array is its values; p = 1 falls in the last bin
    assert expected_calibration_error(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[1, 0], [1, 0]])) == 0.0
    for p, y, said in (([0.5, 1.2], [0, 1], "not in \\[0, 1\\]"), ([0.5], [2], "0 or 1"), ([0.5, 0.5], [1], "one shape")):
        with pytest.raises(ValueError, match=said):
            calibration_bins(np.array(p), np.array(y))


def test_the_reliability_diagram_is_drawn_for_each_arm(tmp_path):
    from lnet_anet.engine.plots import plot_reliability

    rng = np.random.default_rng(0)
    names = [f"Attribute_{i}" for i in range(12)]
    probs = rng.random((60, 12))
    labels = (rng.random((60, 12)) < probs).astype(int)
    out = plot_reliability({"end to end": (probs, labels), "crops": (probs ** 2, labels)}, names,
                           tmp_path / "reliability.png", "synthetic val")  # fmt: skip
    width, height = is_png(out, (800, 400))
    assert width > height
    with pytest.raises(ValueError, match=r"must be \(N, 12\)"):
        plot_reliability({"x": (probs[:, :3], labels[:, :3])}, names, tmp_path / "no.png", "x")


def test_age_errors_by_band_and_their_picture(tmp_path):
    from lnet_anet.engine.plots import plot_age_errors
    from lnet_anet.metrics.age import errors_by_band

    true = np.array([5.0, 10.0, 20.0, 35.0, 50.0, 70.0])
    pred = np.array([7.0, 10.0, 25.0, 34.0, 40.0, 64.0])
    std = np.array([1.0, 1.0, 3.0, 2.0, 4.0, 3.0])
    table = errors_by_band(pred, true, std).set_index("band")
    assert table.loc["0-12", "count"] == 2 and table.loc["0-12", "mae"] == pytest.approx(1.0)
    assert table.loc["0-12", "within_1_std"] == pytest.approx(0.5) and table.loc["0-12", "within_2_std"] == 1.0
    assert table.loc["20-39", "within_2_std"] == 1.0 and table.loc["40-59", "within_2_std"] == 0.0
    assert table.loc["13-19", "count"] == 0  # an empty band stays in the table
    assert table.loc["60+", "bias"] == -6.0 and table.loc["all", "count"] == 6
    assert table.loc["all", "within_1_std"] == pytest.approx(2 / 6)
    assert list(table.index) == ["0-12", "13-19", "20-39", "40-59", "60+", "all"]  # eval.md's bands

    rng = np.random.default_rng(0)
    ages = rng.uniform(1, 90, 300)
    out = plot_age_errors(ages + rng.normal(0, 5, 300), np.full(300, 5.0), ages, tmp_path / "age_errors.png", "synthetic")
    is_png(out, (800, 600))
    no_children = rng.uniform(20, 50, 40)  # empty bands are drawn empty, not refused
    is_png(plot_age_errors(no_children + 1, np.full(40, 2.0), no_children, tmp_path / "adults.png", "adults"), (800, 600))


def test_an_age_runs_report_draws_its_errors(tmp_path):
    """write_regression_report (every age run's evaluation, ensemble_dldl too) writes age_errors.png
    beside predictions.csv; an attractiveness report does not."""
    import pandas as pd

    from lnet_anet.engine.runs import write_regression_report

    rng = np.random.default_rng(1)
    true = rng.integers(1, 90, 80).astype(float)
    preds = pd.DataFrame({"index": np.arange(80), "pred": true + rng.normal(0, 4, 80), "pred_std": 4.0, "true": true})
    part = pd.DataFrame({"gender": rng.integers(0, 2, 80), "race": rng.integers(0, 5, 80)})
    (tmp_path / "age").mkdir()
    write_regression_report(tmp_path / "age", preds, part, "val", "age", {"mae": 3.0})
    assert (tmp_path / "age" / "predictions.csv").is_file()
    is_png(tmp_path / "age" / "age_errors.png", (800, 600))
    (tmp_path / "score").mkdir()
    write_regression_report(tmp_path / "score", preds.assign(pred=3.0, true=3.5), part, "val", "attractiveness", {})
    assert not (tmp_path / "score" / "age_errors.png").exists()
