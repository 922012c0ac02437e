"""Videos: lnet_anet.data.video.VideoReader (frames, times, every/start/max_frames, rotation tag,
errors) and the predict_video command (records per frame, tracks, --output, --vis-video, bad
input), on small clips written here with cv2.VideoWriter; and predict's word for a video."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from lnet_anet.cli.predict_video import main
from lnet_anet.data.errors import ImageReadError
from lnet_anet.data.video import VIDEO_COMMAND, VideoReader, VideoReadError

pytestmark = pytest.mark.usefixtures("one_thread")
FPS = 10.0


def _write_video(path: Path, frames: list[np.ndarray], fourcc: str = "mp4v") -> Path:
    """`frames` (RGB uint8, one size) as a video at FPS frames a second."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, (w, h))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _numbered(path: Path, n: int = 12) -> Path:
    """A 64 x 48 clip whose frame k is gray 20 k, with a red block top left (RGB order, position)."""
    frames = []
    for k in range(n):
        frame = np.full((48, 64, 3), 20 * k, np.uint8)
        frame[:16, :24] = (255, 0, 0)
        frames.append(frame)
    return _write_video(path, frames)


@pytest.fixture(scope="module")
def static_clip(tmp_path_factory, scene) -> Path:
    """10 frames of one synthetic face scene (180 x 140), standing still."""
    return _write_video(tmp_path_factory.mktemp("clips") / "static.mp4", [scene] * 10)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- VideoReader -----------------------------------------------------------------------------


def test_reader_gives_each_kept_frame_its_index_time_and_rgb_pixels(tmp_path):
    clip = _numbered(tmp_path / "n.mp4")
    with VideoReader(clip, every=3, start=1, max_frames=3) as video:
        assert (video.fps, video.frame_count, video.width, video.height, video.orientation) == (FPS, 12, 64, 48, 0)
        assert video.expected_frames == 3
        frames = list(video)
    assert [f.index for f in frames] == [1, 4, 7] and [f.time for f in frames] == [0.1, 0.4, 0.7]
    for f in frames:
        assert f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8
        assert abs(int(f.image[40, 50, 0]) - 20 * f.index) <= 6  # the gray of its own frame, not a neighbour's
        red, green = f.image[4:12, 4:20].mean(axis=(0, 1))[:2]
        assert red > 200 and green < 60  # RGB, not OpenCV's BGR
    with VideoReader(clip, every=5) as video:
        assert [f.index for f in video] == [0, 5, 10] and video.frames_seen == 12
        with pytest.raises(RuntimeError, match="read once"):
            iter(video)


