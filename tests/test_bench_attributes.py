"""benchmarks/bench_attributes.py: a bundle's attributes on a user's labelled CelebA / LFWA copy, end to end."""

from __future__ import annotations

import json
from pathlib import Path

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
    from PIL import Image

    from lnet_anet.data.from_config import build_index, split_of
    from lnet_anet.inference.predictor import Predictor
    from lnet_anet.metrics.attributes import attribute_metrics, expected_calibration_error

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
    assert got["scores"]["intervals"] is None and "In brackets" not in (tmp_path / "results.md").read_text()  # 5 faces
    assert set(got["scores"]["per_attribute"]) == set(names) and got["left_out_attributes"] == []
    # the probabilities' calibration: pooled and per attribute in results.json / .md, drawn in reliability.png
    labels = val[names].to_numpy()[found].astype(bool)
    assert got["scores"]["calibration"]["ece"] == pytest.approx(expected_calibration_error(probs, labels))
    assert sum(got["scores"]["calibration"]["bins"]["count"]) == probs.size
    assert got["scores"]["per_attribute"][names[0]]["ece"] == pytest.approx(expected_calibration_error(probs[:, 0], labels[:, 0]))
    assert "Expected calibration error (ECE) of the probabilities, the attributes pooled (10 bins): " in (
        tmp_path / "results.md").read_text()
    with Image.open(tmp_path / "reliability.png") as picture:
        assert picture.format == "PNG" and picture.width >= 800 and picture.height >= 400


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


def _copy(celeba, tmp_path):
    """A copy of the module's CelebA tree (to spoil), and its val paths in index order."""
    import shutil

    from lnet_anet.data.from_config import build_index, split_of

    bench = load_benchmark("bench_attributes")
    root = tmp_path / "celeba"
    shutil.copytree(celeba[0], root)
    index = build_index(bench.dataset_config("celeba", root, ["data.index.images=img_align_celeba"]))
    return bench, root, split_of(index, "val")["path"].tolist()


def test_a_tree_without_its_partition_file_says_how_to_score_it(celeba, tmp_path, capsys):
    """A user trial: a CelebA folder without list_eval_partition.txt got "has no 'val' rows (its splits: )"."""
    bench, root, _ = _copy(celeba, tmp_path)
    (root / "list_eval_partition.txt").unlink()
    with pytest.raises(SystemExit) as e:
        bench.main(["--data", "celeba", "--root", str(root), "--bundle", str(celeba[1]), "--out", str(tmp_path / "o"),
                    "data.index.images=img_align_celeba"])  # fmt: skip
    err = capsys.readouterr().err
    assert e.value.code == 2 and "give the dataset's partition file (CelebA: list_eval_partition.txt)" in err
    assert "data.holdout=" in err


def test_unreadable_images_are_named_and_left_out_of_every_figure(celeba, tmp_path, capsys):
    """A user trial: a truncated JPEG and a text file named .jpg were counted as "no face found";
    and the rows the reader left out were said on stderr only."""
    from lnet_anet.inference.predictor import Predictor

    bench, root, val = _copy(celeba, tmp_path)
    Path(val[0]).write_bytes(Path(val[0]).read_bytes()[:200])  # truncated
    Path(val[1]).write_text("not an image\n")
    gone = sorted(p for p in (root / "img_align_celeba").iterdir() if str(p) not in val)[0]
    gone.unlink()  # a train image: the reader leaves its row out
    ids = root / "identity_CelebA.txt"
    ids.write_text("".join(ids.read_text().splitlines(keepends=True)[1:]))  # one image unlisted: the reader warns
    out = tmp_path / "out"
    setting = "data.index.images=img_align_celeba"
    assert bench.main(["--data", "celeba", "--root", str(root), "--bundle", str(celeba[1]), "--out", str(out), setting]) == 0
    err = capsys.readouterr().err
    got = json.loads((out / "results.json").read_text())
    assert [u["path"] for u in got["unreadable"]] == val[:2] and all(u["reason"] for u in got["unreadable"])
    assert f"unreadable {val[0]}: " in err and f"unreadable {val[1]}: " in err
    assert any("identity_CelebA.txt" in w and "not listed" in w for w in got["reader_warnings"])
    assert "warning: " in err and "identity_CelebA.txt" in err
    assert [r.split(":")[0] for r in got["left_out_rows"]] == [str(gone)]
    assert got["data"]["n_images"] == len(val) and got["scores"]["n_images"] == len(val) - 2
    predictor = Predictor.load(celeba[1])
    found = [bool(r["faces"]) for r in predictor.predict_many(val[2:])]
    assert got["scores"]["found"] == pytest.approx(np.mean(found))
    md = (out / "results.md").read_text()
    assert f"{len(val)} images of {root}, 2 of them unreadable" in md and "the reader left out 1 row(s)" in md


def test_a_split_of_unreadable_images_stops_with_one_error_line(celeba, tmp_path, capsys):
    bench, root, val = _copy(celeba, tmp_path)
    for p in val:
        Path(p).write_text("not an image\n")
    out = tmp_path / "out"
    argv = ["--data", "celeba", "--root", str(root), "--bundle", str(celeba[1]), "--out", str(out),
            "data.index.images=img_align_celeba"]  # fmt: skip
    assert bench.main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: none of the {len(val)} val images of {root} can be read")
    assert not out.exists()


