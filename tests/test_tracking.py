"""lnet_anet.inference.tracking.FaceTracker: faces joined across frames by box, answers averaged."""

from __future__ import annotations

import pytest

from lnet_anet import FaceTracker


def _face(box, age, std=2.0, smiling=0.5):
    return {"box": list(box), "age": {"mean": age, "std": std}, "attractiveness": None,
            "attributes": {"Smiling": smiling, "Male": 0.9}}  # fmt: skip


def test_faces_keep_their_track_as_they_move_and_a_new_face_gets_a_new_one():
    tracker = FaceTracker({"Smiling": 0.5, "Male": 0.5})
    a, b = [10, 10, 50, 60], [200, 10, 240, 60]
    first = tracker.update({"faces": [_face(a, 30), _face(b, 50)]})
    assert [f["track"]["id"] for f in first["faces"]] == [0, 1]
    # the next frame lists them the other way round (faces are ranked by score, not by id), moved 3 px
    second = tracker.update({"faces": [_face([203, 10, 243, 60], 54), _face([13, 10, 53, 60], 32)]})
    assert [f["track"]["id"] for f in second["faces"]] == [1, 0]
    assert [f["track"]["frames"] for f in second["faces"]] == [2, 2]
    third = tracker.update({"faces": [_face([400, 100, 440, 150], 20)]})  # somewhere else: a new face
    assert third["faces"][0]["track"]["id"] == 2


def test_the_track_averages_its_frames_by_their_certainty():
    tracker = FaceTracker({"Smiling": 0.5, "Male": 0.5})
    box = [10, 10, 50, 60]
    tracker.update({"faces": [_face(box, 30, std=1.0, smiling=0.7)]})
    face = tracker.update({"faces": [_face(box, 40, std=2.0, smiling=0.2)]})["faces"][0]
    track = face["track"]
    assert track["age"]["mean"] == pytest.approx((30 / 1 + 40 / 4) / (1 / 1 + 1 / 4), abs=1e-3)  # 32 years
    assert track["age"]["std"] == pytest.approx((2 / (1 + 1 / 4)) ** 0.5, abs=1e-3)  # one frame's, not shrunk
    assert track["attributes"]["Smiling"] == pytest.approx(0.45)
    assert track["present"] == ["Male"]  # 0.45 < 0.5: not smiling over the track, though the frames differ
    assert track["attractiveness"] is None
    assert face["age"] == {"mean": 40, "std": 2.0}  # the frame's own answer stays


def test_a_track_outlives_a_few_missed_frames_and_the_window_bounds_the_average():
    tracker = FaceTracker(max_missed=2, window=2)
    box = [10, 10, 50, 60]
    tracker.update({"faces": [_face(box, 10)]})
    for _ in range(2):  # two frames without the face (an error record, a frame with no face)
        tracker.update({"faces": [], "error": "x"})
    back = tracker.update({"faces": [_face(box, 20)]})["faces"][0]["track"]
    assert back["id"] == 0 and back["frames"] == 2 and "present" not in back
    assert tracker.update({"faces": [_face(box, 30)]})["faces"][0]["track"]["age"]["mean"] == pytest.approx(25.0)
    for _ in range(3):  # three missed frames: the track is gone
        tracker.update({"faces": []})
    assert tracker.update({"faces": [_face(box, 30)]})["faces"][0]["track"]["id"] == 1


def test_bad_settings_are_refused():
    for kwargs, says in (({"min_iou": 0}, "min_iou"), ({"max_missed": -1}, "max_missed"), ({"window": 0}, "window")):
        with pytest.raises(ValueError, match=says):
            FaceTracker(**kwargs)


def test_the_video_tracks_benchmark_scores_a_panned_clip(tmp_path, one_thread):
    """benchmarks/bench_video_tracks.py on a WIDER-format photo of two faces (the astronaut's, pasted):
    a panned clip, each face one track, its answers per frame and per track."""
    import json

    import cv2
    import numpy as np
    from skimage.data import astronaut

    from lnet_anet.data.readers.detection import hash_part
    from tests._bench import load_benchmark

    face = cv2.cvtColor(astronaut()[20:200, 130:310], cv2.COLOR_RGB2BGR)  # 180 x 180, the face about 100 px
    photo = np.full((560, 760, 3), 120, np.uint8)
    photo[100:280, 60:240] = face
    photo[100:280, 360:540] = face[:, ::-1]
    images = tmp_path / "WIDER_train" / "images" / "0--Parade"
    images.mkdir(parents=True)
    cv2.imwrite(str(images / "p_0.jpg"), photo)
    split = tmp_path / "wider_face_split"
    split.mkdir()
    boxes = "\n".join(f"{x} 120 90 120 0 0 0 0 0 0 " for x in (100, 400))  # x y w h and WIDER's six flags
    (split / "wider_face_train_bbx_gt.txt").write_text(f"0--Parade/p_0.jpg\n2\n{boxes}\n")
    part = "val" if hash_part(["0--Parade/p_0.jpg"])[0] == "val" else "tune"
    out = tmp_path / "out"
    bench = load_benchmark("bench_video_tracks")
    assert bench.main(["--wider", str(tmp_path), "--part", part, "--clips", "1", "--frames", "3", "--step", "4",
                       "--work", str(tmp_path / "frames"), "--out", str(out)]) == 0  # fmt: skip
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert summary["faces_seen_twice"] == 2 and summary["one_track_id"] == 1.0 and summary["tracks_given_two_faces"] == 0
    assert summary["pairs"] >= 2 and summary["per_track"]["median_abs_d_age"] >= 0  # pairs of frames with both found
    assert "| median abs d age, years |" in (out / "results.md").read_text()


