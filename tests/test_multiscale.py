"""LNet at several scales: canvases, the way back to image pixels, and one face per place."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from lnet_anet.cli import build_bundle
from lnet_anet.data.preprocess import LNetInput, PreprocessError
from lnet_anet.inference.build import random_bundle
from lnet_anet.inference.bundle import describe, load_bundle
from lnet_anet.inference.face_head import FaceHead
from lnet_anet.inference.predictor import Predictor, _Rescued
from lnet_anet.inference.upright import UprightHead
from lnet_anet.lnet.localizer import Detection
from lnet_anet.lnet.multiscale import (
    FILL,
    add_apart,
    apart_from,
    canvas_size,
    input_for,
    letterbox_fit,
    lone_part,
    merge,
    place,
    read_scales,
    wants_zoom_in,
)

pytestmark = pytest.mark.usefixtures("one_thread")

BASE_LNET = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}


@pytest.mark.parametrize("zoom_out", ["input", "fit"])
@pytest.mark.parametrize("scale", [1.0, 0.5, 0.4, 2.0])
def test_a_box_on_the_canvas_maps_back_to_the_same_image_pixels(scale, zoom_out):
    img = np.zeros((100, 200, 3), np.uint8)
    img[20:60, 50:90] = 255  # a bright 40 x 40 square
    canvas, where = place(img, (128, 128), scale, zoom_out=zoom_out)
    assert canvas.shape[:2] == canvas_size((128, 128), scale, zoom_out)
    ys, xs = np.nonzero(canvas[..., 0] > 128)
    found = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)
    np.testing.assert_allclose(where.to_image(found, img.shape[:2]), [50, 20, 90, 60], atol=2.5 / (where.kx * 1))
    assert where.to_image(np.array([0.0, 0.0, 2.0, 2.0]), img.shape[:2]) is None or scale == 1.0


def test_a_fitted_zoom_out_canvas_holds_the_photo_with_a_margin():
    assert canvas_size((224, 224), 0.45, "fit") == (128, 128)  # 101 px of photo + >= 8 px each side
    assert canvas_size((224, 224), 0.45, "input") == (224, 224)
    assert canvas_size((224, 224), 0.9, "fit") == (224, 224)  # never larger than the input
    img = np.full((300, 200, 3), 200, np.uint8)
    canvas, where = place(img, (224, 224), 0.45, zoom_out="fit")
    assert canvas.shape[:2] == (128, 128) and (where.h_c, where.w_c) == (101, 67)
    assert min(where.x0, where.y0, 128 - where.x0 - where.w_c, 128 - where.y0 - where.h_c) >= 8
    with pytest.raises(PreprocessError, match="zoom_out_canvas"):
        LNetInput.from_dict({"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3,
                             "std": [0.5] * 3, "zoom_out_canvas": "crop"})  # fmt: skip


def test_zoom_out_centres_the_image_and_zoom_in_grows_the_canvas():
    img = np.full((64, 64, 3), 200, np.uint8)
    small, where = place(img, (224, 224), 0.5)
    assert (where.x0, where.y0, where.w_c) == (56, 56, 112) and small[:56].max() == 0
    big, where = place(img, (224, 224), 2.0)
    assert big.shape[:2] == (448, 448) and where.kx == pytest.approx(7.0)
    with pytest.raises(ValueError, match="stretch"):
        place(img, (224, 224), 0.5, resize="stretch")


def test_merge_keeps_the_strongest_of_overlapping_boxes_and_separate_faces():
    a, a2, b = np.array([10.0, 10, 50, 50]), np.array([12.0, 8, 52, 49]), np.array([100.0, 10, 140, 50])
    kept = merge([(a2, 0.7), (a, 0.9), (b, 0.8)], iou=0.3, max_faces=10)
    assert [s for _, s in kept] == [0.9, 0.8]
    assert merge([(a, 0.9), (b, 0.8)], iou=0.3, max_faces=1) == [(a, 0.9)]
    assert merge([], iou=0.3, max_faces=3) == []


def test_merge_drops_a_weaker_box_nested_in_a_stronger_one_or_holding_it():
    face, around = np.array([40.0, 40, 70, 70]), np.array([10.0, 10, 110, 110])  # IoU 0.09: nms keeps both
    other = np.array([120.0, 10, 160, 50])
    kept = merge([(face, 5.0), (around, 0.9), (other, 2.0)], iou=0.3, max_faces=10)
    assert [s for _, s in kept] == [5.0, 2.0]
    kept = merge([(around, 5.0), (face, 0.9)], iou=0.3, max_faces=10)  # the stronger box holds the weaker
    assert [s for _, s in kept] == [5.0]
    assert len(merge([(face, 5.0), (around, 0.9)], iou=0.3, max_faces=10, contain=None)) == 2


def test_merge_arbiter_gives_a_part_the_face_box_that_holds_it_when_judged_so():
    eye, face = np.array([40.0, 40, 54, 58]), np.array([10.0, 10, 110, 110])  # the eye: 2.5% of the face's area
    asked = []

    def larger(kept, bigger):
        asked.append((kept.tolist(), bigger.tolist()))
        return True

    kept = merge([(eye, 3.0), (face, 1.0)], iou=0.3, max_faces=10, arbiter=larger)
    assert asked == [(eye.tolist(), face.tolist())]
    assert [(b.tolist(), s) for b, s in kept] == [(face.tolist(), 3.0)]  # the face's box, the part's score
    kept = merge([(eye, 3.0), (face, 1.0)], iou=0.3, max_faces=10, arbiter=lambda kept, bigger: False)
    assert [(b.tolist(), s) for b, s in kept] == [(eye.tolist(), 3.0)]
    half = np.array([10.0, 10, 110, 60])  # half the face's area: not a part, never asked
    kept = merge([(half, 3.0), (face, 1.0)], iou=0.3, max_faces=10, arbiter=lambda kept, bigger: pytest.fail("asked"))
    assert [(b.tolist(), s) for b, s in kept] == [(half.tolist(), 3.0)]
    kept = merge([(face, 3.0), (eye, 1.0)], iou=0.3, max_faces=10, arbiter=lambda kept, bigger: pytest.fail("asked"))
    assert [(b.tolist(), s) for b, s in kept] == [(face.tolist(), 3.0)]  # the stronger is the larger: as before


def test_merge_gives_a_larger_box_to_one_face_only():
    """Two parts of one face (an eye and the mouth read at scale 1), each judged against the whole
    face read at 0.45: the face takes the box once, with the stronger part's score; the weaker part
    is the same face again, not a second face with the same box (a fresh-user trial, session 45)."""
    eye, mouth, face = np.array([40.0, 40, 54, 58]), np.array([50.0, 80, 70, 95]), np.array([10.0, 10, 110, 110])
    kept = merge([(eye, 3.0), (mouth, 2.5), (face, 1.0)], iou=0.3, max_faces=10, arbiter=lambda kept, bigger: True)
    assert [(b.tolist(), s) for b, s in kept] == [(face.tolist(), 3.0)]
    other = np.array([200.0, 10, 300, 110])  # a face of its own elsewhere stays
    kept = merge([(eye, 3.0), (mouth, 2.5), (face, 1.0), (other, 2.0)], iou=0.3, max_faces=10,
                 arbiter=lambda kept, bigger: True)  # fmt: skip
    assert [(b.tolist(), s) for b, s in kept] == [(face.tolist(), 3.0), (other.tolist(), 2.0)]
    kept = merge([(eye, 3.0), (mouth, 2.5), (face, 1.0)], iou=0.3, max_faces=10,
                 arbiter=lambda kept, bigger: kept[1] > 50)  # only the mouth judged part of the face
    assert [(b.tolist(), s) for b, s in kept] == [(eye.tolist(), 3.0), (face.tolist(), 2.5)]


def test_lone_part_gives_a_pictures_only_face_the_whole_picture_when_judged_so():
    hw, whole = (120, 150), [0.0, 0.0, 150.0, 120.0]
    part = (np.array([30.0, 40, 80, 95]), 2.0)  # 50 x 55 px: 15% of the picture's area, 0.42 of its shorter side
    asked = []

    def judge(answer):
        return lambda kept, larger: asked.append((kept.tolist(), larger.tolist())) or answer

    assert [(b.tolist(), s) for b, s in lone_part([part], hw, judge(True))] == [(whole, 2.0)]  # its score kept
    assert asked == [(part[0].tolist(), whole)]
    assert lone_part([part], hw, judge(False)) == [part]
    never = judge(None)
    asked.clear()
    assert lone_part([part, (np.array([100.0, 10, 140, 50]), 1.0)], hw, never)[0] is part  # two faces: a group
    small = (np.array([30.0, 40, 65, 75]), 2.0)  # 35 px: under a third of 120, a face of its own
    large = (np.array([0.0, 0.0, 100, 100]), 2.0)  # over PART_AREA of the picture: a face, not a part
    assert lone_part([small], hw, never) == [small] and lone_part([large], hw, never) == [large]
    assert lone_part([], hw, never) == [] and asked == []


def _two_scale_predictor(tmp_path, monkeypatch, at_1: Detection, at_half: Detection) -> tuple[Predictor, list]:
    """A tiny bundle's Predictor reading scales 1 and 0.5, whose localizer finds `at_1` on the
    scale-1 canvas and `at_half` on the other (canvas pixels), and the canvas sizes it was given."""
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4))
    predictor._lnet = type(predictor._lnet).from_dict({**predictor._lnet.to_dict(), "scales": [1.0, 0.5]})
    sizes = []

    def fake_localizer(response, image_size):
        sizes.append(tuple(image_size))
        return [at_1 if len(sizes) % 2 else at_half]

    fake_localizer.nms_iou, fake_localizer.max_faces = 0.3, 4
    fake_localizer.to_face_box = lambda box: np.asarray(box, np.float64)  # no face_box: the region
    monkeypatch.setattr(predictor, "localizer", fake_localizer)
    monkeypatch.setattr(predictor, "cascade", None)
    return predictor, sizes


def test_the_predictor_arbitrates_nested_faces_only_when_asked(tmp_path, monkeypatch):
    eye, face = (np.array([40.0, 40.0, 50.0, 50.0]), 3.0), (np.array([48.0, 48.0, 72.0, 72.0]), 0.8)  # strong; weak
    predictor, _ = _two_scale_predictor(tmp_path, monkeypatch, eye, face)
    monkeypatch.setattr(predictor, "_refine_on", False)
    asked = []
    monkeypatch.setattr(predictor, "_nested_arbiter", lambda image: lambda kept, larger: asked.append(larger.tolist()) or True)
    img = np.full((128, 128, 3), 90, np.uint8)
    assert predictor.arbitrate_nested is False
    assert [f["box"] for f in predictor.predict(img)["faces"]] == [[40.0, 40.0, 50.0, 50.0]] and asked == []
    predictor.arbitrate_nested = True
    faces = predictor.predict(img)["faces"]  # scale 0.5 centres the image at 32..96: its face is 32..80 back
    assert asked == [[32.0, 32.0, 80.0, 80.0]]
    assert [(f["box"], f["score"]) for f in faces] == [([32.0, 32.0, 80.0, 80.0], 3.0)]
    assert predictor.predict(img)["settings"] == {"arbitrate_nested": FILL, "arbitrate_picture": False}  # not the bundle's


def test_the_predictor_judges_a_lone_part_against_the_whole_picture_only_when_asked(tmp_path, monkeypatch):
    part = (np.array([40.0, 40.0, 90.0, 90.0]), 3.0)  # read at both scales: one face after the merge
    predictor, _ = _two_scale_predictor(tmp_path, monkeypatch, part, (np.array([52.0, 52.0, 77.0, 77.0]), 2.0))
    monkeypatch.setattr(predictor, "_refine_on", False)
    asked = []
    monkeypatch.setattr(predictor, "_nested_arbiter", lambda image: lambda kept, larger: asked.append(larger.tolist()) or True)
    img = np.full((128, 128, 3), 90, np.uint8)
    predictor.arbitrate_nested = True
    assert predictor.arbitrate_picture is False
    record = predictor.predict(img)
    assert [f["box"] for f in record["faces"]] == [[40.0, 40.0, 90.0, 90.0]] and asked == []
    assert record["settings"]["arbitrate_picture"] is False
    predictor.arbitrate_picture = True
    record = predictor.predict(img)
    assert asked == [[0.0, 0.0, 128.0, 128.0]]
    assert [(f["box"], f["score"]) for f in record["faces"]] == [([0.0, 0.0, 128.0, 128.0], 3.0)]
    assert record["settings"]["arbitrate_picture"] is True


def test_a_rescued_lone_part_stays_rescued_when_it_takes_the_whole_picture(tmp_path, monkeypatch):
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny"))
    monkeypatch.setattr(predictor, "_nested_arbiter", lambda image: lambda kept, larger: True)
    part = _Rescued((np.array([40.0, 40, 90, 90]), 0.0), 0.8)  # the rescue's face: a part of a face filling the chip
    (face,) = predictor._whole_picture(np.zeros((128, 128, 3), np.uint8), [part])
    assert isinstance(face, _Rescued) and (face.probability, face.frame) == (0.8, False)
    assert face[0].tolist() == [0.0, 0.0, 128.0, 128.0] and face[1] == 0.0


def test_arbitration_is_a_bundle_setting_that_the_predictor_reads(tmp_path):
    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3,
            "rescue_faces": [0.0, 0.7]}  # fmt: skip
    plain = LNetInput.from_dict(base)
    assert plain.arbitrate_nested is None and not plain.arbitrate_picture  # older bundles read the same
    assert "arbitrate_nested" not in plain.to_dict() and "arbitrate_picture" not in plain.to_dict()
    both = LNetInput.from_dict({**base, "arbitrate_nested": 0.8, "arbitrate_picture": True})
    assert LNetInput.from_dict(both.to_dict()) == both and (both.arbitrate_nested, both.arbitrate_picture) == (0.8, True)
    for bad, message in (({"arbitrate_nested": 1.5}, "arbitrate_nested"), ({"arbitrate_picture": True}, "needs arbitrate_nested"),
                         ({"arbitrate_nested": 0.8, "arbitrate_picture": "yes"}, "true or false")):  # fmt: skip
        with pytest.raises(PreprocessError, match=message):
            LNetInput.from_dict({**base, **bad})
    with pytest.raises(PreprocessError, match="needs rescue_faces"):
        LNetInput.from_dict({k: v for k, v in base.items() if k != "rescue_faces"} | {"arbitrate_nested": 0.8})
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny")
    plain = Predictor.load(path)
    assert not plain.arbitrate_nested and not plain.arbitrate_picture
    with pytest.raises(ValueError, match="no face head"):  # no rescue_faces: nothing to judge with
        plain.arbitrate = True
    bundle = load_bundle(path)
    bundle.preprocessing["lnet"] |= {"rescue_faces": [0.0, 0.7], "arbitrate_nested": 0.8, "arbitrate_picture": True}
    d = bundle.svm.feature_dim  # a constant face head of this bundle's ANet
    arbitrating = Predictor(bundle, face_head=FaceHead(np.zeros(d), np.ones(d), np.zeros(d), 0.0,
                                                       anet=bundle.part_digest("anet")))  # fmt: skip
    assert arbitrating.arbitrate_nested and arbitrating.arbitrate_fill == 0.8 and arbitrating.arbitrate_picture
    record = arbitrating.predict(np.full((96, 96, 3), 90, np.uint8))
    assert "settings" not in record and arbitrating.reading_settings == {}  # as the bundle says
    arbitrating.arbitrate = False  # predict --arbitrate off: said under "settings", so --resume keeps files apart
    assert arbitrating.reading_settings == {"arbitrate_nested": None, "arbitrate_picture": False}
    assert arbitrating.predict(np.full((96, 96, 3), 90, np.uint8))["settings"]["arbitrate_nested"] is None
    out = tmp_path / "arbitrating.lnetanet"  # the bundle setting by build_bundle, said by describe
    assert build_bundle.main(["--from-bundle", str(path), "--out", str(out), "--lnet-input",
                              '{"rescue_faces": [0, 0.7], "arbitrate_nested": 0.8, "arbitrate_picture": true}']) == 0
    assert "nested faces judged (regions over 0.8 of the picture, a lone part against the whole picture)" in describe(out)


def test_the_nested_arbiter_asks_the_face_head_about_faces_that_fill_the_picture(tmp_path, monkeypatch):
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny"))
    chances = iter([np.array([0.4, 0.9]), np.array([0.9, 0.4])])

    class FakeHead:
        def probability(self, features):
            assert len(features) == 2  # the kept box, then the larger
            return next(chances)

    monkeypatch.setattr(type(predictor), "face_head", property(lambda self: FakeHead()))
    judge = predictor._nested_arbiter(np.zeros((100, 200, 3), np.uint8))
    part, face = np.array([40.0, 30, 50, 40]), np.array([10.0, 5, 100, 95])  # the face: 90 of 100 px
    assert judge(part, face) is True and judge(part, face) is False
    small = np.array([30.0, 20, 90, 80])  # 60 of 100 px: under FILL, not asked (the iterator would run out)
    assert judge(part, small) is False
    predictor.arbitrate_fill = None
    with pytest.raises(StopIteration):
        judge(part, small)


def test_the_predictor_reads_every_scale_and_merges_their_faces(tmp_path, monkeypatch):
    corner, central = (np.array([0.0, 0.0, 30.0, 30.0]), 0.9), (np.array([40.0, 40.0, 80.0, 80.0]), 0.8)
    predictor, sizes = _two_scale_predictor(tmp_path, monkeypatch, corner, central)
    analysis = predictor.analyse(np.full((128, 128, 3), 90, np.uint8))
    boxes = [f["box"] for f in analysis.record["faces"]]
    # 128 px on a 128 canvas: scale 1 maps 1:1; scale 0.5 centres the image at 32..96, x2 back.
    assert sizes == [(128, 128), (128, 128)]
    assert boxes == [[0.0, 0.0, 30.0, 30.0], [16.0, 16.0, 96.0, 96.0]]
    assert analysis.heatmap().shape == (128, 128)


def test_nms_keeps_what_torchvisions_nms_keeps():
    from torchvision.ops import nms as tv_nms

    from lnet_anet.lnet.multiscale import nms

    rng = np.random.default_rng(0)
    for _ in range(100):
        n = int(rng.integers(1, 30))
        xy = rng.uniform(0, 200, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(1, 80, (n, 2))], axis=1)
        scores = rng.normal(0, 1, n)  # negative scores too
        iou = float(rng.choice([0.3, 0.5]))
        assert nms(boxes, scores, iou) == tv_nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou).tolist()
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.3) == []


def test_zoom_in_is_wanted_without_a_face_or_with_a_small_one():
    from lnet_anet.lnet.multiscale import wants_zoom_in

    hw, size = (448, 448), (224, 224)  # scale 1 halves the photo
    assert wants_zoom_in([], hw, size, below=64)
    assert not wants_zoom_in([np.array([0, 0, 200, 300])], hw, size, below=64)  # 100 px on the canvas
    assert wants_zoom_in([np.array([0, 0, 200, 300]), np.array([0, 0, 100, 100])], hw, size, below=64)
    assert not wants_zoom_in([np.array([0, 0, 100, 100])], hw, size, below=0)
    small = [np.array([0, 0, 100, 100])]  # 50 px on the canvas
    assert wants_zoom_in(small, hw, size, below=64) and not wants_zoom_in(small, hw, size, below=64, lone=False)
    assert wants_zoom_in(small * 2, hw, size, below=64, lone=False) and wants_zoom_in([], hw, size, 64, lone=False)


def test_weak_faces_do_not_ask_for_the_zoom_in():
    """Under the localizer's weak_threshold, a weak face (score at most secondary_threshold)
    beside the best neither makes a portrait a crowd nor asks for the zoom-in by its size."""
    from lnet_anet.lnet.localizer import Localizer
    from lnet_anet.lnet.multiscale import _asking, wants_zoom_in

    hw, size = (448, 448), (224, 224)
    portrait = (np.array([0, 0, 300, 300]), 2.5)  # the best face: 150 px on the canvas, scoring under 3
    weak, strong = (np.array([300, 0, 360, 60]), 2.0), (np.array([300, 300, 360, 360]), 3.5)  # 30 px each
    loc = Localizer(threshold=0.5, separation=0.5, secondary_threshold=3.0, weak_threshold=1.5)
    asking = _asking([portrait, weak], loc)
    assert [s for _, s in asking] == [2.5]  # the best stays, whatever its score
    assert not wants_zoom_in([b for b, _ in asking], hw, size, below=64, lone=False)  # a portrait: no zoom-in
    assert wants_zoom_in([b for b, _ in _asking([portrait, weak, strong], loc)], hw, size, below=64, lone=False)
    plain = Localizer(threshold=0.5, separation=0.5, secondary_threshold=3.0)  # no weak_threshold: every face asks
    assert len(_asking([portrait, weak], plain)) == 2


def test_several_weak_faces_ask_for_the_zoom_in_as_a_crowd():
    """zoom_in_weak k: when the weak faces after the best number at least k, every face decides
    the zoom-in (a crowd); fewer, and only the best and the strong ones do (a portrait)."""
    from lnet_anet.lnet.localizer import Localizer
    from lnet_anet.lnet.multiscale import _asking, wants_zoom_in

    hw, size = (448, 448), (224, 224)
    best = (np.array([0, 0, 300, 300]), 5.0)
    weak = [(np.array([300 + 40 * i, 0, 340 + 40 * i, 40]), 2.0) for i in range(3)]  # 20 px on the canvas each
    loc = Localizer(threshold=0.5, separation=0.5, secondary_threshold=3.0, weak_threshold=1.5)
    assert len(_asking([best, *weak[:1]], loc, weak_crowd=2)) == 1  # one weak blob: a portrait
    crowd = _asking([best, *weak[:2]], loc, weak_crowd=2)
    assert len(crowd) == 3 and wants_zoom_in([b for b, _ in crowd], hw, size, below=64, lone=False)
    assert len(_asking([best, *weak], loc, weak_crowd=None)) == 1  # None: weak faces never ask
    assert len(_asking([best, *weak[:1]], loc, weak_crowd=1)) == 2  # 1: any weak face asks


def test_lnet_input_zoom_in_settings_round_trip_and_are_checked():
    d = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3, "scales": [1.0, 0.45], "zoom_in_scales": [2.0],
         "zoom_in_below": 96}
    prep = LNetInput.from_dict(d)
    assert prep.zoom_in_scales == (2.0,) and prep.zoom_in_below == 96.0
    assert LNetInput.from_dict(prep.to_dict()) == prep
    assert LNetInput.from_dict({k: v for k, v in d.items() if not k.startswith("zoom_in")}).zoom_in_scales == ()
    with pytest.raises(PreprocessError, match="repeat"):
        LNetInput.from_dict({**d, "zoom_in_scales": [1.0]})
    with pytest.raises(PreprocessError, match="zoom_in_scales"):
        LNetInput.from_dict({**d, "zoom_in_scales": [0.5]})
    with pytest.raises(PreprocessError, match="zoom_in_below"):
        LNetInput.from_dict({**d, "zoom_in_below": -1})
    assert LNetInput.from_dict({**d, "zoom_in_lone": False}).zoom_in_lone is False and prep.zoom_in_lone is True
    with pytest.raises(PreprocessError, match="zoom_in_lone"):
        LNetInput.from_dict({**d, "zoom_in_lone": "no"})
    crowd = LNetInput.from_dict({**d, "zoom_in_weak": 2})
    assert crowd.zoom_in_weak == 2 and prep.zoom_in_weak is None and LNetInput.from_dict(crowd.to_dict()) == crowd
    for bad in (0, 1.5, "2", True):
        with pytest.raises(PreprocessError, match="zoom_in_weak"):
            LNetInput.from_dict({**d, "zoom_in_weak": bad})
    with pytest.raises(PreprocessError, match="zoom_in_weak needs zoom_in_scales"):
        LNetInput.from_dict({**{k: v for k, v in d.items() if not k.startswith("zoom_in")}, "zoom_in_weak": 2})


def test_a_small_lone_face_asks_for_the_zoom_in_with_zoom_in_lone_below():
    """zoom_in_lone false leaves a single face alone whatever its size; zoom_in_lone_below makes a
    lone face under that many scale-1 canvas pixels ask all the same (a 448 px picture: fit 0.5)."""
    small, large = np.array([0.0, 0, 60, 80]), np.array([0.0, 0, 100, 100])  # 30 and 50 canvas px
    hw, size = (448, 448), (224, 224)
    assert not wants_zoom_in([small], hw, size, below=96, lone=False)
    assert wants_zoom_in([small], hw, size, below=96, lone=False, lone_below=40)
    assert not wants_zoom_in([large], hw, size, below=96, lone=False, lone_below=40)
    assert wants_zoom_in([large, large], hw, size, below=96, lone=False, lone_below=40)  # two faces: zoom_in_below decides
    d = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3, "scales": [1.0],
         "zoom_in_scales": [2.0], "zoom_in_below": 96, "zoom_in_lone": False}  # fmt: skip
    prep = LNetInput.from_dict({**d, "zoom_in_lone_below": 40})
    assert prep.zoom_in_lone_below == 40 and LNetInput.from_dict(prep.to_dict()) == prep
    assert "zoom_in_lone_below" not in LNetInput.from_dict(d).to_dict()
    with pytest.raises(PreprocessError, match="zoom_in_lone_below needs zoom_in_scales and zoom_in_lone false"):
        LNetInput.from_dict({**d, "zoom_in_lone": True, "zoom_in_lone_below": 40})


def test_the_predictor_zooms_in_only_on_images_whose_faces_want_it(tmp_path, monkeypatch):
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    predictor = Predictor.load(path)
    predictor._lnet = LNetInput.from_dict({**predictor._lnet.to_dict(), "scales": [1.0], "zoom_in_scales": [2.0],
                                           "zoom_in_below": 50})  # fmt: skip
    canvases = []

    boxes = iter([[0, 0, 30, 30], [60, 60, 150, 150], [0, 0, 90, 90]])  # canvas pixels, call by call

    def fake_localizer(response, image_size):
        canvases.append(tuple(image_size))
        return [(np.array(next(boxes), np.float64), 0.9)]

    fake_localizer.nms_iou, fake_localizer.max_faces = 0.3, 4
    fake_localizer.to_face_box = lambda box: np.asarray(box, np.float64)  # no face_box: the region
    monkeypatch.setattr(predictor, "localizer", fake_localizer)
    monkeypatch.setattr(predictor, "cascade", None)
    small, large = (predictor.analyse(np.full((128, 128, 3), v, np.uint8)) for v in (90, 91))
    # the first image: a 30 px face < 50 -> read again at scale 2 (a 256 px canvas); the second: not
    assert canvases == [(128, 128), (256, 256), (128, 128)]
    assert len(small.record["faces"]) == 2 and len(large.record["faces"]) == 1


def test_a_picture_whose_faces_were_all_refused_is_read_at_the_zoom_in_scales(tmp_path, monkeypatch):
    """zoom_in_refused: a large blob (no zoom-in asked) that the face filter refuses sends the
    picture to the zoom-in scale, whose faces are filtered in turn; off, the picture has no face."""
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    base = Predictor.load(path)._lnet.to_dict()
    canvases = []

    def fake_localizer(response, image_size):  # canvas pixels: one blob at scale 1, two small faces at scale 2
        canvases.append(tuple(image_size))
        if image_size[0] == 128:
            return [(np.array([0, 0, 120, 120], np.float64), 0.9)]
        return [(np.array([10, 10, 40, 40], np.float64), 0.8), (np.array([120, 120, 150, 150], np.float64), 0.7),
                (np.array([200, 10, 250, 60], np.float64), 0.6)]  # fmt: skip

    fake_localizer.nms_iou, fake_localizer.max_faces = 0.3, 4
    fake_localizer.to_face_box = lambda box: np.asarray(box, np.float64)
    refused_by_filter = []

    bars = []

    def fake_verify(self, images, found, originals, p_min=None, every=False):  # refuses boxes over 40 px and the one at x 100
        refused_by_filter.append(sum(len(f) for f in found))
        bars.append(p_min)
        return [[f for f in faces if f[0][2] - f[0][0] <= 40 and f[0][0] != 100] for faces in found]

    monkeypatch.setattr(Predictor, "_verify", fake_verify)
    monkeypatch.setattr(Predictor, "_rescue", lambda self, *a, **k: None)
    settings = {"scales": [1.0], "zoom_in_scales": [2.0], "zoom_in_below": 0, "zoom_in_lone": False,
                "rescue_faces": [0.0, 0.7], "verify_faces": [1e6, 0.02]}  # fmt: skip

    def faces(refused: bool, value: int) -> list:
        predictor = Predictor.load(path)
        predictor._lnet = LNetInput.from_dict({**base, **settings, "zoom_in_refused": refused})
        monkeypatch.setattr(predictor, "localizer", fake_localizer)
        monkeypatch.setattr(predictor, "cascade", None)
        canvases.clear()
        return [f["box"] for f in predictor.analyse(np.full((128, 128, 3), value, np.uint8)).record["faces"]]

    assert faces(False, 90) == [] and canvases == [(128, 128)]
    boxes = faces(True, 91)
    assert canvases == [(128, 128), (256, 256)]  # read once more, at the zoom-in scale
    assert len(boxes) == 2 and refused_by_filter[-1] == 3  # the zoom-in's faces went through the filter
    assert bars[-2:] == [None, None]  # the filter's own bar both times
    settings["zoom_in_refused_p"] = 0.5
    assert len(faces(True, 93)) == 2 and bars[-2:] == [None, 0.5]  # a bar of its own for the zoom-in's faces
    del settings["zoom_in_refused_p"]
    # a picture whose faces pass is not read again
    settings["zoom_in_below"] = 16384  # every face asks for the zoom-in: read at scale 2 with the others
    assert len(faces(True, 92)) == 2 and canvases == [(128, 128), (256, 256)]
    with pytest.raises(PreprocessError, match="zoom_in_refused needs zoom_in_scales"):
        LNetInput.from_dict({**base, "zoom_in_refused": True})
    assert LNetInput.from_dict({**base, **settings, "zoom_in_refused": True}).to_dict()["zoom_in_refused"] is True
    assert "zoom_in_refused" not in LNetInput.from_dict({**base, **settings}).to_dict()
    with pytest.raises(PreprocessError, match="zoom_in_refused_p needs zoom_in_refused to be true, and it is false"):
        LNetInput.from_dict({**base, **settings, "zoom_in_refused": False, "zoom_in_refused_p": 0.5})
    unfiltered = {k: v for k, v in settings.items() if k != "verify_faces"}  # the bar is the face filter's
    with pytest.raises(PreprocessError, match="zoom_in_refused_p needs verify_faces"):
        LNetInput.from_dict({**base, **unfiltered, "zoom_in_refused": True, "zoom_in_refused_p": 0.5})
    assert LNetInput.from_dict({**base, **settings, "zoom_in_refused": True,
                                "zoom_in_refused_p": 0.5}).to_dict()["zoom_in_refused_p"] == 0.5  # fmt: skip


def test_a_picture_with_a_refused_face_beside_a_kept_one_adds_the_zoom_ins_faces_apart(tmp_path, monkeypatch):
    """zoom_in_refused_any: a picture that keeps one face but whose blob the face filter refused is
    read at the zoom-in scale; that reading's faces that pass the filter and lie apart from the kept
    face are added, the kept face stays though the zoom-in reads it stronger; off, the picture
    keeps its one face and is read once."""
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    base = Predictor.load(path)._lnet.to_dict()
    canvases = []

    def fake_localizer(response, image_size):  # canvas pixels (a 128 px picture: scale 2 doubles them)
        canvases.append(tuple(image_size))
        if image_size[0] == 128:  # a face, and a blob the filter refuses
            return [(np.array([0, 0, 30, 30], np.float64), 0.9), (np.array([50, 50, 120, 120], np.float64), 0.8)]
        return [(np.array([0, 0, 60, 60], np.float64), 0.95),  # the kept face again
                (np.array([120, 120, 160, 160], np.float64), 0.7),  # a small face apart: added
                (np.array([10, 200, 150, 250], np.float64), 0.6)]  # 70 px wide: refused  # fmt: skip

    fake_localizer.nms_iou, fake_localizer.max_faces = 0.3, 4
    fake_localizer.to_face_box = lambda box: np.asarray(box, np.float64)
    monkeypatch.setattr(Predictor, "_verify", lambda self, images, found, originals, p_min=None, every=False:
                        [[f for f in faces if f[0][2] - f[0][0] <= 40] for faces in found])  # fmt: skip
    monkeypatch.setattr(Predictor, "_rescue", lambda self, *a, **k: None)
    settings = {"scales": [1.0], "zoom_in_scales": [2.0], "zoom_in_below": 0, "zoom_in_lone": False,
                "rescue_faces": [0.0, 0.7], "verify_faces": [1e6, 0.02], "zoom_in_refused": True}  # fmt: skip

    def faces(any_refused: bool, value: int) -> list:
        predictor = Predictor.load(path)
        predictor._lnet = LNetInput.from_dict({**base, **settings, "zoom_in_refused_any": any_refused})
        monkeypatch.setattr(predictor, "localizer", fake_localizer)
        monkeypatch.setattr(predictor, "cascade", None)
        canvases.clear()
        return [(f["box"], f["score"]) for f in predictor.analyse(np.full((128, 128, 3), value, np.uint8)).record["faces"]]

    kept = faces(False, 90)
    assert canvases == [(128, 128)] and [b for b, _ in kept] == [[0, 0, 30, 30]]
    found = faces(True, 91)
    assert canvases == [(128, 128), (256, 256)]
    assert [b for b, _ in found] == [[0, 0, 30, 30], [60, 60, 80, 80]] and found[0] == kept[0]
    with pytest.raises(PreprocessError, match="zoom_in_refused_any needs zoom_in_refused to be true, and it is not set"):
        LNetInput.from_dict({**base, **{k: v for k, v in settings.items() if k != "zoom_in_refused"},
                             "zoom_in_refused_any": True})  # fmt: skip
    with pytest.raises(PreprocessError, match="zoom_in_refused_any needs verify_faces"):
        LNetInput.from_dict({**base, **{k: v for k, v in settings.items() if k != "verify_faces"}, "zoom_in_refused_any": True})
    assert LNetInput.from_dict({**base, **settings, "zoom_in_refused_any": True}).to_dict()["zoom_in_refused_any"] is True
    assert "zoom_in_refused_any" not in LNetInput.from_dict({**base, **settings}).to_dict()


def test_add_apart_keeps_every_kept_face_and_adds_only_faces_apart_from_them():
    kept = [(np.array([0.0, 0, 100, 100]), 1.0)]
    added = [(np.array([5.0, 5, 105, 105]), 9.0),  # the same face (IoU 0.82), stronger: dropped
             (np.array([20.0, 20, 40, 40]), 8.0),  # nested in it (a part): dropped
             (np.array([90.0, 0, 190, 100]), 7.0),  # overlapping by IoU 0.05, not nested: added
             (np.array([300.0, 0, 350, 50]), 0.5)]  # apart: added, after the kept face by score  # fmt: skip
    merged = add_apart(kept, added, iou=0.3, max_faces=10)
    assert [f[1] for f in merged] == [7.0, 1.0, 0.5] and merged[1] is kept[0]
    assert add_apart(kept, added, iou=0.3, max_faces=2) == merged[:2]
    assert add_apart([], added[:2], iou=0.3, max_faces=10) == added[:2] and add_apart(kept, [], 0.3, 10) is kept
    # apart_from: the added faces add_apart keeps, in their own order, each judged against the kept faces only
    assert [f[1] for f in apart_from(kept, added, iou=0.3)] == [7.0, 0.5]
    assert apart_from([], added, iou=0.3) == added and apart_from(kept, [], iou=0.3) == []


def test_rotations_keep_the_upright_turn_and_give_boxes_in_the_image_pixels(tmp_path, monkeypatch):
    from lnet_anet.inference.predictor import _turn_back

    hw = (60, 100)
    for k in range(4):  # the corners of a box turned and turned back
        img = np.zeros((*hw, 1))
        img[10:20, 30:45] = 1
        ys, xs = np.nonzero(np.rot90(img, k)[..., 0])
        box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)
        np.testing.assert_array_equal(_turn_back(box, k, hw), [30, 10, 45, 20])
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    predictor = Predictor.load(path)
    seen = []

    def fake_detect(images, analyses):  # a "face" where the bright patch is, scored higher when turned
        out = []
        for img in images:
            seen.append(img.shape[:2])
            ys, xs = np.nonzero(img[..., 0] > 200)
            box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)
            out.append([(box, 0.5 if ys.min() == 0 and xs.min() == 0 else 1.0)])
        return out

    d = predictor.bundle.svm.feature_dim

    def fake_features(faces):  # feature 0: whether the patch is top-left (what the fake head reads)
        return np.array([np.eye(d)[0] * float(box[0] == 0 and box[1] == 0) for _, box, *_ in faces])

    monkeypatch.setattr(predictor, "_detect", fake_detect)
    monkeypatch.setattr(predictor, "_mean_features", fake_features)
    predictor.upright_head = UprightHead(np.zeros(d), np.ones(d), 10 * np.eye(d)[0], -5.0)  # upright: top-left
    photo = np.full((60, 100, 3), 90, np.uint8)
    photo[44:60, 0:24] = 255  # bottom-left: turning the photo 90 degrees clockwise (k = 3) puts it top-left
    plain = predictor.analyse(photo).record
    assert "rotation" not in plain and len(seen) == 1
    predictor.rotations = True
    record = predictor.analyse(photo).record  # the upright turn wins, though LNet scores it lowest
    assert record["rotation"] == 270 and seen[1:] == [(60, 100), (100, 60), (60, 100), (100, 60)]
    assert record["faces"][0]["box"] == [0.0, 44.0, 24.0, 60.0] and record["faces"][0]["score"] == 0.5


def test_fallback_scales_are_read_only_for_images_without_a_face(tmp_path, monkeypatch):
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    predictor = Predictor.load(path)
    predictor._lnet = LNetInput.from_dict({**predictor._lnet.to_dict(), "scales": [1.0], "fallback_scales": [0.5]})
    canvases = []
    answers = iter([[], [(np.array([40.0, 40.0, 80.0, 80.0]), 0.9)], [(np.array([0.0, 0.0, 90.0, 90.0]), 0.9)]])

    def fake_localizer(response, image_size):  # 1st image: nothing at scale 1, a face at 0.5; 2nd: a face
        canvases.append(tuple(image_size))
        return next(answers)

    fake_localizer.nms_iou, fake_localizer.max_faces = 0.3, 4
    fake_localizer.to_face_box = lambda box: np.asarray(box, np.float64)  # no face_box: the region
    monkeypatch.setattr(predictor, "localizer", fake_localizer)
    monkeypatch.setattr(predictor, "cascade", None)
    missed, found = (predictor.analyse(np.full((128, 128, 3), v, np.uint8)) for v in (90, 91))
    assert canvases == [(128, 128), (128, 128), (128, 128)]  # the fallback once, for the first image only
    assert missed.record["faces"][0]["box"] == [16.0, 16.0, 96.0, 96.0]  # scale 0.5 centres the image
    assert found.record["faces"][0]["box"] == [0.0, 0.0, 90.0, 90.0]
    prep = LNetInput.from_dict({**predictor._lnet.to_dict()})
    assert prep.fallback_scales == (0.5,) and LNetInput.from_dict(prep.to_dict()) == prep
    with pytest.raises(PreprocessError, match="fallback_scales"):
        LNetInput.from_dict({**prep.to_dict(), "fallback_scales": [1.5]})
    with pytest.raises(PreprocessError, match="repeat"):
        LNetInput.from_dict({**prep.to_dict(), "fallback_scales": [1.0]})


def test_a_fitted_zoom_in_canvas_is_trimmed_to_the_photo_and_maps_back_alike():
    img = np.random.default_rng(4).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    full, where_full = place(img, (224, 224), 2.0, "letterbox", "fit", "input")
    trimmed, where_fit = place(img, (224, 224), 2.0, "letterbox", "fit", "fit")
    assert full.shape[:2] == (448, 448) and trimmed.shape[:2] == (352, 448)  # the photo: 336 x 448
    box = np.array([100.0, 40.0, 180.0, 120.0])  # canvas pixels of the trimmed canvas
    moved = box + [0, where_full.y0 - where_fit.y0] * 2
    np.testing.assert_allclose(where_fit.to_image(box, (480, 640)), where_full.to_image(moved, (480, 640)))
    np.testing.assert_array_equal(trimmed[where_fit.y0:where_fit.y0 + where_fit.h_c],
                                  full[where_full.y0:where_full.y0 + where_full.h_c])  # fmt: skip


def test_photos_of_different_shapes_share_a_batch_with_fitted_zoom_in_canvases(tmp_path):
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4))
    predictor._lnet = LNetInput.from_dict({**predictor._lnet.to_dict(), "scales": [1.0], "zoom_in_scales": [2.0],
                                           "zoom_in_below": 1e4, "zoom_in_canvas": "fit"})  # fmt: skip
    assert predictor._lnet.to_dict()["zoom_in_canvas"] == "fit"
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 255, shape, dtype=np.uint8) for shape in ((120, 160, 3), (160, 120, 3), (120, 160, 3))]
    together = list(predictor.predict_many(images, batch_size=3))
    alone = [predictor.predict(img) for img in images]
    assert [r["faces"] for r in together] == [r["faces"] for r in alone]
    assert all(r["faces"] for r in together)


def test_the_heatmap_shows_each_scales_response_on_the_image():
    from lnet_anet.inference.predictor import Analysis
    from lnet_anet.lnet.multiscale import Placement

    image = np.zeros((100, 100, 3), np.uint8)
    whole = Placement(kx=1.0, ky=1.0, x0=0, y0=0, h_c=100, w_c=100)  # the image fills a 100 px canvas
    half = Placement(kx=0.5, ky=0.5, x0=25, y0=25, h_c=50, w_c=50)  # scale 0.5: centred on the canvas
    first = np.zeros((10, 10), np.float32)  # nothing at the first scale
    second = np.zeros((10, 10), np.float32)
    second[2, 2] = 4.0  # canvas (20..30, 20..30) at scale 0.5: the image's top-left corner region
    analysis = Analysis({}, image, maps=[(first, (100, 100), whole), (second, (100, 100), half)])
    heat = analysis.heatmap()
    assert heat.shape == (100, 100) and heat.max() > 0  # the face found at the second scale shows
    assert heat[:20, :20].max() == heat.max() and heat[50:, 50:].max() == 0
    assert np.array_equal(Analysis({}, image, maps=[(first, (100, 100), whole)]).heatmap(), np.zeros((100, 100)))
    with pytest.raises(ValueError, match="no image or response map"):
        Analysis({}, image).heatmap()


def test_a_dark_or_over_exposed_image_without_a_face_is_read_again_with_its_contrast_stretched(tmp_path, monkeypatch):
    """retry_exposure: an image with no face whose mean luma is out of [dark, bright] is read again
    stretched (stretch_contrast); its faces are then that copy's, the heads read that copy, and the
    record says "exposure": "stretched". An ordinary image without a face is read once."""
    from lnet_anet.data.preprocess import mean_luma, stretch_contrast

    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    predictor = Predictor.load(path)
    predictor._lnet = LNetInput.from_dict({**predictor._lnet.to_dict(), "scales": [1.0], "retry_exposure": [50, 200]})
    seen = []

    def only_bright_faces(images, analyses, localizer=None, maps=None, checks=None, read_at=None):  # a stand-in LNet: faces only in a normally exposed image
        seen.append([round(mean_luma(im)) for im in images])
        return [[(np.array([20.0, 20.0, 100.0, 100.0]), 0.9)] if 60 < mean_luma(im) < 190 else [] for im in images]

    monkeypatch.setattr(predictor, "_read_scales", only_bright_faces)
    monkeypatch.setattr(predictor.localizer, "face_box", None)
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (128, 128, 3)).astype(np.float32)
    dark, gray, flat = (texture * 0.12).astype(np.uint8), np.full((128, 128, 3), 120, np.uint8), np.zeros((128, 128, 3), np.uint8)
    records = [predictor.analyse(im) for im in (dark, gray, flat)]
    assert seen[0] == [round(mean_luma(dark))] and seen[1][0] > 100  # dark: read once more, lifted
    assert seen[2:] == [[120], [0], [0]]  # ordinary exposure with a face: once; black: again, still black
    assert records[0].record["exposure"] == "stretched" and len(records[0].record["faces"]) == 1
    assert np.array_equal(records[0].read_as, stretch_contrast(dark)) and records[0].image is not records[0].read_as
    lifted = predictor.analyse_boxes(stretch_contrast(dark), [records[0].record["faces"][0]["box"]])[0]
    assert lifted["attributes"] == records[0].record["faces"][0]["attributes"]  # the heads read the lifted copy
    assert "exposure" not in records[1].record and records[1].record["faces"]  # found at once
    assert records[2].read_as is None and "exposure" not in records[2].record  # black: nothing to stretch, no face
    prep = LNetInput.from_dict(predictor._lnet.to_dict())
    assert prep.retry_exposure == (50.0, 200.0) and LNetInput.from_dict(prep.to_dict()) == prep
    with pytest.raises(PreprocessError, match="dark must be below bright"):
        LNetInput.from_dict({**prep.to_dict(), "retry_exposure": [200, 50]})


def test_a_weak_face_in_a_dark_image_is_read_again_when_retry_weaker_than_is_set(tmp_path, monkeypatch):
    """retry_weaker_than: a dark image whose best face scores under it is read again stretched, and
    the reading whose best face scores higher is kept; without it, a weak face stops the retry."""
    from lnet_anet.data.preprocess import mean_luma

    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    dark = (np.random.default_rng(0).integers(0, 256, (128, 128, 3)) * 0.12).astype(np.uint8)

    def weak_in_dark(images, analyses, localizer=None, maps=None, checks=None, read_at=None):  # a stand-in LNet: a weak face in the dark, a strong one once lifted
        return [[(np.array([10.0, 10.0, 60.0, 60.0]), 1.0)] if mean_luma(im) < 50 else
                [(np.array([20.0, 20.0, 100.0, 100.0]), 5.0)] for im in images]  # fmt: skip

    scores = {}
    for weaker in (None, 3.0, 0.5):
        predictor = Predictor.load(path)
        settings = {**predictor._lnet.to_dict(), "scales": [1.0], "retry_exposure": [50, 200]}
        predictor._lnet = LNetInput.from_dict(settings if weaker is None else {**settings, "retry_weaker_than": weaker})
        monkeypatch.setattr(predictor, "_read_scales", weak_in_dark)
        monkeypatch.setattr(predictor.localizer, "face_box", None)
        record = predictor.analyse(dark).record
        scores[weaker] = (record["faces"][0]["score"], record.get("exposure"))
    assert scores == {None: (1.0, None), 3.0: (5.0, "stretched"), 0.5: (1.0, None)}
    with pytest.raises(PreprocessError, match="retry_weaker_than needs retry_exposure"):
        LNetInput.from_dict({**LNetInput.from_dict(settings).to_dict(), "retry_exposure": None, "retry_weaker_than": 3.0})


def test_the_embedded_bundle_reads_every_dark_or_over_exposed_photo_again():
    """experiments/2026-12-06-dark-retry: a wrong face scoring 3.1 in a x0.1 photo kept the retry
    from running (retry_weaker_than 3.0); now every photo outside the luma range is read again and
    the higher-scoring reading kept."""
    predictor = Predictor.load()
    assert predictor._lnet.retry_exposure == (50.0, 200.0) and predictor._lnet.retry_weaker_than >= 1e6
    assert predictor._lnet.wants_exposure_retry(np.full((8, 8, 3), 10, np.uint8), best_score=9.0)
    assert not predictor._lnet.wants_exposure_retry(np.full((8, 8, 3), 120, np.uint8), best_score=None)


def test_faces_after_the_photos_best_are_held_to_the_bar_for_further_faces_across_scales():
    """Each scale's canvas has a best of its own, which passes at the localizer's threshold; merged,
    a face after the photo's best must beat weak_threshold (or secondary_threshold): a 0.67 blob
    read at scale 1 beside a portrait's face found at scale 0.45 is no second face."""
    from lnet_anet.lnet.localizer import Localizer
    from lnet_anet.lnet.multiscale import _asking, further_faces

    face, weak = (np.array([0, 0, 100, 100]), 6.0), (np.array([200, 0, 240, 40]), 2.0)
    blob = (np.array([120, 0, 140, 20]), 0.67)
    loc = Localizer(threshold=0.5, separation=0.5, secondary_threshold=3.0, weak_threshold=1.5)
    assert [s for _, s in further_faces([face, weak, blob], loc)] == [6.0, 2.0]
    assert [s for _, s in further_faces([blob], loc)] == [0.67]  # the best stays, whatever its score
    no_weak = Localizer(threshold=0.5, separation=0.5, secondary_threshold=3.0)
    assert [s for _, s in further_faces([face, weak, blob], no_weak)] == [6.0]
    assert len(further_faces([face, weak, blob], Localizer(threshold=0.5))) == 3  # no bar: all kept
    crowd = Localizer(threshold=0.5, separation=0.5, secondary_threshold=3.0, weak_threshold=1.5, crowd=(0.35, 0.6))
    assert [s for _, s in further_faces([face, weak, blob], crowd, (1000, 1000))] == [6.0, 2.0, 0.67]  # 100 px: small
    assert [s for _, s in further_faces([face, weak, blob], crowd, (200, 300))] == [6.0, 2.0]  # half the photo: no crowd
    assert [s for _, s in further_faces([face, weak, blob], crowd)] == [6.0, 2.0]  # the photo's size unknown
    # a crowd's faces all decide the zoom-in; a portrait's weak ones do not
    assert len(_asking([face, weak, blob], crowd, None, (1000, 1000))) == 3
    assert len(_asking([face, weak, blob], crowd, None, (200, 300))) == 1
    lnet = LNetInput.from_dict({"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3,
                                "scales": [1.0, 0.45]})  # fmt: skip
    found = read_scales([(300, 300)], lambda scale, which: [[face] if scale < 1 else [blob] for _ in which], lnet, loc)
    assert [s for _, s in found[0]] == [6.0]  # read_scales holds the merged faces to it


