"""fit_std_scale: a head's std scale fitted end to end on labelled files (trial 67: no command
calibrated a user's own head; the shipped head's scale came from an experiment's scripts)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lnet_anet.cli.fit_std_scale import GAUSSIAN_WITHIN_1_STD, fit_factor, main


def test_the_factor_holds_a_gaussians_share_within_one_std():
    rng = np.random.default_rng(0)
    stds = rng.uniform(1, 5, 20000)
    errors = rng.normal(0, 2 * stds)  # the predicted std is half the real spread
    factor = fit_factor(errors, stds)
    assert factor == pytest.approx(2.0, rel=0.03)
    assert np.mean(np.abs(errors) <= factor * stds) == pytest.approx(GAUSSIAN_WITHIN_1_STD, abs=1e-3)
    with pytest.raises(ValueError, match="stds > 0"):
        fit_factor([1.0], [0.0])


def test_the_command_writes_the_bundle_with_the_fitted_scale(bundle_path, tmp_path, capsys, monkeypatch):
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.predictor import Predictor

    folder = tmp_path / "UTKFace"
    folder.mkdir()
    ages = [20, 30, 40, 50, 60, 70]
    for i, age in enumerate(ages):
        Image.new("RGB", (32, 32), (i * 30, 90, 90)).save(folder / f"{age}_0_0_2017{i:010d}.jpg.chip.jpg")

    def predictions(self, paths, batch_size=8, channel_order="rgb"):  # each face read 4 years off, std 2; one missed
        for k, path in enumerate(paths):
            age = float(path.rsplit("/", 1)[-1].split("_")[0])
            yield {"faces": [] if k == 5 else [{"age": {"mean": age + (4 if k % 2 else -4), "std": 2.0}}]}

    monkeypatch.setattr(Predictor, "predict_many", predictions)
    out = tmp_path / "calibrated.lnetanet"
    assert main(["--bundle", str(bundle_path), "--target", "age", "--labels", str(folder), "--out", str(out)]) == 0
    said = capsys.readouterr()
    assert "5 faces (1 images without one left out): MAE 4.000; within +-1 std 0.000" in said.out
    assert "std x 2.000" in said.out and "the factor is a rough estimate" in said.err
    assert load_bundle(out).config["nets"]["age"]["std_scale"] == pytest.approx(2.0)
    # attractiveness needs a CSV; a folder is refused in one line
    assert main(["--bundle", str(bundle_path), "--target", "attractiveness", "--labels", str(folder)]) == 1
    assert "attractiveness needs a CSV" in capsys.readouterr().err
