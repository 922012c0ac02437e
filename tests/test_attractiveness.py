"""Attractiveness on SCUT-FBP5500's layout: LNet boxes, init from a bundle, k-fold ANet-DLDL
training, the head put into a bundle, the predictor's record (generated fixtures only; the
real-data check skips without ../shared)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _real import REAL_DATASETS  # noqa: E402 - tests/ is on the path

from lnet_anet.inference.build import random_bundle

REPO = Path(__file__).resolve().parents[1]
SHARED_SCUT = REAL_DATASETS / "scut_fbp5500_train"

pytestmark = pytest.mark.usefixtures("one_thread")


def _scut_tree(root: Path, n: int = 48) -> Path:
    """A generated SCUT-FBP5500_v2 tree as the shared copy ships it (no test.txt): face-like
    blobs whose brightness follows the score, so that a head can learn something."""
    rng = np.random.default_rng(0)
    names = [f"{g}{i}.jpg" for i in range(1, n // 4 + 1) for g in ("AF", "AM", "CF", "CM")]
    scores = rng.uniform(1.2, 4.8, len(names))
    for name, s in zip(names, scores, strict=True):
        img = np.full((64, 64, 3), 40, np.uint8)
        cv2.ellipse(img, (32, 32), (18, 24), 0, 0, 360, (int(40 * s), int(30 * s), 90), -1)
        img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
        (root / "Images").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / "Images" / name), img)
    rows = "\n".join(f"{n_} {s:.6f}" for n_, s in zip(names, scores, strict=True)) + "\n"
    (root / "train_test_files" / "split_of_60%training and 40%testing").mkdir(parents=True)
    (root / "train_test_files" / "All_labels.txt").write_text(rows)
    (root / "train_test_files" / "split_of_60%training and 40%testing" / "train.txt").write_text(rows)
    return root


def test_init_from_a_bundle_copies_its_anet_layers(tmp_path):
    from lnet_anet.dldl.training import init_from_anet_run
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.models.registry import create_model

    path = random_bundle(tmp_path / "b.lnetanet", heads=())
    net = create_model("anet_dldl", pretrained="none", low=1, high=5, step=0.1, frozen_stages=3)
    before = {k: v.clone() for k, v in net.anet.state_dict().items()}
    init_from_anet_run(net, path)
    source = load_bundle(path).anet.state_dict()
    state = net.anet.state_dict()
    for key in ("c3.weight", "fc.weight", "trunk.blocks.2.0.conv_pw.weight"):
        key = next(k for k in state if k.startswith(key.rsplit(".", 1)[0]) and k.endswith(key.rsplit(".", 1)[1]))
        assert torch.equal(state[key], source[key].float()), key
    assert torch.equal(state["trunk.conv_stem.weight"], before["trunk.conv_stem.weight"])  # frozen: untouched
    with pytest.raises(FileNotFoundError, match="no model bundle"):
        init_from_anet_run(net, tmp_path / "nothing")
    # A source of other sizes: one line naming the layers and what to set, not a wall of shapes.
    from lnet_anet.dldl.training import anet_source_shape

    shape = anet_source_shape(path)
    assert set(shape) >= {"c3_channels", "c4_channels", "feature_dim"}
    other = create_model("anet_dldl", pretrained="none", low=1, high=5, step=0.1, frozen_stages=3,
                         c3_channels=shape["c3_channels"] + 8)  # fmt: skip
    with pytest.raises(ValueError, match=r"other sizes for .*'c3\.weight'") as err:
        init_from_anet_run(other, path)
    assert "c3_channels" in str(err.value) and len(str(err.value).splitlines()) == 1


def test_train_anet_init_from_loads_a_bundles_whole_anet_but_not_an_identity_head(tmp_path):
    """train_anet's init_from: every ANet tensor from the source (bundle or run folder), the model's
    own identity head kept; a source of other sizes is one ConfigError naming a tensor."""
    from lnet_anet.anet.training import init_from_anet
    from lnet_anet.engine.config import ConfigError
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.models.registry import create_model

    path = random_bundle(tmp_path / "b.lnetanet", heads=())
    source = load_bundle(path).anet.state_dict()
    spec = {k: v for k, v in load_bundle(path).config["nets"]["anet"]["kwargs"].items() if k != "pretrained"}
    model = create_model("anet_lite0", **{**spec, "pretrained": "none", "num_identities": 7})
    identity = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("identity_head.")}
    assert identity  # the model has one; the bundle's ANet has none
    init_from_anet(model, path)
    state = model.state_dict()
    assert all(torch.equal(state[k], v.float()) for k, v in source.items())
    assert all(torch.equal(state[k], v) for k, v in identity.items())
    other = create_model("anet_lite0", **{**spec, "pretrained": "none", "c3_channels": spec.get("c3_channels", 96) + 8})
    with pytest.raises(ConfigError, match=r"its ANet \(b\.lnetanet\) does not fit this model \(\d+ tensors differ, e\.g\. \w"):
        init_from_anet(other, path)
    (tmp_path / "notes.txt").write_text("not a bundle")
    with pytest.raises(FileNotFoundError, match="notes.txt: init_from names a file that is not a model bundle"):
        init_from_anet(model, tmp_path / "notes.txt")  # RunNotFoundError: a one-line error, exit 2
    with pytest.raises(FileNotFoundError, match="init_from names no train_anet run .*make train-anet writes "
                                                "runs/anet-<data>.*, or give 'init_from=") as err:
        init_from_anet(model, tmp_path / "anet-celeba_hq128")  # the default, before train_anet ran: what to do
    # the bundle it suggests is named so that the override works from any folder (lnet_anet/assets/... held only
    # in the repository's root)
    import re

    from omegaconf import OmegaConf

    suggested = re.search(r"'init_from=(\S+)'", str(err.value)).group(1)
    assert "lnet_anet/assets" not in suggested
    bundle = Path(OmegaConf.create({"init_from": suggested}).init_from)
    assert bundle.is_absolute() and bundle.name == "default.lnetanet" and bundle.parent.name == "assets"


def test_lnet_boxes_writes_one_row_per_image(tmp_path):
    from lnet_anet.cli.lnet_boxes import main

    root = _scut_tree(tmp_path / "SCUT-FBP5500_v2", n=8)
    bundle = random_bundle(tmp_path / "b.lnetanet", heads=(), threshold=0.0, max_faces=1)
    out = tmp_path / "boxes.csv"
    assert main([str(root / "Images"), "--out", str(out), "--bundle", str(bundle), "--batch-size", "3"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["name"] for r in rows] == sorted(os.listdir(root / "Images"))
    for r in rows:
        if int(r["faces"]):
            x0, y0, x1, y1 = (float(r[c]) for c in ("x0", "y0", "x1", "y1"))
            assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
        else:
            assert r["x0"] == ""


def test_lnet_boxes_writes_its_csv_whole_or_not_at_all(tmp_path, capsys, monkeypatch):
    """Stopped half-way, lnet_boxes leaves no CSV (readers would give the images missing from a
    partial one the whole image) and exits 130; --out a folder or --batch-size 0 stop first."""
    import lnet_anet.cli.lnet_boxes as module

    root = _scut_tree(tmp_path / "SCUT-FBP5500_v2", n=6)
    bundle = random_bundle(tmp_path / "b.lnetanet", heads=(), threshold=0.0, max_faces=1)
    out = tmp_path / "boxes.csv"
    real = module.lnet_boxes

    def stopped(*args):
        for n, row in enumerate(real(*args)):
            if n == 3:
                raise KeyboardInterrupt
            yield row

    monkeypatch.setattr(module, "lnet_boxes", stopped)
    assert module.main([str(root / "Images"), "--out", str(out), "--bundle", str(bundle)]) == 130
    assert f"interrupted: nothing written to {out}" in capsys.readouterr().err
    assert not out.exists() and not out.with_name("boxes.csv.part").exists()
    for bad, says in ((["--out", str(tmp_path)], "is a folder"), (["--out", str(out), "--batch-size", "0"], "must be >= 1, got 0")):
        with pytest.raises(SystemExit) as stop:
            module.main([str(root / "Images"), *bad, "--bundle", str(bundle)])
        assert stop.value.code == 2 and says in capsys.readouterr().err
    assert not out.exists()


def test_lnet_boxes_names_unreadable_images_and_leaves_them_out(tmp_path, capsys):
    from PIL import Image

    from lnet_anet.cli.lnet_boxes import main
    from lnet_anet.inference.predictor import Predictor

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for n in range(3):
        Image.fromarray(rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)).save(folder / f"good{n}.jpg")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.png").write_text("not an image")
    whole = (folder / "good0.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    bundle = random_bundle(tmp_path / "b.lnetanet", heads=(), threshold=0.0, max_faces=1)
    out = tmp_path / "boxes.csv"
    assert main([str(folder), "--out", str(out), "--bundle", str(bundle), "--batch-size", "2"]) == 1
    captured = capsys.readouterr()
    rows = list(csv.DictReader(out.open()))
    assert [r["name"] for r in rows] == ["good0.jpg", "good1.jpg", "good2.jpg"]  # no row for the bad files
    for name in ("empty.jpg", "text.png", "truncated.jpg"):
        line = next(ln for ln in captured.err.splitlines() if name in ln)
        assert line.startswith(f"warning: {name}: not read (") and "left out of the CSV" in line
    no_face = sum(r["faces"] == "0" for r in rows)  # the unreadable ones are not counted here
    assert f"6 images, {no_face} without a face, 3 unreadable" in captured.out
    # the boxes are the predictor's own regions for those files, decoded by it
    regions = Predictor.load(bundle).locate_many(sorted(folder.glob("good*.jpg")), kind="region")
    for row, faces in zip(rows, regions, strict=True):
        assert int(row["faces"]) == len(faces)
        if faces:
            assert [float(row[c]) for c in ("x0", "y0", "x1", "y1")] == pytest.approx(faces[0][0], abs=0.006)


def test_lnet_boxes_recursive_reads_a_folder_per_person(tmp_path, capsys):
    """LFW's layout (lfw/<Person>/<Person>_0001.jpg): without --recursive, an error that says to add
    it; with it, one row per image, named by file name (what data.boxes matches on)."""
    from PIL import Image

    from lnet_anet.cli.lnet_boxes import main

    rng = np.random.default_rng(2)
    for person in ("Ann_Lee", "Bo_Di"):
        (tmp_path / "lfw" / person).mkdir(parents=True)
        for k in (1, 2):
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(
                tmp_path / "lfw" / person / f"{person}_{k:04d}.jpg")
    bundle = random_bundle(tmp_path / "b.lnetanet", heads=(), threshold=0.0, max_faces=1)
    out = tmp_path / "boxes.csv"
    assert main([str(tmp_path / "lfw"), "--out", str(out), "--bundle", str(bundle)]) == 1
    assert "only sub-folders: add --recursive" in capsys.readouterr().err
    assert main([str(tmp_path / "lfw"), "--recursive", "--out", str(out), "--bundle", str(bundle)]) == 0
    assert [r["name"] for r in csv.DictReader(out.open())] == [
        "Ann_Lee_0001.jpg", "Ann_Lee_0002.jpg", "Bo_Di_0001.jpg", "Bo_Di_0002.jpg"]
    (tmp_path / "lfw" / "Cy_Ra").mkdir()
    (tmp_path / "lfw" / "Cy_Ra" / "Ann_Lee_0001.jpg").write_bytes((tmp_path / "lfw" / "Bo_Di" / "Bo_Di_0001.jpg").read_bytes())
    assert main([str(tmp_path / "lfw"), "--recursive", "--out", str(tmp_path / "b2.csv"), "--bundle", str(bundle)]) == 2
    assert "have the same file name" in capsys.readouterr().err


def test_lnet_boxes_lists_a_folder_as_predict_does(tmp_path, capsys):
    """Hidden files and folders are skipped, as predict skips them; without --recursive a note
    says how many sub-folders were not read (a fresh-user trial)."""
    from PIL import Image

    from lnet_anet.cli.lnet_boxes import main

    rng = np.random.default_rng(3)
    folder = tmp_path / "inputs"
    for name in ("a.jpg", ".hidden.jpg", "nested/b.jpg", "dir with spaces/c.jpg", ".thumbnails/t.jpg"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(folder / name)
    bundle = random_bundle(tmp_path / "b.lnetanet", heads=(), threshold=0.0, max_faces=1)
    out = tmp_path / "boxes.csv"
    assert main([str(folder), "--out", str(out), "--bundle", str(bundle)]) == 0
    assert [r["name"] for r in csv.DictReader(out.open())] == ["a.jpg"]
    assert f"note: {folder}: 2 sub-folders not read (add --recursive to read them too)" in capsys.readouterr().err
    assert main([str(folder), "--recursive", "--out", str(out), "--bundle", str(bundle)]) == 0
    assert [r["name"] for r in csv.DictReader(out.open())] == ["a.jpg", "c.jpg", "b.jpg"]  # sorted by path
    assert "not read" not in capsys.readouterr().err


def test_lnet_boxes_refuses_a_missing_folder_or_a_file_in_one_line(tmp_path, capsys):
    from lnet_anet.cli.lnet_boxes import main

    missing, a_file = tmp_path / "nowhere", tmp_path / "photo.jpg"
    a_file.write_bytes(b"\xff\xd8")
    for path, why in ((missing, "no such folder"), (a_file, "not a folder")):
        assert main([str(path), "--out", str(tmp_path / "boxes.csv")]) == 2
        err = capsys.readouterr().err
        assert err == f"error: {path}: {why}" + err.split(why, 1)[1] and err.count("\n") == 1
    assert not (tmp_path / "boxes.csv").exists()


@pytest.mark.slow
def test_fold_run_then_head_into_a_bundle_then_predictor(tmp_path):
    """train_anet_dldl on fold 2 of 5 of a generated SCUT tree, with LNet boxes, one cache of
    every face; the run goes into a bundle by --from-bundle; every face gets an attractiveness."""
    from lnet_anet.cli.build_bundle import main as build_main
    from lnet_anet.cli.lnet_boxes import main as boxes_main
    from lnet_anet.inference.predictor import Predictor

    root = _scut_tree(tmp_path / "data" / "scut" / "SCUT-FBP5500_v2")
    base = random_bundle(tmp_path / "base.lnetanet", heads=("age",), threshold=0.0, max_faces=1)
    boxes = tmp_path / "boxes.csv"
    assert boxes_main([str(root / "Images"), "--out", str(boxes), "--bundle", str(base)]) == 0
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "lnet_anet.cli.train_anet_dldl", "--config-name", "train_attractiveness_anet",
           f"paths.runs={runs}", f"data.index.root={root.parent}", f"data.boxes={boxes}", "init_from=null",
           "data.fold={k: 2, n: 5, seed: 0}", "name=fold2", "model.pretrained=none", "train=smoke",
           "train.batch_size=8", "train.epochs=2"]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]
    # the data is the user's folder, the name the config's: said (trial 83)
    said = done.stdout + done.stderr
    assert f"data.index.root={root.parent} given without data.name" in said and "'scut_fbp5500'" in said
    out = runs / "fold2"
    data = json.loads((out / "data.json").read_text())
    assert data["fold"] == {"k": 2, "n": 5, "seed": 0} and data["boxes"]["csv"] == str(boxes)
    from lnet_anet.data.readers.age import fold_of

    expected = int((fold_of(sorted(os.listdir(root / "Images")), 5, 0) == 2).sum())
    assert data["splits"] == {"train": 48 - expected, "val": expected}
    result = json.loads((out / "eval.json").read_text())
    assert result["split"] == "val" and result["n"] == expected
    assert {p.name for p in (runs / "scut-trunk-e11").iterdir()} == {"stage3-all-160.npz", "stage3-all-160-mirror.npz",
                                                                 "stage3-all-160.key.json"}
    # the cache is of these faces and boxes: a run with other boxes must not reuse it
    rows = boxes.read_text().splitlines()
    other = tmp_path / "other-boxes.csv"
    other.write_text("\n".join([rows[0], f"{rows[1].split(',')[0]},1,1,30,30,1.0,1", *rows[2:]]) + "\n")
    swap = {f"data.boxes={boxes}": f"data.boxes={other}", "name=fold2": "name=fold2b"}
    again = subprocess.run([swap.get(c, c) for c in cmd], cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"},
                           capture_output=True, text=True)  # fmt: skip
    assert again.returncode != 0 and "cached for other faces or settings" in again.stderr

    bundle = tmp_path / "with.lnetanet"
    assert build_main(["--from-bundle", str(base), "--attractiveness", str(out), "--out", str(bundle)]) == 0
    record = Predictor.load(bundle).predict(str(root / "Images" / "AF1.jpg"))
    for face in record["faces"]:
        assert 1 <= face["attractiveness"]["mean"] <= 5 and face["attractiveness"]["std"] >= 0
        assert face["age"] is not None


def test_cache_key_refuses_a_cache_of_other_faces(tmp_path):
    import pandas as pd
    from omegaconf import OmegaConf

    from lnet_anet.dldl.training import check_cache_key, index_cache_key

    data = OmegaConf.create({"crop": "box", "box_scale": 1.0})
    index = pd.DataFrame({"path": ["a.jpg", "b.jpg"], "x0": [0.0, 1], "y0": [0.0, 1], "x1": [9.0, 9], "y1": [9.0, 9]})
    npz = tmp_path / "features-all-160.npz"
    check_cache_key(npz, index_cache_key(index, data, size=160))
    check_cache_key(npz, index_cache_key(index, data, size=160))  # the same faces: fine
    moved = index.assign(x1=[9.0, 8.0])
    with pytest.raises(ValueError, match="cached for other faces or settings"):
        check_cache_key(npz, index_cache_key(moved, data, size=160))
    with pytest.raises(ValueError, match="cached for other faces or settings"):
        check_cache_key(npz, index_cache_key(index, data, size=144))
    looser = OmegaConf.merge(data, {"enlarge": 1.1})  # the same boxes framed looser: other crops
    with pytest.raises(ValueError, match="cached for other faces or settings"):
        check_cache_key(npz, index_cache_key(index, looser, size=160))
    assert index_cache_key(index, OmegaConf.merge(data, {"enlarge": 1.0}), size=160) == index_cache_key(
        index, data, size=160)  # enlarge 1.0 keeps the key the caches made before it had


@pytest.mark.skipif(not SHARED_SCUT.is_dir(), reason="the shared SCUT-FBP5500 copy is not here")
def test_the_shared_scut_copy_reads_and_folds():
    from lnet_anet.data.readers.age import fold_of
    from lnet_anet.data.readers.attractiveness import read_scut_fbp5500

    df = read_scut_fbp5500(SHARED_SCUT)
    assert len(df) == 3300 and set(df["split"]) == {"train"} and df.attrs["skipped"] == []
    assert df["attractiveness"].between(1, 5).all() and set(df["gender"]) == {0, 1} and set(df["race"]) == {0, 2}
    folds = fold_of(df["path"].tolist(), 5, 0)
    assert all(600 < (folds == k).sum() < 720 for k in range(1, 6))
