"""LNet's check map (LNet(check=True)) and the Predictor's face check (preprocessing.lnet.check_faces,
multiscale.check_evidence), on generated data and a random bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lnet_anet.data.preprocess import LNetInput, PreprocessError
from lnet_anet.inference.build import random_bundle
from lnet_anet.inference.bundle import BundleError, load_bundle, save_bundle
from lnet_anet.inference.predictor import Predictor
from lnet_anet.lnet.multiscale import Placement, check_evidence
from lnet_anet.models.lnet import LNet
from lnet_anet.models.registry import create_model

sys.path.insert(0, str(Path(__file__).parent))
from _wider import wider_photos  # noqa: E402


def test_the_check_map_is_read_from_the_same_lower_maps():
    torch.manual_seed(0)
    net = LNet(pretrained="none", num_attributes=3, stride=8, neck_channels=8, face_tag=True, response="face",
               tune_last_stage=False, check=True).eval()  # fmt: skip
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        out = net(x)
        lower = net.lower(x)
        assert out["check"].shape == out["response"].shape == (2, 8, 12)
        torch.testing.assert_close(out["check"], net.check_map(*lower))
        assert (out["check"] >= 0).all()  # ReLU'd, like the response
        # its own neck: changing it moves the check map, not the response
        net.check_neck.mix[0].weight.mul_(-1)
        again = net(x)
    torch.testing.assert_close(again["response"], out["response"])
    assert not torch.allclose(again["check"], out["check"])
    plain = LNet(pretrained="none", num_attributes=3, stride=8, neck_channels=8, face_tag=True, response="face",
                 tune_last_stage=False)  # fmt: skip
    assert "check" not in plain(x) and not any(k.startswith("check_") for k in plain.state_dict())


def test_check_evidence_reads_the_cells_inside_the_box_at_every_reading():
    m = np.zeros((4, 4), np.float32)
    m[1, 2] = 3.0  # the cell spanning x 16-24, y 8-16 of a 32 x 32 canvas (8 px cells)
    at_scale_1 = (m, (32, 32), Placement(kx=1.0, ky=1.0, x0=0, y0=0, h_c=32, w_c=32), 1.0)
    assert check_evidence(np.array([14, 6, 26, 18]), [at_scale_1]) == 3.0
    assert check_evidence(np.array([0, 16, 32, 32]), [at_scale_1]) == 0.0  # the cell's centre lies outside
    assert check_evidence(np.array([19, 11, 21, 12]), [at_scale_1]) == 3.0  # narrower than a cell: its centre's cell
    # the same image read at half size, shifted by 8 px: the box maps onto the canvas first
    half = (m, (32, 32), Placement(kx=0.5, ky=0.5, x0=8, y0=0, h_c=16, w_c=16), 0.5)
    assert check_evidence(np.array([16, 16, 32, 32]), [half]) == 3.0
    assert check_evidence(np.array([0, 0, 8, 8]), [half]) == 0.0
    assert check_evidence(np.array([0, 0, 8, 8]), [half, at_scale_1]) == 0.0
    assert check_evidence(np.array([0, 0, 32, 32]), [half, at_scale_1]) == 3.0  # the largest over readings
    assert check_evidence(np.array([0, 0, 32, 32]), []) == 0.0  # no reading: no evidence


def test_check_faces_is_checked_and_survives_the_bundle_settings():
    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}
    assert LNetInput.from_dict({**base, "check_faces": 1}).to_dict()["check_faces"] == 1.0
    assert "check_faces" not in LNetInput.from_dict(base).to_dict()  # older bundles read the same
    for bad in (-1, 0, "1", True):
        with pytest.raises(PreprocessError, match="check_faces"):
            LNetInput.from_dict({**base, "check_faces": bad})


def _checking_bundle(tmp_path, plain, check_faces, check_level: float, check: bool = True):
    """The random bundle `plain` with a check map that is check_level everywhere (zero weights,
    bias check_level) and preprocessing.lnet.check_faces; check False: its LNet without one."""
    b = load_bundle(plain)
    spec = b.config["nets"]["lnet"]
    lnet = create_model(spec["model"], **{**spec["kwargs"], "check": check})
    state = b.lnet.state_dict()
    if check:
        state |= {"check_" + k: v for k, v in state.items() if k.startswith("neck.")}
        state |= {"check_filter.weight": torch.zeros(1, state["attribute_filters.weight"].shape[1], 1, 1),
                  "check_filter.bias": torch.full((1,), check_level)}  # fmt: skip
    lnet.load_state_dict(state)
    config = {k: v for k, v in b.config.items() if k != "versions"}
    config["nets"]["lnet"]["kwargs"] = {**spec["kwargs"], "check": check}
    config["preprocessing"]["lnet"]["check_faces"] = check_faces
    parts = {"lnet": lnet, "anet": b.anet, "svm": b.svm.to_arrays(), "age": b.age, "attractiveness": b.attractiveness}
    return save_bundle(tmp_path / f"check-{check_faces}-{check}.lnetanet", {k: v for k, v in parts.items() if v is not None},
                       config)  # fmt: skip


@pytest.mark.parametrize("backend", ["torch", "auto"])  # auto: ONNX Runtime where installed
def test_the_predictor_drops_faces_without_check_evidence(tmp_path, backend):
    plain = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    photo = np.random.default_rng(1).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    before = Predictor.load(plain, backend=backend).predict(photo)
    assert before["faces"]
    kept = Predictor.load(_checking_bundle(tmp_path, plain, 0.5, 0.7), backend=backend).predict(photo)
    assert kept["faces"] == before["faces"]  # evidence 0.7 >= 0.5 everywhere: nothing dropped
    dropped = Predictor.load(_checking_bundle(tmp_path, plain, 1.0, 0.7), backend=backend).predict(photo)
    assert dropped["faces"] == [] and dropped["error"] is None  # 0.7 < 1.0 in every region


def test_the_rescue_takes_only_a_candidate_that_passes_the_check_with_check_rescue(tmp_path):
    from lnet_anet.inference.face_head import FaceHead

    plain = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    photo = np.random.default_rng(1).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    bundle = load_bundle(_checking_bundle(tmp_path, plain, 1.0, 0.7))  # every face dropped by the check
    bundle.preprocessing["lnet"]["rescue_faces"] = [-1e6, 0.5]
    d = bundle.svm.feature_dim
    vouching = FaceHead(np.zeros(d), np.ones(d), np.zeros(d), 20.0, anet=bundle.part_digest("anet"))  # P(face) ~1
    rescued = Predictor(bundle, face_head=vouching).predict(photo)
    assert len(rescued["faces"]) == 1 and rescued["rescued"] is True  # the rescue keeps a candidate the check dropped
    bundle.preprocessing["lnet"]["check_rescue"] = True
    assert Predictor(bundle, face_head=vouching).predict(photo)["faces"] == []  # now it must pass the check too
    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}
    with pytest.raises(PreprocessError, match="check_rescue needs check_faces"):
        LNetInput.from_dict({**base, "check_rescue": True})
    with pytest.raises(PreprocessError, match="check_rescue must be true or false"):
        LNetInput.from_dict({**base, "check_faces": 1.0, "check_rescue": 1})
    assert LNetInput.from_dict({**base, "check_faces": 1.0, "check_rescue": True}).to_dict()["check_rescue"] is True


def test_a_bundle_that_checks_faces_needs_a_check_map(tmp_path):
    plain = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=1)
    with pytest.raises(BundleError, match="no check map"):  # refused when written, and when read
        _checking_bundle(tmp_path, plain, 1.0, 0.0, check=False)


def _wider_photos(tmp_path, n: int = 6):
    """A WIDER-format label file of n generated photos with two labelled faces each, one photo
    corrupt."""
    return wider_photos(tmp_path, n, ["4 4 20 24 0 0 0 0 0 0", "50 10 20 24 0 0 0 0 0 0"], corrupt_first=True)


def _with_face_tag(tmp_path, plain):
    """The random bundle `plain` with an LNet that has a face tag and reads its map (the shipped kind)."""
    b = load_bundle(plain)
    spec = b.config["nets"]["lnet"]
    kwargs = {**spec["kwargs"], "face_tag": True, "response": "face", "face_pool": "max"}
    lnet = create_model(spec["model"], **kwargs)
    config = {k: v for k, v in b.config.items() if k != "versions"}
    config["nets"]["lnet"]["kwargs"] = kwargs
    parts = {"lnet": lnet, "anet": b.anet, "svm": b.svm.to_arrays(), "age": b.age, "attractiveness": b.attractiveness}
    return save_bundle(tmp_path / "face-tag.lnetanet", {k: v for k, v in parts.items() if v is not None}, config)


def test_fill_faces_fills_each_grown_box_with_the_mean_colour():
    from lnet_anet.lnet.check_map import fill_faces

    image = np.zeros((40, 40, 3), np.uint8)
    image[:, 20:] = 200
    filled = fill_faces(image, np.array([[10, 10, 18, 18]]), grow=0.25)
    assert (filled[8:20, 8:20] == 100).all()  # grown by 2 px each side, the mean colour (0 and 200 halves)
    assert (filled[:8] == image[:8]).all() and (filled[20:] == image[20:]).all()
    assert (image[10:18, 10:18] == 0).all()  # the input is not changed


def test_fit_check_map_writes_a_bundle_that_checks_faces(tmp_path, capsys, monkeypatch):
    import json

    from lnet_anet.cli import fit_check_map

    monkeypatch.chdir(tmp_path)  # the synthetic data's folder (paths.runs) is relative
    no_face_tag = random_bundle(tmp_path / "b0.lnetanet", threshold=0.0, preset="tiny", max_faces=2)
    bundle = _with_face_tag(tmp_path, no_face_tag)
    labels, images = _wider_photos(tmp_path)
    out = tmp_path / "checked.lnetanet"
    common = ["--labels", str(labels), "--images", str(images), "--part", "all", "--bundle", str(bundle),
              "--epochs", "1", "--batch-size", "8", "--threads", "1"]  # fmt: skip
    assert fit_check_map.main([*common, "--composed", "8", "--composed-data", "synthetic", "--work", str(tmp_path / "w"),
                               "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr()
    info = json.loads(printed.out.strip().splitlines()[-1])
    assert info["photos"] == 5 and info["skipped"] == 1 and info["composed"] == 8 and info["ratio"] > 0
    assert "p0.jpg" in printed.err  # the corrupt photo is named
    checked = load_bundle(out)
    assert checked.config["preprocessing"]["lnet"]["check_faces"] == 1.0 and checked.lnet.check
    plain = load_bundle(bundle)
    for key, value in plain.lnet.state_dict().items():  # the bundle's own LNet is unchanged
        torch.testing.assert_close(checked.lnet.state_dict()[key], value)
    assert Predictor.load(out).predict(np.zeros((64, 96, 3), np.uint8))["error"] is None
    # the same work folder with other settings is refused; the labels' mistakes are named
    assert fit_check_map.main([*common, "--composed", "0", "--work", str(tmp_path / "w"), "--out", str(out)]) == 1
    assert "other settings (composed: 8 -> 0, composed_data: synthetic -> celeba_hq; " in capsys.readouterr().err
    # another --out, --threads or --check-faces is the same training: its maps and checkpoint are reused
    other = tmp_path / "checked2.lnetanet"
    assert fit_check_map.main([*common[:-2], "--threads", "2", "--composed", "8", "--composed-data", "synthetic",
                               "--check-faces", "2.0", "--work", str(tmp_path / "w"), "--out", str(other)]) == 0  # fmt: skip
    assert load_bundle(other).config["preprocessing"]["lnet"]["check_faces"] == 2.0
    capsys.readouterr()
    assert fit_check_map.main(["--labels", str(tmp_path / "none.txt"), "--out", str(out)]) == 2
    assert "none.txt" in capsys.readouterr().err
    assert fit_check_map.main([*common[:-8], "--bundle", str(no_face_tag), "--composed", "0", "--work", str(tmp_path / "w0"),
                               "--out", str(out)]) == 1  # fmt: skip
    assert "no face tag" in capsys.readouterr().err


def _blob_map(centre: tuple[int, int], height: float = 5.0, shape=(8, 8)) -> np.ndarray:
    """A check map (h, w) with one Gaussian blob of `height` at `centre` (row, col)."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return (height * np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / 2.0)).astype(np.float32)


