"""benchmarks/bench_predict.py (the speed step of `make bench`) runs against the current Predictor:
its one-thread stage split times every stage of a tiny random bundle."""

from __future__ import annotations

import numpy as np

from tests._bench import load_benchmark


def test_the_stage_split_times_each_stage(tmp_path):
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.predictor import Predictor

    bench = load_benchmark("bench_predict")
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, max_faces=1))
    image = np.random.default_rng(0).integers(0, 255, (160, 160, 3), np.uint8)
    split = bench.stage_split(predictor, image, runs=1)
    assert {"lnet", "localizer", "anet_svm", "age", "attractiveness"} <= set(split)
    assert all(v >= 0 for v in split.values())
    assert abs(split["sum"] - sum(v for k, v in split.items() if k != "sum")) < 0.05


def test_option_cost_times_each_arm_on_the_same_images(tmp_path, one_thread):
    """benchmarks/bench_option_cost.py (the records of --mirror and --box-jitter): the plain, null and
    option arms on the same faces, the added ms per face written; a folder with no face says so."""
    import json

    import pytest
    from PIL import Image
    from skimage.data import astronaut

    bench = load_benchmark("bench_option_cost")
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(astronaut()).save(images / "a.jpg")
    out = tmp_path / "cost.json"
    bench.main(["--option", "box_jitter", "--images", str(images), "--n", "1", "--rounds", "1", "--block", "1", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["faces"] >= 1 and set(result["ms_per_face"]) == {"plain", "null", "box_jitter"}
    assert result["added_ms_per_face"]["box_jitter"] == pytest.approx(
        result["ms_per_face"]["box_jitter"] - result["ms_per_face"]["plain"], abs=0.02)
    empty = tmp_path / "empty"
    empty.mkdir()
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(empty / "black.jpg")
    with pytest.raises(SystemExit, match="no face found"):
        bench.main(["--option", "mirror", "--images", str(empty), "--n", "1", "--out", str(tmp_path / "x.json")])


def test_end_to_end_stability_names_its_perturbations_and_refuses_others(capsys):
    """bench_end_to_end's --perturb takes the names `perturbations` makes (a wrong one was
    ignored, leaving the stability section out of the record without a word)."""
    import pytest
    from PIL import Image

    bench = load_benchmark("bench_end_to_end")
    made = bench.perturbations(Image.fromarray(np.zeros((40, 48, 3), np.uint8)))
    assert tuple(made) == bench.PERTURBATIONS
    with pytest.raises(SystemExit) as stop:
        bench.main(["--perturb", "bogus"])
    assert stop.value.code == 2 and "invalid choice: 'bogus'" in capsys.readouterr().err
