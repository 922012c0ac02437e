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


def test_the_ensemble_keeps_the_data_its_members_learnt_from(tmp_path):
    """Trial 67: an ensemble folder kept no data.json, so build_bundle --age-prior read another
    UTKFace (the datasets root's) than the copy its members learnt from, without a word."""
    true = np.array([10.0, 30.0, 50.0, 70.0])
    data = {"name": "utkface128", "reader": "read_utkface", "root": {"folder": "/data/mine/UTKFace"}, "rows": 4,
            "holdout": {"frac": 0.2, "seed": 0}, "skipped": []}  # fmt: skip
    runs = [_run(tmp_path / k, seed, true + seed, true) for seed, k in enumerate("abc")]
    for run, skipped in zip(runs, ([], ["x.jpg: malformed name"], []), strict=True):
        write_json(run / "data.json", {**data, "skipped": skipped})
    assert main([str(runs[0]), str(runs[1]), "--out", str(tmp_path / "same")]) == 0
    assert json.loads((tmp_path / "same" / "data.json").read_text())["root"] == {"folder": "/data/mine/UTKFace"}
    write_json(runs[2] / "data.json", {**data, "root": {"folder": "/data/other/UTKFace"}})
    assert main([str(runs[0]), str(runs[2]), "--out", str(tmp_path / "mixed")]) == 0
    assert not (tmp_path / "mixed" / "data.json").exists()  # no one dataset to name


def test_runs_that_do_not_fit_together_are_refused(tmp_path, capsys):
    true = np.array([10.0, 30.0, 50.0])
    a = _run(tmp_path / "a", 0, true, true)
    b = _run(tmp_path / "b", 1, true, true, image_size=64)
    assert main([str(a), str(b), "--out", str(tmp_path / "x")]) == 1
    assert "differ in their preprocess" in capsys.readouterr().err
    c = _run(tmp_path / "c", 2, true[:2], true[:2])
    assert main([str(a), str(c), "--out", str(tmp_path / "y")]) == 1
    assert "scores other faces than" in capsys.readouterr().err
    # trial 83: why, from the runs' data records (two runs trained on different data.limit)
    write_json(a / "data.json", {"name": "utkface128", "rows": 3, "limit": None, "skipped": []})
    write_json(c / "data.json", {"name": "utkface128", "rows": 2, "limit": 2, "skipped": ["x.jpg: bad"]})
    assert main([str(a), str(c), "--out", str(tmp_path / "y")]) == 1
    err = capsys.readouterr().err
    assert "(2 against 3); their data.json records differ: limit null -> 2, rows 3 -> 2; train the members on the same" in err
    assert main([str(a), str(tmp_path / "missing"), "--out", str(tmp_path / "z")]) == 1
    assert "missing: no such folder" in capsys.readouterr().err
    (tmp_path / "unfinished").mkdir()
    assert main([str(a), str(tmp_path / "unfinished"), "--out", str(tmp_path / "z")]) == 1
    assert "model.json: not found" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_an_ensemble_never_overwrites_a_run_or_averages_a_net_with_itself(tmp_path, capsys):
    true = np.array([10.0, 30.0, 50.0])
    a, b = _run(tmp_path / "a", 0, true, true), _run(tmp_path / "b", 1, true, true)
    before = (b / "model.safetensors").read_bytes()
    assert main([str(a), str(b), "--out", str(b)]) == 2  # a member's trained weights
    assert "is one of the runs" in capsys.readouterr().err and (b / "model.safetensors").read_bytes() == before
    other = _run(tmp_path / "other", 2, true, true)
    assert main([str(a), str(b), "--out", str(other)]) == 2
    assert "already holds a tiny_age_net run" in capsys.readouterr().err
    assert main([str(a), str(tmp_path / "a"), "--out", str(tmp_path / "e")]) == 2
    assert "is given twice" in capsys.readouterr().err
    twin = _run(tmp_path / "twin", 0, true, true)  # the same seed: the same weights
    assert main([str(a), str(twin), "--out", str(tmp_path / "e")]) == 1
    assert "holds the same weights" in capsys.readouterr().err and not (tmp_path / "e").exists()
    assert main([str(a), "--out", str(tmp_path / "e")]) == 2  # usage: one run
    assert "at least 2 run folders" in capsys.readouterr().err
    assert main([str(a), str(b), "--out", str(tmp_path / "e")]) == 0
    assert main([str(a), str(b), "--out", str(tmp_path / "e")]) == 0  # an earlier ensemble is replaced