def test_faces_on_check_reads_only_its_scales_and_leaves_found_faces_out():
    from lnet_anet.lnet.localizer import Localizer
    from lnet_anet.lnet.multiscale import FIND_ON_CHECK_IOU, faces_on_check

    same = Placement(kx=1.0, ky=1.0, x0=0, y0=0, h_c=64, w_c=64)  # a 64 x 64 image on a 64 x 64 canvas, 8 px cells
    at_1 = (_blob_map((2, 2)), (64, 64), same, 1.0)
    at_2 = (_blob_map((6, 5), 8.0), (64, 64), same, 2.0)  # another blob: read only when 2.0 is one of the scales
    loc = Localizer(threshold=1.0)
    one = faces_on_check([at_1, at_2], loc, (1.0,), (64, 64), [])
    assert len(one) == 1 and 8 <= (one[0][0][0] + one[0][0][2]) / 2 <= 32  # the scale-1 blob's face, left-top
    both = faces_on_check([at_1, at_2], loc, (1.0, 2.0), (64, 64), [])
    assert len(both) == 2 and both[0][1] > both[1][1] and np.allclose(both[1][0], one[0][0])  # strongest first
    # a face already found over one of them: only the other is added
    kept = faces_on_check([at_1, at_2], loc, (1.0, 2.0), (64, 64), [one[0][0]])
    assert len(kept) == 1 and not np.allclose(kept[0][0], one[0][0])
    # a found box overlapping less than FIND_ON_CHECK_IOU does not stop it
    x0, y0, x1, y1 = one[0][0]
    beside = np.array([x1 - 0.2 * (x1 - x0), y0, x1 + 0.8 * (x1 - x0), y1])  # IoU about 0.1
    assert FIND_ON_CHECK_IOU > 0.1 and len(faces_on_check([at_1], loc, (1.0,), (64, 64), [beside])) == 1
    assert faces_on_check([], loc, (1.0,), (64, 64), []) == []


