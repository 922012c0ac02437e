"""The upright head that `rotations` decides by (lnet_anet.inference.upright), its file, the
Predictor's use of it and the fit_upright command, on generated data and a random bundle."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import save_file

from lnet_anet.cli import fit_upright
from lnet_anet.inference.build import random_bundle
from lnet_anet.inference.predictor import Predictor
from lnet_anet.inference.upright import UprightHead, choose_turn

sys.path.insert(0, str(Path(__file__).parent))
from _images import noise_images  # noqa: E402 - tests/ is on the path


def _features(n=200, d=16, seed=0):
    """Upright crops' features lean one way along the first axis, turned crops' the other."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 4 == 0  # one upright crop for every three turned ones, as fit_upright gives
    x = rng.normal(size=(n, d)) + np.where(y, 3.0, -2.0)[:, None] * np.eye(d)[0]
    return x, y


def test_the_head_tells_upright_from_turned_and_survives_its_file(tmp_path):
    x, y = _features()
    head = UprightHead.fit(x, y, anet="abc", info={"note": "test"})
    p = head.probability(x)
    assert p.shape == (len(y),) and ((p > 0.5) == y).mean() > 0.95
    assert p[y].mean() > 0.8 > 0.2 > p[~y].mean()
    head.save(tmp_path / "u.safetensors")
    again = UprightHead.load(tmp_path / "u.safetensors")
    np.testing.assert_allclose(again.probability(x), p, atol=1e-5)
    assert again.anet == "abc" and again.info["note"] == "test" and again.info["crops"] == len(y)
    with pytest.raises(ValueError, match=r"\(N, 16\)"):
        head.probability(x[:, :8])
    with pytest.raises(ValueError, match="both upright and turned"):
        UprightHead.fit(x, np.ones(len(x), bool))


def test_a_missing_or_foreign_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="fit_upright"):
        UprightHead.load(tmp_path / "none.safetensors")
    save_file({"w": np.zeros(3, np.float32)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not an upright head"):
        UprightHead.load(tmp_path / "other.safetensors")


def test_choose_turn_takes_the_most_likely_upright_and_the_unturned_photo_on_a_tie():
    assert choose_turn({}) == 0
    assert choose_turn({0: 0.2, 1: 0.9, 3: 0.4}) == 1
    assert choose_turn({2: 0.7, 0: 0.7}) == 0
    assert choose_turn({3: 0.1}) == 3


def test_choose_turn_with_a_bar_keeps_the_stored_reading_unless_a_turn_is_clearly_upright():
    """Predictor.upright_bar (trial 57: upright photos with no face found as stored were read
    turned on false faces): a turn other than 0 wins only over the bar, whether or not turn 0
    found a face."""
    assert choose_turn({3: 0.1}, bar=0.5) == 0  # no face as stored, a weak turn: the stored reading
    assert choose_turn({3: 0.6}, bar=0.5) == 3
    assert choose_turn({0: 0.2, 1: 0.45, 3: 0.6}, bar=0.5) == 3
    assert choose_turn({0: 0.2, 1: 0.45}, bar=0.5) == 0
    assert choose_turn({0: 0.7, 1: 0.6}, bar=0.5) == 0 and choose_turn({}, bar=0.5) == 0


def test_choose_turn_with_a_margin_keeps_faces_found_as_stored_unless_a_turn_is_clearly_better():
    """Predictor.upright_margin (trial 63: an upright couple, both faces found as stored, read
    upside down at P 0.857 against 0.849): a turn wins over a stored reading with faces only by
    more than the margin; a stored reading with no face is not protected."""
    assert choose_turn({0: 0.849, 2: 0.857}) == 2 and choose_turn({0: 0.849, 2: 0.857}, margin=0.05) == 0
    assert choose_turn({0: 0.2, 1: 0.9}, margin=0.05) == 1
    assert choose_turn({0: 0.2, 1: 0.24, 3: 0.3}, margin=0.05) == 3
    assert choose_turn({3: 0.1}, margin=0.05) == 3  # no face as stored: as without a margin
    assert choose_turn({3: 0.1}, bar=0.5, margin=0.05) == 0


def test_turn_settings_are_checked_when_set_and_said_in_records(tmp_path):
    """Trial 63: rotations = "no" was taken as True (so were the other switches), a string
    upright_bar failed every image later, and records did not say that a bar was used; mirror could
    not be set, without saying how."""
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=1))
    for setting, bad in (("rotations", "no"), ("rotations", 1), ("upright_bar", "x"), ("upright_bar", 1.5),
                         ("upright_margin", float("nan")), ("upright_margin", True), ("rescue", "no"),
                         ("refine_boxes", "False"), ("arbitrate", 0), ("box_jitter", None)):  # fmt: skip
        with pytest.raises(ValueError, match=setting):
            setattr(predictor, setting, bad)
    with pytest.raises(AttributeError, match=r"Predictor.load\(mirror=True\)"):
        predictor.mirror = True
    d = predictor.bundle.svm.feature_dim
    predictor.upright_head = UprightHead(np.zeros(d), np.ones(d), np.ones(d), 0.0, anet=predictor.bundle.part_digest("anet"))
    predictor.rotations = True
    photo = np.random.default_rng(1).integers(0, 255, (48, 80, 3), dtype=np.uint8)
    assert "upright_bar" not in predictor.predict(photo).get("settings", {})
    predictor.upright_bar, predictor.upright_margin = np.float32(0.7), 0.05
    assert type(predictor.upright_bar) is float
    assert predictor.predict(photo)["settings"] == {"upright_bar": pytest.approx(0.7), "upright_margin": 0.05}