def test_a_misspelt_setting_or_a_file_that_is_no_bundle_is_one_error_line(celeba, tmp_path, capsys):
    """A user trial: data.index.ntrain=12 (a key the reader does not take) ended in Hydra's
    traceback, exit 1; a --bundle that is not a bundle, in BundleError's."""
    bench = load_benchmark("bench_attributes")
    root, bundle = celeba
    base = ["--data", "celeba", "--root", str(root), "--out", str(tmp_path / "out"), "data.index.images=img_align_celeba"]
    assert bench.main([*base, "--bundle", str(bundle), "data.index.ntrain=12"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data.index.ntrain: not a setting of the celeba reader read_celeba (it takes: "
                          "data.index.images, ") and len(err.splitlines()) == 1  # fmt: skip
    notes = tmp_path / "notes.lnetanet"
    notes.write_text("not a bundle\n")
    assert bench.main([*base, "--bundle", str(notes)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {notes}: ") and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_majority_baselines_balanced_accuracy_is_the_metrics_not_a_flat_half():
    """An attribute with one class among the scored images: the metric leaves the absent class's
    rate out, so the majority's balanced accuracy there is 1 or 0, not 0.5 (as results.md said)."""
    from lnet_anet.metrics.attributes import attribute_metrics

    bench = load_benchmark("bench_attributes")
    names = ["A", "B"]
    labels = np.array([[1, 1], [0, 1], [0, 1], [1, 1]])  # B: positives only
    train = np.array([[0, 0], [0, 0], [1, 0]])  # the majority: 0 for both
    faces = [{"attributes": {"A": 0.9, "B": 0.9}}, {"attributes": {"A": 0.1, "B": 0.9}}, None,
             {"attributes": {"A": 0.9, "B": 0.1}}, {"attributes": {"A": 0.6, "B": 0.7}}]  # fmt: skip
    labels = np.insert(labels, 2, [0, 1], axis=0)
    scores = bench.score(faces, labels, names, np.array([0.5, 0.5]), train)
    kept = np.delete(labels, 2, axis=0)
    want = attribute_metrics(np.zeros_like(kept), kept, names, train)["mean_balanced_accuracy"]
    assert want == pytest.approx(0.25) and scores["majority_mean_balanced_accuracy"] == pytest.approx(want)
    record = {"data": {"name": "x", "split": "val", "root": "/d", "n_images": 5}, "command": "c", "left_out_attributes": [],
              "bundle": {"path": "b", "identity": "i"}, "scores": scores}  # fmt: skip
    assert f"| majority class per attribute | {scores['majority_mean_accuracy']:.4f} | 0.2500 |" in bench.markdown(record)
    # the attributes with one class among the images are named, and the mean over the others is beside it (trial 90)
    decided = attribute_metrics(np.array([[1, 1], [0, 1], [1, 0], [1, 1]]), kept, names, train)
    assert scores["one_class_attributes"] == ["B"] == decided["one_class_attributes"]
    assert scores["decisions_balanced_both_classes"] == pytest.approx(decided["per_attribute"]["A"]["balanced_accuracy"])
    assert "Attributes with one class only among the images scored (B): " in bench.markdown(record)
    both = attribute_metrics(kept, kept, names)
    assert both["mean_balanced_accuracy"] == 1.0 and both["mean_balanced_accuracy_both_classes"] == 1.0
    assert np.isnan(attribute_metrics(kept[:, 1:], kept[:, 1:], ["B"])["mean_balanced_accuracy_both_classes"])


def test_intervals_draw_a_persons_faces_together_and_show_in_the_table():
    bench = load_benchmark("bench_attributes")
    rng = np.random.default_rng(3)
    names = ["Smiling", "Bald"]
    labels = np.c_[rng.random(90) < 0.5, np.arange(90) < 3]  # Bald: 3 of 90, too rare for a balanced interval
    faces = [{"attributes": {n: float(v) for n, v in zip(names, row ^ (rng.random(2) < 0.1), strict=True)}} for row in labels]
    faces[0] = None  # no face found in the first image
    people = np.repeat(np.arange(30), 3)
    scores = bench.score(faces, labels, names, np.array([0.5, 0.5]), None, resamples=200, people=people)
    said = scores["intervals"]
    assert (said["n"], said["groups"], said["resampled"]) == (89, 30, "identities")
    low, high = said["decisions/mean_accuracy"]
    assert low <= scores["decisions"]["mean_accuracy"] <= high
    assert said["decisions/mean_balanced_accuracy"] is None and said["rare_class_attributes"] == ["Bald"]
    record = {"command": "c", "data": {"name": "celeba", "root": "r", "split": "val", "n_images": 90},
              "bundle": {"path": "b", "identity": "i"}, "scores": scores, "left_out_attributes": []}  # fmt: skip
    md = bench.markdown(record)
    assert f"{scores['decisions']['mean_accuracy']:.4f} [{low:.4f}, {high:.4f}]" in md
    assert "resamples of the 30 people of the 89 faces scored" in md and "The balanced means have none" in md
