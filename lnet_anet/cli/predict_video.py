"""Faces followed across the frames of videos: boxes, attributes, age and attractiveness per frame,
each face joined to a track (FaceTracker), from the command line.

    python -m lnet_anet.cli.predict_video clip.mp4 > clip.jsonl                 # records on stdout
    python -m lnet_anet.cli.predict_video clip.mp4 --output clip.jsonl --vis-video clip_faces.mp4
    python -m lnet_anet.cli.predict_video a.mp4 b.mov --every 5 --output out.jsonl --vis-video vis/

Frames are read with OpenCV (lnet_anet.data.video.VideoReader: a phone's rotation tag applied,
so boxes are in the pixels of the frames as a player shows them), `--every` Nth from `--start`,
at most `--max-frames` per video, and read by the Predictor in batches (predict_many); each video
gets its own FaceTracker (README, "Video": matching by box overlap, answers averaged over the
track's last --window frames). --max-missed and --window count the frames read, so with --every 5
a track survives 5 times as many of the file's frames unseen; faces move more between the frames
read, and a face that moves about its own size between them starts a new track.

Records: JSON Lines, one per frame read, in order: the Predictor's record of the frame ("image"
null: a frame is an array; "width", "height", "faces", "error") with "video" (the file as given),
"frame" (its index in the file, from 0, the frames skipped included), "time" (seconds from the
start; null when the file says neither timestamps nor a frame rate) and "cut" (with --cuts, true:
a scene cut was found between the frame read before and this one, and every track ended there: its
faces start new tracks; always false without --cuts), and on each face "track" (FaceTracker.update's: "id",
from 0 in each video, "frames", the track's "age", "attractiveness", "attributes" and "present"
over its last --window frames), and "video_reading" (how it was read: the file's digest and the
settings --resume compares). --output FILE writes them atomically (FILE.part while running, FILE
whole at the end: lnet_anet.inference.outputs.RecordLog); without it they go to stdout.
--resume goes on from the records a stopped run left in FILE.part (or FILE): the frames they hold
are not read by the Predictor again; their tracks are rebuilt from them (FaceTracker only reads
records), and --vis-video draws them again from the records, so the outputs are those of one
whole run. Each record says how it was read ("video_reading": video_reading), and the records must
be of the same video file (its digest), read with the same bundle, --every, --start, --cuts and
tracker settings (--min-iou, --max-missed, --window), no more of them than --max-frames, or the
run is refused.
--vis-video OUT.mp4 (one video; a folder for several: DIR/<file name>.mp4) writes the frames read
with each face's box in its track's colour, the track's id and age above it and its present attributes
below it (visualize.render_tracks; frames under visualize.MIN_SIDE pixels a side drawn enlarged),
at the source's frame rate divided by --every.

Scene cuts (--cuts, opt-in; lnet_anet.data.video.SceneCuts: PySceneDetect's ContentDetector at
its default threshold, not tuned on this project's data) end every track, so that a new person at
the place of the last one gets a new id. Off by default: a camera flash or a sudden darkening reads
as a cut too, and each splits every person present into two tracks (trial 79), while a phone clip
is one shot; an edited video with cuts wants it.

Tracks: --tracks FILE.json writes every track of every video (FaceTracker.summaries: its first
and last frame and time, its frames, its age and attractiveness over all its frames, weighted by
1 / std**2, its mean attribute probabilities and "present"), short ones included, atomically at
the end: {"videos": [{"video", "frames_read", "frames_declared", "fps", "cuts" (frame indices),
"error", "tracks": [...]}]}.

At the end, stderr gets a summary from the same summaries: per video the frames read and per
track of at least --min-track-frames frames one line: its id, the time of its first and last
frame, its frames, its age and attractiveness ("31.2 (std 5.1)": std is one frame's uncertainty,
which more frames do not shrink, not the error of the mean) and its "present" attributes, then how
many shorter tracks it left out. A progress bar shows on a terminal; elsewhere (a log file) a line
every PROGRESS_EVERY_S seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lnet_anet.cli.arguments import (
    CommandParser,
    RawDescriptionDefaultsHelpFormatter,
    add_model_options,
    int_in,
    quiet_closed_stdout,
    same_path,
    stops_on_interrupt,
)

PROG = "python -m lnet_anet.cli.predict_video"
VIS_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG"}  # --vis-video's containers
UNKNOWN_FPS = 25.0  # --vis-video's rate for a source that states none
SHORT_BY = 0.05  # a video whose frames end this share or more before its declared count was cut short
PROGRESS_EVERY_S = 10.0  # seconds between progress lines when stderr is not a terminal (a log)
EPILOG = """\
records: one JSON line per frame read: the frame's record with "video", "frame" (its index in the
file), "time" (seconds; null when the file states neither timestamps nor a frame rate), "cut"
(true: a scene cut before this frame ended every track) and on each face "track" (its id and its
answers averaged over its last --window frames). --max-missed and --window count frames read:
with --every 5 a track survives 5 times as many of the file's frames unseen.