def _finding_bundle(tmp_path, plain, scales=(1.0,)):
    """`plain` with a check map that keeps every face (check_faces 0.5, level 0.7), no face of its
    own localizer (threshold 1e6) and a check localizer that takes every blob (find_on_check)."""
    bundle = load_bundle(_checking_bundle(tmp_path, plain, 0.5, 0.7))
    prep = bundle.preprocessing
    prep["localizer"]["threshold"] = 1e6
    prep["check_localizer"] = {**{k: v for k, v in prep["localizer"].items()}, "threshold": -1e9, "scales": list(scales)}
    prep["lnet"]["find_on_check"] = True
    return bundle


def test_find_on_check_adds_the_faces_of_the_check_localizer(tmp_path):
    plain = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    photo = np.random.default_rng(1).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    bundle = _finding_bundle(tmp_path, plain)
    found = Predictor(bundle, backend="torch").predict(photo)["faces"]
    assert found and all(f["score"] > 1e6 for f in found)  # on the localizer's scale: over its threshold
    assert Predictor(bundle, backend="torch").localizer.threshold == 1e6
    bundle.preprocessing["lnet"]["find_on_check"] = False
    assert Predictor(bundle, backend="torch").predict(photo)["faces"] == []  # the localizer alone finds none
    bundle.preprocessing["lnet"]["find_on_check"] = True
    bundle.preprocessing["check_localizer"]["scales"] = [3.0]  # a scale the Predictor never reads: nothing to add
    assert Predictor(bundle, backend="torch").predict(photo)["faces"] == []
    # refused without the check, and without a check localizer
    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}
    with pytest.raises(PreprocessError, match="find_on_check needs check_faces"):
        LNetInput.from_dict({**base, "find_on_check": True})
    assert LNetInput.from_dict({**base, "check_faces": 1.0, "find_on_check": True}).to_dict()["find_on_check"] is True
    config = {k: v for k, v in bundle.config.items() if k != "versions"}
    config["preprocessing"] = {k: v for k, v in config["preprocessing"].items() if k != "check_localizer"}
    parts = {"lnet": bundle.lnet, "anet": bundle.anet, "svm": bundle.svm.to_arrays(), "age": bundle.age,
             "attractiveness": bundle.attractiveness}  # fmt: skip
    with pytest.raises(BundleError, match="find_on_check is set, but the bundle has no preprocessing.check_localizer"):
        save_bundle(tmp_path / "no-check-localizer.lnetanet", {k: v for k, v in parts.items() if v is not None}, config)
    config["preprocessing"]["check_localizer"] = {"threshold": 1.0, "scales": []}
    with pytest.raises(BundleError, match="check_localizer.scales must be a non-empty list"):
        save_bundle(tmp_path / "no-scales.lnetanet", {k: v for k, v in parts.items() if v is not None}, config)


