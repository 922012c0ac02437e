"""The box head that places face boxes from ANet's feature (lnet_anet.inference.box_head): its
maths and file, the bundle setting (preprocessing.lnet.refine_boxes), the Predictor's use of it
and the fit_box_head command, on generated data and a random bundle."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lnet_anet.cli import fit_box_head
from lnet_anet.data.preprocess import LNetInput, PreprocessError
from lnet_anet.inference.box_head import BoxHead, decode_boxes, encode_boxes, jittered_boxes
from lnet_anet.inference.build import random_bundle
from lnet_anet.inference.bundle import load_bundle
from lnet_anet.inference.predictor import Predictor
from lnet_anet.inference.upright import UprightHead

sys.path.insert(0, str(Path(__file__).parent))
from _images import noise_images  # noqa: E402
from _wider import wider_photos  # noqa: E402


def _constant_head(predictor: Predictor, offsets, shrink: float = 1.0) -> BoxHead:
    """A head that moves every box by the same offsets (encode_boxes' four numbers)."""
    d = predictor.bundle.svm.feature_dim
    return BoxHead(np.zeros(d), np.ones(d), np.zeros((4, d + 2)), np.asarray(offsets, float), shrink,
                   anet=predictor.bundle.part_digest("anet"))  # fmt: skip


def test_offsets_round_trip_and_the_head_learns_where_the_face_is(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    x0, y0 = rng.uniform(0, 200, n), rng.uniform(0, 200, n)
    size = rng.uniform(20, 80, n)
    boxes = np.stack([x0, y0, x0 + size, y0 + size], 1)
    features = rng.normal(size=(n, 6))
    truth = np.stack([0.3 * features[:, 0], -0.2 * features[:, 1], 0.1 * features[:, 2], 0.05 * features[:, 3]], 1)
    targets = decode_boxes(boxes, truth)
    np.testing.assert_allclose(encode_boxes(boxes, targets), truth, atol=1e-9)
    head = BoxHead.fit(boxes, features, targets, alpha=1.0, shrink=1.0, anet="abc")
    np.testing.assert_allclose(head.correct(boxes, features), targets, atol=0.5)  # pixels
    half = BoxHead.fit(boxes, features, targets, alpha=1.0, shrink=0.5)
    moved = np.abs(half.correct(boxes, features) - boxes).mean()
    assert 0.4 < moved / np.abs(targets - boxes).mean() < 0.6  # half the way, about
    head.save(tmp_path / "b.safetensors")
    again = BoxHead.load(tmp_path / "b.safetensors")
    np.testing.assert_allclose(again.correct(boxes, features), head.correct(boxes, features), atol=1e-3)
    assert again.anet == "abc" and again.info["pairs"] == n and again.shrink == 1.0
    assert again.digest == head.digest != half.digest != BoxHead.load().digest  # its numbers and shrink
    with pytest.raises(ValueError, match=r"\(N, 6\)"):
        head.correct(boxes, features[:, :3])
    with pytest.raises(ValueError, match="at least 10"):
        BoxHead.fit(boxes[:5], features[:5], targets[:5])
    UprightHead(np.zeros(3), np.ones(3), np.zeros(3), 0.0).save(tmp_path / "u.safetensors")
    with pytest.raises(ValueError, match="not a box head"):
        BoxHead.load(tmp_path / "u.safetensors")
    with pytest.raises(FileNotFoundError, match="fit_box_head"):
        BoxHead.load(tmp_path / "none.safetensors")


def _exposure_case(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n pairs where feature 0 says where the face is and feature 1 tracks it too, and m feature
    changes along feature 1 (what an exposure change moves): boxes, features, targets, changes."""
    rng = np.random.default_rng(1)
    boxes = np.tile([50.0, 50.0, 100.0, 100.0], (n, 1))
    where = rng.normal(size=n)
    features = np.stack([where + 0.3 * rng.normal(size=n), where + 0.3 * rng.normal(size=n), rng.normal(size=n)], 1)
    targets = decode_boxes(boxes, np.stack([np.zeros(n), np.zeros(n), 0.2 * where, np.zeros(n)], 1))
    return boxes, features, targets, np.stack([np.zeros(m), rng.normal(size=m), np.zeros(m)], 1)


def test_the_invariance_penalty_makes_the_correction_ignore_what_the_exposure_changes():
    # Feature 0 says where the face is; feature 1 tracks it on the fit photos too, but it is the
    # one an exposure change moves (the feature changes point along it). The plain ridge leans on
    # both; with the penalty the correction should follow feature 0 and barely move with feature 1.
    boxes, features, targets, changes = _exposure_case(500, 200)
    plain = BoxHead.fit(boxes, features, targets, alpha=1.0, shrink=1.0)
    steady = BoxHead.fit(boxes, features, targets, alpha=1.0, shrink=1.0, feature_changes=changes, invariance=10.0)
    nudged = features + [0.0, 1.0, 0.0]  # the same photos, feature 1 moved by the exposure

    def moved(head):
        return np.abs(head.correct(boxes, nudged) - head.correct(boxes, features)).mean()

    assert moved(steady) < 0.2 * moved(plain)
    err = np.abs(steady.correct(boxes, features) - targets).mean()
    assert err < np.abs(boxes - targets).mean()  # still places the face better than the fixed box
    assert steady.info["invariance"] == 10.0 and steady.info["feature_changes"] == 200
    assert "invariance" not in plain.info
    with pytest.raises(ValueError, match="feature_changes"):
        BoxHead.fit(boxes, features, targets, invariance=1.0)
    with pytest.raises(ValueError, match="feature_changes"):
        BoxHead.fit(boxes, features, targets, feature_changes=changes[:, :2], invariance=1.0)


def test_a_box_head_with_a_hidden_layer_learns_a_correction_the_ridge_cannot(tmp_path):
    # The face lies left or right of the fixed box by |feature 0|: a V shape, no line fits it.
    rng = np.random.default_rng(2)
    n = 2000
    boxes = np.tile([50.0, 50.0, 100.0, 100.0], (n, 1)) + rng.uniform(-20, 20, (n, 1))
    features = rng.normal(size=(n, 4))
    truth = np.stack([np.zeros(n), np.zeros(n), 0.3 * np.abs(features[:, 0]) - 0.24, np.zeros(n)], 1)
    targets = decode_boxes(boxes, truth)
    ridge = BoxHead.fit(boxes, features, targets, alpha=1.0, shrink=1.0)
    mlp = BoxHead.fit(boxes, features, targets, alpha=1e-3, shrink=1.0, hidden=32)

    def error(head):
        return np.abs(head.correct(boxes, features) - targets).mean()

    assert mlp.hidden == 32 and ridge.hidden == 0 and mlp.info["hidden"] == 32
    assert error(mlp) < 0.5 * error(ridge)
    path = tmp_path / "m.safetensors"
    mlp.save(path)
    again = BoxHead.load(path)
    assert again.hidden == 32 and again.digest == mlp.digest
    np.testing.assert_allclose(again.correct(boxes, features), mlp.correct(boxes, features), atol=1e-2)
    # exposure views as pairs of their own: they need the pair each change belongs to
    changes = rng.normal(size=(50, 4))
    viewed = BoxHead.fit(boxes, features, targets, alpha=1e-3, hidden=8, feature_changes=changes, invariance=1.0,
                         change_pairs=np.arange(50))  # fmt: skip
    assert viewed.info["view_pairs"] == 50
    with pytest.raises(ValueError, match="change_pairs"):
        BoxHead.fit(boxes, features, targets, hidden=8, feature_changes=changes, invariance=1.0)
    with pytest.raises(ValueError, match="change_pairs"):
        BoxHead.fit(boxes, features, targets, hidden=8, feature_changes=changes, invariance=1.0,
                    change_pairs=np.full(50, -1))  # fmt: skip
    with pytest.raises(ValueError, match="hidden_weight"):
        BoxHead(np.zeros(3), np.ones(3), np.zeros((4, 6)), np.zeros(4), hidden_weight=np.zeros((6, 4)),
                hidden_bias=np.zeros(6))  # fmt: skip


def test_the_consistency_penalty_makes_an_mlp_box_head_ignore_what_the_exposure_changes():
    # As the ridge's invariance test: feature 0 says where the face is, feature 1 tracks it too but
    # is what an exposure change moves. The plain MLP leans on both; with the penalty on the change
    # of its output between a pair and its view, the correction should barely move with feature 1.
    n = 600
    boxes, features, targets, changes = _exposure_case(n, n)  # one view per pair
    plain = BoxHead.fit(boxes, features, targets, shrink=1.0, hidden=16, alpha=1e-3)
    steady = BoxHead.fit(boxes, features, targets, shrink=1.0, hidden=16, feature_changes=changes, invariance=1.0,
                         change_pairs=np.arange(n), consistency=30.0)  # fmt: skip
    nudged = features + [0.0, 1.0, 0.0]

    def moved(head):
        return np.abs(head.correct(boxes, nudged) - head.correct(boxes, features)).mean()

    assert moved(steady) < 0.5 * moved(plain)
    assert np.abs(steady.correct(boxes, features) - targets).mean() < np.abs(boxes - targets).mean()
    assert steady.info["consistency"] == 30.0 and steady.info["view_changes"] == n and "view_pairs" not in steady.info
    with pytest.raises(ValueError, match="consistency needs"):
        BoxHead.fit(boxes, features, targets, hidden=8, consistency=1.0)


def test_jittered_boxes_stay_centred_in_the_face_and_spread_about_it():
    face = np.array([100.0, 50.0, 160.0, 130.0])
    boxes = jittered_boxes(face, 4000, np.random.default_rng(0))
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    assert ((cx > face[0]) & (cx < face[2]) & (cy > face[1]) & (cy < face[3])).all()
    log_w = np.log((boxes[:, 2] - boxes[:, 0]) / 60.0)
    assert abs(np.median(log_w)) < 0.03 and 0.3 < log_w.std() < 0.4  # the scale's sigma 0.35, and the aspect's
    assert np.abs(log_w).max() <= 2.5 * 0.35 + 2.5 * 0.08 + 1e-9
    again = jittered_boxes(face, 4000, np.random.default_rng(0))
    assert (again == boxes).all()  # drawn from the rng alone


def test_exposure_views_keep_the_pixels_in_place_and_vary_the_exposure():
    from lnet_anet.data.transforms import EXPOSURE_KINDS, exposure_view

    image = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    kinds = set()
    for seed in range(30):
        kind, view = exposure_view(image, np.random.default_rng(seed))
        kinds.add(kind)
        assert view.shape == image.shape and view.dtype == np.uint8
        if kind == "grayscale":
            assert (view[..., 0] == view[..., 1]).all() and (view[..., 1] == view[..., 2]).all()
        again = exposure_view(image, np.random.default_rng(seed))[1]
        assert (again == view).all()  # drawn from the rng alone
    assert kinds == set(EXPOSURE_KINDS)


def test_refine_boxes_is_checked_and_survives_the_bundle_settings():
    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}
    assert LNetInput.from_dict({**base, "refine_boxes": True}).to_dict()["refine_boxes"] is True
    assert "refine_boxes" not in LNetInput.from_dict(base).to_dict()  # older bundles read the same
    with pytest.raises(PreprocessError, match="refine_boxes must be true or false"):
        LNetInput.from_dict({**base, "refine_boxes": "yes"})


def test_the_predictor_reports_the_box_heads_face_boxes(tmp_path):
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    photo = np.random.default_rng(1).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    plain = Predictor.load(path)
    before = plain.predict(photo)
    assert before["faces"]
    bundle = load_bundle(path)
    bundle.preprocessing["lnet"]["refine_boxes"] = True
    head = _constant_head(plain, [np.log(0.5), np.log(0.5), 0.1, 0.0])  # half as large, 10% of the width right
    refined = Predictor(bundle, box_head=head)
    analysis = refined.analyse(photo)
    for old, new, px in zip(before["faces"], analysis.record["faces"], analysis.faces_px, strict=True):
        want = np.clip(head.correct(np.array([old["box"]]), np.zeros((1, head.feature_dim)))[0], 0, [128, 96, 128, 96])
        np.testing.assert_allclose(new["box"], want, atol=0.15)  # the record's box is rounded to 0.1 px
        np.testing.assert_allclose(px, new["box"], atol=0.06)
        assert new["attributes"] == old["attributes"] and new["score"] == old["score"]  # the heads read the same region
    refined.refine_boxes = False  # the fixed face boxes again
    assert [f["box"] for f in refined.predict(photo)["faces"]] == [f["box"] for f in before["faces"]]
    with pytest.raises(ValueError, match="does not refine boxes"):
        plain.refine_boxes = True
    with pytest.raises(ValueError, match="another ANet"):
        refined.box_head = BoxHead(np.zeros(3), np.ones(3), np.zeros((4, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="another ANet"):  # the shipped head reads the shipped ANet's feature
        Predictor(bundle)
    with pytest.raises(ValueError, match="does not refine boxes"):
        Predictor.load(path, box_head=head)


def test_a_bundles_crop_pad_moves_no_box_the_heads_judge_black_filled_crops(tmp_path):
    """The face and box heads learnt crops filled black outside the picture: a bundle whose crops
    are filled by their edge gives the same faces, boxes and P(face) as black, and only the
    reading (attributes, age) changes where a crop leaves the picture (JUDGE_PAD)."""
    from lnet_anet.inference.face_head import FaceHead
    from lnet_anet.inference.predictor import JUDGE_PAD

    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    blind = random_bundle(tmp_path / "blind.lnetanet", threshold=1e6, preset="tiny", max_faces=3)  # finds nothing
    plain = Predictor.load(path)
    d = plain.bundle.svm.feature_dim
    photo = np.random.default_rng(1).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    _, _, judged = plain.candidates(photo)  # the candidates' features as the heads judge them
    rng = np.random.default_rng(3)
    coef = np.concatenate([rng.normal(0, 0.01, (4, d)), np.zeros((4, 2))], 1)
    # boxes halved and moved by how far the feature is from the strongest candidate's, in 1e-3
    # steps (a random tiny ANet's features move little): sensitive, yet inside the picture
    box_head = BoxHead(judged[0], np.full(d, 1e-3), coef, np.log([0.5, 0.5, 1.0, 1.0]), anet=plain.bundle.part_digest("anet"))
    face_head = FaceHead(np.zeros(d), np.ones(d), rng.normal(0, 1.0, d), 0.0, anet=plain.bundle.part_digest("anet"))

    def predictor(pad: str, rescue: bool) -> Predictor:
        bundle = load_bundle(blind if rescue else path)
        bundle.preprocessing["lnet"]["refine_boxes"] = True
        if rescue:  # nothing found at the threshold: the strongest candidate judged by the face head
            bundle.preprocessing["lnet"]["rescue_faces"] = [-1e6, 0.0]
        else:  # every face found is weak: the face head keeps or drops each
            bundle.preprocessing["lnet"] |= {"rescue_faces": [1e6, 1.0], "verify_faces": [1e6, 0.5]}
        for name in ("anet", "age", "attractiveness"):
            if name in bundle.preprocessing and bundle.preprocessing[name].get("input", "image") == "image":
                bundle.preprocessing[name]["pad"] = pad
        return Predictor(bundle, box_head=box_head, face_head=face_head)

    assert JUDGE_PAD == "black"
    for rescue in (False, True):
        black, edge = predictor("black", rescue).predict(photo), predictor("edge", rescue).predict(photo)
        assert black["faces"], "the photo should give the heads a face to judge"
        where = ("box", "score", "face_probability")
        assert [[f.get(k) for k in where] for f in edge["faces"]] == [[f.get(k) for k in where] for f in black["faces"]]
        assert edge.get("rescued") == black.get("rescued") == (True if rescue else None)
        assert [f["attributes"] for f in edge["faces"]] != [f["attributes"] for f in black["faces"]]  # read with its fill
    edged = predictor("edge", False)
    region = edged.localizer.to_region(np.array([0.0, 0.0, 64.0, 80.0]))  # leaves the 128x96 picture
    assert not np.allclose(edged.anet_features(photo, [region], kind="region")[0],
                           edged.anet_features(photo, [region], kind="region", pad=JUDGE_PAD)[0], atol=1e-3)  # fmt: skip


def _wider(tmp_path, n: int = 12):
    """A WIDER-format label file of n generated photos, each with one labelled face covering it."""
    return wider_photos(tmp_path, n, ["0 0 96 64 0 0 0 0 0 0"])


def test_fit_box_head_fits_on_wider_labels_and_says_when_it_cannot(tmp_path, capsys):
    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=2)
    labels, images = _wider(tmp_path)
    out = tmp_path / "box.safetensors"
    assert fit_box_head.main(["--labels", str(labels), "--images", str(images), "--part", "all", "--bundle", str(bundle),
                              "--out", str(out)]) == 0  # fmt: skip
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["photos"] == 12 and info["pairs"] >= 10 and info["shrink"] == 0.5
    # by default taught to ignore the exposure: two views of each photo, every candidate's change
    assert info["invariance"] == 1.0 and info["views"] == 2 and info["feature_changes"] >= 2 * info["pairs"]
    assert info["digest"] == BoxHead.load(out).digest  # what records read with it will say
    assert set(info["in_sample"]) == {"median_iou_fixed", "median_iou_head", "iou_0.5_fixed", "iou_0.5_head"}
    assert 0.0 <= info["in_sample"]["median_iou_fixed"] <= 1.0 and 0.0 <= info["in_sample"]["median_iou_head"] <= 1.0
    assert BoxHead.load(out).fits(Predictor.load(bundle).bundle)
    assert fit_box_head.main(["--labels", str(labels), "--images", str(images), "--part", "all", "--bundle", str(bundle),
                              "--invariance", "0", "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr()
    plain = json.loads(printed.out.strip().splitlines()[-1])
    assert "invariance" not in plain and "views" not in plain and plain["pairs"] == info["pairs"] < 100
    assert f"warning: only {plain['pairs']} pairs for a ridge on 258 inputs" in printed.err  # few pairs: said
    assert fit_box_head.main(["--labels", str(labels), "--images", str(images), "--part", "all", "--limit", "2",
                              "--bundle", str(bundle), "--out", str(out)]) == 1  # fmt: skip
    assert "too few to fit" in capsys.readouterr().err
    assert fit_box_head.main(["--labels", str(labels), "--images", str(tmp_path / "elsewhere"), "--part", "all",
                              "--bundle", str(bundle), "--out", str(out)]) == 1  # fmt: skip
    assert "none of the 12 photos could be read" in capsys.readouterr().err
    assert fit_box_head.main(["--labels", str(tmp_path / "none.txt"), "--out", str(out)]) == 2
    assert "none.txt" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        fit_box_head.main(["--labels", str(labels), "--shrink", "2", "--out", str(out)])
    assert stop.value.code == 2


def test_fit_box_head_learns_an_mlp_from_jittered_boxes_and_more_photos(tmp_path, capsys):
    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=2)
    labels, images = _wider(tmp_path)
    more = tmp_path / "faces.csv"  # a box CSV of further photos (the same pictures, read as a grid's faces)
    more.write_text("path,x0,y0,x1,y1\n" + "".join(f"{p},0,0,96,64\n" for p in sorted(images.rglob("*.jpg"))[:3]))
    out = tmp_path / "mlp.safetensors"
    assert fit_box_head.main(["--labels", str(labels), "--images", str(images), "--part", "all", "--bundle", str(bundle),
                              "--hidden", "8", "--alpha", "0.001", "--jitter", "3", "--more-labels", str(more),
                              "--more-jitter", "2", "--out", str(out)]) == 0  # fmt: skip
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    head = BoxHead.load(out)
    assert head.hidden == 8 and info["hidden"] == 8 and info["jitter"] == 3
    assert info["more_photos"] == 3 and info["more_jitter"] == 2
    # 12 photos with one face: 3 jittered boxes each; 3 more photos: 2 each; plus the candidates on a face
    assert info["pairs"] >= 12 * 3 + 3 * 2 and info["view_pairs"] <= 2 * info["pairs"]
    assert info["alpha"] == 0.001 and info["more_skipped"] == 0  # the MLP's own default penalty
    broken = tmp_path / "broken.csv"  # none of its photos can be read: said, nothing written
    broken.write_text("path,x0,y0,x1,y1\nnowhere.jpg,0,0,10,10\n")
    assert fit_box_head.main(["--labels", str(labels), "--images", str(images), "--part", "all", "--bundle", str(bundle),
                              "--hidden", "8", "--more-labels", str(broken), "--out", str(tmp_path / "b.st")]) == 1  # fmt: skip
    assert "none of its 1 photos could be read" in capsys.readouterr().err and not (tmp_path / "b.st").exists()
    assert fit_box_head.main(["--labels", str(labels), "--images", str(images), "--part", "all", "--bundle", str(bundle),
                              "--more-labels", str(tmp_path / "none.csv"), "--out", str(out)]) == 2  # fmt: skip
    assert "--more-labels" in capsys.readouterr().err


def _refining_bundle(tmp_path):
    """A random bundle and its copy with refine_boxes set (build_bundle)."""
    from lnet_anet.cli import build_bundle

    plain = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=1)
    refining = tmp_path / "r.lnetanet"
    assert build_bundle.main(["--from-bundle", str(plain), "--lnet-input", '{"refine_boxes": true}',
                              "--out", str(refining)]) == 0  # fmt: skip
    return plain, refining


def test_predict_takes_a_box_head_for_a_bundle_that_refines_boxes(tmp_path, capsys):
    from lnet_anet.predict import main

    plain, refining = _refining_bundle(tmp_path)
    photo = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(photo)
    head = tmp_path / "box.safetensors"
    _constant_head(Predictor.load(plain), [0.0, 0.0, 0.0, 0.0]).save(head)  # moves nothing
    capsys.readouterr()
    assert main([str(photo), "--json", "--bundle", str(plain)]) == 0
    before = json.loads(capsys.readouterr().out.splitlines()[0])
    assert main([str(photo), "--json", "--bundle", str(refining)]) == 1  # the shipped head: another ANet's
    assert "another ANet" in capsys.readouterr().err
    assert main([str(photo), "--json", "--bundle", str(plain), "--box-head", str(head)]) == 1
    assert "does not refine boxes" in capsys.readouterr().err
    assert main([str(photo), "--json", "--bundle", str(refining), "--box-head", str(head)]) == 0
    after = json.loads(capsys.readouterr().out.splitlines()[0])
    assert [f["box"] for f in after["faces"]] == [f["box"] for f in before["faces"]]
    _constant_head(Predictor.load(plain), [np.log(0.5), np.log(0.5), 0.0, 0.0]).save(head)  # half the size
    assert main([str(photo), "--json", "--bundle", str(refining), "--box-head", str(head)]) == 0
    halved = json.loads(capsys.readouterr().out.splitlines()[0])
    assert [f["box"] for f in halved["faces"]] != [f["box"] for f in before["faces"]]
    assert halved["box_head"] == BoxHead.load(head).digest and "box_head" not in before  # a head of one's own
    assert main([str(photo), "--json", "--bundle", str(refining), "--box-head", str(head), "--no-refine-boxes"]) == 0
    fixed = json.loads(capsys.readouterr().out.splitlines()[0])
    assert [f["box"] for f in fixed["faces"]] == [f["box"] for f in before["faces"]]
    assert "box_head" not in fixed  # turned off: "refine_boxes": false says it all


def test_resume_refuses_an_output_read_with_the_box_head_turned_off(tmp_path, capsys):
    from lnet_anet.inference.outputs import read_records
    from lnet_anet.predict import main

    plain, refining = _refining_bundle(tmp_path)
    head = tmp_path / "box.safetensors"
    _constant_head(Predictor.load(plain), [0.0, 0.0, 0.0, 0.0]).save(head)
    rng = np.random.default_rng(2)
    photos = noise_images(tmp_path / "photos", ["p0.png", "p1.png"], (64, 80), rng)
    out = tmp_path / "out.jsonl"
    argv = [str(photos), "--output", str(out), "--bundle", str(refining), "--box-head", str(head)]
    assert main([*argv, "--no-refine-boxes"]) == 0
    assert all(r["refine_boxes"] is False for r in read_records(out))
    noise_images(photos, ["p9.png"], (64, 80), rng)
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 2  # the new record would be read with the box head
    assert "--no-refine-boxes on" in capsys.readouterr().err
    assert main([*argv, "--resume", "--no-refine-boxes"]) == 0
    assert len(read_records(out)) == 3


def test_the_opt_in_mlp_box_head_ships_by_name_and_reads_the_embedded_anet(tmp_path):
    from lnet_anet.cli.predict import build_parser
    from lnet_anet.inference.box_head import NAMED_BOX_HEADS
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    head = BoxHead.load("mlp")
    assert head.hidden == 256 and head.digest != BoxHead.load().digest
    assert head.fits(load_bundle(DEFAULT_BUNDLE))  # tied to the embedded ANet, as the default head
    assert NAMED_BOX_HEADS["mlp"].is_file()
    assert build_parser().parse_args(["--box-head", "mlp", "x.jpg"]).box_head == "mlp"
    assert build_parser().parse_args(["--box-head", "MLP", "x.jpg"]).box_head == "mlp"
    assert build_parser().parse_args(["--box-head", "h.safetensors", "x.jpg"]).box_head == Path("h.safetensors")
    with pytest.raises(FileNotFoundError):
        BoxHead.load(str(tmp_path / "mlp2"))  # any other string is a file name


def test_crowd_box_head_is_checked_and_survives_the_bundle_settings():
    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}
    lnet = LNetInput.from_dict({**base, "refine_boxes": True, "crowd_box_head": 2})
    assert lnet.crowd_box_head == 2 and lnet.to_dict()["crowd_box_head"] == 2
    assert "crowd_box_head" not in LNetInput.from_dict({**base, "refine_boxes": True}).to_dict()
    with pytest.raises(PreprocessError, match="crowd_box_head needs refine_boxes"):
        LNetInput.from_dict({**base, "crowd_box_head": 2})
    for bad, why in ((0, r"must be in \[1"), (2.5, "whole number"), (True, "finite number")):
        with pytest.raises(PreprocessError, match=why):
            LNetInput.from_dict({**base, "refine_boxes": True, "crowd_box_head": bad})
    crowd = {**base, "refine_boxes": True, "crowd_box_head": 2}
    assert LNetInput.from_dict(crowd).crowd_box_steps == 1 and "crowd_box_steps" not in LNetInput.from_dict(crowd).to_dict()
    stepped = LNetInput.from_dict({**crowd, "crowd_box_steps": 3})
    assert stepped.crowd_box_steps == 3 and LNetInput.from_dict(stepped.to_dict()) == stepped
    with pytest.raises(PreprocessError, match="crowd_box_steps needs crowd_box_head"):
        LNetInput.from_dict({**base, "refine_boxes": True, "crowd_box_steps": 2})
    for bad, why in ((0, r"must be in \[1"), (6, r"must be in \[1"), (1.5, "whole number")):
        with pytest.raises(PreprocessError, match=why):
            LNetInput.from_dict({**crowd, "crowd_box_steps": bad})
    small = LNetInput.from_dict({**crowd, "crowd_box_small": 0.3})
    assert small.crowd_box_small == 0.3 and LNetInput.from_dict(small.to_dict()) == small
    assert "crowd_box_small" not in LNetInput.from_dict(crowd).to_dict()
    with pytest.raises(PreprocessError, match="crowd_box_small needs crowd_box_head"):
        LNetInput.from_dict({**base, "refine_boxes": True, "crowd_box_small": 0.3})
    for bad, why in ((-0.1, r"must be in \[0"), (1.5, r"must be in \[0"), (0, "must be > 0")):
        with pytest.raises(PreprocessError, match=f"crowd_box_small {why}"):
            LNetInput.from_dict({**crowd, "crowd_box_small": bad})


def test_the_crowd_box_head_places_the_faces_of_a_picture_with_that_many_faces(tmp_path):
    """Counted per picture, not per batch: in a batch of a three-face picture and a one-face one,
    the crowd head (asked from 2 faces) places the three faces and the default head the lone one.
    LNet's regions are given (a random LNet finds no crowd): the rest of the pipeline runs."""
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    rng = np.random.default_rng(1)
    crowd_photo, lone_photo = (rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(2))
    # keyed by the pixels: predict_many reads copies of the arrays it is given
    regions = {crowd_photo.tobytes(): [[10, 10, 50, 50], [60, 20, 100, 60], [110, 30, 150, 70]],
               lone_photo.tobytes(): [[40, 30, 100, 90]]}  # fmt: skip
    plain = Predictor.load(path)
    default = _constant_head(plain, [0.0, 0.0, 0.0, 0.0])  # the fixed face box
    crowd = _constant_head(plain, [np.log(0.5), np.log(0.5), 0.0, 0.0])  # half as large

    def read(k: int | None, steps: int = 1, small: float | None = None) -> list[list[list[float]]]:
        bundle = load_bundle(path)
        bundle.preprocessing["lnet"] |= {"refine_boxes": True, "crowd_box_head": k}
        if steps != 1:
            bundle.preprocessing["lnet"]["crowd_box_steps"] = steps
        if small is not None:
            bundle.preprocessing["lnet"]["crowd_box_small"] = small
        predictor = Predictor(bundle, box_head=default, crowd_box_head=crowd if k else None)
        predictor._detect = lambda images, analyses: [[(np.array(r, float), 1.0) for r in regions[a.image.tobytes()]]
                                                      for a in analyses]  # fmt: skip
        records = list(predictor.predict_many([crowd_photo, lone_photo], batch_size=2))
        assert all((r.get("crowd_box_head") == crowd.digest) == bool(k) for r in records)  # a head of one's own: said
        return [[f["box"] for f in r["faces"]] for r in records]

    fixed = read(None)
    assert [len(faces) for faces in fixed] == [3, 1] and read(4) == fixed
    gated = read(2)
    assert gated[1] == fixed[1]  # the lone face: the default head's box
    for new, old in zip(gated[0], fixed[0], strict=True):  # the crowd: half as large
        np.testing.assert_allclose(np.subtract(new[2:], new[:2]), np.subtract(old[2:], old[:2]) / 2, atol=0.15)
    stepped = read(2, steps=3)  # placed three times, each from the box placed last: an eighth as large
    assert stepped[1] == fixed[1]
    for new, old in zip(stepped[0], fixed[0], strict=True):
        np.testing.assert_allclose(np.subtract(new[2:], new[:2]), np.subtract(old[2:], old[:2]) / 8, atol=0.15)
        np.testing.assert_allclose(np.add(new[2:], new[:2]), np.add(old[2:], old[:2]), atol=0.3)  # same centre
    # crowd_box_small: a face that small in its picture is the crowd head's whatever the count (k 4: no crowd)
    assert read(4, small=0.01) == fixed  # every face larger than 1% of its picture's side: the default head
    for new, old in zip(sum(read(4, small=1.0), []), sum(fixed, []), strict=True):  # every face: the crowd head
        np.testing.assert_allclose(np.subtract(new[2:], new[:2]), np.subtract(old[2:], old[:2]) / 2, atol=0.15)
    with pytest.raises(ValueError, match="has none"):
        Predictor.load(path, crowd_box_head=crowd)
    bundle = load_bundle(path)
    bundle.preprocessing["lnet"] |= {"refine_boxes": True, "crowd_box_head": 2}
    with pytest.raises(ValueError, match="fit_box_head"):  # the shipped crowd head reads the shipped ANet's feature
        Predictor(bundle, box_head=default)


def test_the_embedded_bundle_places_crowds_by_the_shipped_mlp_head():
    predictor = Predictor.load()
    assert predictor.crowd_box_head.digest == BoxHead.load("mlp").digest
    assert predictor._lnet.crowd_box_steps == 3 and predictor._lnet.crowd_box_small == 0.3  # experiments/2026-12-06-box-steps
    assert predictor.custom_heads == {}  # the shipped heads: records say nothing of them


def test_build_bundle_embeds_a_head_that_predict_then_uses_unasked(tmp_path, capsys):
    """A bundle with its own ANet needed its box head passed at every predict (a fresh-user trial);
    embedded (build_bundle --box-head H), the bundle carries it: Predictor.load takes it, records
    are those read with the head given, and say no head of their own (the bundle's identity does)."""
    from lnet_anet.cli.build_bundle import main as build_main
    from lnet_anet.inference.bundle import describe
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    refining = tmp_path / "refining.lnetanet"
    assert build_main(["--from-bundle", str(path), "--lnet-input", '{"refine_boxes": true}', "--out", str(refining)]) == 0
    assert "--box-head H --out B" in capsys.readouterr().err  # the note: the shipped head reads another ANet
    bundle = load_bundle(refining, build_nets=False)
    d = bundle.svm.feature_dim
    head = BoxHead(np.zeros(d), np.ones(d), np.zeros((4, d + 2)), np.array([np.log(0.5), np.log(0.5), 0.1, 0.0]), 1.0,
                   anet=bundle.part_digest("anet"))  # fmt: skip
    head.save(tmp_path / "h.safetensors")
    embedded = tmp_path / "embedded.lnetanet"
    assert build_main(["--from-bundle", str(refining), "--box-head", str(tmp_path / "h.safetensors"), "--out", str(embedded)]) == 0
    assert "embedded heads: box_head" in describe(embedded) and "read shipped heads" not in capsys.readouterr().err
    with pytest.raises(ValueError, match="another ANet"):
        Predictor.load(refining)  # without it: refused, as before
    mine, given = Predictor.load(embedded), Predictor.load(refining, box_head=head)
    assert mine.box_head.digest == head.digest and mine.custom_heads == {} and given.custom_heads == {"box_head": head.digest}
    photo = np.random.default_rng(3).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    a, b = mine.predict(photo), given.predict(photo)
    assert a["faces"] and [f["box"] for f in a["faces"]] == [f["box"] for f in b["faces"]]
    assert "box_head" not in a and b["box_head"] == head.digest
    again = tmp_path / "again.lnetanet"  # settings changed later keep the embedded head
    assert build_main(["--from-bundle", str(embedded), "--localizer", '{"max_faces": 2}', "--out", str(again)]) == 0
    assert Predictor.load(again).box_head.digest == head.digest
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--box-head", str(tmp_path / "h.safetensors"),
                       "--out", str(tmp_path / "wrong.lnetanet")]) == 1  # fmt: skip
    assert "fitted on the feature of another ANet" in capsys.readouterr().err and not (tmp_path / "wrong.lnetanet").exists()
    assert build_main(["--from-bundle", str(refining), "--face-head", str(tmp_path / "h.safetensors"),
                       "--out", str(tmp_path / "kind.lnetanet")]) == 1  # a box head is no face head  # fmt: skip
    capsys.readouterr()
    unused = tmp_path / "unused.lnetanet"  # embedded where its step is off: said
    assert build_main(["--from-bundle", str(path), "--box-head", str(tmp_path / "h.safetensors"), "--out", str(unused)]) == 0
    assert "the embedded box head is not used: refine_boxes is off" in capsys.readouterr().err
    both = tmp_path / "both.lnetanet"  # the step turned on and the head embedded in one command
    assert build_main(["--from-bundle", str(path), "--lnet-input", '{"refine_boxes": true}', "--box-head",
                       str(tmp_path / "h.safetensors"), "--out", str(both)]) == 0  # fmt: skip
    assert Predictor.load(both).box_head.digest == head.digest and "not used" not in capsys.readouterr().err