def test_a_lowered_threshold_reads_the_scales_the_bundles_thresholds_ask_for():
    """With `policy` (the bundle's localizer), the zoom-in and fallback scales are asked for by the
    faces over the policy's thresholds, so a threshold lowered by the user reads the same scales and
    only adds faces. Without it, a weak blob found at scale 1 under the lowered threshold stood for
    "a face found" and kept the photo from the zoom-in scale where its four faces are (a WIDER photo
    that `predict --threshold 0.3` left with no face)."""
    from lnet_anet.lnet.localizer import Localizer

    lnet = LNetInput.from_dict({"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3,
                                "scales": [1.0], "zoom_in_scales": [2.0], "zoom_in_below": 96,
                                "zoom_in_lone": False, "fallback_scales": [0.5]})  # fmt: skip
    shipped = Localizer(threshold=0.66, separation=0.5, secondary_threshold=3.0, weak_threshold=1.5)
    lowered = dataclasses.replace(shipped, threshold=0.3)
    blob = (np.array([230.0, 160.0, 300.0, 220.0]), 0.47)  # over 0.3 only, at scale 1
    faces = [(np.array([90.0 + 60 * i, 10.0, 120.0 + 60 * i, 40.0]), s) for i, s in enumerate((6.5, 5.4, 3.1))]
    read = []

    def detect_at(scale, which, loc):
        read.append(scale)
        return [([blob] if blob[1] > loc.threshold else []) if scale == 1.0 else faces for _ in which]

    def scores(loc, policy=None):
        read.clear()
        found = read_scales([(224, 300)], lambda s, w: detect_at(s, w, loc), lnet, loc, policy=policy)[0]
        return [s for _, s in found], list(read)

    assert scores(shipped) == ([6.5, 5.4, 3.1], [1.0, 2.0])  # nothing at scale 1: the zoom-in finds them
    assert scores(lowered) == ([0.47], [1.0])  # the weak blob, alone: no zoom-in, no fallback
    assert scores(lowered, policy=shipped) == ([6.5, 5.4, 3.1], [1.0, 2.0])  # the bundle's scales, its faces
    assert scores(shipped, policy=shipped) == scores(shipped)  # the bundle's own thresholds: as without