def test_the_predictor_refuses_a_head_of_another_anet_and_reads_turns(tmp_path):
    # one face per turn: its chance is the head's P(upright) of that face's feature
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=1))
    with pytest.raises(ValueError, match="another ANet"):  # the shipped head reads the shipped ANet's feature
        predictor.rotations = True
    assert predictor.rotations is False
    d = predictor.bundle.svm.feature_dim
    zeros = np.zeros(d)
    with pytest.raises(ValueError, match="another ANet"):
        predictor.upright_head = UprightHead(zeros, np.ones(d), zeros, 0.0, anet="not this one")
    with pytest.raises(ValueError, match="another ANet"):
        predictor.upright_head = UprightHead(np.zeros(3), np.ones(3), np.zeros(3), 0.0)
    coef = np.random.default_rng(0).normal(size=d)
    predictor.upright_head = UprightHead(zeros, np.ones(d), coef, 0.0, anet=predictor.bundle.part_digest("anet"))
    photo = np.random.default_rng(1).integers(0, 255, (48, 80, 3), dtype=np.uint8)
    features = predictor.turn_features(photo)
    assert set(features) <= {0, 1, 2, 3} and all(f.shape == (1, d) for f in features.values())
    chances = predictor.upright_chances(photo)
    assert set(chances) == set(features)
    for k, p in chances.items():  # the head's probability of that turn's face
        assert p == pytest.approx(float(predictor.upright_head.probability(features[k])[0]))
    predictor.rotations = True
    record = predictor.predict(photo)
    assert record["rotation"] == 90 * choose_turn(chances)


def test_with_rotations_the_heatmap_is_the_read_turns_turned_back(tmp_path, monkeypatch):
    """--vis draws the response of the turn whose faces the record gives (it drew the unturned
    reading's), on the picture as stored."""
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=1)
    plain = Predictor.load(path)
    turning = Predictor.load(path)
    d = turning.bundle.svm.feature_dim
    turning.upright_head = UprightHead(np.zeros(d), np.ones(d), np.zeros(d), 0.0, anet=turning.bundle.part_digest("anet"))
    turning.rotations = True
    monkeypatch.setattr(turning, "_choose_turns", lambda candidates: [1] * len(candidates))
    photo = np.random.default_rng(2).integers(0, 255, (48, 80, 3), dtype=np.uint8)
    analysis = turning.analyse(photo)
    assert analysis.record["rotation"] == 90 and analysis.maps_turn == 1
    read = plain.analyse(np.ascontiguousarray(np.rot90(photo, 1)))  # the turn it read, read alone
    heat = analysis.heatmap()
    assert heat.shape == (48, 80)
    np.testing.assert_allclose(heat, np.rot90(read.heatmap(), -1), atol=1e-5)
    assert analysis.heatmap((24, 40)).shape == (24, 40)
    assert not np.allclose(heat, plain.analyse(photo).heatmap(), atol=1e-3)  # not the unturned reading's


