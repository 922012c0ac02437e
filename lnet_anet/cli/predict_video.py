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
"frame" (its index in the file, from 0, the frames skipped included) and "time" (seconds from the
start; null when the file says neither timestamps nor a frame rate), and on each face "track"
(FaceTracker.update's: "id", from 0 in each video, "frames", the track's "age", "attractiveness",
"attributes" and "present"). --output FILE writes them atomically (FILE.part while running, FILE
whole at the end: lnet_anet.inference.outputs.RecordLog); without it they go to stdout.
--vis-video OUT.mp4 (one video; a folder for several: DIR/<file name>.mp4) writes the frames read
with each face's box in its track's colour, the track's id and age above it and its top attributes
below it (visualize.render_tracks), at the source's frame rate divided by --every.

At the end, stderr gets a summary: per video the frames read and per track one line: its id, the
time of its first and last frame, its frames, its age and attractiveness over all its frames
(weighted by 1 / std**2, as FaceTracker weighs them: "mean+-std", std being one frame's
uncertainty) and its "present" attributes (mean probability over its frames at or above the
bundle's decision threshold). A progress bar shows on a terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lnet_anet.cli.arguments import (
    CommandParser,
    RawDescriptionDefaultsHelpFormatter,
    int_in,
    same_path,
    stops_on_interrupt,
)

