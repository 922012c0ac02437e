"""The one preprocessing schema: validation, round trips, and the stored values being the ones used."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lnet_anet.data.preprocess import (
    BOX_JITTER,
    ANetInput,
    HeadInput,
    LNetInput,
    Normalize,
    PreprocessError,
    jitter_box,
)
from lnet_anet.data.transforms import crop_face, face_region
from lnet_anet.inference.build import random_bundle, rebundle
from lnet_anet.inference.bundle import BundleError, load_bundle, read_header
from lnet_anet.inference.predictor import Predictor

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("schema, good", [
    (LNetInput, {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3,
                 "scales": [1.0, 0.45], "zoom_out_canvas": "fit"}),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": 1.2, "mirror": True, "mean": [0.5] * 3,
                 "std": [0.5] * 3}),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": 1.2, "mirror": False, "mean": [0.5] * 3,
                 "std": [0.5] * 3, "views": [[0.0, 0.0, 1.0], [0.02, -0.02, 0.93]]}),
    (HeadInput, {"image_size": 64, "enlarge": 1.3, "mean": [0.4, 0.5, 0.6], "std": [0.2, 0.3, 0.4]}),
    (HeadInput, {"input": "anet_features"}),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": 1.2, "mirror": False, "mean": [0.5] * 3,
                 "std": [0.5] * 3, "pad": "edge"}),
    (HeadInput, {"image_size": 64, "enlarge": 1.3, "mean": [0.5] * 3, "std": [0.5] * 3, "pad": "reflect"}),
])  # fmt: skip
def test_round_trip(schema, good):
    assert schema.from_dict(schema.from_dict(good).to_dict()) == schema.from_dict(good)
    assert schema.from_dict(good).to_dict() == {**good, **({"mirror": False} if schema is ANetInput and "mirror" not in good else {})}


@pytest.mark.parametrize("schema, bad, message", [
    (LNetInput, {"input_size": [100000, 100000], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3},
     r"lnet.input_size must be in \[16, 4096\]"),
    (LNetInput, {"input_size": [224, 224], "resize": "crop", "mean": [0.5] * 3, "std": [0.5] * 3},
     "resize must be letterbox or stretch"),
    (LNetInput, {"input_size": [224, True], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3},
     "input_size must be a finite number"),
    (LNetInput, {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3,
                 "scales": [1.0, 20.0]}, r"lnet.scales must be in \[0.1, 4.0\]"),
    (LNetInput, {"input_size": [224, 224], "resize": "stretch", "mean": [0.5] * 3, "std": [0.5] * 3,
                 "scales": [1.0, 0.5]}, "stretched input has scale 1 only"),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": float("inf"), "mean": [0.5] * 3, "std": [0.5] * 3},
     "anet.enlarge must be a finite number"),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": 1.0, "mean": [0.5] * 3, "std": [0.5, 0.5, 0.0]},
     r"anet.std must be in"),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": 1.0, "mirror": "yes", "mean": [0.5] * 3,
                 "std": [0.5] * 3}, "mirror must be true or false"),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": 1.0, "views": [[0.0, 0.0]], "mean": [0.5] * 3,
                 "std": [0.5] * 3}, r"anet.views\[0\] must be \[dx, dy, scale\]"),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": 1.0, "views": [[0.0, 0.0, 1.0], [0.0, 0.3, 1.0]],
                 "mean": [0.5] * 3, "std": [0.5] * 3}, r"anet.views\[1\].dy must be in \[-0.25, 0.25\]"),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": 1.0, "views": [[0.0, 0.0, 1.0]] * 17,
                 "mean": [0.5] * 3, "std": [0.5] * 3}, "views must be a list of at most 16"),
    (ANetInput, {"canonical_size": 144, "stride": 16, "enlarge": 1.0, "patch": 3, "mean": [0.5] * 3, "std": [0.5] * 3},
     r"unknown keys \['patch'\]"),
    (HeadInput, {"image_size": 64.5, "enlarge": 1.3, "mean": [0.5] * 3, "std": [0.5] * 3}, "whole number"),
    (HeadInput, {"image_size": 64, "enlarge": 1.3, "mean": [0.5] * 2, "std": [0.5] * 3}, "mean must be 3 numbers"),
    (HeadInput, "not an object", "must be an object"),
    (HeadInput, {"image_size": 64, "enlarge": 1.3, "mean": [0.5] * 3, "std": [0.5] * 3, "pad": "white"},
     "head.pad must be one of black, edge, reflect, got 'white'"),
])  # fmt: skip
def test_bad_settings_name_the_field(schema, bad, message):
    with pytest.raises(PreprocessError, match=message):
        schema.from_dict(bad)


def test_jitter_box_shifts_by_a_share_of_the_box_and_scales_about_its_centre():
    box = [10.0, 20.0, 110.0, 70.0]  # 100 x 50, centre (60, 45)
    np.testing.assert_allclose(jitter_box(box, (0.0, 0.0, 1.0)), box)
    np.testing.assert_allclose(jitter_box(box, (0.1, -0.2, 1.0)), [20.0, 10.0, 120.0, 60.0])
    np.testing.assert_allclose(jitter_box(box, (0.0, 0.0, 0.5)), [35.0, 32.5, 85.0, 57.5])
    assert BOX_JITTER[0] == (0.0, 0.0, 1.0)  # the region as found is one of the views
    assert ANetInput.from_dict({"canonical_size": 144, "stride": 16, "enlarge": 1.0, "mean": [0.5] * 3, "std": [0.5] * 3,
                                "views": [list(v) for v in BOX_JITTER]}).views == BOX_JITTER  # fmt: skip
    assert "views" not in ANetInput(144, 16, 1.0).to_dict()  # bundles without views are written as before


def test_normalize_and_face_crop():
    image = np.full((40, 60, 3), 255, np.uint8)
    np.testing.assert_allclose(Normalize()(image), 1.0)
    np.testing.assert_allclose(Normalize((0.0, 0.0, 0.0), (1.0, 2.0, 4.0))(image)[:, 0, 0], [1.0, 0.5, 0.25])
    np.testing.assert_allclose(face_region((10, 10, 30, 20), 2.0), [0, -5, 40, 35])
    crop = crop_face(image, (50, 10, 70, 30), 1.0, 16)  # half outside the image: black there
    assert crop.shape == (16, 16, 3) and crop[:, :4].min() == 255 and crop[:, -4:].max() == 0
    with pytest.raises(ValueError, match="bad box"):
        face_region((10, 10, 5, 20), 1.0)


def _with_preprocessing(src, dst, **changes):
    """A copy of bundle `src` whose preprocessing sections are updated with `changes`."""
    def update(config):
        prep = {k: {**v, **changes.get(k, {})} for k, v in config["preprocessing"].items()}
        return {**config, "preprocessing": prep}

    return rebundle(src, dst, update)


def test_the_stored_normalisation_is_the_one_used(tmp_path):
    """Changing the bundle's stored ANet and age mean/std changes the features and heads exactly as
    normalising the crop by hand with the new values does."""
    src = random_bundle(tmp_path / "a.lnetanet", threshold=0.0, preset="tiny", max_faces=1)
    changed = {"anet": {"mean": [0.2, 0.4, 0.6], "std": [0.25, 0.5, 0.3]},
               "age": {"mean": [0.1, 0.1, 0.1], "std": [0.9, 0.9, 0.9]}}  # fmt: skip
    dst = _with_preprocessing(src, tmp_path / "b.lnetanet", **changed)
    assert read_header(dst)[1]["preprocessing"]["anet"]["mean"] == [0.2, 0.4, 0.6]
    image = (np.random.default_rng(0).random((120, 160, 3)) * 255).astype(np.uint8)

    def one_face(predictor):  # the same canvas box for both bundles: only the preprocessing differs
        def localizer(response, size):
            return [(np.array([20.0, 16.0, 84.0, 80.0]), 1.0)]

        localizer.nms_iou, localizer.max_faces = 0.3, 1
        localizer.to_face_box = lambda box: np.asarray(box, np.float64)  # no face_box: the region
        predictor.localizer, predictor.cascade = localizer, None
        (face,) = predictor.predict(image)["faces"]
        return face

    a, b = Predictor.load(src), Predictor.load(dst)
    face_a, face_b = one_face(a), one_face(b)
    assert face_a["box"] == face_b["box"] and face_a["attributes"] != face_b["attributes"]
    assert face_a["age"]["mean"] != face_b["age"]["mean"]
    prep = b._anet
    assert (prep.mean, prep.std) == ((0.2, 0.4, 0.6), (0.25, 0.5, 0.3))
    crop = crop_face(image, np.array(face_b["box"]), prep.enlarge, prep.canonical_size)
    views = torch.from_numpy(Normalize(prep.mean, prep.std)(crop))[None]
    if prep.mirror:
        views = torch.cat([views, views.flip(-1)])
    with torch.no_grad():
        by_hand = b.bundle.anet.dense_features(views, prep.stride).reshape(-1, b.bundle.anet.feature_dim)
    expected = b.bundle.svm.average_over_patches(by_hand.numpy())
    np.testing.assert_allclose([face_b["attributes"][n] for n in b.attributes], expected, atol=2e-3)


def test_saver_and_loader_refuse_a_bad_preprocessing_field(tmp_path, monkeypatch):
    """Checked before anything is built: a 100000 x 100000 LNet input is refused, not allocated."""
    src = random_bundle(tmp_path / "a.lnetanet", threshold=0.0, preset="tiny", max_faces=1)
    bad = {"lnet": {"input_size": [100000, 100000]}}
    message = r"b.lnetanet: config preprocessing.lnet.input_size must be in \[16, 4096\]"
    with pytest.raises(BundleError, match=message):
        _with_preprocessing(src, tmp_path / "b.lnetanet", **bad)
    with monkeypatch.context() as m:  # a crafted file: written without the saver's check
        m.setattr("lnet_anet.inference.bundle.check_config", lambda *args, **kwargs: None)
        dst = _with_preprocessing(src, tmp_path / "b.lnetanet", **bad)
    with pytest.raises(BundleError, match=message):
        load_bundle(dst)


@pytest.mark.parametrize("localizer, message", [
    ({"no_such_setting": 1}, r"unknown settings \['no_such_setting'\]; known: .*'threshold'"),
    ({"threshold": 0.5, "min_size": -3}, "min_size"),
])  # fmt: skip
def test_a_bad_localizer_setting_is_an_error_naming_the_file(tmp_path, monkeypatch, localizer, message):
    src = random_bundle(tmp_path / "a.lnetanet", threshold=0.0, preset="tiny", max_faces=1)
    with monkeypatch.context() as m:  # a crafted file: written without the saver's check
        m.setattr("lnet_anet.inference.bundle.check_config", lambda *args, **kwargs: None)
        dst = _with_preprocessing(src, tmp_path / "b.lnetanet", localizer=localizer)
    with pytest.raises(BundleError, match=f"b.lnetanet: config preprocessing.localizer: .*{message}"):
        load_bundle(dst)


def test_a_crop_past_the_picture_is_filled_black_by_its_edge_or_mirrored():
    """crop_face's pad: a tight chip's region leaves the picture at the top; "black" (the default,
    as trained) fills it black, "edge" repeats the top row, "reflect" mirrors the picture."""
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :, 0] = np.arange(20, dtype=np.uint8)[:, None] * 10 + 5  # red grows downwards
    box = [5.0, -10.0, 35.0, 20.0]  # a 30 px square starting 10 px above the picture (enlarge 1), inside it sideways
    black, edge, mirrored = (crop_face(img, box, 1.0, 30, pad) for pad in ("black", "edge", "reflect"))
    assert np.array_equal(black, crop_face(img, box, 1.0, 30))
    assert black[:10, :, 0].max() == 0 and edge[:10, :, 0].min() == 5  # the top row (5) repeated
    assert (mirrored[:9, :, 0] > 5).all() and mirrored[0, 0, 0] > mirrored[8, 0, 0]  # rows 10, 9, ... 1 above row 0
    assert np.array_equal(black[10:], edge[10:]) and np.array_equal(edge[10:], mirrored[10:])  # inside: the same
    thin = crop_face(img[:2], [9.0, -10.0, 31.0, 2.0], 1.0, 22, "reflect")  # 2 rows cannot mirror 10: repeated
    assert thin[:10, :, 0].min() == 5 and thin[:10, :, 0].max() == 5


def test_head_input_soften_round_trips_and_is_checked():
    """A head's soften / soften_above are kept through a bundle's JSON; left at 1 they are not
    written, so a bundle without them reads as before; out of range is refused, naming the field."""
    base = {"image_size": 128, "enlarge": 1.1, "mean": [0.5] * 3, "std": [0.5] * 3}
    prep = HeadInput.from_dict({**base, "soften": 2, "soften_above": 5052}, "age")
    assert (prep.soften, prep.soften_above) == (2.0, 5052.0)
    assert HeadInput.from_dict(prep.to_dict(), "age") == prep
    plain = HeadInput.from_dict(base, "age")
    assert plain.soften == 1 and "soften" not in plain.to_dict() and "soften_above" not in plain.to_dict()
    for bad in ({"soften": 0.5}, {"soften": 100}, {"soften": 2, "soften_above": -1}):
        with pytest.raises(PreprocessError, match=r"age\.soften"):
            HeadInput.from_dict({**base, **bad}, "age")


def test_mean_luma_is_the_rec601_mean_of_any_view_of_the_pixels():
    from lnet_anet.data.preprocess import mean_luma

    img = np.random.default_rng(3).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    exact = float((img.reshape(-1, 3).astype(np.float64) @ [0.299, 0.587, 0.114]).mean())
    assert mean_luma(img) == pytest.approx(exact, abs=1e-4)
    view = img[::-2, 1::3]  # not contiguous: read all the same
    assert mean_luma(view) == pytest.approx(float((view.reshape(-1, 3).astype(np.float64) @ [0.299, 0.587, 0.114]).mean()), abs=1e-4)
    assert mean_luma(np.full((4, 4, 3), 200, np.uint8)) == pytest.approx(200.0)
