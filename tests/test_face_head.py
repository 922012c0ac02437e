"""The face head that rescues photos with no face found (lnet_anet.inference.face_head): its file,
the bundle setting (preprocessing.lnet.rescue_faces), the Predictor's rescue and candidates, and
the fit_face_head command, on generated data and a random bundle."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from lnet_anet.cli import build_bundle, fit_face_head
from lnet_anet.data.preprocess import LNetInput, PreprocessError, flat_share
from lnet_anet.inference.build import random_bundle
from lnet_anet.inference.bundle import describe, load_bundle
from lnet_anet.inference.face_head import FaceHead
from lnet_anet.inference.predictor import FRAME_MAX_FLAT, Predictor
from lnet_anet.inference.upright import UprightHead


def _photo(seed: int = 1, shape=(48, 80, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, shape, dtype=np.uint8)


def _constant_head(predictor: Predictor, logit: float) -> FaceHead:
    """A head that gives every candidate the same P(face): sigmoid(logit)."""
    d = predictor.bundle.svm.feature_dim
    return FaceHead(np.zeros(d), np.ones(d), np.zeros(d), logit, anet=predictor.bundle.part_digest("anet"))


def _rescuing(path, head_logit: float | None, min_score: float = -1e6, min_probability: float = 0.5):
    """A Predictor of the random bundle at `path` whose localizer finds nothing (threshold 1e6),
    rescuing with a constant head (None: the shipped head, of another ANet)."""
    bundle = load_bundle(path)
    bundle.preprocessing["lnet"]["rescue_faces"] = [min_score, min_probability]
    plain = Predictor.load(path)
    head = None if head_logit is None else _constant_head(plain, head_logit)
    return Predictor(bundle, face_head=head)


def test_the_face_head_file_round_trips_and_refuses_other_heads(tmp_path):
    rng = np.random.default_rng(0)
    y = np.arange(300) % 3 == 0
    x = rng.normal(size=(300, 8)) + np.where(y, 2.5, -1.5)[:, None] * np.eye(8)[0]
    head = FaceHead.fit(x, y, c=0.5, anet="abc", info={"note": "test"})
    p = head.probability(x)
    assert ((p > 0.5) == y).mean() > 0.95
    head.save(tmp_path / "f.safetensors")
    again = FaceHead.load(tmp_path / "f.safetensors")
    np.testing.assert_allclose(again.probability(x), p, atol=1e-5)
    assert again.anet == "abc" and again.info["face"] == int(y.sum()) and again.info["C"] == 0.5
    assert again.digest == head.digest != FaceHead.load().digest  # names the numbers: the file's, not the shipped head's
    with pytest.raises(ValueError, match="both face and not_face"):
        FaceHead.fit(x, np.zeros(len(x), bool))
    UprightHead(np.zeros(3), np.ones(3), np.zeros(3), 0.0).save(tmp_path / "u.safetensors")
    with pytest.raises(ValueError, match="not a face head"):  # another head's file
        FaceHead.load(tmp_path / "u.safetensors")
    with pytest.raises(FileNotFoundError, match="fit_face_head"):
        FaceHead.load(tmp_path / "none.safetensors")
    (tmp_path / "text.safetensors").write_text("not a safetensors file")
    with pytest.raises(ValueError, match="not a face head .not a safetensors file"):
        FaceHead.load(tmp_path / "text.safetensors")


def test_a_face_head_with_a_hidden_layer_separates_what_a_logistic_one_cannot_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    corner = rng.integers(0, 2, size=(1200, 2))  # four clusters, faces in two opposite corners: no line separates them
    x = np.c_[np.where(corner, 2.0, -2.0) + rng.normal(scale=0.5, size=(1200, 2)), rng.normal(size=(1200, 4))]
    y = corner[:, 0] == corner[:, 1]
    logistic = FaceHead.fit(x, y)
    mlp = FaceHead.fit(x, y, hidden=16, seed=0, anet="abc")
    assert logistic.hidden == 0 and mlp.hidden == 16 and mlp.info["hidden"] == 16
    assert ((logistic.probability(x) > 0.5) == y).mean() < 0.7
    assert ((mlp.probability(x) > 0.5) == y).mean() > 0.9
    mlp.save(tmp_path / "mlp.safetensors")
    again = FaceHead.load(tmp_path / "mlp.safetensors")
    assert again.hidden == 16 and again.digest == mlp.digest != logistic.digest
    np.testing.assert_allclose(again.probability(x), mlp.probability(x), atol=1e-5)
    np.testing.assert_array_equal(FaceHead.fit(x, y, hidden=16, seed=0).probability(x), mlp.probability(x))  # seeded
    with pytest.raises(ValueError, match=r"coef must be \(16,\)"):
        FaceHead(mlp.mean, mlp.scale, np.zeros(6), 0.0, hidden_weight=mlp.hidden_weight, hidden_bias=mlp.hidden_bias)
    with pytest.raises(ValueError, match="go together"):
        FaceHead(mlp.mean, mlp.scale, mlp.coef, 0.0, hidden_weight=mlp.hidden_weight)
    with pytest.raises(ValueError, match="features must be"):
        mlp.probability(x[:, :5])


def test_rescue_faces_is_checked_and_survives_the_bundle_settings():
    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}
    lnet = LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7]})
    assert lnet.rescue_faces == (0.0, 0.7)
    assert LNetInput.from_dict(lnet.to_dict()) == lnet
    assert "rescue_faces" not in LNetInput.from_dict(base).to_dict()  # older bundles read the same
    for bad, message in (([0.0], "min_score, min_probability"), ([0.0, 1.5], r"\[0.0, 1.0\]"), (0.5, "null or")):
        with pytest.raises(PreprocessError, match=message):
            LNetInput.from_dict({**base, "rescue_faces": bad})


def test_a_photo_with_no_face_gets_its_strongest_candidate_when_the_head_says_face(tmp_path):
    path = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny", max_faces=3)
    photo = _photo()
    assert Predictor.load(path).predict(photo)["faces"] == []  # nothing above the threshold
    regions, scores, features = Predictor.load(path).candidates(photo, min_score=-1e6)
    assert len(scores) >= 1 and (np.diff(scores) <= 0).all() and features.shape == (len(scores), 256)

    yes = _rescuing(path, head_logit=20.0)
    record = yes.predict(photo)
    assert record["rescued"] is True and len(record["faces"]) == 1
    assert record["faces"][0]["face_probability"] == pytest.approx(1.0, abs=1e-4)  # sigmoid(20): why it was kept
    assert record["face_head"] == yes.face_head.digest == yes.custom_heads["face_head"]  # not the shipped head
    assert record["faces"][0]["score"] == pytest.approx(scores[0], abs=1e-4)  # the strongest candidate
    assert "attributes" in record["faces"][0] and "age" in record["faces"][0]  # analysed as any face
    assert "frame" not in record["faces"][0]  # LNet's candidate, not the frame try
    (located,) = yes.locate_many([photo])  # localization alone rescues too
    assert len(located) == 1

    yes.rescue = False  # predict --no-rescue: the threshold is final
    assert yes.predict(photo)["faces"] == []
    with pytest.raises(ValueError, match="does not rescue faces"):
        Predictor.load(path).rescue = True

    no = _rescuing(path, head_logit=-20.0)
    record = no.predict(photo)
    assert record["faces"] == [] and "rescued" not in record
    too_high = _rescuing(path, head_logit=20.0, min_score=float(scores[0]) + 1.0)  # no candidate reaches min_score
    assert too_high.predict(photo)["faces"] == []


def test_rescue_frame_tries_the_whole_picture_as_the_face_box_last(tmp_path):
    """rescue_frame: a picture the rescue leaves without a face (no candidate reaches min_score)
    gets the whole picture as its face box when the face head says face, marked rescued; the
    setting needs rescue_faces and survives the bundle settings."""
    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}
    lnet = LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7], "rescue_frame": 0.9})
    assert lnet.rescue_frame == 0.9 and LNetInput.from_dict(lnet.to_dict()) == lnet
    assert "rescue_frame" not in LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7]}).to_dict()
    assert "frame_read" not in lnet.to_dict() and lnet.frame_read == "padded"  # older bundles read the same
    picture = LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7], "rescue_frame": 0.9, "frame_read": "picture"})
    assert LNetInput.from_dict(picture.to_dict()) == picture and picture.frame_read == "picture"
    with pytest.raises(PreprocessError, match="frame_read must be padded or picture"):
        LNetInput.from_dict({**base, "frame_read": "whole"})
    with pytest.raises(PreprocessError, match="rescue_frame needs rescue_faces"):
        LNetInput.from_dict({**base, "rescue_frame": 0.9})
    for bad in (1.5, True, "0.9"):
        with pytest.raises(PreprocessError, match="rescue_frame"):
            LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7], "rescue_frame": bad})

    path = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny", max_faces=3)
    photo = _photo(shape=(60, 80, 3))
    plain = Predictor.load(path)
    (best,) = plain.candidates(photo, min_score=-1e6)[1][:1]

    def frame_rescuing(logit: float, frame_read: str = "padded") -> Predictor:
        bundle = load_bundle(path)
        bundle.preprocessing["lnet"] |= {"rescue_faces": [float(best) + 1.0, 0.99], "rescue_frame": 0.5,
                                         "frame_read": frame_read}  # fmt: skip
        bundle.preprocessing["localizer"]["face_box"] = [0.6, 0.7, 0.0, 0.05]  # a region larger than its face box
        refine = bundle.preprocessing["lnet"].get("refine_boxes")
        assert not refine  # the face box read back is the whole picture itself
        return Predictor(bundle, face_head=_constant_head(plain, logit))

    record = frame_rescuing(20.0).predict(photo)
    assert record["rescued"] is True and len(record["faces"]) == 1
    np.testing.assert_allclose(record["faces"][0]["box"], [0, 0, 80, 60], atol=1e-3)
    assert record["faces"][0]["score"] == pytest.approx(float(best) + 1.0, abs=1e-4)  # scored min_score
    assert record["faces"][0]["frame"] is True  # the record tells the frame try from LNet's candidate
    from lnet_anet.inference.outputs import CSV_FIXED, face_rows

    (row,) = face_rows(record, [])
    assert row[CSV_FIXED.index("rescued")] == 2  # and so does the CSV
    assert frame_rescuing(-20.0).predict(photo)["faces"] == []  # the head says no: still nothing
    # frame_read "picture": the same decision, the face read through the picture itself (no padding)
    inside = frame_rescuing(20.0, "picture").predict(photo)["faces"]
    assert len(inside) == 1 and inside[0]["frame"] is True
    np.testing.assert_allclose(inside[0]["box"], [16, 12.0, 64, 54], atol=0.11)  # the picture's face box: 0.6 x 0.7 of it
    assert inside[0]["attributes"] != record["faces"][0]["attributes"]  # another crop read: no black padding
    assert frame_rescuing(-20.0, "picture").predict(photo)["faces"] == []
    assert frame_rescuing(0.5).predict(photo)["faces"] != []  # P 0.62: over the frame's own bar (0.5)
    blank = np.full((60, 80, 3), 200, np.uint8)  # a one-colour picture: nothing for the frame try to take
    assert flat_share(blank) == 1.0 > FRAME_MAX_FLAT >= flat_share(photo)
    assert frame_rescuing(20.0).predict(blank)["faces"] == []
    feature = plain.frame_feature(photo)  # what the face head judged: ANet's feature of the frame's region
    np.testing.assert_allclose(feature, plain.anet_features(photo, [plain.frame_region((60, 80))], kind="region")[0],
                               rtol=1e-4, atol=1e-5)  # fmt: skip
    # a bundle whose crops are filled by their edge still judges the frame on a black-filled crop
    # (JUDGE_PAD; the face head learnt frames so), and reads the faces with its own fill
    edge = load_bundle(path)
    for name in ("anet", "age", "attractiveness"):
        if name in edge.preprocessing and edge.preprocessing[name].get("input", "image") == "image":
            edge.preprocessing[name]["pad"] = "edge"
    edged = Predictor(edge)
    np.testing.assert_allclose(edged.frame_feature(photo), feature, rtol=1e-4, atol=1e-5)
    region = edged.frame_region((60, 80))
    assert not np.allclose(edged.anet_features(photo, [region], kind="region")[0], feature, atol=1e-3)


def test_verify_faces_drops_weak_faces_the_head_refuses_before_the_rescue(tmp_path, capsys):
    """verify_faces (s_high, p_min): a face LNet scores under s_high stays only when the face
    head's P(face) > p_min; a face scoring s_high or more stays whatever the head says; a picture
    left with no face goes on to the rescue. The setting needs rescue_faces and survives the
    bundle settings."""
    base = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}
    lnet = LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7], "verify_faces": [2.0, 0.01]})
    assert lnet.verify_faces == (2.0, 0.01) and LNetInput.from_dict(lnet.to_dict()) == lnet
    assert "verify_faces" not in LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7]}).to_dict()
    with pytest.raises(PreprocessError, match="verify_faces needs rescue_faces"):
        LNetInput.from_dict({**base, "verify_faces": [2.0, 0.01]})
    luma = LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7], "verify_faces": [2.0, 0.01], "verify_luma": [50, 200]})
    assert luma.verify_luma == (50.0, 200.0) and LNetInput.from_dict(luma.to_dict()) == luma
    with pytest.raises(PreprocessError, match="verify_luma needs verify_faces"):
        LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7], "verify_luma": [50, 200]})
    with pytest.raises(PreprocessError, match="verify_luma: dark must be below bright"):
        LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7], "verify_faces": [2.0, 0.01], "verify_luma": [200, 50]})
    for bad, message in (([2.0], "s_high, p_min"), ([2.0, 1.5], r"\[0.0, 1.0\]"), (0.5, "null or")):
        with pytest.raises(PreprocessError, match=message):
            LNetInput.from_dict({**base, "rescue_faces": [0.0, 0.7], "verify_faces": bad})

    path = random_bundle(tmp_path / "b.lnetanet", threshold=-1e6, preset="tiny", max_faces=3)
    photo = _photo(shape=(60, 80, 3))
    plain = Predictor.load(path)
    faces = plain.predict(photo)["faces"]
    assert len(faces) >= 1
    top = faces[0]["score"]

    def verifying(s_high: float, logit: float, rescue: tuple = (1e6, 0.5), luma=None) -> Predictor:
        bundle = load_bundle(path)
        bundle.preprocessing["lnet"] |= {"rescue_faces": list(rescue), "verify_faces": [s_high, 0.5], "verify_luma": luma}
        return Predictor(bundle, face_head=_constant_head(plain, logit))

    assert verifying(top + 1.0, -20.0).predict(photo)["faces"] == []  # every face weak, every face refused
    assert verifying(top + 1.0, -20.0, luma=[0, 254]).predict(photo)["faces"] == []  # its mean luma (~127) is within
    assert len(verifying(top + 1.0, -20.0, luma=[0, 10]).predict(photo)["faces"]) == len(faces)  # outside: not verified
    assert len(verifying(top + 1.0, 20.0).predict(photo)["faces"]) == len(faces)  # the head says face: all stay
    strong = verifying(top - 1e-3, -20.0).predict(photo)["faces"]  # only the strongest is over s_high
    assert [f["score"] for f in strong] == [f["score"] for f in faces if f["score"] >= top - 1e-3]
    rescued = verifying(top + 1.0, -20.0, rescue=(-1e6, 0.0)).predict(photo)  # left with none: the rescue runs
    assert rescued["rescued"] is True and len(rescued["faces"]) == 1  # P(face) 2e-9 > its bar, 0
    assert build_bundle.main(["--from-bundle", str(path), "--out", str(tmp_path / "v.lnetanet"), "--lnet-input",
                              '{"rescue_faces": [0, 0.7], "verify_faces": [2, 0.01]}']) == 0  # fmt: skip
    assert "faces: verify P(face) > 0.01 below score 2, rescue P(face) > 0.7" in describe(tmp_path / "v.lnetanet")
    capsys.readouterr()
    assert build_bundle.main(["--from-bundle", str(path), "--out", str(tmp_path / "bad.lnetanet"), "--lnet-input",
                              '{"rescue_faces": [0, 0.7], "verify_faces": [2, 1.5]}']) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith("error: --lnet-input: ") and "verify_faces[1] (p_min)" in err  # the setting given, not the file
    assert not (tmp_path / "bad.lnetanet").exists()


def test_a_region_judged_twice_in_one_detection_pass_is_read_once(tmp_path, monkeypatch):
    """Within one detection pass (_detect) ANet's feature of a region is computed once however
    often the arbiter, the filter and the rescue ask for it, and equals the feature read alone;
    the same box in another picture, and any region after the pass, are read again."""
    from lnet_anet.inference import predictor as module

    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=-1e6, preset="tiny"))
    photo, other = _photo(shape=(60, 80, 3)), _photo(seed=2, shape=(60, 80, 3))
    a, b = np.array([5.0, 4.0, 45.0, 50.0]), np.array([30.0, 10.0, 75.0, 58.0])
    computed: list[int] = []
    compute = Predictor._compute_mean_features
    monkeypatch.setattr(Predictor, "_compute_mean_features",
                        lambda self, faces, pad: computed.append(len(faces)) or compute(self, faces, pad))  # fmt: skip
    alone = predictor._mean_features([(photo, a, 0.0, {}), (photo, b, 0.0, {}), (other, a, 0.0, {})])
    assert computed == [3]

    @module._memo_features
    def one_pass(self):
        first = self._mean_features([(photo, a, 0.0, {})])
        again = self._mean_features([(photo, b, 1.0, {}), (photo, a.copy(), 2.0, {}), (other, a, 0.0, {})])
        return first, again

    first, again = one_pass(predictor)
    assert computed == [3, 1, 2]  # a once; then b and the other picture's a
    np.testing.assert_array_equal(first[0], alone[0])
    np.testing.assert_array_equal(again, alone[[1, 0, 2]])
    predictor._mean_features([(photo, a, 0.0, {})])
    assert computed == [3, 1, 2, 1]  # the memo ended with the pass
    predictor.predict(photo)  # a real pass asks through the memo and leaves none behind
    assert getattr(module._FEATURES, "memo", None) is None


def test_a_face_head_that_does_not_fit_the_bundle_is_refused_at_load(tmp_path):
    path = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny")
    with pytest.raises(ValueError, match="another ANet"):  # the shipped head reads the shipped ANet's feature
        _rescuing(path, head_logit=None)
    plain = Predictor.load(path)
    with pytest.raises(ValueError, match="does not rescue faces"):
        Predictor.load(path, face_head=_constant_head(plain, 1.0))


def test_a_head_of_another_anet_is_refused_before_any_graph_is_exported(tmp_path, monkeypatch):
    """A fresh-user trial waited through the export of a new bundle's graphs for --rotations to be
    refused: every head is now checked first."""
    import lnet_anet.inference.predictor as predictor_module

    path = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny")
    exported = []  # graphs made or looked up in the cache
    monkeypatch.setattr(Predictor, "_graphs", lambda self, copy_first: exported.append("export") or {})
    monkeypatch.setattr(predictor_module.OrtGraph, "cached", staticmethod(lambda key: exported.append("cache")))
    other = UprightHead(np.zeros(8), np.ones(8), np.zeros(8), 0.0, anet="0" * 12)
    for kwargs in ({"rotations": True}, {"upright_head": other}):  # the shipped upright head reads the shipped ANet
        with pytest.raises(ValueError, match="another ANet"):
            Predictor.load(path, **kwargs)
    assert exported == []


def test_fit_face_head_fits_on_faces_and_face_free_photos_and_skips_bad_files(tmp_path, capsys):
    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=2)
    faces, free = tmp_path / "faces", tmp_path / "free"
    faces.mkdir()
    free.mkdir()
    for i in range(3):
        Image.fromarray(_photo(i, (40 + 8 * i, 64, 3))).save(faces / f"f{i}.png")
        Image.fromarray(_photo(10 + i, (56, 56 + 8 * i, 3))).save(free / f"n{i}.png")
    (free / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "f.safetensors"
    assert fit_face_head.main(["--faces", str(faces), "--face-free", str(free), "--bundle", str(bundle),
                               "--out", str(out)]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert "broken.jpg: skipped" in captured.err
    assert "warning: only 3 faces" in captured.err  # so few photos: said
    info = json.loads(captured.out.strip().splitlines()[-1])
    assert info["face_images"] == 3 and info["face_free_images"] == 4 and info["skipped"] == 1
    assert info["face"] == 3 and info["crops"] > 3  # one face per face photo, every face-free candidate
    head = FaceHead.load(out)
    assert head.fits(Predictor.load(bundle).bundle)
    # --frames: each readable photo's frame candidate too, a face or not by its source
    assert fit_face_head.main(["--faces", str(faces), "--face-free", str(free), "--bundle", str(bundle), "--frames",
                               "--out", str(tmp_path / "frames.safetensors")]) == 0  # fmt: skip
    framed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert framed["frames"] is True and framed["face"] == info["face"] + 3 and framed["crops"] == info["crops"] + 6
    # --hidden: an MLP head on the same candidates
    assert fit_face_head.main(["--faces", str(faces), "--face-free", str(free), "--bundle", str(bundle), "--frames",
                               "--hidden", "8", "--out", str(tmp_path / "mlp.safetensors")]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["hidden"] == 8
    assert FaceHead.load(tmp_path / "mlp.safetensors").hidden == 8
    assert fit_face_head.main(["--faces", str(tmp_path / "missing"), "--face-free", str(free), "--bundle", str(bundle),
                               "--out", str(out)]) == 2  # fmt: skip
    assert "no such image file, list or folder" in capsys.readouterr().err
    for bad in (["--c", "0"], ["--limit", "0"], ["--threads", "0"], ["--hidden", "-1"]):  # usage errors, not tracebacks
        with pytest.raises(SystemExit) as stop:
            fit_face_head.main(["--faces", str(faces), "--face-free", str(free), "--out", str(out), *bad])
        assert stop.value.code == 2 and bad[0] in capsys.readouterr().err


def test_predict_takes_a_face_head_for_a_bundle_that_rescues(tmp_path, capsys):
    from lnet_anet.cli import build_bundle
    from lnet_anet.predict import main

    plain = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny")
    rescuing = tmp_path / "r.lnetanet"
    assert build_bundle.main(["--from-bundle", str(plain), "--lnet-input", '{"rescue_faces": [-1e6, 0.5]}',
                              "--out", str(rescuing)]) == 0  # fmt: skip
    photo = tmp_path / "p.png"
    Image.fromarray(_photo()).save(photo)
    head = tmp_path / "f.safetensors"
    _constant_head(Predictor.load(plain), 20.0).save(head)
    capsys.readouterr()
    assert main([str(photo), "--json", "--bundle", str(rescuing)]) == 1  # the shipped head: another ANet's
    assert "another ANet" in capsys.readouterr().err
    assert main([str(photo), "--json", "--bundle", str(plain), "--face-head", str(head)]) == 1
    assert "does not rescue faces" in capsys.readouterr().err
    assert main([str(photo), "--json", "--bundle", str(plain), "--arbitrate", "on"]) == 1  # no face head to judge with
    assert "--arbitrate: this bundle has no face head" in capsys.readouterr().err
    assert main([str(photo), "--json", "--bundle", str(rescuing), "--face-head", str(head)]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["rescued"] is True and len(record["faces"]) == 1
    assert record["faces"][0]["face_probability"] > 0.99 and record["face_head"] == FaceHead.load(head).digest
    table, output, vis = tmp_path / "faces.csv", tmp_path / "out.jsonl", tmp_path / "vis"
    assert main([str(photo), "--bundle", str(rescuing), "--face-head", str(head), "--csv", str(table), "--output",
                 str(output), "--vis", str(vis)]) == 0  # fmt: skip
    assert "no face passed the localizer; kept by the face head" in capsys.readouterr().out  # the table says so
    header, row = (line.split(",") for line in table.read_text().splitlines())
    assert row[header.index("rescued")] == "1"  # and so does the CSV
    assert (vis / "p.png.png").is_file()
    # --resume with another head of one's own: the records say which head read them
    other = tmp_path / "g.safetensors"
    _constant_head(Predictor.load(plain), 19.0).save(other)
    assert main([str(photo), "--bundle", str(rescuing), "--face-head", str(other), "--output", str(output),
                 "--resume"]) == 2  # fmt: skip
    refusal = capsys.readouterr().err
    assert f"--face-head: the head of digest {FaceHead.load(head).digest} where this run has the head of digest " \
        f"{FaceHead.load(other).digest}" in refusal  # fmt: skip
    assert main([str(photo), "--bundle", str(rescuing), "--face-head", str(head), "--output", str(output),
                 "--resume"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main([str(photo), "--bundle", str(rescuing), "--face-head", str(head), "--output", str(output),
                 "--resume", "--arbitrate", "on"]) == 2  # records read without the face head's say on nested faces
    assert "arbitrate_nested" in capsys.readouterr().err
    assert main([str(photo), "--json", "--bundle", str(rescuing), "--face-head", str(head), "--no-rescue"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["faces"] == [] and "rescued" not in record


def test_the_rescue_reads_lnets_maps_again_instead_of_running_it_again(tmp_path):
    path = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny")
    photo = _photo()
    calls = {}
    for name, predictor in (("plain", Predictor.load(path)), ("rescue", _rescuing(path, head_logit=20.0))):
        graph = predictor._run["lnet"]
        count = [0]

        def counted(*args, graph=graph, count=count):
            count[0] += 1
            return graph(*args)

        predictor._run["lnet"] = counted
        record = predictor.predict(photo)
        calls[name] = count[0]
        assert len(record["faces"]) == (1 if name == "rescue" else 0)
    assert calls["rescue"] == calls["plain"] > 0


def test_the_rescue_of_a_large_photo_reads_its_detail_tiles_and_shrinks_it_once(tmp_path, monkeypatch):
    """A 1200 x 1600 photo with the detail pass on and no face found: the rescue reads LNet's maps
    again, and the detail pass's faces and the shrunk copy too (a 24 MP photo's rescue ran the
    detail pass twice: 5 s instead of 2)."""
    import lnet_anet.inference.predictor as predictor_module
    from lnet_anet.lnet.multiscale import shrink_factor

    path = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny")
    photo = _photo(shape=(1200, 1600, 3))
    shrinks = []
    real_shrunk = predictor_module._shrunk
    monkeypatch.setattr(predictor_module, "_shrunk", lambda img, factor: shrinks.append(factor) or real_shrunk(img, factor))
    calls = {}
    for name, predictor in (("plain", Predictor.load(path)), ("rescue", _rescuing(path, head_logit=20.0))):
        predictor.detail_ratio = 0.5
        graph, count = predictor._run["lnet"], [0]

        def counted(*args, graph=graph, count=count):
            count[0] += 1
            return graph(*args)

        predictor._run["lnet"] = counted
        shrinks.clear()
        record = predictor.predict(photo)
        calls[name] = count[0]
        assert len(record["faces"]) == (1 if name == "rescue" else 0)
        # one shrunk copy per detection pass for the scales, one for the detail pass's tiles
        factors = {shrink_factor(photo.shape[:2], predictor._lnet, detail) for detail in (False, True)}
        assert sorted(f for f in shrinks if f < 1) == sorted(f for f in factors if f < 1) != []
    assert calls["rescue"] == calls["plain"] > 2  # the tiles, read once


def test_with_rotations_only_a_rescued_turn_is_marked_rescued(tmp_path):
    """The flag follows the faces read: a photo whose chosen turn found its face above the
    threshold is not marked, whatever the unturned reading needed."""
    path = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny")
    predictor = _rescuing(path, head_logit=20.0)
    d = predictor.bundle.svm.feature_dim
    predictor.upright_head = UprightHead(np.zeros(d), np.ones(d), np.zeros(d), 0.0, anet=predictor.bundle.part_digest("anet"))
    predictor.rotations = True
    record = predictor.predict(_photo())
    assert record["rescued"] is True and record["rotation"] == 0  # every turn rescued; a tie keeps the photo
    predictor.localizer.threshold = -1e6  # every turn finds its faces above the threshold: none rescued
    record = predictor.predict(_photo())
    assert record["faces"] and "rescued" not in record


def test_with_rotations_a_turn_read_above_the_threshold_is_not_marked_rescued(tmp_path, monkeypatch):
    """The unturned photo needs a rescue, the quarter turn chosen finds its face outright: the
    record is not marked rescued (the flag follows the turn read)."""
    import lnet_anet.inference.predictor as predictor_module

    path = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny")
    predictor = _rescuing(path, head_logit=20.0)
    d = predictor.bundle.svm.feature_dim
    predictor.upright_head = UprightHead(np.zeros(d), np.ones(d), np.zeros(d), 0.0, anet=predictor.bundle.part_digest("anet"))
    predictor.rotations = True

    def stand_in(images, analyses, localizer=None, maps=None, checks=None, read_at=None):  # wide readings: only a weak candidate; tall: a face
        box = np.array([4.0, 4.0, 40.0, 40.0])
        return [([(box, 0.5)] if localizer is not None else []) if im.shape[0] < im.shape[1] else [(box, 5.0)]
                for im in images]  # fmt: skip

    monkeypatch.setattr(predictor, "_read_scales", stand_in)
    monkeypatch.setattr(predictor_module, "choose_turn", lambda chances, *rule: 0)
    assert predictor.predict(_photo(shape=(48, 80, 3)))["rescued"] is True  # the unturned photo, rescued
    monkeypatch.setattr(predictor_module, "choose_turn", lambda chances, *rule: 1)
    record = predictor.predict(_photo(shape=(48, 80, 3)))
    assert record["rotation"] == 90 and record["faces"] and "rescued" not in record


def test_a_record_read_with_the_rescue_turned_off_says_so():
    from lnet_anet.inference.outputs import reading_options

    assert reading_options({"rescue": False})["--no-rescue"] is True
    assert reading_options({"face_head": "abc"})["--face-head"] == "abc" and reading_options({})["--box-head"] is None
    assert reading_options({"rescued": True})["--no-rescue"] is False  # the rescue on: no key but "rescued"
    assert reading_options({})["--no-rescue"] is False


def test_no_rescue_marks_the_records_of_a_rescuing_bundle_only(tmp_path):
    path = random_bundle(tmp_path / "b.lnetanet", threshold=1e6, preset="tiny")
    predictor = _rescuing(path, head_logit=20.0)
    predictor.rescue = False
    assert predictor.predict(_photo())["rescue"] is False
    plain = Predictor.load(path)  # no rescue in the bundle: nothing turned off, nothing to say
    assert "rescue" not in plain.predict(_photo())


@pytest.mark.parametrize("box_jitter", [False, True])
def test_the_heads_fitted_on_crops_read_the_crops_own_patches_with_mirror_views_on(tmp_path, box_jitter):
    """The face, box and upright heads learnt ANet's feature of a crop read alone; with --mirror
    they get the same feature (the mirror images' patches left out), so a rescued face is not
    lost to mirror views (a fresh-user trial: --mirror dropped 2 of 4 rescued UTKFace chips)."""
    path = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    photo = _photo(shape=(60, 80, 3))
    faces = [(photo, np.array([10.0, 5.0, 60.0, 55.0]), 1.0, {}), (photo, np.array([0.0, 0.0, 80.0, 60.0]), 1.0, {})]
    alone = Predictor.load(path, mirror=False, box_jitter=box_jitter)._mean_features(faces)
    mirrored = Predictor.load(path, mirror=True, box_jitter=box_jitter)
    np.testing.assert_allclose(mirrored._mean_features(faces), alone, rtol=1e-4, atol=1e-5)
    every = mirrored._face_features(faces)[0].mean(1)  # the mirror images' patches too: another feature
    assert not np.allclose(every, alone, rtol=1e-4, atol=1e-5)
