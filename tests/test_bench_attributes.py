"""benchmarks/bench_attributes.py: a bundle's attributes on a user's labelled CelebA / LFWA copy, end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests._bench import load_benchmark


@pytest.fixture(scope="module")
def celeba(tmp_path_factory):
    from lnet_anet.data.synthetic.celeba_tree import read_synthetic
    from lnet_anet.inference.build import random_bundle

    root = tmp_path_factory.mktemp("bench-attributes")
    read_synthetic(root / "celeba", n_images=40, n_identities=8)
    return root / "celeba", random_bundle(root / "b.lnetanet", threshold=0.0)


def test_the_figures_are_those_of_the_predictors_records_on_the_files(celeba, tmp_path):
    from lnet_anet.data.from_config import build_index, split_of
    from lnet_anet.inference.predictor import Predictor
    from lnet_anet.metrics.attributes import attribute_metrics

    bench = load_benchmark("bench_attributes")
    root, bundle = celeba
    setting = "data.index.images=img_align_celeba"
    assert bench.main(["--data", "celeba", "--root", str(root), "--bundle", str(bundle), "--out", str(tmp_path), setting]) == 0
    got = json.loads((tmp_path / "results.json").read_text())
    assert got["data"] == {"name": "celeba", "root": str(root), "split": "val", "n_images": got["scores"]["n_images"]}
    assert "celeba val" in (tmp_path / "results.md").read_text()
    # the same figures from the Predictor's records, by hand
    index = build_index(bench.dataset_config("celeba", root, [setting]))
    val = split_of(index, "val")
    predictor = Predictor.load(bundle)
    names = predictor.attributes
    tops = [max(r["faces"], key=lambda f: f["score"]) if r["faces"] else None for r in predictor.predict_many(val["path"].tolist())]
    found = np.array([t is not None for t in tops])
    probs = np.array([[t["attributes"][n] for n in names] for t in tops if t is not None])
    want = attribute_metrics(probs >= predictor.bundle.svm.threshold, val[names].to_numpy()[found], names,
                             index.loc[index.split == "train", names].to_numpy())  # fmt: skip
    assert got["scores"]["found"] == pytest.approx(found.mean())
    assert got["scores"]["decisions"]["mean_accuracy"] == pytest.approx(want["mean_accuracy"])
    assert got["scores"]["majority_mean_accuracy"] == pytest.approx(want["majority_mean_accuracy"])
    assert set(got["scores"]["per_attribute"]) == set(names) and got["left_out_attributes"] == []


def test_bad_arguments_and_data_stop_with_one_error_line(celeba, tmp_path, capsys):
    bench = load_benchmark("bench_attributes")
    root, bundle = celeba
    base = ["--data", "celeba", "--root", str(root), "--bundle", str(bundle), "--out", str(tmp_path)]
    assert bench.main(base) == 2  # several image folders: the reader's error, named
    assert "error: " in capsys.readouterr().err and not (tmp_path / "results.json").exists()
    for argv, said in ((["images=x"], "settings are data.KEY=VALUE"), (["--split", "nope", "data.index.images=img_celeba"],
                       "has no 'nope' rows"), (["--root", str(tmp_path / "none")], "no such folder")):  # fmt: skip
        with pytest.raises(SystemExit) as e:
            bench.main([*base, *argv])
        assert e.value.code == 2 and said in capsys.readouterr().err
    assert "celeba" in bench.attribute_datasets() and "lfwa" in bench.attribute_datasets()
    assert "utkface" not in bench.attribute_datasets()