PROG = "python -m lnet_anet.cli.predict_video"
VIS_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG"}  # --vis-video's containers
UNKNOWN_FPS = 25.0  # --vis-video's rate for a source that states none
SHORT_BY = 0.05  # a video whose frames end this share or more before its declared count was cut short
EXIT_STATUS = """\
exit status:
  0    every video was read to its end (or to --max-frames)
  1    a video's frames stopped early (cut short or damaged: its error line says where; its
       records so far are kept and the other videos read), or the run could not be done: the
       bundle missing or bad, a --device torch cannot use, an output that cannot be written
       (what was written is kept in FILE.part) or that another run is writing
  2    bad usage: an unknown option or a bad value, no video given, a file that is not a video
       OpenCV can read (missing, a folder, an image, corrupt, no frame), --output or --vis-video
       naming an input, a video or an image
  130  interrupted (Ctrl-C, or SIGTERM): the records so far are in --output's FILE.part
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
    from lnet_anet.cli.predict import MAX_BATCH

    p = CommandParser(prog=PROG, description="Faces, attributes, age and attractiveness across the frames of videos, "
                                             "each face joined to a track.",
                      epilog=EXIT_STATUS, formatter_class=RawDescriptionDefaultsHelpFormatter)  # fmt: skip
    p.add_argument("videos", nargs="*", type=Path, help="video files (.mp4 .mov .avi .mkv ...: what OpenCV's FFmpeg reads)")
    p.add_argument("--output", type=Path, metavar="FILE.jsonl",
                   help="write the JSON Lines to FILE, atomically (FILE.part while running), not to stdout")  # fmt: skip
    p.add_argument("--vis-video", type=Path, metavar="OUT.mp4|DIR",
                   help="write the frames read with each face's box, track id, age and top attributes: a video file "
                        f"({' '.join(VIS_FOURCC)}) for one video, a folder for several (DIR/<file name>.mp4)")  # fmt: skip
    p.add_argument("--every", type=int_in(1), default=1, metavar="N", help="read every Nth frame")
    p.add_argument("--start", type=int_in(0), default=0, metavar="FRAME", help="the first frame read (its index, from 0)")
    p.add_argument("--max-frames", type=int_in(1), metavar="N", help="read at most N frames of each video (default: all)")
    p.add_argument("--bundle", type=Path, help="model bundle (default: the embedded one)")
    p.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=8, help="frames per LNet batch")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where the networks run")
    p.add_argument("--backend", choices=("auto", "torch", "onnxruntime"), default="auto",
                   help="auto: ONNX Runtime on the CPU (graphs exported once, cached), torch on a GPU")  # fmt: skip
    p.add_argument("--min-iou", type=_min_iou, default=0.3, metavar="IOU",
                   help="the least overlap (IoU, in (0, 1]) of a face's box with a track's last box to continue it")
    p.add_argument("--max-missed", type=int_in(0), default=15, metavar="N",
                   help="frames read a track may go unseen and still be continued")
    p.add_argument("--window", type=_window, default=30, metavar="N|all",
                   help="frames read each track's answers are averaged over (all: the whole track)")
    p.add_argument("--top", type=int_in(1, 40), default=3, help="attributes drawn per face in --vis-video")
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
    from lnet_anet.data.video import VIDEO_SUFFIXES

    vis = args.vis_video
    if vis is None:
        return None
    suffix = vis.suffix.lower()
    if suffix in VIS_FOURCC and not vis.is_dir():
        if len(args.videos) > 1:
            parser.error(f"--vis-video {vis} is one video's name: give a folder for {len(args.videos)} videos")
        targets = [vis]
    elif suffix in VIDEO_SUFFIXES and not vis.is_dir():
        parser.error(f"--vis-video writes {', '.join(VIS_FOURCC)} files, not {suffix}: give OUT.mp4")
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
    """parser.error (exit 2) for an --output that names an input, a video or an image."""
    from lnet_anet.data.images import image_suffixes
    from lnet_anet.data.video import VIDEO_SUFFIXES

    out = args.output
    if out is None:
        return
    if out.suffix.lower() in VIDEO_SUFFIXES | image_suffixes() or any(same_path(out, v) for v in args.videos):
        parser.error(f"--output names a video or a picture ({out}); give a new file's name, e.g. out.jsonl")
    if args.vis_video is not None and same_path(out, args.vis_video):
        parser.error(f"--output and --vis-video name the same file ({out}): give each its own")


# -- tracks' summary ---------------------------------------------------------------------------


@dataclass
class TrackTally:
    """One track's frames over a whole video, summed as they come (a long video's faces are not
    held): its first and last time, its frames, its age and attractiveness weighted by 1 / std**2
    (FaceTracker's weighting, over every frame rather than its window), its attributes' mean
    probabilities."""

    id: int
    first: tuple[int, float | None]  # (frame, time) of its first face
    last: tuple[int, float | None] = (0, None)
    frames: int = 0
    sums: dict[str, list[float]] = field(default_factory=dict)  # "age": [sum w, sum w * mean]
    attributes: dict[str, float] = field(default_factory=dict)  # name -> sum of probabilities
    with_attributes: int = 0

    def add(self, face: dict[str, Any], frame: int, time: float | None) -> None:
        self.last = (frame, time)
        self.frames += 1
        for target in ("age", "attractiveness"):
            answer = face.get(target)
            if answer:
                weight = 1.0 / max(float(answer["std"]), 1e-3) ** 2
                sums = self.sums.setdefault(target, [0.0, 0.0, 0])
                sums[0] += weight
                sums[1] += weight * float(answer["mean"])
                sums[2] += 1
        if face.get("attributes"):
            self.with_attributes += 1
            for name, p in face["attributes"].items():
                self.attributes[name] = self.attributes.get(name, 0.0) + float(p)

    def answer(self, target: str) -> dict[str, float] | None:
        """{"mean", "std"} of `target` over the track (std: one frame's, as FaceTracker's), or None."""
        if target not in self.sums:
            return None
        weights, weighted, n = self.sums[target]
        return {"mean": weighted / weights, "std": (n / weights) ** 0.5}

    def present(self, thresholds: dict[str, float]) -> list[str]:
        return [name for name, total in self.attributes.items()
                if name in thresholds and total / self.with_attributes >= thresholds[name]]  # fmt: skip

    def line(self, thresholds: dict[str, float]) -> str:
        from lnet_anet.cli.predict import _estimate

        span = (f"{self.first[1]:.2f}-{self.last[1]:.2f} s" if self.first[1] is not None and self.last[1] is not None
                else f"frames {self.first[0]}-{self.last[0]}")  # fmt: skip
        parts = [f"track {self.id}: {span}", f"{self.frames} frame{'' if self.frames == 1 else 's'}",
                 f"age {_estimate(self.answer('age'))}"]  # fmt: skip
        if "attractiveness" in self.sums:
            parts.append(f"attractiveness {_estimate(self.answer('attractiveness'))}")
        present = self.present(thresholds)
        parts.append(f"present: {', '.join(present) if present else '-'}")
        return ", ".join(parts)


# -- the run ---------------------------------------------------------------------------------


class VisWriter:
    """--vis-video's file for one video: frames written to a temporary file beside it, renamed
    into place by close() (abandon(): removed). Raises OSError naming the file when OpenCV's
    writer cannot open it."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")  # the suffix picks the container
        self._writer = None

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

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            os.replace(self.tmp, self.path)

    def abandon(self) -> None:
        if self._writer is not None:
            self._writer.release()
        self.tmp.unlink(missing_ok=True)