def test_the_predictor_reads_its_bundles_scales_under_thresholds_the_user_set(tmp_path, monkeypatch):
    """Predictor's own reading hands read_scales the bundle's localizer as the policy once the
    user changes the localizer's thresholds (predict --threshold), and none before."""
    import lnet_anet.inference.predictor as module

    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=2))
    policies, real = [], module.read_scales

    def spy(*args, **kwargs):
        policies.append(args[5] if len(args) > 5 else kwargs.get("policy"))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "read_scales", spy)
    image = np.full((64, 64, 3), 90, np.uint8)
    predictor.predict(image)
    assert policies[0] is None
    policies.clear()
    predictor.localizer.threshold = -5.0
    predictor.predict(image)
    assert policies[0] is not None and policies[0].threshold == 0.0 and predictor.localizer.threshold == -5.0


def test_zoom_in_crowd_false_keeps_a_crowds_weak_blobs_from_asking_for_the_zoom_in():
    """LNetInput.zoom_in_crowd: with the localizer's crowd rule, a photo of one clear face under
    half its side is a crowd, and a weak blob beside the face then asked for a second pass at the
    zoom-in scale (the 300 x 300 astronaut 23 -> 120 ms: experiments/2026-12-05-crowd-filter,
    round 1). False: only the best face and those over secondary_threshold decide, as elsewhere;
    the crowd's further faces still pass its bar."""
    from lnet_anet.lnet.localizer import Localizer

    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3, "scales": [1.0],
            "zoom_in_scales": [2.0], "zoom_in_below": 96, "zoom_in_lone": False}  # fmt: skip
    crowd = Localizer(threshold=0.5, separation=0.5, secondary_threshold=3.0, weak_threshold=1.5, crowd=(0.5, 0.6))
    face, blob = (np.array([100.0, 60.0, 200.0, 190.0]), 6.0), (np.array([20.0, 20.0, 60.0, 60.0]), 0.8)
    read = []

    def detect_at(scale, which):
        read.append(scale)
        return [[face, blob] for _ in which]

    def scales(lnet):
        read.clear()
        found = read_scales([(300, 300)], detect_at, lnet, crowd)[0]
        return list(read), [s for _, s in found]

    # a portrait-sized face at 75 px on the canvas beside a 30 px blob: the blob asks, and is kept at the crowd's bar
    assert scales(LNetInput.from_dict(base)) == ([1.0, 2.0], [6.0, 0.8])
    off = LNetInput.from_dict({**base, "zoom_in_crowd": False})
    assert scales(off) == ([1.0], [6.0, 0.8])  # one pass; the blob still passes the crowd's bar
    assert LNetInput.from_dict(off.to_dict()) == off and "zoom_in_crowd" not in LNetInput.from_dict(base).to_dict()
    with pytest.raises(PreprocessError, match="zoom_in_crowd must be true or false"):
        LNetInput.from_dict({**base, "zoom_in_crowd": "no"})
    with pytest.raises(PreprocessError, match="zoom_in_crowd needs zoom_in_scales"):
        LNetInput.from_dict({k: v for k, v in {**base, "zoom_in_crowd": False}.items() if not k.startswith("zoom_in_s")})