def test_an_ensemble_run_goes_into_a_bundle_and_the_predictor_reads_it(tmp_path):
    from lnet_anet.cli.build_bundle import main as build_main
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.bundle import load_bundle

    true = np.array([10.0, 30.0, 50.0])
    a = _run(tmp_path / "a", 0, true + 1, true)
    b = _run(tmp_path / "b", 1, true - 1, true)
    assert main([str(a), str(b), "--out", str(tmp_path / "ens")]) == 0
    source = random_bundle(tmp_path / "src.lnetanet")
    out = tmp_path / "ens.lnetanet"
    assert build_main(["--from-bundle", str(source), "--age", str(tmp_path / "ens"), "--out", str(out)]) == 0
    age = load_bundle(out).age
    members = [load_run_net(f, "model.safetensors", "dldl") for f in (a, b)]
    x = torch.randn(2, 3, 32, 32)
    expected = sum(m.head.predict(m(x)["logits"])["mean"] for m in members) / 2
    torch.testing.assert_close(age.head.predict(age(x)["logits"])["mean"], expected, atol=0.05, rtol=0)
    from lnet_anet.inference.predictor import Predictor

    faces = Predictor(load_bundle(out), backend="torch").predict(np.full((96, 96, 3), 128, np.uint8))["faces"]
    assert faces and all(0 <= f["age"]["mean"] <= 100 for f in faces)
    with pytest.raises(ValueError, match="share their label bins"):
        create_model("dldl_ensemble", members=[{"model": "tiny_age_net", "kwargs": {"low": 0, "high": 100, "step": 1}},
                                               {"model": "tiny_age_net", "kwargs": {"low": 0, "high": 50, "step": 1}}])


def test_mirror_views_average_a_head_that_reads_its_own_crop(tmp_path):
    """Predictor.load(mirror=True): a head on its own crop (the ensemble above, or any image net)
    averages the crop's and its mirror image's distributions, so a face and its mirror image get
    the same age; without mirror views they differ."""
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.predictor import Predictor

    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, max_faces=1)
    image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    flipped = np.ascontiguousarray(image[:, ::-1])
    ages = {}
    for mirror in (False, True):
        predictor = Predictor.load(bundle, backend="torch", mirror=mirror)
        predictor.refine_boxes = False
        assert predictor._shared_stages.get("age", 0) == 0  # the tiny bundle's age net reads its own crop
        a, b = (predictor.analyse_boxes(im, [box], kind="region")[0]["age"]
                for im, box in ((image, [20, 10, 84, 80]), (flipped, [128 - 84, 10, 128 - 20, 80])))
        ages[mirror] = (a, b)
    assert abs(ages[True][0]["mean"] - ages[True][1]["mean"]) < 1e-3
    assert abs(ages[True][0]["std"] - ages[True][1]["std"]) < 1e-3
    assert abs(ages[False][0]["mean"] - ages[False][1]["mean"]) > 1e-3


def test_replacing_a_calibrated_age_head_says_its_calibration_stays_behind(tmp_path, capsys):
    """build_bundle --from-bundle B --age RUN: B's label-prior correction and std scale were
    chosen for B's age net, so the new head comes without them, and a note says how to add them."""
    from lnet_anet.cli.build_bundle import main as build_main
    from lnet_anet.inference.bundle import read_header
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE

    spec = read_header(DEFAULT_BUNDLE)[1]["nets"]["age"]
    strength, scale = spec["prior_correction"]["strength"], spec["std_scale"]
    a = _run(tmp_path / "a", 0, np.array([10.0, 30.0]), np.array([10.0, 30.0]))
    out = tmp_path / "x.lnetanet"
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--age", str(a), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"label-prior correction {strength:g} and std scale {scale:g} are not carried over" in err
    assert f"--from-bundle {out} --age-prior" in err
    new = read_header(out)[1]["nets"]["age"]
    assert "prior_correction" not in new and "std_scale" not in new
    # the shipped head's crop softening too (since session 40): said, and how to set it again
    soften = {k: read_header(DEFAULT_BUNDLE)[1]["preprocessing"]["age"][k] for k in ("soften", "soften_above")}
    assert f"input settings {json.dumps(soften)} are not carried over" in err and f"--age-input '{json.dumps(soften)}'" in err
    assert "soften" not in read_header(out)[1]["preprocessing"]["age"]