@dataclass
class VideoRun:
    """What one video gave: its frames read, its tracks, and why it stopped early (None: it did not)."""

    name: str
    read: int = 0
    tracks: dict[int, TrackTally] = field(default_factory=dict)
    error: str | None = None
    note: str = ""


def run_video(path: Path, predictor, args, emit, vis: Path | None) -> VideoRun:
    """Read one video (module docstring): its records to `emit`, its frames to `vis`. Returns its
    VideoRun; a frame that cannot be decoded, or frames that end well before the count the file
    declares, stop it with VideoRun.error (the records emitted so far stand). Raises OSError when
    `emit` or the --vis-video file cannot be written."""
    from collections import deque

    from tqdm import tqdm

    from lnet_anet.data.video import VideoReader, VideoReadError
    from lnet_anet.inference.tracking import FaceTracker
    from lnet_anet.inference.visualize import render_tracks

    name = os.fsdecode(path)
    done = VideoRun(name)
    tracker = FaceTracker(predictor.decision_thresholds, args.min_iou, args.max_missed, args.window)
    with VideoReader(path, args.every, args.start, args.max_frames) as reader:
        fps = reader.fps or UNKNOWN_FPS
        said = [f"every {args.every}" if args.every > 1 else "", f"from frame {args.start}" if args.start else "",
                f"of {reader.frame_count} in the file" if reader.frame_count else "",
                f"{reader.fps:g} fps" if reader.fps else "no frame rate stated"]  # fmt: skip
        done.note = ", ".join(filter(None, said))
        writer = VisWriter(vis, fps / args.every) if vis is not None else None
        taken: deque = deque()  # the frames handed to the Predictor, not yet back: their index, time and pixels

        def frames():
            for frame in reader:
                taken.append(frame)
                yield frame.image

        progress = tqdm(total=reader.expected_frames, disable=None, file=sys.stderr, unit="frame",
                        desc=path.name[:30], leave=False)  # fmt: skip
        try:
            for analysis in predictor.analyse_many(frames(), args.batch_size):
                frame = taken.popleft()
                record = {"video": name, "frame": frame.index, "time": frame.time, **tracker.update(analysis.record)}
                for face in record["faces"]:
                    track = face["track"]
                    tally = done.tracks.setdefault(track["id"], TrackTally(track["id"], (frame.index, frame.time)))
                    tally.add(face, frame.index, frame.time)
                emit(record)
                if writer is not None:
                    writer.write(render_tracks(frame.image, record, args.top))
                done.read += 1
                progress.update()
        except VideoReadError as e:
            done.error = f"{e}; the {done.read} records read before it are kept"
        except BaseException:
            if writer is not None:
                writer.abandon()
            raise
        finally:
            progress.close()
        if writer is not None:
            writer.close()
        limited = args.max_frames is not None and done.read >= args.max_frames
        count = reader.frame_count
        if done.error is None and not limited and count and count - reader.frames_seen > max(2, SHORT_BY * count):
            done.error = (f"{path}: the frames ended after {reader.frames_seen} of the {count} the file declares "
                          f"(cut short or damaged); the {done.read} records read are kept")  # fmt: skip
    return done


