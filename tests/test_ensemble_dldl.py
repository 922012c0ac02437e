"""Joining DLDL runs into an ensemble run folder that the bundle builder takes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lnet_anet.cli.ensemble_dldl import main
from lnet_anet.engine.runs import load_run_net, save_weights, write_json
from lnet_anet.models import create_model


def _run(folder: Path, seed: int, preds: np.ndarray, true: np.ndarray, image_size: int = 32) -> Path:
    torch.manual_seed(seed)
    folder.mkdir(parents=True)
    save_weights(create_model("tiny_age_net"), folder / "model.safetensors", {"target": "age"})
    write_json(folder / "model.json", {"model": "tiny_age_net", "kwargs": {"low": 0, "high": 100, "step": 1}})
    write_json(folder / "preprocess.json", {"image_size": image_size, "enlarge": 1.3})
    write_json(folder / "eval.json", {"split": "val", "mae": float(np.abs(preds - true).mean())})
    pd.DataFrame({"index": np.arange(len(true))[::-1], "pred": preds[::-1], "pred_std": np.full(len(true), 2.0),
                  "true": true[::-1], "gender": 0, "image": [f"{i}.jpg" for i in range(len(true))][::-1]}
                 ).to_csv(folder / "predictions.csv", index=False)  # fmt: skip
    return folder


def test_the_ensemble_averages_its_members_distributions_and_figures(tmp_path):
    true = np.array([10.0, 30.0, 50.0, 70.0])
    a = _run(tmp_path / "a", 0, true + np.array([4.0, -4.0, 2.0, 0.0]), true)
    b = _run(tmp_path / "b", 1, true + np.array([-4.0, 4.0, 2.0, 2.0]), true)
    assert main([str(a), str(b), "--out", str(tmp_path / "ens")]) == 0
    result = json.loads((tmp_path / "ens" / "eval.json").read_text())
    assert result["mae"] == pytest.approx(np.mean([0.0, 0.0, 2.0, 1.0])) and result["member_mae"] == [2.5, 3.0]
    preds = pd.read_csv(tmp_path / "ens" / "predictions.csv")
    assert preds["pred_std"].iloc[0] == pytest.approx(np.sqrt(4 + 16))  # the mixture's spread: 2 and +-4
    net = load_run_net(tmp_path / "ens", "model.safetensors", "ensemble_dldl")
    members = [load_run_net(f, "model.safetensors", "dldl") for f in (a, b)]
    x = torch.randn(3, 3, 32, 32)
    expected = sum(m.head.predict(m(x)["logits"])["mean"] for m in members) / 2
    torch.testing.assert_close(net.head.predict(net(x)["logits"])["mean"], expected, atol=1e-3, rtol=0)


def test_runs_that_do_not_fit_together_are_refused(tmp_path, capsys):
    true = np.array([10.0, 30.0, 50.0])
    a = _run(tmp_path / "a", 0, true, true)
    b = _run(tmp_path / "b", 1, true, true, image_size=64)
    assert main([str(a), str(b), "--out", str(tmp_path / "x")]) == 1
    assert "differ in their preprocess" in capsys.readouterr().err
    c = _run(tmp_path / "c", 2, true[:2], true[:2])
    assert main([str(a), str(c), "--out", str(tmp_path / "y")]) == 1
    assert "scores other faces" in capsys.readouterr().err
    assert main([str(a), str(tmp_path / "missing"), "--out", str(tmp_path / "z")]) == 1
    assert "model.json: not found" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