def test_a_new_frame_size_ends_the_tracks_and_odd_boxes_or_inputs_are_handled():
    """Trial 74: a frame of another size kept matching old tracks; a zero-area box crashed the next
    frame's matching; settings of the wrong type and a list passed to update were not refused."""
    tracker = FaceTracker()
    box = [10, 10, 50, 60]
    assert tracker.update({"width": 100, "height": 80, "faces": [_face(box, 30)]})["faces"][0]["track"]["id"] == 0
    again = tracker.update({"width": 50, "height": 40, "faces": [_face(box, 30)]})  # another video
    assert again["faces"][0]["track"]["id"] == 1
    flat = tracker.update({"width": 50, "height": 40, "faces": [_face([5, 5, 5, 20], 30)]})  # no area
    after = tracker.update({"width": 50, "height": 40, "faces": [_face([5, 5, 5, 20], 31)]})
    assert flat["faces"][0]["track"]["id"] == 2 and after["faces"][0]["track"]["id"] == 3
    for kwargs in ({"window": 2.5}, {"min_iou": "0.3"}, {"max_missed": True}):
        with pytest.raises(ValueError):
            FaceTracker(**kwargs)
    with pytest.raises(TypeError, match="update takes one record"):
        tracker.update([{"faces": []}])


def test_summaries_list_every_track_over_its_whole_length_the_ended_ones_included():
    """Trial 78: the per-track answer was only prose on stderr, and an ended track was gone."""
    tracker = FaceTracker({"Smiling": 0.5, "Male": 0.5}, max_missed=1, window=2)
    box = [10, 10, 50, 60]
    for k, (age, std, smiling) in enumerate([(30, 1.0, 0.7), (40, 2.0, 0.2), (50, 2.0, 0.3)]):
        tracker.update({"frame": 10 + 2 * k, "time": 0.4 + 0.08 * k, "faces": [_face(box, age, std, smiling)]})
    for k in range(3):  # unseen for 3 frames: track 0 ends; then a face elsewhere
        tracker.update({"frame": 16 + 2 * k, "time": None, "faces": []})
    tracker.update({"faces": [_face([300, 10, 340, 60], 20)]})  # no "frame": the tracker's own count (6)
    first, second = tracker.summaries()
    weights = [1.0, 0.25, 0.25]
    assert first["age"]["mean"] == pytest.approx((30 + 40 * 0.25 + 50 * 0.25) / sum(weights), abs=1e-3)
    assert first["age"]["std"] == pytest.approx((3 / sum(weights)) ** 0.5, abs=1e-3)  # one frame's, not shrunk
    assert first["attributes"]["Smiling"] == pytest.approx(0.4) and first["present"] == ["Male"]
    assert (first["id"], first["first_frame"], first["last_frame"], first["frames"]) == (0, 10, 14, 3)
    assert (first["first_time"], first["last_time"], first["ended"]) == (0.4, pytest.approx(0.56), True)
    assert first["attractiveness"] is None
    assert (second["id"], second["first_frame"], second["first_time"], second["ended"]) == (1, 6, None, False)
    assert not tracker._all[0].answers  # an ended track keeps its sums, not its frames' records


def test_end_tracks_gives_the_next_face_a_new_id_at_the_same_place():
    """Trial 78: a hard cut to another person at the same box continued the track."""
    tracker = FaceTracker()
    box = [10, 10, 50, 60]
    assert tracker.update({"faces": [_face(box, 30)]})["faces"][0]["track"]["id"] == 0
    tracker.end_tracks()
    after = tracker.update({"faces": [_face(box, 60)]})["faces"][0]["track"]
    assert after["id"] == 1 and after["age"]["mean"] == 60
    assert [(s["id"], s["ended"], s["frames"]) for s in tracker.summaries()] == [(0, True, 1), (1, False, 1)]


def test_frame_numbers_of_any_whole_type_are_kept_and_a_nan_time_is_none():
    """Trial 86: a numpy frame number (np.int64, OpenCV's float frame position) was replaced by the
    tracker's own count without a word, and a NaN time made the summaries invalid JSON."""
    import json

    import numpy as np

    tracker = FaceTracker({"Smiling": 0.5, "Male": 0.5})
    box = [10, 10, 50, 60]
    tracker.update({"frame": np.int64(100), "time": np.float64(10.0), "faces": [_face(box, 30)]})
    tracker.update({"frame": 101.0, "time": float("nan"), "faces": [_face(box, 30)]})
    tracker.update({"frame": 102.5, "time": 10.2, "faces": [_face(box, 30)]})  # not a whole number: the count
    (summary,) = tracker.summaries()
    assert (summary["first_frame"], summary["last_frame"], summary["first_time"]) == (100, 2, 10.0)
    assert type(summary["first_frame"]) is int and type(summary["first_time"]) is float
    json.dumps(tracker.summaries(), allow_nan=False)  # raises on a NaN
    from lnet_anet.data.video import VideoReader

    for bad in ({"every": 2.5}, {"every": "2"}, {"start": -1}, {"max_frames": 0}, {"every": True}):
        with pytest.raises(ValueError, match=f"{next(iter(bad))} must be an int"):  # before the file is opened
            VideoReader("no-such.mp4", **bad)