def test_reader_turns_a_video_by_its_rotation_tag(tmp_path):
    """A phone's portrait video: stored 64 x 48, its track header's matrix a 90 degree turn."""
    clip = _numbered(tmp_path / "stored.mp4", 3)
    data = bytearray(clip.read_bytes())
    at = data.index(b"tkhd") + 4
    matrix = at + 4 + (32 if data[at] == 1 else 20) + 16  # after version/flags, times, id, duration, layer, volume
    assert data[matrix:matrix + 36] == struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    data[matrix:matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    turned = tmp_path / "portrait.mp4"
    turned.write_bytes(bytes(data))
    with VideoReader(turned) as video:
        assert (video.width, video.height, video.orientation) == (48, 64, 90)
        image = next(iter(video)).image
    assert image.shape == (64, 48, 3)
    assert image[4:20, 36:44, 0].mean() > 200 and image[4:20, 4:12, 0].mean() < 100  # top left turned to top right


@pytest.mark.parametrize("name, content, says", [
    ("notes.txt", b"not a video", "not a video OpenCV can open"),
    ("broken.mp4", b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50, "not a video OpenCV can open"),
    ("missing.mp4", None, "file not found"),
])  # fmt: skip
def test_reader_refuses_what_it_cannot_read_naming_the_file(tmp_path, name, content, says):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(VideoReadError, match=says) as caught:
        VideoReader(path)
    assert str(caught.value).startswith(f"{path}: ") and isinstance(caught.value, ImageReadError)
    with pytest.raises(VideoReadError, match="is a folder"):
        VideoReader(tmp_path)


# -- predict_video ---------------------------------------------------------------------------


def test_records_tracks_and_an_atomic_output_of_a_static_video(static_clip, bundle_path, tmp_path, capsys,
                                                               monkeypatch):  # fmt: skip
    from lnet_anet.inference.tracking import FaceTracker

    out = tmp_path / "out.jsonl"
    seen = []  # (the output, its .part) exist, at each frame: the output appears whole at the end
    update = FaceTracker.update
    monkeypatch.setattr(FaceTracker, "update", lambda self, r: (seen.append((out.exists(), out.with_name("out.jsonl.part").exists())), update(self, r))[1])  # fmt: skip
    code = main([str(static_clip), "--bundle", str(bundle_path), "--every", "2", "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out == "" and seen == [(False, True)] * 5
    assert not out.with_name("out.jsonl.part").exists()
    records = _records(out)
    assert [r["frame"] for r in records] == [0, 2, 4, 6, 8]
    assert [r["time"] for r in records] == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert {r["video"] for r in records} == {str(static_clip)} and all(r["error"] is None for r in records)
    first = [f["track"]["id"] for f in records[0]["faces"]]
    assert first, "the random bundle at threshold 0 finds a face in the scene"
    for n, record in enumerate(records, start=1):  # a face standing still keeps its track
        assert [f["track"]["id"] for f in record["faces"]] == first
        assert all(f["track"]["frames"] == n for f in record["faces"])
    summary = [line for line in captured.err.splitlines() if line.startswith("  track ")]
    assert len(summary) == len(first) and summary[0].startswith("  track 0: 0.00-0.80 s, 5 frames, age ")
    assert "present: " in summary[0] and f"written: {out}" in captured.err


def test_max_frames_and_a_vis_video_of_as_many_frames(static_clip, bundle_path, tmp_path, capsys):
    vis = tmp_path / "faces.mp4"
    code = main([str(static_clip), "--bundle", str(bundle_path), "--max-frames", "3", "--start", "1",
                 "--vis-video", str(vis), "--window", "all"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    records = [json.loads(line) for line in captured.out.splitlines()]  # no --output: on stdout
    assert [r["frame"] for r in records] == [1, 2, 3]
    with VideoReader(vis) as video:  # 180 x 140 frames, under visualize.MIN_SIDE: drawn twice the size
        assert (video.width, video.height, video.frame_count) == (360, 280, 3)
        drawn = [f.image for f in video]
    assert len(drawn) == 3
    assert not list(tmp_path.glob(".faces.mp4.tmp*"))  # its temporary file renamed into place


@pytest.mark.parametrize("name, content, says", [
    ("notes.txt", b"some notes", "notes.txt: not a video OpenCV can open"),
    ("broken.mp4", b"garbage" * 50, "broken.mp4: not a video OpenCV can open"),
])  # fmt: skip
def test_a_file_that_is_not_a_readable_video_is_one_error_line_and_status_2(bundle_path, tmp_path, capsys, name,
                                                                            content, says):  # fmt: skip
    path = tmp_path / name
    path.write_bytes(content)
    out = tmp_path / "out.jsonl"
    code = main([str(path), "--bundle", str(bundle_path), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.splitlines() == [f"error: {tmp_path}/{says} (corrupt, truncated, or a format or codec "
                                              "its FFmpeg lacks)"]  # fmt: skip
    assert not out.exists() and not out.with_name("out.jsonl.part").exists()


def test_a_video_cut_short_keeps_the_records_read(bundle_path, tmp_path, capsys):
    """An AVI cut in half: the frames end early; its records so far are written, the error names it."""
    rng = np.random.default_rng(0)
    whole = _write_video(tmp_path / "whole.avi", [rng.integers(0, 256, (48, 64, 3), np.uint8) for _ in range(20)],
                         "MJPG")  # fmt: skip
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    out = tmp_path / "out.jsonl"
    code = main([str(cut), "--bundle", str(bundle_path), "--output", str(out)])
    err = capsys.readouterr().err
    records = _records(out)
    assert code == 1 and 0 < len(records) < 20
    assert f"error: {cut}: the frames ended after {len(records)} of the 20 the file declares" in err


def test_a_damaged_part_in_a_videos_middle_is_skipped_and_the_rest_read(bundle_path, tmp_path, capsys):
    """Trial 86: random bytes in the middle of a clip's data lost every frame after them, though
    they decode exactly. The reader skips the frames that do not decode, reads on with each
    frame's own index and time, and names the frames lost; predict_video says so and exits 1."""
    frames = []
    for k in range(60):
        frame = np.zeros((120, 160, 3), np.uint8)
        frame[..., 0] = (np.arange(160)[None, :] * 2 + k * 5) % 255
        frame[..., 1] = (np.arange(120)[:, None] * 2) % 255
        frame[40:80, (2 * k) % 120 : (2 * k) % 120 + 40] = 255
        frames.append(frame)
    whole = _write_video(tmp_path / "whole.mp4", frames)
    data = bytearray(whole.read_bytes())
    middle = data.find(b"mdat") + (len(data) - data.find(b"mdat")) // 2
    data[middle - 4000 : middle + 4000] = np.random.default_rng(1).integers(0, 256, 8000, dtype=np.uint8).tobytes()
    clip = tmp_path / "damaged.mp4"
    clip.write_bytes(bytes(data))
    with VideoReader(clip) as video:
        read = [(f.index, f.time) for f in video]
        damaged = video.damaged
    assert len(damaged) == 1 and 0 < damaged[0][0] <= damaged[0][1] < 59
    first, last = damaged[0]
    assert [i for i, _ in read] == [*range(first), *range(last + 1, 60)]  # every other frame, in place
    assert all(t == round(i / FPS, 3) for i, t in read)
    out, tracks = tmp_path / "out.jsonl", tmp_path / "tracks.json"
    assert main([str(clip), "--bundle", str(bundle_path), "--output", str(out), "--tracks", str(tracks)]) == 1
    lost = last - first + 1
    assert (f"error: {clip}: {lost} frames could not be decoded (a damaged part of the file: frames {first}-{last}), "
            f"skipped; the frames after them were read, the {60 - lost} records kept") in capsys.readouterr().err
    assert [r["frame"] for r in _records(out)] == [i for i, _ in read]
    assert json.loads(tracks.read_text())["videos"][0]["damaged_frames"] == [[first, last]]


def test_predict_says_a_video_is_one_and_names_the_command(bundle_path, tmp_path, capsys):
    from lnet_anet.predict import main as predict

    clip = _numbered(tmp_path / "clip.mp4", 2)
    assert predict([str(clip), "--bundle", str(bundle_path), "--json"]) == 1  # an error record, as any unreadable file
    record = json.loads(capsys.readouterr().out)
    assert record["error"] == f"{clip}: a video (.mp4), not an image: {VIDEO_COMMAND} {clip} reads its frames"
    Image = pytest.importorskip("PIL.Image")
    Image.fromarray(np.zeros((32, 40, 3), np.uint8)).save(tmp_path / "photo.png")
    assert predict([str(tmp_path), "--bundle", str(bundle_path), "--json", "--verbose"]) == 0
    assert f"skipped: {clip} (a video: {VIDEO_COMMAND} reads its frames)" in capsys.readouterr().err


# -- trial 78: per-person results, short tracks, cuts, several videos, Ctrl-C, small things -------


def test_tracks_file_and_the_summary_come_from_the_trackers_summaries(static_clip, bundle_path, tmp_path, capsys):
    """--tracks writes FaceTracker.summaries() per video; the stderr lines say the same numbers,
    list tracks of at least --min-track-frames frames and count the others."""
    out, tracks = tmp_path / "out.jsonl", tmp_path / "tracks.json"
    code = main([str(static_clip), "--bundle", str(bundle_path), "--output", str(out), "--tracks", str(tracks),
                 "--min-track-frames", "4", "--max-frames", "6"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    (video,) = json.loads(tracks.read_text())["videos"]
    assert (video["video"], video["frames_read"], video["frames_declared"], video["error"]) == (str(static_clip), 6,
                                                                                                10, None)  # fmt: skip
    assert (video["orientation"], video["damaged_frames"]) == (0, [])  # no rotation tag; nothing lost
    records = _records(out)
    ids = {f["track"]["id"] for r in records for f in r["faces"]}
    assert [t["id"] for t in video["tracks"]] == sorted(ids)
    for track in video["tracks"]:  # each track's frames and its last window average (window 30 > 6 frames)
        faces = [f for r in records for f in r["faces"] if f["track"]["id"] == track["id"]]
        assert track["frames"] == len(faces) and track["age"] == faces[-1]["track"]["age"]
        assert track["present"] == faces[-1]["track"]["present"]
    long = [t for t in video["tracks"] if t["frames"] >= 4]
    lines = [line for line in err.splitlines() if line.startswith("  track ")]
    assert len(lines) == len(long) and long, err
    age = long[0]["age"]
    assert lines[0].startswith(f"  track {long[0]['id']}: ") and f"age {age['mean']:.1f} (std {age['std']:.1f})" in lines[0]
    short = len(video["tracks"]) - len(long)
    assert (f"  ({short} track{'s' if short > 1 else ''} of under 4 frames not listed" in err) == (short > 0)


def test_a_scene_cut_ends_every_track_and_is_said_on_its_frame(scene, bundle_path, tmp_path, capsys):
    """Trial 78: a cut to another picture continued the tracks where the boxes stayed; --cuts ends
    them there. Off by default since trial 79 (a flash split each person's track)."""
    other = np.ascontiguousarray(255 - scene[:, :, ::-1])  # another picture of the same size: colours turned
    clip = _write_video(tmp_path / "cut.mp4", [scene] * 5 + [other] * 5)
    for flags, cut_at in ((["--cuts"], [5]), ([], [])):
        out, tracks = tmp_path / "out.jsonl", tmp_path / "tracks.json"
        assert main([str(clip), "--bundle", str(bundle_path), "--output", str(out), "--tracks", str(tracks),
                     *flags]) == 0  # fmt: skip
        records = _records(out)
        assert [r["frame"] for r in records if r["cut"]] == cut_at
        assert json.loads(tracks.read_text())["videos"][0]["cuts"] == cut_at
        assert all(t["ended"] for t in json.loads(tracks.read_text())["videos"][0]["tracks"])  # the video is over
    _ = capsys.readouterr()
    main([str(clip), "--bundle", str(bundle_path), "--output", str(out), "--cuts"])
    records = _records(out)
    before = {f["track"]["id"] for r in records[:5] for f in r["faces"]}
    after = {f["track"]["id"] for r in records[5:] for f in r["faces"]}
    assert before and after and min(after) > max(before)  # no track goes on across the cut
    assert "1 scene cut" in capsys.readouterr().err


def test_scene_cuts_are_pysscenedetects_content_changes():
    from lnet_anet.data.video import CUT_THRESHOLD, SceneCuts

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (120, 160, 3), np.uint8)
    cuts = SceneCuts()
    assert CUT_THRESHOLD == 27.0 and not cuts.is_cut(frame)
    assert not cuts.is_cut(np.clip(frame.astype(int) + 3, 0, 255).astype(np.uint8))  # a small change
    assert cuts.is_cut(rng.integers(0, 256, (120, 160, 3), np.uint8)) and cuts.score >= CUT_THRESHOLD
    assert cuts.is_cut(np.zeros((60, 80, 3), np.uint8))  # another size


def test_a_bad_video_among_good_ones_is_named_and_the_others_are_read(static_clip, bundle_path, tmp_path, capsys):
    """Trial 78: an unreadable file aborted the batch (exit 2) before the good ones were read."""
    bad = tmp_path / "empty.mp4"
    bad.write_bytes(b"")
    out, tracks = tmp_path / "out.jsonl", tmp_path / "tracks.json"
    code = main([str(bad), str(static_clip), "--bundle", str(bundle_path), "--output", str(out),
                 "--tracks", str(tracks), "--max-frames", "2"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        f"error: {bad}: not a video OpenCV can open (corrupt, truncated, or a format or codec its FFmpeg lacks)"]
    assert [r["video"] for r in _records(out)] == [str(static_clip)] * 2
    first, second = json.loads(tracks.read_text())["videos"]
    assert first["error"].startswith(f"{bad}: ") and second["error"] is None and second["frames_read"] == 2
    assert f"1 of 2 videos failed or stopped early (the error lines above): {bad}" in err
    assert main([str(bad), "--bundle", str(bundle_path)]) == 2  # nothing readable: usage, as before


def test_start_past_the_end_is_an_error_and_one_frame_is_one(static_clip, bundle_path, capsys):
    assert main([str(static_clip), "--bundle", str(bundle_path), "--start", "50"]) == 1
    err = capsys.readouterr().err
    assert f"error: {static_clip}: --start 50 is past its last frame (frame 9); no frame read" in err
    assert main([str(static_clip), "--bundle", str(bundle_path), "--start", "9"]) == 0
    assert "static.mp4: 1 frame read (from frame 9, of 10 in the file" in capsys.readouterr().err


def test_a_frame_count_the_file_gets_wrong_is_said_so():
    from argparse import Namespace

    from lnet_anet.cli.predict_video import VideoRun, _note

    args = Namespace(every=1, start=0)
    joined = VideoRun("sizes.avi", read=90, frames_seen=90, frame_count=60, fps=25.0)
    assert _note(joined, args, limited=False) == "the file declares 60: its count is wrong, 25 fps"
    assert _note(VideoRun("a", frames_seen=5), args, False) == "no frame count stated, no frame rate stated"


def test_progress_lines_when_stderr_is_not_a_terminal(static_clip, bundle_path, capsys, monkeypatch):
    import lnet_anet.cli.predict_video as command

    monkeypatch.setattr(command, "PROGRESS_EVERY_S", 0.0)
    assert main([str(static_clip), "--bundle", str(bundle_path), "--max-frames", "3"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if " frames, " in line and " fps" in line]
    assert [line.split(" frames, ")[0] for line in lines] == [f"static.mp4: {n} / 3" for n in (1, 2, 3)]


def test_an_interrupted_run_keeps_the_frames_drawn_and_the_tracks(static_clip, bundle_path, tmp_path, capsys,
                                                                  monkeypatch):  # fmt: skip
    """Trial 78: Ctrl-C dropped the partial --vis-video without a word."""
    from lnet_anet.inference.tracking import FaceTracker

    update, calls = FaceTracker.update, []

    def interrupted(self, record):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return update(self, record)

    monkeypatch.setattr(FaceTracker, "update", interrupted)
    vis, tracks = tmp_path / "faces.mp4", tmp_path / "tracks.json"
    code = main([str(static_clip), "--bundle", str(bundle_path), "--vis-video", str(vis), "--tracks", str(tracks),
                 "--output", str(tmp_path / "out.jsonl")])  # fmt: skip
    err = capsys.readouterr().err
    partial = tmp_path / "faces.part.mp4"
    assert code == 130 and f"; the frames drawn are in {partial}" in err
    assert f"the tracks so far are in {tmp_path / 'tracks.json.part'}" in err and not vis.exists()
    with VideoReader(partial) as video:
        assert len(list(video)) == 3
    assert json.loads((tmp_path / "tracks.json.part").read_text())["videos"][0]["tracks"][0]["frames"] == 3
    assert not list(tmp_path.glob(".faces.mp4.tmp*"))
    monkeypatch.setattr(FaceTracker, "update", update)  # trial 79: a finished rerun removes the stopped run's parts
    assert main([str(static_clip), "--bundle", str(bundle_path), "--vis-video", str(vis), "--tracks", str(tracks),
                 "--output", str(tmp_path / "out.jsonl"), "--resume"]) == 0  # fmt: skip
    assert vis.exists() and tracks.exists() and not partial.exists() and not (tmp_path / "tracks.json.part").exists()


def _stopped_after(monkeypatch, frames: int):
    """FaceTracker.update raising KeyboardInterrupt at its (frames + 1)th call, as Ctrl-C would."""
    from lnet_anet.inference.tracking import FaceTracker

    update, calls = FaceTracker.update, []

    def interrupted(self, record):
        calls.append(1)
        if len(calls) == frames + 1:
            raise KeyboardInterrupt
        return update(self, record)

    monkeypatch.setattr(FaceTracker, "update", interrupted)
    return lambda: monkeypatch.setattr(FaceTracker, "update", update)


def test_resume_goes_on_from_a_stopped_run_and_gives_the_whole_runs_outputs(static_clip, bundle_path, tmp_path,
                                                                            capsys, monkeypatch):  # fmt: skip
    """A stopped run's records are kept; --resume analyses only the frames after them, and its
    records, tracks and drawn frames are those of a run never stopped."""
    from lnet_anet.inference.predictor import Predictor

    common = [str(static_clip), "--bundle", str(bundle_path), "--every", "2", "--max-missed", "2"]
    whole, out = tmp_path / "whole.jsonl", tmp_path / "out.jsonl"
    assert main([*common, "--output", str(whole), "--tracks", str(tmp_path / "whole.json")]) == 0
    restore = _stopped_after(monkeypatch, 3)
    assert main([*common, "--output", str(out)]) == 130
    assert f"the 3 records read are in {tmp_path / 'out.jsonl.part'}: rerun with --resume" in capsys.readouterr().err
    restore()
    assert main([*common, "--output", str(out)]) == 2  # starting over would empty the stopped run's records
    assert "holds 3 records of a run that was stopped: add --resume" in capsys.readouterr().err
    analysed, analyse_many = [], Predictor.analyse_many

    def counted(self, images, batch_size=8):
        for analysis in analyse_many(self, images, batch_size):
            analysed.append(1)
            yield analysis

    monkeypatch.setattr(Predictor, "analyse_many", counted)
    vis, tracks = tmp_path / "faces.mp4", tmp_path / "tracks.json"
    assert main([*common, "--output", str(out), "--resume", "--vis-video", str(vis), "--tracks", str(tracks)]) == 0
    err = capsys.readouterr().err
    assert len(analysed) == 2 and "5 frames read (3 of them in --output already, every 2" in err
    assert _records(out) == _records(whole)
    assert json.loads(tracks.read_text()) == json.loads((tmp_path / "whole.json").read_text())
    with VideoReader(vis) as video:
        assert len(list(video)) == 5
    assert not (tmp_path / "out.jsonl.part").exists()


@pytest.mark.parametrize("changed", [["--every", "3"], ["--start", "1"], ["--max-frames", "2"]])
def test_resume_refuses_records_read_with_other_frames(static_clip, bundle_path, tmp_path, capsys, monkeypatch,
                                                       changed):  # fmt: skip
    common = [str(static_clip), "--bundle", str(bundle_path), "--every", "2", "--output", str(tmp_path / "o.jsonl")]
    restore = _stopped_after(monkeypatch, 3)
    assert main(common) == 130
    restore()
    capsys.readouterr()
    part = (tmp_path / "o.jsonl.part").read_bytes()
    assert main([*common, *changed, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "error: --resume: " in err and "holds frames 0, 2, 4 of" in err and "rerun with the options" in err
    assert (tmp_path / "o.jsonl.part").read_bytes() == part  # nothing lost


@pytest.mark.parametrize("changed, says", [
    (["--window", "5"], "were read --window 30, this run --window 5"),
    (["--cuts"], "were read without --cuts, this run with --cuts"),
    (["--max-missed", "3"], "were read --max-missed 15, this run --max-missed 3"),
    ("replaced", "is not the video its records in --output were read from"),
    ("older", "in --output do not say how they were read (written by an older lnet_anet)"),
])  # fmt: skip
def test_resume_refuses_records_of_another_file_or_other_settings(static_clip, bundle_path, tmp_path, capsys,
                                                                  monkeypatch, scene, changed, says):  # fmt: skip
    """Trial 81: a video replaced between the stop and the resume (same size and length) was
    resumed, its records then of two videos; --window or --cuts changed on resume was taken."""
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(static_clip.read_bytes())
    common = [str(clip), "--bundle", str(bundle_path), "--output", str(tmp_path / "o.jsonl")]
    restore = _stopped_after(monkeypatch, 3)
    assert main(common) == 130
    restore()
    capsys.readouterr()
    part = (tmp_path / "o.jsonl.part").read_bytes()
    assert json.loads(part.splitlines()[0])["video_reading"]["window"] == 30  # each record says how it was read
    if changed == "replaced":
        _write_video(clip, [np.ascontiguousarray(scene[:, ::-1])] * 10)  # the same size and length, mirrored
        changed = []
    elif changed == "older":  # records of an older lnet_anet, which did not say how they were read (trial 82)
        lines = [json.loads(line) for line in part.splitlines()]
        part = b"".join((json.dumps({k: v for k, v in r.items() if k != "video_reading"}) + "\n").encode() for r in lines)
        (tmp_path / "o.jsonl.part").write_bytes(part)
        changed = []
    assert main([*common, *changed, "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --resume: ") and says in err and err.count("\n") == 1
    assert (tmp_path / "o.jsonl.part").read_bytes() == part  # nothing lost


def test_resume_needs_output_and_refuses_another_programs_file(static_clip, tmp_path, capsys):
    assert main([str(static_clip), "--resume"]) == 2
    assert "--resume needs --output" in capsys.readouterr().err
    other = tmp_path / "notes.jsonl"
    other.write_text("shopping list\n")
    assert main([str(static_clip), "--output", str(other), "--resume"]) == 2
    assert "not a record" in capsys.readouterr().err and other.read_text() == "shopping list\n"


def test_replay_tracks_rebuilds_the_tracker_and_refuses_other_settings():
    """The tracks a stopped run wrote are rebuilt from its records; settings that would have
    tracked them otherwise, or cuts without --cuts, are refused."""
    from types import SimpleNamespace

    from lnet_anet.cli.predict_video import replay_tracks
    from lnet_anet.inference.tracking import FaceTracker

    boxes = [[10, 10, 50, 50], [14, 10, 54, 50], [40, 10, 80, 50]]  # the last moves by 26 px: IoU 0.21 with the one before
    records = [{"image": None, "frame": k, "cut": False, "width": 100, "height": 60,
                "faces": [{"box": b, "age": {"mean": 30.0 + k, "std": 3.0}}]} for k, b in enumerate(boxes)]  # fmt: skip
    written = FaceTracker(min_iou=0.2)
    for record in records:
        written.update(record)
    args = SimpleNamespace(min_iou=0.2, max_missed=15, window=30, cuts=False)
    tracker, cuts = replay_tracks(records, args)
    assert cuts == [] and tracker.summaries() == written.summaries()
    with pytest.raises(ValueError, match="tracks of frame 2 are not what --min-iou 0.3"):
        replay_tracks(records, SimpleNamespace(**(vars(args) | {"min_iou": 0.3})))
    records[1]["cut"] = True
    with pytest.raises(ValueError, match="frame 1 ended its tracks at a scene cut: it was read with --cuts"):
        replay_tracks(records, args)


def _tracked(box, track_id, age=31.0):
    attributes = {"No_Beard": 0.91, "Young": 0.87, "Wavy_Hair": 0.34}
    return {"box": box, "score": 1.0, "attributes": attributes, "present": ["No_Beard", "Young"],
            "track": {"id": track_id, "age": {"mean": age, "std": 8.0}, "attributes": attributes,
                      "present": ["No_Beard", "Wavy_Hair"]}}  # fmt: skip


def test_vis_labels_name_their_track_by_colour_and_show_its_decisions():
    """Trial 80: every label was white on the same dark box (only the box line had the track's
    colour), and the most probable attributes were drawn, not the decisions."""
    from lnet_anet.inference.visualize import TINT_SHADE, render_tracks, track_colour, track_labels

    record = {"width": 400, "height": 300, "faces": [_tracked([40, 60, 140, 180], 1), _tracked([240, 60, 340, 180], 2)]}
    picture = render_tracks(np.zeros((300, 400, 3), np.uint8), record)
    labels = track_labels(record["faces"], (300, 400), 1, float(np.clip(300 / 700, 0.35, 8.0)), 2)
    assert [(text, n) for text, _, _, n in labels if not text.startswith("id")] == [
        ("No_Beard 0.91", 0), ("Wavy_Hair 0.34", 0), ("No_Beard 0.91", 1), ("Wavy_Hair 0.34", 1)]  # the track's
    for text, x, y, n in labels:  # each label's box in a dark shade of its track's colour
        shade = (np.asarray(track_colour(n + 1), np.float32) * TINT_SHADE).astype(np.uint8)
        assert (picture[y - 2, x : x + 6] == shade).all(axis=1).any(), text
    assert (picture[120, 40:42] == track_colour(1)).all()  # box lines 2 px wide


def test_track_colours_differ_as_boxes_and_as_label_shades():
    """Trial 81: ids 1 and 9 shared a colour (a palette of 8); trials 82 and 86: hues a golden-ratio
    turn apart made ids 0, 8, 13 and 21 near greens, their labels' dark shades alike. Any two of
    the first 24 ids differ by a CIELAB distance of 15 or more, both as box colours and as the
    dark shade under a label (TINT_SHADE); the first 12 by 24."""
    from lnet_anet.inference.visualize import TINT_SHADE, TRACK_PALETTE, track_colour

    rgb = np.asarray([track_colour(k) for k in range(24)], np.float32)
    for colours in (rgb, np.floor(rgb * TINT_SHADE)):
        lab = cv2.cvtColor(colours[None] / 255.0, cv2.COLOR_RGB2Lab)[0]
        gaps = np.linalg.norm(lab[:, None] - lab[None], axis=2) + np.eye(24) * 1e9
        assert gaps.min() >= 15 and gaps[:12, :12].min() >= 24
    assert track_colour(0) == (68, 255, 64)  # id 0 stays the green of a photo's boxes
    assert track_colour(TRACK_PALETTE + 5) == track_colour(5)  # repeating, for any id
def test_vis_caption_of_a_face_at_the_top_edge_goes_under_its_box():
    """A video face at the frame's top edge had its caption inside its box, over the brow (render's
    tags moved under the box in session 66); its attribute lines follow under the caption."""
    from lnet_anet.inference.visualize import _line_box, track_labels

    scale = float(np.clip(300 / 700, 0.35, 8.0))
    box = [100, 2, 200, 120]
    labels = track_labels([_tracked(box, 0)], (300, 400), 1, scale, 2)
    caption = [(x, y) for text, x, y, _ in labels if text.startswith("id")]
    lines = [_line_box(text, x, y, scale) for text, x, y, _ in labels]
    assert len(caption) == 1 and caption[0][1] > box[3]  # under the box, not in it
    assert all(r[1] >= box[3] for r in lines)  # no line over the face
    for n, a in enumerate(lines):
        for b in lines[n + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_vis_attribute_lines_that_do_not_fit_keep_the_count_of_the_rest():
    """Trial 81: lines dropped for room took "+N more present" with them: 8 present attributes
    were drawn as "Male 0.97" alone."""
    from lnet_anet.inference.visualize import track_labels

    names = ["Male", "Big_Nose", "Chubby", "Goatee", "Bald", "Mustache", "Sideburns", "Gray_Hair"]
    face = _tracked([100, 40, 200, 150], 0)
    face["track"]["attributes"] = {n: 0.9 - 0.05 * k for k, n in enumerate(names)}
    face["track"]["present"] = names
    scale = float(np.clip(300 / 700, 0.35, 8.0))  # lines 17 px apart
    expected = {185: ["8 attributes present"], 205: ["Male 0.90", "+7 more present"],  # another face below it
                225: ["Male 0.90", "Big_Nose 0.85", "Chubby 0.80", "+5 more present"]}  # fmt: skip
    for top, lines in expected.items():
        labels = track_labels([face, _tracked([150, top, 200, 300], 1)], (300, 400), 1, scale, 2)
        assert [text for text, _, _, n in labels if n == 0 and not text.startswith("id")] == lines


def test_vis_attribute_lines_stay_by_their_face_and_off_other_faces():
    """Trial 80: with faces close together, a face's attribute lines were drawn over another face
    or 100-150 px away from their own."""
    from lnet_anet.inference.visualize import _line_box, _line_height, track_labels

    boxes = [[100, 40, 200, 160], [100, 162, 200, 290], [210, 40, 300, 160]]  # a face right under the first
    faces = [_tracked(b, k) for k, b in enumerate(boxes)]
    scale = float(np.clip(300 / 700, 0.35, 8.0))
    labels = track_labels(faces, (300, 400), 1, scale, 2)
    step = _line_height(scale)
    for text, x, y, n in labels:
        rect = _line_box(text, x, y, scale)
        for k, b in enumerate(boxes):
            overlaps = rect[0] < b[2] and b[0] < rect[2] and rect[1] < b[3] and b[1] < rect[3]
            # a caption may sit on its own box, and so may the count of its attributes where it fits nowhere else
            assert not overlaps or (k == n and (text.startswith("id") or text.endswith("present"))), (text, n, k)
        if not text.startswith("id"):
            assert abs(y - (boxes[n][3] + step)) <= 4 * step, (text, y)  # near where it belongs

@pytest.mark.parametrize("size, boxes", [
    ((96, 96), [[20, 15, 76, 80]]),  # trial 78's long.mp4: the caption ran off both edges
    ((480, 320), [[272, 30, 360, 190], [338, 38, 480, 110], [372, 68, 470, 135]]),  # group_pan frame 103
])  # fmt: skip
def test_vis_labels_stay_inside_small_frames_and_off_each_other(size, boxes):
    """Trial 78: on tiny frames the labels ran off the frame; neighbouring faces' labels overlapped."""
    from lnet_anet.inference.visualize import _line_box, render_tracks, track_labels

    w, h = size
    record = {"width": w, "height": h, "faces": [_tracked(b, k) for k, b in enumerate(boxes)]}
    picture = render_tracks(np.zeros((h, w, 3), np.uint8), record)
    zoom = picture.shape[1] // w
    assert picture.shape[:2] == (h * zoom, w * zoom) and min(picture.shape[:2]) >= 256
    ph, pw = picture.shape[:2]
    scale = float(np.clip(min(ph, pw) / 700, 0.35, 8.0))
    labels = track_labels(record["faces"], (ph, pw), zoom, scale, max(1, round(min(ph, pw) / 250)))
    assert labels[0][0].startswith("id 0  age 31+/-8") and labels[0][3] == 0
    rects = [_line_box(text, x, y, scale) for text, x, y, _ in labels]
    for x0, y0, x1, y1 in rects:  # the text inside the picture (its darkened pad may touch the edge)
        assert x0 >= -4 and y0 >= -4 and x1 <= pw + 4 and y1 <= ph + 4
    for n, a in enumerate(rects):
        for b in rects[n + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


@pytest.mark.parametrize("flag, name, says", [
    ("--vis-video", "x.gif", "--vis-video writes .mp4, .m4v, .mov, .avi files, not .gif: give OUT.mp4"),  # was a folder x.gif
    ("--vis-video", "x.webm", "not .webm: give OUT.mp4"),
    ("--output", "x.csv", "--output writes JSON Lines, not .csv: give out.jsonl (predict, for photos, has --csv)"),
    ("--tracks", "t.csv", "--tracks writes JSON, not .csv: give tracks.json"),
    ("--output", "x.mp4", "--output names a video or a picture"),
])  # fmt: skip
def test_outputs_of_a_kind_the_command_does_not_write_are_refused(flag, name, says, tmp_path, capsys):
    """Trial 86: --vis-video x.gif made a folder named x.gif; --output x.csv held JSON Lines."""
    clip = _numbered(tmp_path / "clip.mp4", 2)
    assert main([str(clip), flag, str(tmp_path / name)]) == 2
    assert says in capsys.readouterr().err and not (tmp_path / name).exists()


def test_a_tracks_summary_line_names_its_sex_first_as_the_pictures_do():
    """Trial 86: the pictures said "Female 0.93" for a track whose stderr line listed no sex."""
    from lnet_anet.cli.predict_video import track_line

    track = {"id": 1, "first_time": 0.0, "last_time": 1.5, "first_frame": 0, "last_frame": 15, "frames": 16,
             "age": {"mean": 30.0, "std": 5.0}, "attractiveness": None,
             "attributes": {"Male": 0.05, "Smiling": 0.9, "Young": 0.8, "Bangs": 0.1}, "present": ["Young", "Smiling"]}
    assert track_line(track).endswith("age 30.0 (std 5.0), present: Female, Smiling, Young")
    man = {**track, "attributes": {**track["attributes"], "Male": 0.95}, "present": ["Smiling", "Male"]}
    assert track_line(man).endswith("present: Male, Smiling")


def test_a_face_filling_the_frame_keeps_the_count_of_its_attributes():
    """A face with no room off the faces for even "N attributes present" lost its attribute lines;
    the count now goes over the face, as a caption with no room does, inside the frame."""
    from lnet_anet.inference.visualize import _line_box, track_labels

    scale = float(np.clip(300 / 700, 0.35, 8.0))
    labels = track_labels([_tracked([0, 0, 400, 300], 0)], (300, 400), 1, scale, 2)
    texts = [text for text, _, _, _ in labels]
    assert texts[0].startswith("id 0") and texts[1:] in (["No_Beard 0.91", "Wavy_Hair 0.34"], ["2 attributes present"])
    for text, x, y, _ in labels:
        box = _line_box(text, x, y, scale)
        assert box[1] >= -4 and box[3] <= 304