stderr: a progress bar on a terminal (elsewhere a line every 10 s: "a.mp4: 300 / 3000 frames,
11 fps"), then per video the frames read and one line per track of at least --min-track-frames
frames: "track 0: 0.00-4.76 s, 120 frames, age 45.7 (std 7.8), attractiveness 2.9 (std 0.4),
present: Male, ..." (the sex first, Female where Male is absent, as the pictures say it): its age
and attractiveness over all its frames, weighted by 1 / std**2; std
is the uncertainty of one frame, which more frames do not shrink (not the error of the mean).
--tracks FILE.json has every track, the short ones included.

exit status:
  0    every video was read to its end (or to --max-frames)
  1    a video could not be read while others could (its error line names it; the others are
       read), a video's frames stopped early (cut short or damaged: its error line says where;
       its records so far are kept and the other videos read), frames of a damaged part skipped
       (the frames after it read; its error line names the frames lost), --start past a video's last
       frame, or the run could not be done: the bundle missing or bad, a --device torch cannot
       use, an output that cannot be written (what was written is kept in FILE.part) or that
       another run is writing
  2    bad usage: an unknown option or a bad value, no video given, no file given being a video
       OpenCV can read (missing, a folder, an image, corrupt, no frame), --output, --tracks or
       --vis-video naming an input, a video or an image (--vis-video: other than OUT.mp4, .m4v,
       .mov, .avi or a folder), --output or --tracks named .csv; an --output whose FILE.part holds a
       stopped run's records, without --resume; --resume without --output, or into records read
       with another bundle, --every, --start, --max-frames, --cuts or tracker settings
  130  interrupted (Ctrl-C, or SIGTERM): the records so far are in --output's FILE.part (rerun
       with --resume to go on), the frames drawn so far in --vis-video's OUT.part.mp4, the tracks
       so far in --tracks' FILE.part
  141  the standard output was closed by its reader (`| head`): stopped quietly"""


def _window(text: str) -> int | None:
    """--window's argparse type: frames (>= 1), or "all" (None: the whole track)."""
    return None if text.lower() == "all" else int_in(1)(text)


