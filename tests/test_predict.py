"""Predictor and the `python -m lnet_anet.predict` CLI on tiny random-weight bundles."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from lnet_anet.data.attributes import CELEBA_ATTRIBUTES
from lnet_anet.inference.build import random_bundle
from lnet_anet.inference.predictor import Predictor
from lnet_anet.predict import main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def folder(scene, tmp_path_factory) -> Path:
    """A good image, an empty file, a truncated JPEG and a text file named .jpg."""
    root = tmp_path_factory.mktemp("images")
    good = root / "good.jpg"
    cv2.imwrite(str(good), cv2.cvtColor(scene, cv2.COLOR_RGB2BGR))
    (root / "empty.jpg").write_bytes(b"")
    data = good.read_bytes()
    (root / "sub").mkdir()
    (root / "sub" / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (root / "text.jpg").write_text("not an image\n")
    (root / "notes.txt").write_text("skipped: not an image suffix\n")
    return root


def _check_record(record: dict, width: int, height: int, heads: bool = True) -> None:
    assert set(record) == {"image", "width", "height", "faces", "error", "bundle", "model"}
    assert len(record["bundle"]) == 12  # the bundle file's identity (Bundle.identity)
    assert len(record["model"]) == 12 and record["model"] != record["bundle"]  # with its heads and the version
    assert record["error"] is None and (record["width"], record["height"]) == (width, height)
    assert record["faces"], "threshold 0 on a random LNet finds at least one peak"
    for face in record["faces"]:
        assert set(face) == {"box", "score", "attributes", "present", "age", "attractiveness"}
        x0, y0, x1, y1 = face["box"]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert list(face["attributes"]) == list(CELEBA_ATTRIBUTES)
        assert all(0.0 <= p <= 1.0 for p in face["attributes"].values())
        assert face["present"] == [n for n, p in face["attributes"].items() if p >= 0.5]  # random bundle: 0.5 each
        if heads:
            assert 0 <= face["age"]["mean"] <= 100 and face["age"]["std"] >= 0
            assert 1 <= face["attractiveness"]["mean"] <= 5
        else:
            assert face["age"] is None and face["attractiveness"] is None


def test_predict_on_a_synthetic_scene_gives_the_json_structure(predictor, scene, folder):
    record = predictor.predict(scene)
    _check_record(record, width=180, height=140)
    assert record["image"] is None
    assert json.loads(json.dumps(record)) == record
    from_file = predictor.predict(folder / "good.jpg")
    _check_record(from_file, width=180, height=140)
    assert from_file["image"] == str(folder / "good.jpg")


def test_face_free_image_gives_no_faces_and_no_error(predictor, scene):
    before = predictor.localizer.threshold
    predictor.localizer.threshold = 1e9  # no window can score that high
    try:
        record = predictor.predict(scene)
    finally:
        predictor.localizer.threshold = before
    assert record["faces"] == [] and record["error"] is None and record["width"] == 180


def test_boxes_are_mapped_from_the_letterbox_canvas_to_image_pixels(predictor, monkeypatch):
    # LNet's canvas is 128 x 128; a 100 x 200 (h x w) image fills its top 64 x 128 (scale 0.64).
    canvas_boxes = [
        (np.array([0.0, 0.0, 64.0, 32.0]), 0.9),  # -> [0, 0, 100, 50]
        (np.array([10.0, 80.0, 50.0, 120.0]), 0.8),  # wholly in the padding: dropped
    ]
    seen = []

    def fake_localizer(response, image_size):
        seen.append(tuple(image_size))
        return canvas_boxes

    fake_localizer.to_face_box = lambda box: np.asarray(box, np.float64)  # no face_box: the region
    monkeypatch.setattr(predictor, "localizer", fake_localizer)
    image = np.full((100, 200, 3), 128, np.uint8)
    analysis = predictor.analyse(image)
    assert seen == [(128, 128)] and [(p.h_c, p.w_c) for *_, p in analysis.maps] == [(64, 128)]
    assert [f["box"] for f in analysis.record["faces"]] == [[0.0, 0.0, 100.0, 50.0]]
    assert analysis.heatmap().shape == (100, 200)


def test_a_cascade_places_the_boxes_again_from_each_face_region(predictor, monkeypatch):
    """With a second stage, the first stage's canvas boxes go through Cascade.refine (on LNet's
    own canvas) before they are mapped to image pixels."""
    from lnet_anet.lnet.cascade import Cascade
    from lnet_anet.lnet.localizer import Localizer

    def first_stage(response, size):
        return [(np.array([0.0, 0.0, 64.0, 32.0]), 0.9)]

    first_stage.to_face_box = lambda box: np.asarray(box, np.float64)  # no face_box: the region
    monkeypatch.setattr(predictor, "localizer", first_stage)
    cascade = Cascade(localizer=Localizer(threshold=0.0), context=2.0, input_size=64)
    calls = []

    def refine(net, x, first, image_sizes=None, region_maps=None):
        calls.append((tuple(x.shape), first))
        return [[(np.array([0.0, 0.0, 32.0, 32.0]), score) for _, score in dets] for dets in first]

    monkeypatch.setattr(cascade, "refine", refine)
    monkeypatch.setattr(predictor, "cascade", cascade)
    analysis = predictor.analyse(np.full((100, 200, 3), 128, np.uint8))
    assert calls and calls[0][0] == (1, 128, 128, 3) and calls[0][1][0][0][1] == 0.9  # the uint8 canvas
    assert [f["box"] for f in analysis.record["faces"]] == [[0.0, 0.0, 50.0, 50.0]]  # the refined box, scale 0.64


def test_predict_many_keeps_order_reports_bad_files_and_matches_single_images(
    predictor, scene, folder
):
    paths = [folder / "good.jpg", folder / "missing.jpg", folder / "empty.jpg", folder / "good.jpg"]
    records = list(predictor.predict_many(paths, batch_size=3))
    assert [r["image"] for r in records] == [str(p) for p in paths]
    for r, p in zip(records[1:3], paths[1:3], strict=True):
        assert r["faces"] == [] and str(p) in r["error"] and r["width"] is None
    with pytest.raises(ValueError, match="batch_size"):
        predictor.predict_many(paths, batch_size=0)
    for bad in (2.5, "4", True):  # trial 85: 2.5 gave one record, then a TypeError mid-iteration
        with pytest.raises(ValueError, match=r"batch_size must be an int >= 1, got"):
            predictor.predict_many(paths, batch_size=bad)
    assert len(list(predictor.predict_many(paths[:1], batch_size=np.int64(2)))) == 1
    single = predictor.predict(folder / "good.jpg")
    for r in (records[0], records[3]):  # batched with others == alone
        assert [f["box"] for f in r["faces"]] == [f["box"] for f in single["faces"]]
        for a, b in zip(r["faces"], single["faces"], strict=True):
            assert abs(a["age"]["mean"] - b["age"]["mean"]) < 1e-2
            assert (
                max(abs(a["attributes"][k] - b["attributes"][k]) for k in CELEBA_ATTRIBUTES) < 1e-3
            )


def test_predict_many_yields_the_first_record_after_one_image(predictor, folder, monkeypatch):
    # the first record (and a progress bar's first estimate) must not wait for a whole batch
    sizes = []
    analyse = predictor._analyse_safely

    def counted(read, items):
        sizes.append(len(read))
        return analyse(read, items)

    monkeypatch.setattr(predictor, "_analyse_safely", counted)
    records = predictor.predict_many([folder / "good.jpg"] * 6, batch_size=4)
    next(records)
    assert sizes == [1]
    assert len(list(records)) == 5 and sizes == [1, 4, 1]


def test_bundle_without_age_and_attractiveness_gives_null_for_them(tmp_path, scene):
    path = random_bundle(tmp_path / "no_heads.lnetanet", heads=(), max_faces=1)
    record = Predictor.load(path).predict(scene)
    _check_record(record, width=180, height=140, heads=False)


def test_heads_on_anet_features_give_age_from_the_same_pass(tmp_path, scene):
    path = random_bundle(tmp_path / "feature_heads.lnetanet", max_faces=1, feature_heads=True)
    predictor = Predictor.load(path)
    assert predictor.bundle.config["preprocessing"]["age"] == {"input": "anet_features"}
    faces = predictor.predict(scene)["faces"]
    assert faces
    for face in faces:
        assert 0 <= face["age"]["mean"] <= 100 and face["age"]["std"] > 0
        assert 1 <= face["attractiveness"]["mean"] <= 5


def test_missing_default_bundle_is_a_clear_error(tmp_path, monkeypatch):
    import lnet_anet.inference.predictor as predictor_module

    monkeypatch.setattr(predictor_module, "DEFAULT_BUNDLE", tmp_path / "default.lnetanet")
    with pytest.raises(FileNotFoundError, match="no model bundle yet"):
        Predictor.load()


# -- CLI -------------------------------------------------------------------------------------


def test_cli_json_on_a_folder_with_bad_files(bundle_path, folder, capsys):
    assert main([str(folder), "--json", "--bundle", str(bundle_path), "--batch-size", "2"]) == 1  # 3 unreadable
    lines = capsys.readouterr().out.strip().splitlines()
    records = {Path(r["image"]).name: r for r in map(json.loads, lines)}
    assert sorted(records) == ["empty.jpg", "good.jpg", "text.jpg", "truncated.jpg"]
    _check_record(records["good.jpg"], width=180, height=140)
    for name in ("empty.jpg", "text.jpg", "truncated.jpg"):
        assert records[name]["faces"] == [] and name in records[name]["error"]


def test_cli_says_why_a_first_run_pauses_while_it_exports_the_graphs(bundle_path, folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LNET_ANET_CACHE", str(tmp_path / "empty-cache"))
    assert main([str(folder / "good.jpg"), "--json", "--bundle", str(bundle_path), "--backend", "onnxruntime"]) == 0
    err = capsys.readouterr().err
    assert "note: first use of this graph: exporting" in err and str(tmp_path / "empty-cache") in err
    notes = [line for line in err.splitlines() if "exporting" in line]
    assert len(set(notes)) == len(notes) and any("'lnet'" in n for n in notes)  # each graph named apart
    assert main([str(folder / "good.jpg"), "--json", "--bundle", str(bundle_path), "--backend", "onnxruntime"]) == 0
    assert "note:" not in capsys.readouterr().err  # cached now: nothing to explain


def test_cli_exit_codes(bundle_path, folder, tmp_path, capsys):
    bad = [str(folder / "empty.jpg"), str(folder / "text.jpg")]
    assert main([*bad, "--bundle", str(bundle_path)]) == 1
    out = capsys.readouterr()
    assert "ERROR" in out.out and "none of the 2 images" in out.err
    for row in (r for r in out.out.splitlines() if "ERROR" in r):  # the table row names the file once
        assert row.count("text.jpg") + row.count("empty.jpg") == 1, row
    assert main([str(folder / "good.jpg"), "--no-such-flag"]) == 2
    assert main(["--batch-size", "0", str(folder / "good.jpg")]) == 2
    assert main([]) == 2
    missing = tmp_path / "absent.lnetanet"
    assert main([str(folder / "good.jpg"), "--bundle", str(missing)]) == 1
    assert str(missing) in capsys.readouterr().err
    # every image analysed: 0; some of them not: 1, the others still written
    assert main([str(folder / "good.jpg"), "--json", "--bundle", str(bundle_path)]) == 0
    capsys.readouterr()
    assert main([str(folder / "good.jpg"), str(folder / "text.jpg"), "--json", "--bundle", str(bundle_path)]) == 1
    out = capsys.readouterr()
    assert [json.loads(line)["error"] is None for line in out.out.splitlines()] == [True, False]
    assert "summary: 1 analysed (0 with no face), 1 error, 0 skipped" in out.err  # several files: the summary counts it
    a_file = folder / "good.jpg"  # --vis names a file: refused before anything is analysed
    assert main([str(a_file), "--vis", str(a_file), "--bundle", str(bundle_path)]) == 2
    out = capsys.readouterr()
    assert f"--vis takes a folder: {a_file} is a file" in out.err and out.out == ""
    picture = folder / "out.png"  # a picture's name, not there yet: refused too, no folder made
    assert main([str(a_file), "--vis", str(picture), "--bundle", str(bundle_path)]) == 2
    assert "not a picture's name" in capsys.readouterr().err and not picture.exists()
    # the same refusals, in demo's own usage (predict's lists options demo lacks)
    from lnet_anet.cli import demo

    for bad in (a_file, picture):
        assert demo.main(["--vis", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("usage: python -m lnet_anet.cli.demo") and "--vis takes a folder" in err
    assert not picture.exists()


def test_cli_help_documents_the_exit_status_and_both_thresholds(capsys):
    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for line in ("0 every image was analysed", "1 some image could not be read or analysed",
                 "2 bad usage", "130 interrupted"):  # fmt: skip
        assert line in text
    assert "it alone decides the strongest face" in text and "--secondary-threshold THRESHOLD" in text
    assert "pip install -e '.[descriptor]'" in text and ".venv/bin/pip" in text
    from lnet_anet.dldl.descriptor_settings import INSTALL

    assert " ".join(INSTALL.split()) in text  # the one hint, as the descriptor's own errors give it


def test_cli_secondary_threshold_reaches_the_localizer(bundle_path, tmp_path, capsys, monkeypatch):
    """--threshold and --secondary-threshold set the localizer's two thresholds; a secondary
    threshold no face can beat leaves the strongest face, which --threshold alone decides."""
    image = tmp_path / "noise.png"
    cv2.imwrite(str(image), np.random.default_rng(3).integers(0, 256, (160, 200, 3), dtype=np.uint8))
    seen = []
    real_load = Predictor.load

    def load(*args, **kwargs):
        seen.append(real_load(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(Predictor, "load", load)
    argv = [str(image), "--json", "--bundle", str(bundle_path)]
    assert main(argv) == 0
    assert len(json.loads(capsys.readouterr().out)["faces"]) == 1  # a random LNet's one smooth peak
    assert seen[-1].localizer.secondary_threshold is None  # the tiny bundle has none
    assert main([*argv, "--secondary-threshold", "1e9"]) == 0
    assert len(json.loads(capsys.readouterr().out)["faces"]) == 1
    assert (seen[-1].localizer.threshold, seen[-1].localizer.secondary_threshold) == (0.0, 1e9)
    assert main([*argv, "--threshold", "1e9", "--secondary-threshold", "-1"]) == 0
    assert json.loads(capsys.readouterr().out)["faces"] == []
    assert (seen[-1].localizer.threshold, seen[-1].localizer.secondary_threshold) == (1e9, -1.0)


def test_demo_parses_its_arguments_and_names_the_picture(bundle_path, tmp_path, capsys):
    from lnet_anet.cli import demo

    assert demo.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m lnet_anet.cli.demo") and "--vis DIR" in out
    assert demo.main(["--no-such-flag"]) == 2
    capsys.readouterr()
    vis = tmp_path / "demo"
    assert demo.main(["--vis", str(vis), "--bundle", str(bundle_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"the photo with its faces drawn: {vis / 'astronaut.png'}"
    drawn = cv2.imread(str(vis / "astronaut.png"))
    assert drawn.shape[1:] == (512, 3) and drawn.shape[0] >= 512  # a panel below when the text would cover the face


def test_cli_table_and_vis_pngs(bundle_path, folder, tmp_path, capsys):
    vis = tmp_path / "vis"
    argv = [str(folder), "--demo", "--vis", str(vis), "--bundle", str(bundle_path)]
    assert main(argv) == 1  # the unreadable files' records are errors; the others are written
    out = capsys.readouterr().out
    assert out.startswith("image") and "astronaut" in out and "good.jpg" in out
    assert "text.jpg  ERROR" in out
    pngs = sorted(p.name for p in vis.iterdir())
    assert pngs == ["astronaut.png", "good.jpg.png"]  # none for the unreadable files
    drawn = cv2.imread(str(vis / "good.jpg.png"))
    assert drawn.shape[1:] == (360, 3) and drawn.shape[0] > 280  # a small picture: drawn 2x, its text in a panel below
    original = cv2.imread(str(folder / "good.jpg"))
    enlarged = np.kron(original, np.ones((2, 2, 1), np.uint8))  # as drawn: each pixel a 2 x 2 block
    assert np.abs(drawn[:280].astype(int) - enlarged.astype(int)).mean() > 1  # overlay + boxes drawn


def test_a_large_photo_is_drawn_at_max_side_with_its_boxes_scaled(predictor, scene):
    from lnet_anet.inference.visualize import MAX_SIDE, render

    k = -(-MAX_SIDE * 2 // max(scene.shape[:2]))  # whole factor: over twice MAX_SIDE
    large = predictor.analyse(np.ascontiguousarray(np.kron(scene, np.ones((k, k, 1), np.uint8))))
    h, w = large.image.shape[:2]
    large.record["faces"] = [{"box": [0.0, 0.0, w / 2, h / 2], "score": 3.0, "attributes": {"Smiling": 0.9},
                              "age": {"mean": 30.0, "std": 4.0}}]  # fmt: skip
    drawn = render(large)
    assert max(drawn.shape[:2]) == MAX_SIDE or drawn.shape[1] == round(w * MAX_SIDE / max(h, w))
    shrink = MAX_SIDE / max(h, w)
    right = round(w / 2 * shrink)  # the box's right edge, in the picture's pixels: green
    assert drawn[round(h * shrink / 4), right - 1, 1] > 200 and drawn[round(h * shrink / 4), right - 1, 0] < 120


def test_a_small_face_in_a_large_photo_keeps_its_box_clear_of_its_caption(predictor, scene):
    """A fresh-user trial: on a 6000 x 4000 photo the caption's darkened box (its text grows with
    the picture) hung below its baseline over the face box's top edge. The whole box stays drawn."""
    from lnet_anet.inference.visualize import MAX_SIDE, render

    k = -(-MAX_SIDE * 2 // max(scene.shape[:2]))
    large = predictor.analyse(np.ascontiguousarray(np.kron(scene, np.ones((k, k, 1), np.uint8))))
    h, w = large.image.shape[:2]
    box = [0.4 * w, 0.45 * h, 0.45 * w, 0.55 * h]  # a face a few % of the photo, text room above and below
    large.record["faces"] = [{"box": box, "score": 6.1, "attributes": {"No_Beard": 0.99},
                              "age": {"mean": 33.0, "std": 15.0}}]  # fmt: skip
    drawn = render(large)
    assert drawn.shape[:2] == (round(h * MAX_SIDE / max(h, w)), MAX_SIDE)  # in place, not in a panel
    zoom = MAX_SIDE / max(h, w)
    x0, y0, x1 = (round(v * zoom) for v in box[:3])
    top = drawn[y0, x0 + 2 : x1 - 2].astype(int)
    assert ((top[:, 1] > 200) & (top[:, 0] < 120)).all()  # green all along, none of it darkened


def test_the_note_on_a_large_picture_is_whole_inside_its_bottom_edge(predictor, scene):
    """Trial 59: on a 4000 px picture "read turned 270 deg" ran over the bottom edge, its "g" cut
    off, and did not say which way. The note says ccw, as predict's table does, and no pixel of its
    text is on the picture's last rows."""
    from lnet_anet.inference.visualize import MAX_SIDE, picture_note, render

    k = -(-MAX_SIDE * 2 // max(scene.shape[:2]))
    large = predictor.analyse(np.zeros((scene.shape[0] * k, scene.shape[1] * k, 3), np.uint8))
    h, w = large.image.shape[:2]
    large.record["faces"] = [{"box": [0.4 * w, 0.3 * h, 0.5 * w, 0.45 * h], "score": 3.0,
                              "attributes": {"Smiling": 0.9}, "age": {"mean": 30.0, "std": 4.0}}]  # fmt: skip
    large.record["rotation"] = 270
    assert picture_note(large) == "read turned 270 deg ccw"
    drawn = render(large)
    text = (drawn > 200).all(axis=2)  # white text on the darkened, otherwise black, picture
    rows = np.flatnonzero(text[:, : w // 4].any(axis=1))  # the note's rows, at the left of the bottom
    assert rows.size and rows.max() < drawn.shape[0] - 2 and rows.max() > drawn.shape[0] * 0.9


def test_a_thin_picture_is_drawn_with_a_usable_short_side(predictor):
    """A 1 x 5000 strip was drawn 1 x 2048 (5000 x 1: 2048 x 1), too thin for its box or text: the
    picture is padded below (a tall one: on its right) to MIN_SIDE, the long side still MAX_SIDE."""
    from lnet_anet.inference.visualize import MAX_SIDE, MIN_SIDE, PAD_GRAY, render

    rng = np.random.default_rng(0)
    for h, w in ((1, 5000), (5000, 1)):
        strip = predictor.analyse(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        strip.record["faces"] = []
        drawn = render(strip)
        assert drawn.shape == ((MIN_SIDE, MAX_SIDE, 3) if h < w else (MAX_SIDE, MIN_SIDE, 3))
        assert (drawn[MIN_SIDE - 8 :, MIN_SIDE - 8 :] == PAD_GRAY).all()  # the padding, past the picture's 1 px


def test_a_long_strip_is_drawn_wrapped_in_rows(predictor, monkeypatch):
    """Trial 84: a 23:1 strip of faces was drawn 2048 x 88, its tags over its faces. A strip at least
    WRAP_FROM times as long as high is drawn in rows (a tall one in columns), each about WRAP_ASPECT
    long: the one-row drawing cut in order, gray between the pieces; shorter pictures as before."""
    from lnet_anet.inference import visualize

    assert visualize.wrap_rows((300, 3812)) == 4 and visualize.wrap_rows((3812, 300)) == 4
    assert visualize.wrap_rows((300, 1700)) == 1 and visualize.wrap_rows((16, 1680)) == 1  # short, or too thin
    assert visualize.wrap_rows((100, 100_000)) == 8  # at most WRAP_MOST
    image = np.random.default_rng(0).integers(0, 256, (64, 640, 3), dtype=np.uint8)  # 10:1: 3 rows
    for turned in (False, True):
        strip = predictor.analyse(np.ascontiguousarray(image.transpose(1, 0, 2)) if turned else image)
        strip.record["faces"] = []
        drawn = visualize.render(strip)
        with monkeypatch.context() as m:  # the same drawing in one row, long enough for the same zoom
            m.setattr(visualize, "WRAP_FROM", 1e9)
            m.setattr(visualize, "MAX_SIDE", 4096)
            whole = visualize.render(strip)
        if turned:  # columns: compare as rows
            drawn, whole = drawn.transpose(1, 0, 2), whole.transpose(1, 0, 2)
        side, gap, length = 256, visualize.WRAP_GAP, -(-2560 // 3)  # 64 px enlarged 4x (MIN_SIDE)
        assert whole.shape[:2] == (side, 2560) and drawn.shape[:2] == (3 * side + 2 * gap, length)
        assert (drawn[side : side + gap] == visualize.PAD_GRAY).all()
        assert (drawn[side + gap : 2 * side + gap] == whole[:, length : 2 * length]).all()  # the middle piece
        assert (drawn[-side:, 2560 - 2 * length :] == visualize.PAD_GRAY).all()  # the last piece padded to length


def test_cli_json_names_the_demo_picture_and_stops_quietly_when_its_reader_does(bundle_path, capsys):
    import subprocess
    import sys

    assert main(["--demo", "--json", "--bundle", str(bundle_path)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[0])["image"] == "astronaut"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "lnet_anet.predict", "--demo", "--json", "--bundle",
                             str(bundle_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # fmt: skip
    proc.stdout.close()  # as `| head -0` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141 and "Traceback" not in err and "error" not in err, err


def test_present_lists_the_attributes_at_the_bundles_tuned_thresholds(predictor, scene, monkeypatch):
    thresholds = predictor.bundle.svm.threshold.copy()
    monkeypatch.setattr(predictor.bundle.svm, "threshold", np.linspace(0.05, 0.95, len(thresholds)))
    face = predictor.predict(scene)["faces"][0]
    limits = predictor.decision_thresholds
    assert list(limits) == list(CELEBA_ATTRIBUTES) and limits["5_o_Clock_Shadow"] == pytest.approx(0.05)
    # Decisions use the unrounded probabilities: compare away from the 4-decimal rounding.
    clear = {n: p for n, p in face["attributes"].items() if abs(p - limits[n]) > 1e-3}
    assert {n for n in clear if n in face["present"]} == {n for n, p in clear.items() if p >= limits[n]}


def test_table_and_caption_show_attractiveness():
    from lnet_anet.cli.predict import table_rows
    from lnet_anet.inference.visualize import attractiveness_line, face_caption

    face = {"box": [1.0, 2.0, 30.0, 40.0], "score": 3.2, "attributes": {"Smiling": 0.9},
            "age": {"mean": 31.2, "std": 4.0}, "attractiveness": {"mean": 3.14, "std": 0.42}}  # fmt: skip
    record = {"error": None, "faces": [face], "width": 50, "height": 50}
    assert table_rows("a.jpg", record, 1) == ["a.jpg  [1, 2, 30, 40]  3.200  Smiling 0.90  31.2+-4.0  3.1+-0.4"]
    turned = table_rows("a.jpg", {**record, "rotation": 90}, 1)  # --rotations: the table says the turn too
    assert turned == ["a.jpg (read turned 90 deg ccw)  [1, 2, 30, 40]  3.200  Smiling 0.90  31.2+-4.0  3.1+-0.4"]
    assert table_rows("a.jpg", {**record, "rotation": 0}, 1)[0].startswith("a.jpg  [1")
    assert face_caption(face, 1) == "#1 score 3.20  age 31+/-4"
    assert attractiveness_line(face) == "attractiveness 3.1+/-0.4 /5"
    assert attractiveness_line({**face, "attractiveness": None}) is None


def test_the_table_says_which_face_the_rescue_kept():
    """A trial (59): with --detail, a picture whose face was the rescue's gets stronger faces beside it;
    the record says "rescued" while a rescued face is among its faces, and the table names which."""
    from lnet_anet.cli.predict import table_rows

    face = {"box": [1.0, 2.0, 30.0, 40.0], "score": 9.5, "attributes": {"Smiling": 0.9}, "age": None, "attractiveness": None}
    rescued = {**face, "score": 1.7, "face_probability": 0.89}
    alone = table_rows("a.jpg", {"error": None, "faces": [rescued], "width": 50, "height": 50, "rescued": True}, 1)
    assert alone[0].startswith("a.jpg (no face passed the localizer; kept by the face head)  [1, 2")
    beside = table_rows("a.jpg", {"error": None, "faces": [face, rescued], "width": 50, "height": 50, "rescued": True}, 1)
    assert [row.split("  ")[0] for row in beside] == ["a.jpg (face 2 kept by the face head)"] * 2


def test_a_picture_of_several_faces_puts_their_text_in_a_panel_below(predictor, scene):
    from lnet_anet.inference.visualize import legend_lines, render

    analysis = predictor.analyse(scene)
    face = {"box": [10.0, 10.0, 40.0, 50.0], "score": 3.0, "attributes": {"Smiling": 0.9, "Young": 0.8},
            "age": {"mean": 30.0, "std": 4.0}, "attractiveness": {"mean": 3.1, "std": 0.4}}  # fmt: skip
    analysis.record["faces"] = [face]
    one = render(analysis)  # one face on a small picture: drawn 2x (MIN_SIDE), its text below, off the face
    assert one.shape[0] > 2 * scene.shape[0] and one.shape[1] == 2 * scene.shape[1]
    large = predictor.analyse(np.ascontiguousarray(np.kron(scene, np.ones((3, 3, 1), np.uint8))))
    large.record["faces"] = [{**face, "box": [30.0, 40.0, 120.0, 150.0]}]  # room above for the caption, clear of the box
    assert render(large).shape == (3 * scene.shape[0], 3 * scene.shape[1], 3)  # its labels beside its box
    large.record["faces"] = [{**face, "box": [30.0, 20.0, 120.0, 150.0]}]  # no room above: the caption would hide its top
    assert render(large).shape[0] > 3 * scene.shape[0]
    import lnet_anet.inference.visualize as visualize

    drawn = []
    text = visualize._text

    def recording(canvas, line, x, y, scale):
        drawn.append((line, x))
        text(canvas, line, x, y, scale)

    right = 3 * scene.shape[1] - 2.0  # a box at the right edge: its lines moved left together, one left edge
    large.record["faces"] = [{**face, "box": [right - 90, 40.0, right, 150.0]}]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(visualize, "_text", recording)
        render(large)
    from lnet_anet.inference.visualize import HEAT_LEGEND

    assert drawn[-1][0] == HEAT_LEGEND  # what the heat is, along the bottom edge (trial 80)
    lines = [x for line, x in drawn[:-1] if not line.startswith("#")]
    assert len(lines) == 3 and len(set(lines)) == 1 and lines[0] < right - 90  # attractiveness and attributes
    low = 3 * scene.shape[0] - 10.0  # a box down to the bottom edge: no room for its lines below it
    large.record["faces"] = [{**face, "box": [30.0, 40.0, 120.0, low]}]
    assert render(large).shape[0] > 3 * scene.shape[0]  # so they go in the panel, not over the face
    analysis.record["faces"] = [face, {**face, "box": [45.0, 10.0, 75.0, 50.0]}]
    two = render(analysis)
    assert two.shape[0] > 2 * scene.shape[0] and two.shape[1] == 2 * scene.shape[1]  # the panel under the image
    lifted = np.clip(scene.astype(int) + 80, 0, 255).astype(np.uint8)  # as if found in a stretched copy
    analysis.read_as = lifted
    h = 2 * scene.shape[0]
    assert render(analysis)[:h].mean() > two[:h].mean() + 40  # the picture shows the copy the faces were read in
    analysis.read_as = None
    both = analysis.record["faces"]
    analysis.record["faces"] = [{**face, "face_probability": 0.93}]
    plain = render(analysis)
    analysis.record["rescued"] = True  # kept by the face head: marked at the image's bottom left
    marked = render(analysis)
    assert marked.shape == plain.shape and not np.array_equal(marked[h - 12 : h, :60], plain[h - 12 : h, :60])
    del analysis.record["rescued"]
    analysis.record["rotation"] = 90  # --rotations read its faces at a quarter turn: said at the bottom left too
    turned = render(analysis)
    assert turned.shape == plain.shape and not np.array_equal(turned[h - 12 : h, :60], plain[h - 12 : h, :60])
    del analysis.record["rotation"]
    analysis.record["faces"] = both
    small = predictor.analyse(np.ascontiguousarray(scene[:40, :50]))  # a 40 px picture: drawn 7x
    small.record["faces"] = [{**face, "box": [5.0, 5.0, 30.0, 35.0]}]
    big = render(small)
    assert big.shape[1] == 350 and big.shape[0] > 280  # drawn 7x (over MIN_SIDE), its text in the panel below
    assert (big[60:220, 35] == (60, 255, 60)).all(axis=1).mean() > 0.9  # the box's left side (x 5 -> 35), scaled
    from lnet_anet.inference.visualize import MAX_SIDE

    strip = predictor.analyse(np.ascontiguousarray(np.tile(scene[:16], (1, 12, 1))))  # 16 x 1680: thin
    strip.record["faces"] = []
    assert render(strip).shape[1] <= MAX_SIDE  # enlarged for its short side only as far as MAX_SIDE allows
    from lnet_anet.inference.visualize import FONT, _panel, _scale_to_fit

    note = "rescued (whole picture): P(face) 0.97"  # the frame try's footer on a narrow picture
    fitted = _scale_to_fit(note, 250, 0.5)
    assert fitted < 0.5 and cv2.getTextSize(note, FONT, fitted, max(1, round(fitted * 2)))[0][0] <= 250
    assert _scale_to_fit("rescued", 250, 0.5) == 0.5  # short enough: as it was

    narrow = _panel(["   attractiveness 3.1+-0.4 /5, Smiling 0.90, Young 0.80, Wavy_Hair 0.70"], 120, 0.5)
    assert narrow.shape[0] > _panel(["   attractiveness 3.1+-0.4 /5"], 120, 0.5).shape[0]  # wrapped, not cut
    # a 640 px picture's long row: wrapped at a legible size, not shrunk to tiny glyphs on one line (a user trial)
    long_row = "   attractiveness 2.2+-0.4 /5, " + ", ".join(f"Attribute_{k} 0.{k}1" for k in range(5))
    assert _panel([long_row], 640, 0.69).shape[0] > _panel(["   attractiveness 2.2+-0.4 /5"], 640, 0.69).shape[0]
    assert legend_lines(analysis.record["faces"], top_k=1) == [  # no "present" in these records: p >= 0.5
        "#1 score 3.00  age 30+/-4", "   attractiveness 3.1+/-0.4 /5, present: Smiling 0.90, +1 more present",
        "#2 score 3.00  age 30+/-4", "   attractiveness 3.1+/-0.4 /5, present: Smiling 0.90, +1 more present"]


def test_pictures_and_the_table_show_the_bundles_decisions_not_the_most_probable():
    """Trial 80: the pictures listed the most probable attributes (0.46, under their thresholds)
    while the record's "present" (what README says to read for yes / no) held others."""
    from lnet_anet.cli.predict import table_rows
    from lnet_anet.inference.visualize import attribute_texts, legend_lines, present_attributes

    face = {"box": [1.0, 2.0, 30.0, 40.0], "score": 3.2, "age": None, "attractiveness": None,
            "attributes": {"Young": 0.46, "Bags_Under_Eyes": 0.45, "Goatee": 0.31, "Chubby": 0.22, "Sideburns": 0.12},
            "present": ["Chubby", "Goatee", "Sideburns"]}  # fmt: skip
    assert present_attributes(face, 2) == ([("Goatee", 0.31), ("Chubby", 0.22)], 1)
    assert attribute_texts(face, 2) == ["Goatee 0.31", "Chubby 0.22", "+1 more present"]
    assert legend_lines([face], 5)[1] == "   present: Goatee 0.31, Chubby 0.22, Sideburns 0.12"  # the decisions, said
    assert attribute_texts({**face, "present": []}) == ["no attribute present"]
    record = {"error": None, "faces": [face], "width": 50, "height": 50}
    assert table_rows("a.jpg", record, 1) == ["a.jpg  [1, 2, 30, 40]  3.200  Goatee 0.31, +2 more present  -  -"]


def test_a_face_decided_not_male_is_shown_female():
    """A woman's sex was never shown: CelebA's attribute is Male, and only present attributes are
    drawn. Its absence is shown as "Female" at 1 - p, and the sex comes first either way (the
    astronaut's Female 1.00 was ranked under 5 attributes at 1.00); the record keeps CelebA's 40."""
    from lnet_anet.inference.visualize import attribute_texts, present_attributes

    face = {"attributes": {"Male": 0.04, "Smiling": 0.9, "Young": 0.7}, "present": ["Smiling", "Young"]}
    assert present_attributes(face, 3) == ([("Female", 0.96), ("Smiling", 0.9), ("Young", 0.7)], 0)
    assert attribute_texts({**face, "present": []}) == ["Female 0.96"]
    man = {"attributes": {"Male": 0.9, "Smiling": 0.95}, "present": ["Male", "Smiling"]}
    assert attribute_texts(man) == ["Male 0.90", "Smiling 0.95"]  # first, no Female beside it
    sure = {"attributes": {"Male": 0.01, "Smiling": 1.0, "Bangs": 1.0}, "present": ["Smiling", "Bangs"]}
    assert attribute_texts(sure, 1) == ["Female 0.99", "+2 more present"]  # not ranked out of sight
    assert attribute_texts({"attributes": {"Smiling": 0.2}, "present": []}) == ["no attribute present"]  # no Male
    assert face["present"] == ["Smiling", "Young"]  # the record is not changed


def test_a_group_photos_text_goes_in_columns_beside_it(predictor, scene):
    """Trial 80: 18 faces on a 480 x 640 photo gave a 480 x 2068 picture, the photo a thumbnail
    atop a strip of text. Text taller than the picture goes in columns beside it, no face's rows
    split, the whole at most MAX_SIDE wide."""
    import lnet_anet.inference.visualize as visualize
    from lnet_anet.inference.visualize import MAX_SIDE, _split_columns, render

    tall = np.ascontiguousarray(np.kron(scene[:, :120], np.ones((4, 4, 1), np.uint8)))  # 560 x 480, taller than wide
    analysis = predictor.analyse(tall)
    face = {"score": 3.0, "age": {"mean": 30.0, "std": 4.0}, "attractiveness": {"mean": 3.1, "std": 0.4},
            "attributes": {f"Attribute_{k}": 0.9 - 0.01 * k for k in range(8)}}  # fmt: skip
    analysis.record["faces"] = [{**face, "box": [20.0 * (k % 6), 80.0 * (k // 6), 20.0 * (k % 6) + 18, 80.0 * (k // 6) + 20]}
                                for k in range(18)]  # fmt: skip
    h, w = tall.shape[:2]
    picture = render(analysis)
    assert h < picture.shape[0] < h + 40 and w * 2 < picture.shape[1] <= MAX_SIDE  # beside it, the heat's line below
    assert (picture[h + 2 :, :200] < 100).mean() > 0.7 and (picture[h + 2 :, :200] > 200).any()  # that line: text
    analysis.record["faces"] = analysis.record["faces"][:2]  # two faces: their text fits below the picture
    assert render(analysis).shape[1] == w
    wide = predictor.analyse(np.ascontiguousarray(np.kron(scene, np.ones((8, 8, 1), np.uint8))))  # 1440 x 1120
    wide.record["faces"] = [{**face, "box": [40.0 * (k % 20), 200.0 * (k // 20), 40.0 * (k % 20) + 30, 200.0 * (k // 20) + 40]}
                            for k in range(60)]  # fmt: skip
    drawn = render(wide)  # trial 82: too wide for columns beside it: the panel below, in columns
    one_column = visualize._panel(visualize.legend_lines(wide.record["faces"], 3), 1440, 1120 / 700)
    assert drawn.shape[1] == 1440 and drawn.shape[0] - 1120 < one_column.shape[0] / 2
    # a strip (twice as wide as high or more: a panorama, session 66): the text below it, at its own size
    # (beside it, a column as wide left the picture mostly empty)
    strip = predictor.analyse(np.ascontiguousarray(np.kron(np.concatenate([scene[:, :90]] * 5, axis=1), np.ones((2, 2, 1), np.uint8))))
    sh, sw = strip.image.shape[:2]
    strip.record["faces"] = [{**face, "box": [20.0 * k, 10.0, 20.0 * k + 18, 40.0]} for k in range(24)]
    drawn = render(strip)
    one_column = visualize._panel(visualize.legend_lines(strip.record["faces"], 3), sw, 0.4).shape[0]
    assert (sh, sw) == (280, 900) and MAX_SIDE // sw == 2  # room for a column beside it
    assert drawn.shape[1] == sw and drawn.shape[0] < sh + 0.9 * one_column  # below, in columns, not beside
    faces = [[f"#{k}", f"   line {k}"] for k in range(1, 8)]
    parts = _split_columns(faces, [30, 30, 60, 30, 30, 30, 30], 3)
    assert len(parts) == 3 and sum(parts, []) == sum(faces, [])  # in order, every row once
    assert all(part[0].startswith("#") and len(part) % 2 == 0 for part in parts)  # no face split
    assert _split_columns(faces[:1], [30], 3) == [faces[0]]


def test_analyse_boxes_reads_given_boxes_as_it_reads_found_faces(predictor, scene, folder):
    found = predictor.predict(scene)["faces"]
    given = predictor.analyse_boxes(folder / "good.jpg", [f["box"] for f in found])
    assert len(given) == len(found)
    for g, f in zip(given, found, strict=True):
        assert g["score"] is None and g["box"] == f["box"]
        # the file is a JPEG of the scene: the same crops up to re-encoding
        assert max(abs(g["attributes"][n] - f["attributes"][n]) for n in f["attributes"]) < 0.05
        assert abs(g["age"]["mean"] - f["age"]["mean"]) < 2
    exact = predictor.analyse_boxes(scene, [found[0]["box"]])[0]
    assert max(abs(exact["attributes"][n] - p) for n, p in found[0]["attributes"].items()) < 1e-3
    assert abs(exact["age"]["mean"] - found[0]["age"]["mean"]) < 1e-2
    h, w = scene.shape[:2]
    bad = {"box 0 .*need finite x0 < x1": [[10, 10, 5, 40]], "box 1 .*need finite": [[1, 1, 9, 9], [0, 0, np.nan, 5]],
           rf"box 0 .*wholly outside the {w}x{h} image": [[w + 10, 0, w + 50, 40]],
           rf"box 0 .*over 64x the {w}x{h} image's longer side": [[0, 0, 1e9, 1e9]],  # not a crop of 1e18 pixels
           r"\(N, 4\).*got shape \(1, 5\).*boxes\[:, :4\]": [[1, 1, 9, 9, 0.9]],
           r"\(N, 4\).*got shape \(8,\)": [1, 1, 9, 9, 2, 2, 8, 8], "must be numbers": [["a", 1, 2, 3]]}  # fmt: skip
    for message, boxes in bad.items():
        with pytest.raises(ValueError, match=message):
            predictor.analyse_boxes(scene, boxes)
    assert len(predictor.analyse_boxes(scene, found[0]["box"])) == 1  # one box given flat
    assert predictor.analyse_boxes(scene, []) == []
    with pytest.raises(TypeError, match="iterable of images"):
        next(predictor.predict_many(str(folder / "good.jpg")))


def test_a_negative_threshold_in_exponent_form_is_a_number_not_an_option():
    from lnet_anet.cli.predict import build_parser

    args = build_parser().parse_args(["a.jpg", "b.jpg", "--threshold", "-1e9", "--secondary-threshold", "-.5"])
    assert (args.threshold, args.secondary_threshold) == (-1e9, -0.5)
    assert [str(p) for p in args.images] == ["a.jpg", "b.jpg"]


def test_the_model_identity_names_the_heads_in_use_beside_the_bundle():
    """Trial 69: a record's "bundle" stayed the same when a shipped head file changed, so a
    published figure could not say which heads made it: "model" covers the heads in use too."""
    from lnet_anet.inference.predictor import Predictor

    predictor = Predictor.load()  # the embedded bundle, with the heads shipped beside it
    plain = predictor.model_identity
    assert plain == Predictor.load().model_identity and len(plain) == 12
    predictor.rotations = True  # the upright head now reads: another model, the same bundle file
    assert predictor.model_identity != plain
    record = predictor.predict(np.zeros((40, 40, 3), np.uint8))
    assert (record["bundle"], record["model"]) == (predictor.bundle.identity, predictor.model_identity)


def test_present_agrees_with_the_printed_probabilities(predictor):
    """Trial 69: "present" was decided on unrounded probabilities, "attributes" prints them to 4
    decimals: a p printed exactly at its threshold could be left out. Decided as printed now."""
    rng = np.random.default_rng(0)
    thresholds = predictor.decision_thresholds
    for _ in range(3):
        for face in predictor.predict(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))["faces"]:
            assert face["present"] == [n for n, p in face["attributes"].items() if p >= thresholds[n]]


@pytest.mark.parametrize("channel_order", ["rgb", "bgr"])
def test_a_capture_loops_reused_frame_buffer_gives_each_frame_its_own_record(predictor, channel_order):
    """Trial 70: predict_many and locate_many read ahead, and arrays were read later, as they
    were: a loop writing each frame into one buffer got 23 of 24 records of a later frame."""
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(6)]
    buffer = np.empty_like(frames[0])

    def capture():
        for frame in frames:
            buffer[...] = frame
            yield buffer

    alone = [predictor.predict(f, channel_order=channel_order) for f in frames]
    assert list(predictor.predict_many(capture(), batch_size=4, channel_order=channel_order)) == alone
    boxes = [[(b.tolist(), s) for b, s in faces] for faces in predictor.locate_many(capture(), batch_size=4)]
    assert boxes == [[(b.tolist(), s) for b, s in faces] for faces in predictor.locate_many(frames, batch_size=4)]


def test_an_input_iterators_error_comes_after_the_records_of_the_items_taken(predictor):
    """Trial 71: a camera loop whose generator raised (the camera unplugged) lost the frames
    predict_many had already taken (it reads ahead); they get their records, then the error."""
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(3)]

    def camera():
        yield from frames
        raise RuntimeError("camera unplugged")

    records = []
    with pytest.raises(RuntimeError, match="camera unplugged"):
        for record in predictor.predict_many(camera(), batch_size=8):
            records.append(record)
    assert records == [predictor.predict(f) for f in frames]
    located = []
    with pytest.raises(RuntimeError, match="camera unplugged"):
        for faces in predictor.locate_many(camera(), batch_size=8):
            located.append([(b.tolist(), s) for b, s in faces])
    assert located == [[(b.tolist(), s) for b, s in faces] for faces in predictor.locate_many(frames)]


def test_a_record_names_the_settings_its_call_began_with(predictor, monkeypatch):
    """Trial 70: a threshold changed by another thread while a call found its faces was named in
    that call's records. The records name the settings taken before the work."""
    original, seen = predictor._detect, []

    def detect_then_change(images, analyses):  # another thread sets the threshold meanwhile
        found = original(images, analyses)
        seen.append(predictor.localizer.threshold)
        predictor.localizer.threshold = 123.0
        return found

    before = predictor.localizer.threshold
    monkeypatch.setattr(predictor, "_detect", detect_then_change)
    try:
        record = predictor.predict(np.zeros((40, 40, 3), np.uint8))
    finally:
        predictor.localizer.threshold = before
    assert seen == [before] and "settings" not in record  # the bundle's own threshold: no settings key


def test_a_tag_at_the_pictures_top_edge_goes_under_its_box(predictor, scene):
    """Trial 82: a face at the top edge got its "#n" inside its box, over its brow. Under the box
    when there is room; inside only when the box spans the picture."""
    import lnet_anet.inference.visualize as visualize

    analysis = predictor.analyse(np.ascontiguousarray(np.kron(scene, np.ones((3, 3, 1), np.uint8))))
    face = {"box": [30.0, 0.0, 90.0, 70.0], "score": 3.0, "attributes": {"Smiling": 0.9}, "age": None}
    tall = {**face, "box": [150.0, 0.0, 200.0, float(analysis.image.shape[0])]}
    analysis.record["faces"] = [face, {**face, "box": [100.0, 100.0, 140.0, 150.0]}, tall]
    drawn = []
    text = visualize._text
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(visualize, "_text", lambda canvas, line, x, y, scale: drawn.append((line, y)) or text(canvas, line, x, y, scale))
        visualize.render(analysis)
    tags = dict(d for d in drawn if d[0].startswith("#"))
    assert tags["#1"] > 70 and tags["#2"] < 100  # under its box; above its box
    assert tags["#3"] < analysis.image.shape[0]  # a box from top to bottom: inside it


def test_crowd_tags_move_off_each_other():
    """Trial 82: in a crowd, "#27" lay over "#18" and "#8" under "#23". Tags that would cover one
    placed before move up or down a line, or to the box's right end, while one is free nearby."""
    from lnet_anet.inference.visualize import _below_baseline, _line_box, tag_places

    scale, size = 0.5, (400, 600)
    row = [(40 + 18 * i, 200, 58 + 18 * i, 230) for i in range(12)]  # 18 px faces side by side: tags ~30 px wide
    lift = _below_baseline(scale) + 1
    tags = tag_places(row, size, scale, lift)
    rects = [_line_box(f"#{n}", x, y, scale) for n, (x, y) in enumerate(tags, start=1)]
    overlapping = [(a, b) for a in range(len(rects)) for b in range(a) if rects[a][0] < rects[b][2] and rects[b][0] < rects[a][2]
                   and rects[a][1] < rects[b][3] and rects[b][1] < rects[a][3]]  # fmt: skip
    assert not overlapping
    assert all(0 <= r[1] and r[3] <= size[0] and 0 <= r[0] and r[2] <= size[1] for r in rects)
    assert all(abs(y - tags[0][1]) <= 2 * 40 for _, y in tags)  # near their faces: within two lines
    assert tags[0] == (42, 200 - lift)  # the strongest face's tag at its place