def _summary(runs: list[VideoRun], thresholds: dict[str, float]) -> list[str]:
    from lnet_anet.cli.predict import _safe

    lines = []
    for run in runs:
        tracks = len(run.tracks)
        lines.append(_safe(f"{run.name}: {run.read} frames read ({run.note}), {tracks} track{'' if tracks == 1 else 's'}"))
        lines += [f"  {tally.line(thresholds)}" for _, tally in sorted(run.tracks.items())]
    return lines


@stops_on_interrupt()  # while torch and the bundle load; the run's own interruption says what is kept
def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:  # argparse exits on bad usage (2) and --help (0); main returns the code instead
        args = parser.parse_intermixed_args(list(sys.argv[1:] if argv is None else argv))
        if not args.videos:
            parser.error("give video files (clip.mp4 ...)")
        _check_output(parser, args)
        vis_targets = _vis_targets(parser, args)
    except SystemExit as e:
        return int(e.code or 0)
    from lnet_anet.cli.predict import _safe

    problems = [p for p in map(_video_problem, args.videos) if p is not None]  # said now, not after the models load
    for problem in problems:
        print(f"error: {_safe(problem)}", file=sys.stderr)
    if problems:
        return 2
    from lnet_anet.inference.outputs import (
        RecordLog,
        in_use,
        json_line,
        output_path_problem,
        part_log,
    )

    for flag, path in (("--output", args.output), *(("--vis-video", t) for t in vis_targets or ())):
        if path is not None and (problem := output_path_problem(path)):
            print(f"error: cannot write {flag} {_safe(str(path))}: {_safe(problem)}", file=sys.stderr)
            return 1
    if args.output is not None and in_use(part_log(args.output)):
        print(f"error: cannot write --output {_safe(str(args.output))}: another run is writing it", file=sys.stderr)
        return 1

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
        try:
            log = RecordLog(args.output)
        except OSError as e:
            print(f"error: cannot write --output {_safe(str(args.output))}: {_safe(e.strerror or str(e))}", file=sys.stderr)
            return 1
    as_text = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"

    def emit(record: dict[str, Any]) -> None:
        if log is not None:
            log.write(record)
        else:
            print(json_line(record) if as_text else json.dumps(record), flush=True)

    from lnet_anet.engine.signals import sigterm_as_interrupt

    runs: list[VideoRun] = []
    try:
        with sigterm_as_interrupt():
            for n, path in enumerate(args.videos):
                runs.append(run_video(path, predictor, args, emit, vis_targets[n] if vis_targets else None))
                if runs[-1].error is not None:
                    print(f"error: {_safe(runs[-1].error)}", file=sys.stderr)
        if log is not None:
            log.close()
    except KeyboardInterrupt:
        kept = (f"; the {log.written} records read are in {log.part} (a rerun overwrites it)"
                if log is not None and log.written else "")
        if log is not None:
            log.abandon()
        print(f"\ninterrupted{_safe(kept)}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout stopped (`| head`): stop quietly, as predict does
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 141
    except OSError as e:  # an output could not be written (disk full, ...)
        kept = f"; the {log.written} records written are in {log.part}" if log is not None else ""
        if log is not None:
            log.abandon()
        print(f"error: cannot write the output ({_safe(str(e))}){_safe(kept)}", file=sys.stderr)
        return 1
    for line in _summary(runs, predictor.decision_thresholds):
        print(line, file=sys.stderr)
    written = [str(p) for p in (args.output, *(vis_targets or ())) if p is not None]
    if written:
        print(_safe(f"written: {', '.join(written)}"), file=sys.stderr)
    return 1 if any(run.error is not None for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