def _min_iou(text: str) -> float:
    """--min-iou's argparse type: a number in (0, 1]."""
    from lnet_anet.cli.arguments import finite_float

    value = finite_float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = CommandParser(prog=PROG, description="Faces, attributes, age and attractiveness across the frames of videos, "
                                             "each face joined to a track.",
                      epilog=EPILOG, formatter_class=RawDescriptionDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("videos", nargs="*", type=Path, help="video files (.mp4 .mov .avi .mkv ...: what OpenCV's FFmpeg reads)")
    p.add_argument("--output", type=Path, metavar="FILE.jsonl",
                   help="write the JSON Lines to FILE, atomically (FILE.part while running), not to stdout; "
                        "its folder is made when missing, as predict's --output")  # fmt: skip
    p.add_argument("--resume", action="store_true",
                   help="go on from the records a stopped run left in --output FILE (FILE.part): their frames are not "
                        "read again, their tracks are rebuilt from them; the same bundle, --every, --start, "
                        "--max-frames, --cuts and tracker settings, or it is refused (exit 2)")  # fmt: skip
    p.add_argument("--tracks", type=Path, metavar="FILE.json",
                   help="write every track of every video (first and last frame, frames, answers over the whole "
                        "track), short ones included, as one JSON file, atomically at the end")  # fmt: skip
    p.add_argument("--vis-video", type=Path, metavar="OUT.mp4|DIR",
                   help="write the frames read with each face's box, track id, age and present attributes: a video file "
                        f"({' '.join(VIS_FOURCC)}) for one video, a folder for several (DIR/<file name>.mp4); frames "
                        "under 256 px a side are drawn enlarged, so that the labels fit")  # fmt: skip
    p.add_argument("--every", type=int_in(1), default=1, metavar="N", help="read every Nth frame")
    p.add_argument("--start", type=int_in(0), default=0, metavar="FRAME", help="the first frame read (its index, from 0)")
    p.add_argument("--max-frames", type=int_in(1), metavar="N", help="read at most N frames of each video (default: all)")
    add_model_options(p, "frames")
    p.add_argument("--min-iou", type=_min_iou, default=0.3, metavar="IOU",
                   help="the least overlap (IoU, in (0, 1]) of a face's box with a track's last box to continue it")
    p.add_argument("--max-missed", type=int_in(0), default=15, metavar="N",
                   help="frames read a track may go unseen and still be continued")
    p.add_argument("--window", type=_window, default=30, metavar="N|all",
                   help="frames read each track's answers are averaged over (all: the whole track)")
    p.add_argument("--min-track-frames", type=int_in(1), default=3, metavar="N",
                   help="list on stderr the tracks of at least N frames (the shorter ones are counted; --output and "
                        "--tracks keep every track)")  # fmt: skip
    p.add_argument("--cuts", action="store_true",
                   help="end every track at a scene cut, for edited videos (PySceneDetect's ContentDetector, its "
                        "default threshold 27, not tuned on this project's data; a flash or a sudden darkening "
                        "reads as a cut too, and splits each person's track)")  # fmt: skip
    p.add_argument("--top", type=int_in(1, 40), default=3,
                   help="present attributes (the track's decisions) drawn per face in --vis-video")
    return p


# -- checks before the models load ---------------------------------------------------------------


def _video_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a video (an "error:" line's text, naming it), or None."""
    from lnet_anet.data.images import image_suffixes
    from lnet_anet.data.video import VideoReader, VideoReadError

    if path.suffix.lower() in image_suffixes() and path.is_file():  # OpenCV would read a photo as a 1-frame video
        return f"{path}: an image, not a video: python -m lnet_anet.predict reads it"
    try:
        VideoReader(path).close()
    except VideoReadError as e:
        return str(e)
    return None


def _vis_targets(parser, args) -> list[Path] | None:
    """The --vis-video file of each video (parser.error, exit 2, for a name that cannot be one), or None."""
    from lnet_anet.data.images import image_suffixes
    from lnet_anet.data.video import VIDEO_SUFFIXES

    vis = args.vis_video
    if vis is None:
        return None
    suffix = vis.suffix.lower()
    if suffix in VIS_FOURCC and not vis.is_dir():
        if len(args.videos) > 1:
            parser.error(f"--vis-video {vis} is one video's name: give a folder for {len(args.videos)} videos")
        targets = [vis]
    elif (suffix in VIDEO_SUFFIXES or suffix in image_suffixes()) and not vis.is_dir():
        # trial 86: OUT.gif (or .png) became a folder named so, the video inside it
        parser.error(f"--vis-video writes {', '.join(VIS_FOURCC)} files, not {suffix}: give OUT.mp4 (or a folder)")
    elif vis.exists() and not vis.is_dir():
        parser.error(f"--vis-video {vis} is a file: give OUT.mp4 or a folder")
    else:
        names = [Path(v).name for v in args.videos]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            parser.error(f"--vis-video {vis}/: videos of one name from two folders ({doubled[0]}): give them apart")
        targets = [vis / f"{name}.mp4" for name in names]
    for target in targets:
        if any(same_path(target, v) for v in args.videos):
            parser.error(f"--vis-video {target} is an input video: give a new file's name")
    return targets


def _check_output(parser, args) -> None:
    """parser.error (exit 2) for an --output or --tracks that names an input, a video or an image,
    or two outputs that name one file."""
    from lnet_anet.data.images import image_suffixes
    from lnet_anet.data.video import VIDEO_SUFFIXES

    named = [(flag, path) for flag, path in (("--output", args.output), ("--tracks", args.tracks)) if path is not None]
    for flag, out in named:
        if out.suffix.lower() in VIDEO_SUFFIXES | image_suffixes() or any(same_path(out, v) for v in args.videos):
            example = "out.jsonl" if flag == "--output" else "tracks.json"
            parser.error(f"{flag} names a video or a picture ({out}); give a new file's name, e.g. {example}")
    for flag, out in named:  # JSON, whatever the name: a spreadsheet would open JSON Lines as one column
        if out.suffix.lower() in (".csv", ".tsv", ".xlsx"):
            parser.error(f"{flag} writes JSON{' Lines' if flag == '--output' else ''}, not {out.suffix}: give "
                         f"{'out.jsonl' if flag == '--output' else 'tracks.json'} (predict, for photos, has --csv)")
    outputs = [*named, *([("--vis-video", args.vis_video)] if args.vis_video is not None else [])]
    for n, (flag, out) in enumerate(outputs):
        for other, path in outputs[n + 1:]:
            if same_path(out, path):
                parser.error(f"{flag} and {other} name the same file ({out}): give each its own")


# -- --resume ------------------------------------------------------------------------------


def _frames_said(frames: list[int]) -> str:
    """Frame indices as a message names them: "0, 2, 4" or "0, 2, 4, ..., 98 (50 frames)"."""
    shown = ", ".join(map(str, frames[:3]))
    return shown if len(frames) <= 3 else f"{shown}, ..., {frames[-1]} ({len(frames)} frames)"


def replay_tracks(records: list[dict[str, Any]], args, decision_thresholds=None):
    """(FaceTracker, scene cuts): a video's tracker as it stood after `records` (its frames'
    records as a stopped run wrote them, in order), rebuilt by giving it copies of them, and the
    frames where they say a scene cut ended every track. Raises ValueError when the records say a
    cut without --cuts, or when the rebuilt tracks are not the ones the records hold (another
    --min-iou, --max-missed or --window)."""
    from lnet_anet.inference.tracking import FaceTracker

    tracker = FaceTracker(decision_thresholds, args.min_iou, args.max_missed, args.window)
    cuts = []
    for record in records:
        if record.get("cut"):
            if not args.cuts:
                raise ValueError(f"frame {record['frame']} ended its tracks at a scene cut: it was read with --cuts")
            tracker.end_tracks()
            cuts.append(record["frame"])
        copy = {**record, "faces": [{k: v for k, v in face.items() if k != "track"} for face in record["faces"]]}
        tracker.update(copy)
        if [f["track"]["id"] for f in copy["faces"]] != [(f.get("track") or {}).get("id") for f in record["faces"]]:
            raise ValueError(f"the tracks of frame {record['frame']} are not what --min-iou {args.min_iou:g}, "
                             f"--max-missed {args.max_missed} and --window {args.window or 'all'} give: "
                             "it was read with other tracker settings")  # fmt: skip
    return tracker, cuts


def video_reading(path: Path, args) -> dict[str, Any]:
    """How this run reads a video, as each of its records says under "video_reading": the file's
    digest (lnet_anet.data.video.file_digest) and the settings that decide the frames read and
    their tracks (--every, --start, --cuts, --min-iou, --max-missed, --window; None: all).
    --resume goes on only from records read so. Raises OSError when the file cannot be read."""
    from lnet_anet.data.video import file_digest

    return {"video_digest": file_digest(path), "every": args.every, "start": args.start, "cuts": bool(args.cuts),
            "min_iou": args.min_iou, "max_missed": args.max_missed, "window": args.window}  # fmt: skip


READING_FLAGS = {"every": "--every", "start": "--start", "cuts": "--cuts", "min_iou": "--min-iou",
                 "max_missed": "--max-missed", "window": "--window"}  # fmt: skip


def _reading_differs(path: Path, records: list[dict[str, Any]], now: dict[str, Any]) -> str | None:
    """Why the records of `path` were not read as this run reads it (video_reading), or None."""
    said = [r["video_reading"] for r in records if isinstance(r.get("video_reading"), dict)]
    if len(said) < len(records):  # an older lnet_anet's: nothing says which file they were read from (trial 82)
        return (f"{len(records) - len(said)} records of {path} in --output do not say how they were read (written "
                "by an older lnet_anet), so they cannot be checked against the video: give another --output to read "
                "it anew")  # fmt: skip
    if any(s.get("video_digest") != now["video_digest"] for s in said):
        return (f"{path} is not the video its records in --output were read from (its size or first MiB differ): "
                "give another --output to read it anew")  # fmt: skip

    def spelled(key: str, value: Any) -> str:
        if key == "cuts":
            return "with --cuts" if value else "without --cuts"
        return f"{READING_FLAGS[key]} {'all' if value is None else value}"

    for key in READING_FLAGS:
        values = {json.dumps(s.get(key)) for s in said}
        if values != {json.dumps(now[key])}:
            before = " and ".join(spelled(key, json.loads(v)) for v in sorted(values))
            return (f"the records of {path} were read {before}, this run {spelled(key, now[key])}: rerun with the "
                    "options they were read with, or write another --output")  # fmt: skip
    return None


def resumed_frames(logged: list[dict[str, Any]], args) -> dict[int, list[dict[str, Any]]]:
    """--resume: the records of each video given (by its index in args.videos) that the output
    already holds (`logged`: --output's records, then its .part log's; a frame's last one wins),
    in frame order. Raises ValueError, naming the video, when they were read from another file or
    with other settings (their "video_reading": _reading_differs), when they are not the first
    frames this run reads (another --every, --start, or more than --max-frames) or their tracks are
    not this run's (replay_tracks), or when the output holds frames of none of the videos by path
    though some share a file name (a run from another working folder: records keep paths as
    given)."""
    from lnet_anet.inference.outputs import image_key

    by_video: dict[str, dict[int, dict[str, Any]]] = {}
    for record in logged:
        frame = record.get("frame")
        if record["image"] is None and isinstance(record.get("video"), str) and isinstance(frame, int):
            by_video.setdefault(image_key(record["video"]), {})[frame] = record
    out = {}
    for n, path in enumerate(args.videos):
        frames = by_video.get(image_key(os.fsdecode(path)))
        if not frames:
            continue
        indices = sorted(frames)
        wanted = [args.start + k * args.every for k in range(len(indices))]
        if indices != wanted or (args.max_frames is not None and len(indices) > args.max_frames):
            limit = f" --max-frames {args.max_frames}" if args.max_frames is not None else ""
            raise ValueError(f"{args.output} holds frames {_frames_said(indices)} of {path}, which --every "
                             f"{args.every} --start {args.start}{limit} do not read: rerun with the options it was "
                             "read with, or write another --output")  # fmt: skip
        records = [frames[k] for k in indices]
        try:
            now = video_reading(path, args)
        except OSError:  # gone since: main names the video that cannot be read, and reads the others
            continue
        if why := _reading_differs(path, records, now):
            raise ValueError(why)
        try:
            replay_tracks(records, args)
        except ValueError as e:
            raise ValueError(f"{path}: {e}; rerun with the options it was read with, or write another --output") from None
        out[n] = records
    if by_video and not out:
        names = {Path(key).name for key in by_video}
        shared = sorted(names & {Path(v).name for v in args.videos})
        if shared:
            raise ValueError(f"{args.output} holds frames of {shared[0]} under another path: records keep each "
                             "video's path as given, relative to the folder the run was started in; run from that "
                             "folder with the same paths")  # fmt: skip
    return out


# -- the run ---------------------------------------------------------------------------------


class VisWriter:
    """--vis-video's file for one video: frames written to a temporary file beside it, renamed
    into place by close() (abandon(): removed; keep_partial(): renamed to partial_path, for an
    interrupted run). Raises OSError naming the file when OpenCV's writer cannot open it."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")  # the suffix picks the container
        self.written = 0
        self._writer = None

    @property
    def partial_path(self) -> Path:
        """OUT.part.mp4: where keep_partial() puts the frames drawn so far (the suffix kept, so players open it)."""
        return self.path.with_name(f"{self.path.stem}.part{self.path.suffix}")

    def write(self, rgb) -> None:
        import cv2

        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            h, w = rgb.shape[:2]
            fourcc = cv2.VideoWriter_fourcc(*VIS_FOURCC.get(self.path.suffix.lower(), "mp4v"))
            self._writer = cv2.VideoWriter(os.fsdecode(self.tmp), fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise OSError(f"--vis-video {self.path}: OpenCV's video writer cannot open it")
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            os.replace(self.tmp, self.path)
            self.partial_path.unlink(missing_ok=True)  # an interrupted run's, now outdated (trial 79)

    def abandon(self) -> None:
        if self._writer is not None:
            self._writer.release()
        self.tmp.unlink(missing_ok=True)

    def keep_partial(self) -> Path | None:
        """Finish the frames written so far as a playable file at partial_path (returned), or
        None when none was written or it cannot be renamed (the temporary file then removed)."""
        if self._writer is None or not self.written:
            self.abandon()
            return None
        self._writer.release()
        try:
            os.replace(self.tmp, self.partial_path)
        except OSError:
            self.tmp.unlink(missing_ok=True)
            return None
        return self.partial_path


@dataclass
class VideoRun:
    """What one video gave: its frames read, the file's frame count and rate, its scene cuts (frame
    indices), its tracks (FaceTracker.summaries), why it stopped early or was not read (error;
    None: it was read), and an interrupted run's partial --vis-video file."""

    name: str
    read: int = 0
    frames_seen: int = 0
    frame_count: int | None = None
    fps: float | None = None
    cuts: list[int] = field(default_factory=list)
    tracks: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    note: str = ""
    partial_vis: Path | None = None
    resumed: int = 0  # of the frames read, those --output held already (--resume)
    damaged: list[tuple[int, int]] = field(default_factory=list)  # frames not decoded, skipped (VideoReader.damaged)
    orientation: int = 0  # the container's rotation tag, degrees (the frames are read turned by it)

    def as_json(self) -> dict[str, Any]:
        """This video's entry in --tracks' file."""
        return {"video": self.name, "frames_read": self.read, "frames_declared": self.frame_count, "fps": self.fps,
                "orientation": self.orientation, "cuts": self.cuts, "damaged_frames": [list(d) for d in self.damaged], "error": self.error,
                "tracks": self.tracks}  # fmt: skip


class Progress:
    """A video's progress on stderr: a tqdm bar on a terminal, else a plain line every
    PROGRESS_EVERY_S seconds ("a.mp4: 300 / 3000 frames, 11 fps"), so that a log shows the run goes."""

    def __init__(self, name: str, total: int | None):
        from tqdm import tqdm

        self.name, self.total, self.done, self.analysed = name, total, 0, 0
        self.bar = tqdm(total=total, disable=None, file=sys.stderr, unit="frame", desc=name[:30], leave=False)
        self.plain = self.bar.disable
        self.start = self.said = time.monotonic()

    def update(self, analysed: bool = True) -> None:
        """One more frame done; analysed=False for a frame --resume took from the output (counted,
        not in the rate, which it would inflate)."""
        from lnet_anet.cli.predict import _safe

        self.done += 1
        self.bar.update()
        now = time.monotonic()
        if not analysed:
            self.start = now  # the rate counts the frames analysed since
            return
        self.analysed += 1
        if self.plain and now - self.said >= PROGRESS_EVERY_S:
            self.said = now
            of = f" / {self.total}" if self.total else ""
            rate = self.analysed / max(now - self.start, 1e-9)
            print(_safe(f"{self.name}: {self.done}{of} frames, {rate:.3g} fps"), file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def run_video(path: Path, predictor, args, emit, vis: Path | None, done: VideoRun,
              previous: Sequence[dict[str, Any]] = ()) -> VideoRun:  # fmt: skip
    """Read one video (module docstring) into `done`: its records to `emit`, its frames to `vis`.
    `previous` (--resume): the records of its first frames that the output holds already
    (resumed_frames): those frames are decoded for --vis-video and --cuts but not analysed, and
    their records rebuild the tracker; they are not emitted again. A file that cannot be opened,
    a frame that cannot be decoded, frames that end well before the count the file declares, a
    frame of `previous` missing from the file, or --start past its last frame stop it with
    done.error (the records emitted so far stand). On an interruption (KeyboardInterrupt, raised
    on) done.tracks holds the tracks so far and done.partial_vis the frames drawn so far. Raises
    OSError when `emit` or the --vis-video file cannot be written."""
    from collections import deque

    from lnet_anet.data.video import SceneCuts, VideoReader, VideoReadError
    from lnet_anet.inference.visualize import render_tracks

    tracker, done.cuts = replay_tracks(list(previous), args, predictor.decision_thresholds)  # checked before loading
    cuts = SceneCuts() if args.cuts else None
    try:
        reader = VideoReader(path, args.every, args.start, args.max_frames)
        reading = video_reading(path, args)
    except (VideoReadError, OSError) as e:  # checked before the models loaded, but gone or changed since
        done.error = str(e)
        return done
    with reader:
        done.fps, done.frame_count, done.orientation = reader.fps, reader.frame_count, reader.orientation
        fps = reader.fps or UNKNOWN_FPS
        writer = VisWriter(vis, fps / args.every) if vis is not None else None
        taken: deque = deque()  # the frames handed to the Predictor, not yet back: (frame, a cut before it)
        kept = iter(reader)

        def frames():
            for frame in kept:
                taken.append((frame, cuts is not None and cuts.is_cut(frame.image)))
                yield frame.image

        progress = Progress(path.name, reader.expected_frames)
        try:
            for record in previous:  # --resume: drawn and seen by the scene cuts again, not analysed
                frame = next(kept, None)
                size = None if frame is None else (frame.image.shape[1], frame.image.shape[0])
                if frame is None or frame.index != record["frame"] or size != (record["width"], record["height"]):
                    found = ("the file ends before it" if frame is None else
                             f"frame {frame.index} came in its place" if frame.index != record["frame"] else
                             f"it is {size[0]}x{size[1]} now, {record['width']}x{record['height']} then")  # fmt: skip
                    done.error = (f"{path}: --output holds a record of its frame {record['frame']}, but {found}: was "
                                  "the video changed since? Give another --output to read it anew")  # fmt: skip
                    if writer is not None:
                        writer.abandon()
                    done.frames_seen = reader.frames_seen
                    done.tracks, done.note = tracker.summaries(), _note(done, args, False)
                    return done
                if cuts is not None:
                    cuts.is_cut(frame.image)
                if writer is not None:
                    writer.write(render_tracks(frame.image, record, args.top))
                done.read += 1
                done.resumed += 1
                progress.update(analysed=False)
            for analysis in predictor.analyse_many(frames(), args.batch_size):
                frame, cut = taken.popleft()
                if cut:
                    tracker.end_tracks()
                    done.cuts.append(frame.index)
                record = {"video": done.name, "frame": frame.index, "time": frame.time, "cut": cut,
                          **analysis.record, "video_reading": reading}  # fmt: skip
                tracker.update(record)
                emit(record)
                if writer is not None:
                    writer.write(render_tracks(frame.image, record, args.top))
                done.read += 1
                progress.update()
        except VideoReadError as e:
            done.error = f"{e}; the {done.read} records read before it are kept"
        except KeyboardInterrupt:
            done.tracks = tracker.summaries()
            if writer is not None:
                done.partial_vis = writer.keep_partial()
            raise
        except BaseException:
            if writer is not None:
                writer.abandon()
            raise
        finally:
            progress.close()
        if writer is not None:
            writer.close()
        tracker.end_tracks()  # the video is over: its tracks say "ended": true in --tracks (trial 79)
        done.tracks = tracker.summaries()
        done.frames_seen = reader.frames_seen
        limited = args.max_frames is not None and done.read >= args.max_frames
        count = reader.frame_count
        if done.error is None and done.read == 0:
            done.error = (f"{path}: --start {args.start} is past its last frame (frame {reader.frames_seen - 1}); "
                          "no frame read")  # fmt: skip
        elif done.error is None and not limited and count and count - reader.frames_seen > max(2, SHORT_BY * count):
            done.error = (f"{path}: the frames ended after {reader.frames_seen} of the {count} the file declares "
                          f"(cut short or damaged); the {done.read} records read are kept")  # fmt: skip
        done.damaged = list(reader.damaged)
        if done.error is None and done.damaged:  # read past them, but frames were lost: said, exit 1
            parts = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in done.damaged[:5])
            lost = sum(b - a + 1 for a, b in done.damaged)
            done.error = (f"{path}: {_plural(lost, 'frame')} could not be decoded (a damaged part of the file: frames "
                          f"{parts}{' ...' if len(done.damaged) > 5 else ''}), skipped; the frames after "
                          f"{'them' if lost > 1 else 'it'} were read, the {done.read} records kept")  # fmt: skip
        done.note = _note(done, args, limited)
    return done


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _note(done: VideoRun, args, limited: bool) -> str:
    """What the summary says in brackets after a video's frames read: the step, the start, the
    file's frame count (or that it was wrong) and rate."""
    count = done.frame_count
    if count is None:
        declared = "no frame count stated"
    elif done.frames_seen > count and not limited:
        declared = f"the file declares {count}: its count is wrong"  # joined files, an estimated count
    else:
        declared = f"of {count} in the file"
    said = [f"{done.resumed} of them in --output already" if done.resumed else "",
            f"every {args.every}" if args.every > 1 else "", f"from frame {args.start}" if args.start else "",
            declared, f"{done.fps:g} fps" if done.fps else "no frame rate stated"]  # fmt: skip
    return ", ".join(filter(None, said))


def _answer(value: dict | None) -> str:
    """A track's age or attractiveness as the summary says it: "31.2 (std 5.1)", std being one frame's."""
    return "-" if value is None else f"{value['mean']:.1f} (std {value['std']:.1f})"


def track_line(track: dict[str, Any]) -> str:
    """One track (FaceTracker.summaries') as the stderr summary's line."""
    times = track["first_time"], track["last_time"]
    span = (f"{times[0]:.2f}-{times[1]:.2f} s" if None not in times
            else f"frames {track['first_frame']}-{track['last_frame']}")  # fmt: skip
    parts = [f"track {track['id']}: {span}", _plural(track["frames"], "frame"), f"age {_answer(track['age'])}"]
    if track["attractiveness"] is not None:
        parts.append(f"attractiveness {_answer(track['attractiveness'])}")
    from lnet_anet.inference.visualize import present_attributes

    # as the pictures list them: the sex first, "Female" where Male is decided absent (trial 86)
    present = [name for name, _ in present_attributes(track, len(track.get("attributes") or {}) + 1)[0]]
    parts.append(f"present: {', '.join(present) if present else '-'}")
    return ", ".join(parts)


def _summary(runs: list[VideoRun], min_frames: int) -> list[str]:
    """The stderr summary's lines: per video read, its frames and the tracks of at least
    `min_frames` frames (module docstring)."""
    from lnet_anet.cli.predict import _safe

    lines = []
    for run in runs:
        if run.read == 0 and not run.tracks:
            lines.append(_safe(f"{run.name}: no frame read"))
            continue
        cuts = f", {_plural(len(run.cuts), 'scene cut')}" if run.cuts else ""
        lines.append(_safe(f"{run.name}: {_plural(run.read, 'frame')} read ({run.note}), "
                           f"{_plural(len(run.tracks), 'track')}{cuts}"))  # fmt: skip
        listed = [t for t in run.tracks if t["frames"] >= min_frames]
        lines += [f"  {track_line(track)}" for track in listed]
        if len(listed) < len(run.tracks):
            short = len(run.tracks) - len(listed)
            lines.append(f"  ({_plural(short, 'track')} of under {_plural(min_frames, 'frame')} not listed: "
                         "--min-track-frames, --tracks)")  # fmt: skip
    return lines


@stops_on_interrupt()  # while torch and the bundle load; the run's own interruption says what is kept
def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:  # argparse exits on bad usage (2) and --help (0); main returns the code instead
        args = parser.parse_intermixed_args(list(sys.argv[1:] if argv is None else argv))
        if not args.videos:
            parser.error("give video files (clip.mp4 ...)")
        if args.resume and args.output is None:
            parser.error("--resume needs --output FILE.jsonl (the file a stopped run wrote)")
        _check_output(parser, args)
        vis_targets = _vis_targets(parser, args)
    except SystemExit as e:
        return int(e.code or 0)
    from lnet_anet.cli.predict import _safe

    problems = {n: p for n, p in enumerate(map(_video_problem, args.videos)) if p is not None}  # said now
    for problem in problems.values():
        print(f"error: {_safe(problem)}", file=sys.stderr)
    if len(problems) == len(args.videos):  # nothing to read: a usage error
        return 2
    from lnet_anet.inference.outputs import (
        NotARecordLog,
        RecordLog,
        check_resumable,
        in_use,
        json_line,
        output_path_problem,
        part_log,
        read_records,
        write_json_file,
    )

    named = (("--output", args.output), ("--tracks", args.tracks), *(("--vis-video", t) for t in vis_targets or ()))
    for flag, path in named:
        if path is not None and (problem := output_path_problem(path)):
            print(f"error: cannot write {flag} {_safe(str(path))}: {_safe(problem)}", file=sys.stderr)
            return 1
    if args.output is not None and in_use(part_log(args.output)):
        print(f"error: cannot write --output {_safe(str(args.output))}: another run is writing it", file=sys.stderr)
        return 1
    previous: dict[int, list[dict[str, Any]]] = {}  # --resume: the records --output holds, per video given
    if args.output is not None:  # said now, not after the models load (seconds)
        part = part_log(args.output)
        try:
            if args.resume:
                check_resumable(args.output)
                previous = resumed_frames(read_records(args.output) + read_records(part), args)
            elif left := read_records(part):
                print(f"error: {_safe(str(part))} holds {len(left)} records of a run that was stopped: add --resume to "
                      f"go on from them, or remove {_safe(part.name)} to start over", file=sys.stderr)  # fmt: skip
                return 2
        except NotARecordLog as e:
            print(f"error: --resume: {_safe(str(e).replace(' of predict', ' of predict_video'))}; give the --output "
                  "of a stopped run, or another file", file=sys.stderr)  # fmt: skip
            return 2
        except ValueError as e:  # records read otherwise: its message says what to do
            print(f"error: --resume: {_safe(str(e))}", file=sys.stderr)
            return 2
        except OSError as e:  # a video that cannot be read for its digest
            print(f"error: {_safe(str(e))}", file=sys.stderr)
            return 2

    from lnet_anet.cli.predict import _show_export_notes
    from lnet_anet.inference.bundle import BundleError
    from lnet_anet.inference.predictor import Predictor

    _show_export_notes()
    try:
        predictor = Predictor.load(args.bundle, device=args.device, backend=args.backend)
    except (FileNotFoundError, BundleError, RuntimeError, ValueError, ImportError) as e:
        print(f"error: {_safe(str(e))}", file=sys.stderr)
        return 1
    log = None
    if args.output is not None:
        from lnet_anet.cli.predict import _other_options, _reading_options_of, _refuse_mixed

        try:
            log = RecordLog(args.output, resume=args.resume)
        except NotARecordLog as e:  # written in between by another program: refused, the file left as it is
            print(f"error: --resume: {_safe(str(e))}", file=sys.stderr)
            return 2
        except OSError as e:
            print(f"error: cannot write --output {_safe(str(args.output))}: {_safe(e.strerror or str(e))}", file=sys.stderr)
            return 1
        read = [r for records in previous.values() for r in records if r.get("error") is None]
        if mixed := _other_options(read, _reading_options_of(predictor), predictor.bundle.preprocessing):
            log.abandon()
            return _refuse_mixed(args.output, mixed)
    as_text = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"

    def emit(record: dict[str, Any]) -> None:
        if log is not None:
            log.write(record)
        else:
            print(json_line(record) if as_text else json.dumps(record), flush=True)

    def tracks_kept(part: bool) -> str:
        """--tracks' file written (FILE, or FILE.part for a run stopped early): "; the tracks ... are in X", or ""."""
        if args.tracks is None:
            return ""
        target = part_log(args.tracks) if part else args.tracks
        try:
            write_json_file(target, {"videos": [run.as_json() for run in runs]})
        except OSError as e:
            return f"; --tracks {target} could not be written ({e.strerror or e})"
        return f"; the tracks so far are in {target}" if part else ""

    from lnet_anet.engine.signals import sigterm_as_interrupt

    runs: list[VideoRun] = []
    try:
        with sigterm_as_interrupt():
            for n, path in enumerate(args.videos):
                runs.append(VideoRun(os.fsdecode(path), error=problems.get(n)))
                if n in problems:  # said before the models loaded
                    continue
                run_video(path, predictor, args, emit, vis_targets[n] if vis_targets else None, runs[-1],
                          previous.get(n, ()))  # fmt: skip
                if runs[-1].error is not None:
                    print(f"error: {_safe(runs[-1].error)}", file=sys.stderr)
        if args.tracks is not None:
            write_json_file(args.tracks, {"videos": [run.as_json() for run in runs]})
            part_log(args.tracks).unlink(missing_ok=True)  # an interrupted run's, now outdated (trial 79)
        if log is not None:
            log.close()
    except KeyboardInterrupt:
        kept = (f"; the {log.in_part} records read are in {log.part}: rerun with --resume to go on"
                if log is not None and log.in_part else "")
        partial = runs[-1].partial_vis if runs else None
        if partial is not None:
            kept += f"; the frames drawn are in {partial}"
        if log is not None:
            log.abandon()
        print(f"\ninterrupted{_safe(kept + tracks_kept(part=True))}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout stopped (`| head`): stop quietly, as predict does
        quiet_closed_stdout()
        return 141
    except OSError as e:  # an output could not be written (disk full, ...)
        kept = f"; the {log.in_part} records written are in {log.part}: --resume goes on from them" if log is not None else ""
        if log is not None:
            log.abandon()
        print(f"error: cannot write the output ({_safe(str(e))}){_safe(kept)}", file=sys.stderr)
        return 1
    for line in _summary(runs, args.min_track_frames):
        print(line, file=sys.stderr)
    failed = [run.name for run in runs if run.error is not None]
    if failed:
        print(_safe(f"{len(failed)} of {_plural(len(runs), 'video')} failed or stopped early (the error lines above): "
                    f"{', '.join(failed)}"), file=sys.stderr)  # fmt: skip
    drawn = [t for t, run in zip(vis_targets or (), runs, strict=False) if run.read and t.exists()]
    written = [str(p) for p in (args.output, args.tracks, *drawn) if p is not None]
    if written:
        print(_safe(f"written: {', '.join(written)}"), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