def test_fit_upright_fits_a_head_on_turned_photos_and_skips_bad_files(tmp_path, capsys):
    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=2)
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (40 + 8 * i, 64, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    listed = tmp_path / "list.txt"
    listed.write_text(f"{folder / 'p0.png'}\n{folder / 'p1.png'}\n")
    out = tmp_path / "u.safetensors"
    assert fit_upright.main([str(folder), str(listed), "--bundle", str(bundle), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "broken.jpg: skipped" in captured.err
    assert "warning: only" in captured.err and "6 readable images" in captured.err  # a tiny fit is said to be one
    info = json.loads(captured.out.strip().splitlines()[-1])
    assert info["images"] == 7 and info["skipped"] == 1 and info["crops"] > info["upright"] > 0
    assert fit_upright.main([str(folder), "--faces", "2", "--bundle", str(bundle), "--out", str(tmp_path / "u2.st")]) == 0
    two = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    readable = two["images"] - two["skipped"]  # one face per turn would give at most 4 crops each
    assert two["faces"] == 2 and two["crops"] > 4 * readable  # the random bundle finds 2 faces in some turns
    head = UprightHead.load(out)
    predictor = Predictor.load(bundle)
    predictor.upright_head = head  # fitted on this bundle's ANet: accepted
    assert fit_upright.main([str(tmp_path / "missing"), "--bundle", str(bundle), "--out", str(out)]) == 2
    assert "no such image file, list or folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert fit_upright.main([str(tmp_path / "empty"), "--bundle", str(bundle), "--out", str(out)]) == 2
    assert f"no image files in {tmp_path / 'empty'} (suffixes: " in capsys.readouterr().err
    assert fit_upright.main([str(folder), "--bundle", str(tmp_path / "none.lnetanet"), "--out", str(out)]) == 1
    assert "none.lnetanet" in capsys.readouterr().err


def test_records_name_an_upright_head_of_ones_own_and_resume_refuses_another(tmp_path, capsys):
    """As for the face and box heads: records read with --rotations and an upright head of one's own
    carry its digest ("upright_head"), and --resume refuses to add records read with another (it
    mixed them silently: two turns of one chip in one output)."""
    from lnet_anet.inference.outputs import read_records
    from lnet_anet.predict import main

    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=1)
    predictor = Predictor.load(bundle)
    d, anet = predictor.bundle.svm.feature_dim, predictor.bundle.part_digest("anet")
    heads = []
    for seed in (0, 1):
        path = tmp_path / f"upright{seed}.safetensors"
        UprightHead(np.zeros(d), np.ones(d), np.random.default_rng(seed).normal(size=d), 0.0, anet=anet).save(path)
        heads.append(path)
    rng = np.random.default_rng(3)
    photos = noise_images(tmp_path / "photos", ["p0.png", "p1.png"], (48, 64), rng)
    out = tmp_path / "out.jsonl"
    argv = [str(photos), "--output", str(out), "--bundle", str(bundle), "--rotations"]
    assert main([*argv, "--upright-head", str(heads[0])]) == 0
    digest = UprightHead.load(heads[0]).digest
    assert [r["upright_head"] for r in read_records(out)] == [digest, digest]
    noise_images(photos, ["p9.png"], (48, 64), rng)
    capsys.readouterr()
    assert main([*argv, "--upright-head", str(heads[1]), "--resume"]) == 2
    assert f"--upright-head: the head of digest {digest} where this run has the head of digest" in capsys.readouterr().err
    assert main([*argv, "--upright-head", str(heads[0]), "--resume"]) == 0 and len(read_records(out)) == 3