def test_a_picture_left_with_one_face_adds_the_zoom_ins_faces_apart_at_a_bar_of_their_own(tmp_path, monkeypatch):
    """zoom_in_lone_p: a picture the filter leaves with exactly one face is read at the zoom-in scale;
    that reading's faces judged by the face head at zoom_in_lone_p whatever their LNet score (a strong
    false face passes the filter's s_high otherwise) are added apart from the kept face, which stays
    as it was; off, the picture is read once (experiments/2026-12-06-small-lone-face-zoom, round 3)."""
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    base = Predictor.load(path)._lnet.to_dict()
    canvases, calls, judged = [], [], []

    def fake_localizer(response, image_size):  # canvas pixels (a 128 px picture: scale 2 doubles them)
        canvases.append(tuple(image_size))
        if image_size[0] == 128:  # one face
            return [(np.array([0, 0, 30, 30], np.float64), 0.9)]
        return [(np.array([0, 0, 60, 60], np.float64), 0.95),  # the kept face again, stronger: it stays as it was
                (np.array([120, 120, 160, 160], np.float64), 0.7),  # a small face apart: added
                (np.array([200, 10, 260, 70], np.float64), 0.6)]  # 30 px wide in the picture: the face head refuses it  # fmt: skip

    fake_localizer.nms_iou, fake_localizer.max_faces = 0.3, 4
    fake_localizer.to_face_box = lambda box: np.asarray(box, np.float64)

    def fake_verify(self, images, found, originals, p_min=None, every=False):  # the face head: under 25 px wide
        calls.append((p_min, every))
        judged.append([np.asarray(f[0]).tolist() for faces in found for f in faces])
        return [[f for f in faces if not every or f[0][2] - f[0][0] < 25] for faces in found]

    monkeypatch.setattr(Predictor, "_verify", fake_verify)
    monkeypatch.setattr(Predictor, "_rescue", lambda self, *a, **k: None)
    settings = {"scales": [1.0], "zoom_in_scales": [2.0], "zoom_in_below": 0, "zoom_in_lone": False,
                "rescue_faces": [0.0, 0.7], "verify_faces": [0.5, 0.02]}  # fmt: skip

    def faces(lone_p, value: int, skip_share=None) -> list:
        predictor = Predictor.load(path)
        predictor._lnet = LNetInput.from_dict({**base, **settings, "zoom_in_lone_p": lone_p,
                                               "zoom_in_lone_skip_share": skip_share})  # fmt: skip
        monkeypatch.setattr(predictor, "localizer", fake_localizer)
        monkeypatch.setattr(predictor, "cascade", None)
        canvases.clear()
        calls.clear()
        judged.clear()
        return [(f["box"], f["score"]) for f in predictor.analyse(np.full((128, 128, 3), value, np.uint8)).record["faces"]]

    kept = faces(None, 90)
    assert canvases == [(128, 128)] and [b for b, _ in kept] == [[0, 0, 30, 30]] and calls == [(None, False)]
    found = faces(0.3, 91)
    assert canvases == [(128, 128), (256, 256)] and calls == [(None, False), (0.3, True)]
    assert [b for b, _ in found] == [[0, 0, 30, 30], [60, 60, 80, 80]] and found[0] == kept[0]
    # the kept face found again is not judged: it would not be added whatever the face head said
    assert judged[1] == [[60.0, 60.0, 80.0, 80.0], [100.0, 5.0, 128.0, 35.0]], judged
    # zoom_in_lone_skip_share: the face spans 30 / 128 = 0.23 of the picture's width and height
    assert faces(0.3, 92, skip_share=0.5) == found and canvases == [(128, 128), (256, 256)]
    assert faces(0.3, 93, skip_share=0.2) == kept and canvases == [(128, 128)] and calls == [(None, False)]
    with pytest.raises(PreprocessError, match="zoom_in_lone_skip_share needs zoom_in_lone_p"):
        LNetInput.from_dict({**base, **settings, "zoom_in_lone_skip_share": 0.6})
    with pytest.raises(PreprocessError, match="zoom_in_lone_skip_share"):
        LNetInput.from_dict({**base, **settings, "zoom_in_lone_p": 0.3, "zoom_in_lone_skip_share": 1.5})
    both = LNetInput.from_dict({**base, **settings, "zoom_in_lone_p": 0.3, "zoom_in_lone_skip_share": 0.6})
    assert both.to_dict()["zoom_in_lone_skip_share"] == 0.6 and LNetInput.from_dict(both.to_dict()) == both
    with pytest.raises(PreprocessError, match="zoom_in_lone_p needs zoom_in_scales"):
        LNetInput.from_dict({**base, "zoom_in_lone_p": 0.3})
    with pytest.raises(PreprocessError, match="zoom_in_lone_p needs verify_faces"):
        LNetInput.from_dict({**base, **{k: v for k, v in settings.items() if k != "verify_faces"}, "zoom_in_lone_p": 0.3})
    with pytest.raises(PreprocessError, match="zoom_in_lone_p"):
        LNetInput.from_dict({**base, **settings, "zoom_in_lone_p": 1.5})
    assert LNetInput.from_dict({**base, **settings, "zoom_in_lone_p": 0.3}).to_dict()["zoom_in_lone_p"] == 0.3
    assert "zoom_in_lone_p" not in LNetInput.from_dict({**base, **settings}).to_dict()


