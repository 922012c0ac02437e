"""benchmarks/bench_predict.py (the speed step of `make bench`) runs against the current Predictor:
its one-thread stage split times every stage of a tiny random bundle."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

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
    # trial 85: --limit 0 read every file (as "all"), --limit -5 gave a pandas traceback
    for bad, said in ((["--limit", "0"], "must be at least 1, got 0"), (["--stability", "-5"], "must be at least 0, got -5"),
                      (["--limit", "ten"], "expected a whole number, got 'ten'")):  # fmt: skip
        with pytest.raises(SystemExit) as stop:
            bench.main(bad)
        assert stop.value.code == 2 and said in capsys.readouterr().err


def test_end_to_end_scores_age_alone_without_celeba_hq(tmp_path, capsys, one_thread):
    """bench_end_to_end needed celeba_hq128 even for the age rows (a user with UTKFace only could not
    run it). --sets age reads utkface128 alone; asking for a set whose data is missing names it and
    says which --sets would run."""
    import json

    from PIL import Image
    from skimage.data import astronaut

    chips = tmp_path / "datasets" / "utkface128" / "UTKFace"
    chips.mkdir(parents=True)
    face = Image.fromarray(astronaut()).crop((140, 20, 300, 180)).resize((128, 128))
    for i, age in enumerate((5, 18, 30, 45, 61, 70, 24, 33, 52, 9, 40, 27)):
        face.rotate(i - 6).save(chips / f"{age}_1_0_2017011221350{i:04d}.jpg.chip.jpg")
    bench = load_benchmark("bench_end_to_end")
    common = ["--datasets", str(tmp_path / "datasets"), "--stability", "0", "--framings", "0", "--probe-train", "0",
              "--scut", "0", "--threads", "1"]  # fmt: skip
    assert bench.main([*common, "--out", str(tmp_path / "both")]) == 1
    assert (f"celeba_hq128 (the attributes rows) not found under {tmp_path / 'datasets'} (--datasets DIR); to score "
            "the rest: --sets age") in capsys.readouterr().err  # fmt: skip
    assert bench.main([*common, "--sets", "age", "--out", str(tmp_path / "age")]) == 0
    results = json.loads((tmp_path / "age" / "results.json").read_text())
    assert results["sets"] == ["age"] and results["n"]["celeba_hq"] == 0 and results["n"]["utkface"] >= 1
    # files.json is relative to the datasets folder: the record names it (trial 93)
    assert results["datasets"] == str((tmp_path / "datasets").resolve()) and results["threads"] == 1
    embedded = results["bundles"]["embedded"]
    assert "attributes" not in embedded and embedded["age"]["found"] > 0 and embedded["age"]["mae"] >= 0
    text = (tmp_path / "age" / "results.md").read_text()
    assert "## Age, UTKFace chips" in text and "## Attributes" not in text and "CelebA-HQ files" not in text
    assert bench.markdown(results) == text and "| 13-59: MAE |" in text
    assert f"Datasets: `{results['datasets']}`" in text and "(torch threads: 1)" in text
    bands = embedded["age"]["by_wide_band"]
    bands["60-"] = bands["13-59"]  # the open band is "60-" in results.json: "60+" in the table, as README names it
    assert "| 60+: MAE |" in bench.markdown(results) and "60-" not in bench.markdown(results)
    for key in ("identity", "model"):  # which model: as predict's records name it (trial 85)
        assert re.fullmatch(r"[0-9a-f]{12}", embedded[key]) and embedded[key] in text
    assert results["machine"]["revision"] is None or re.match(r"[0-9a-f]{12}", results["machine"]["revision"])
    # the ages drawn beside them, per bundle (age_errors_<label>.png)
    assert embedded["age"]["picture"] == "age_errors_embedded.png"
    with Image.open(tmp_path / "age" / "age_errors_embedded.png") as picture:
        assert picture.format == "PNG" and picture.width >= 800 and picture.height >= 600
    # which files were scored, and what the Predictor said of each (trial 90: a record could not be re-scored)
    import gzip

    scored = json.loads((tmp_path / "age" / "files.json").read_text())["utkface"]
    assert len(scored) == results["n"]["utkface"] and all(p.startswith("utkface128/UTKFace/") for p in scored)
    with gzip.open(tmp_path / "age" / embedded["faces_file"], "rt") as f:
        lines = [json.loads(line) for line in f]
    assert [line["path"] for line in lines] == scored and {line["set"] for line in lines} == {"utkface"}
    ages = {line["path"]: line["face"]["age"]["mean"] for line in lines if line["face"]}
    errors = [ages[p] - int(Path(p).name.split("_")[0]) for p in ages]
    assert np.isclose(embedded["age"]["mae"], np.mean(np.abs(errors)), atol=1e-3)  # the ages as rounded in the records
    assert embedded["age"]["cs"]["10"] == pytest.approx(np.mean(np.abs(errors) <= 10), abs=1 / len(errors))
    assert "| CS(5): within 5 years |" in text