def test_fit_localizer_check_map_adds_a_check_localizer_and_keeps_the_localizer(tmp_path, capsys):
    from lnet_anet.cli.fit_localizer import check_scale_sets, main
    from lnet_anet.inference.bundle import describe

    labels, _ = wider_photos(tmp_path / "WIDER_train", 12, ["4 4 20 24 0 0 0 0 0 0", "50 10 20 24 0 0 0 0 0 0"])
    (tmp_path / "wider_face_split").mkdir()
    labels.rename(tmp_path / "wider_face_split" / "wider_face_train_bbx_gt.txt")
    plain = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    checking = _checking_bundle(tmp_path, plain, 0.5, 0.7)
    out = tmp_path / "fitted.lnetanet"
    argv = ["--wider", str(tmp_path), "--check-map", "--search", '{"box_level": [0.35]}', "--out", str(out)]
    assert main([*argv, "--bundle", str(checking)]) == 0
    fitted, before = load_bundle(out).preprocessing, load_bundle(checking).preprocessing
    assert fitted["localizer"] == before["localizer"] and fitted["lnet"] == {**before["lnet"], "find_on_check": True}
    assert fitted["check_localizer"]["box_level"] == 0.35 and tuple(fitted["check_localizer"]["scales"]) in check_scale_sets(
        LNetInput.from_dict(before["lnet"]))  # fmt: skip
    assert Predictor.load(out).check_localizer[0].threshold == fitted["check_localizer"]["threshold"]
    assert "faces found on the check map over" in describe(out)  # build_bundle's summary says the step
    capsys.readouterr()
    assert main([*argv, "--bundle", str(plain)]) == 1  # a bundle that does not check faces: one line, nothing written
    said = capsys.readouterr().err
    assert "--check-map needs a bundle that checks faces" in said and "train one with python -m lnet_anet.cli.fit_check_map" in said
    assert main([*argv, "--bundle", str(_checking_bundle(tmp_path, plain, None, 0.7))]) == 1  # the map, the check off
    assert "turn the check on with python -m lnet_anet.cli.build_bundle" in capsys.readouterr().err
    lnet = LNetInput.from_dict({"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3,
                                "scales": [1.0, 0.45], "zoom_in_scales": [2.0], "zoom_in_below": 96})  # fmt: skip
    assert check_scale_sets(lnet) == [(1.0,), (1.0, 0.45), (1.0, 2.0), (1.0, 0.45, 2.0)]