def test_a_wide_or_tall_photo_gets_a_canvas_as_long_as_it_is_up_to_the_bundles_limit():
    lnet = LNetInput.from_dict({**BASE_LNET, "wide_canvas": [2.0, 4.0]})
    assert input_for((480, 640), lnet) == (224, 224)  # 4:3 reads as ever
    assert input_for((100, 199), lnet) == (224, 224)  # just under the start
    assert input_for((100, 300), lnet) == (224, 672)  # 3:1: three inputs long
    assert input_for((300, 100), lnet) == (672, 224)  # tall alike
    assert input_for((100, 1000), lnet) == (224, 896)  # 10:1: at most 4 inputs long
    assert input_for((100, 250), lnet) == (224, 576)  # 2.5 x 224 = 560: rounded to LNet's stride, 32
    assert input_for((100, 1000), dataclasses.replace(lnet, wide_canvas=None)) == (224, 224)
    # every later step reads the same size: the fit, and the detail pass's ratio
    assert letterbox_fit((100, 300), lnet) == pytest.approx(224 / 100)
    assert letterbox_fit((100, 300), dataclasses.replace(lnet, wide_canvas=None)) == pytest.approx(224 / 300)


def test_wide_canvas_round_trips_is_described_and_refuses_nonsense(tmp_path):
    lnet = LNetInput.from_dict({**BASE_LNET, "wide_canvas": [2, 4]})
    assert lnet.wide_canvas == (2.0, 4.0) and LNetInput.from_dict(lnet.to_dict()) == lnet
    assert "wide_canvas" not in LNetInput.from_dict(BASE_LNET).to_dict()  # bundles from before read the same
    for bad, said in (([1.0, 4.0], r"need 1 < from <= most <= 8 \(aspects"), ([3.0, 2.0], "got \\[3.0, 2.0\\]"),
                      ([2.0, 9.0], "most <= 8"), (2.0, "must be null or"), (["2", 4], r"from\) must be a finite number")):
        with pytest.raises(PreprocessError, match=said):
            LNetInput.from_dict({**BASE_LNET, "wide_canvas": bad})
    with pytest.raises(PreprocessError, match="stretched"):
        LNetInput.from_dict({**BASE_LNET, "resize": "stretch", "wide_canvas": [2.0, 4.0]})
    src = random_bundle(tmp_path / "b.lnetanet", preset="tiny")
    assert build_bundle.main(["--from-bundle", str(src), "--lnet-input", '{"wide_canvas": [2.0, 4.0]}',
                              "--out", str(tmp_path / "wide.lnetanet")]) == 0  # fmt: skip
    assert "photos of aspect 2 or more read on canvases up to 4 times as long" in describe(tmp_path / "wide.lnetanet")


def test_the_predictor_reads_a_panorama_on_a_canvas_as_long_as_it_is(tmp_path, monkeypatch):
    face = (np.array([0.0, 0.0, 30.0, 30.0]), 0.9)
    predictor, sizes = _two_scale_predictor(tmp_path, monkeypatch, face, face)
    panorama = np.full((128, 512, 3), 90, np.uint8)  # 4:1
    letterboxed = predictor.analyse(panorama).record["faces"][0]["box"]
    assert sizes[0] == (128, 128) and letterboxed == [0.0, 0.0, 120.0, 120.0]  # 512 px on 128: x 1/4
    predictor._lnet = dataclasses.replace(predictor._lnet, wide_canvas=(2.0, 3.0))
    sizes.clear()
    record = predictor.analyse(panorama).record
    assert sizes[0] == (128, 384)  # three inputs long: the photo at 96 x 384, its faces 3 times larger
    assert record["faces"][0]["box"] == [0.0, 0.0, 40.0, 40.0]
    assert record["canvas"] == [384, 128]  # the record says so (trial 84: a 2.99:1 and a 3:1 crop differed, unsaid)
    from lnet_anet.cli.predict import table_rows
    from lnet_anet.inference.visualize import picture_note

    assert table_rows("p.jpg", record, 1)[0].startswith("p.jpg (read on a long canvas, 384x128)  [0, 0, 40, 40]")
    # a panorama with no face says it too: the long canvas is the one hint why (trial 93)
    assert table_rows("p.jpg", {**record, "faces": []}, 1) == ["p.jpg  no face (512x128; read on a long canvas, 384x128)"]
    sizes.clear()
    usual = predictor.analyse(np.full((128, 192, 3), 90, np.uint8))  # 3:2 reads as ever
    assert sizes[0] == (128, 128) and "canvas" not in usual.record and "canvas" not in picture_note(usual)
