"""Reading a video file's frames (OpenCV's cv2.VideoCapture, its FFmpeg backend): RGB uint8 arrays
with their index and time, for the Predictor and a FaceTracker (lnet_anet.cli.predict_video).

    with VideoReader("clip.mp4", every=5) as video:   # frames 0, 5, 10, ...
        print(video.fps, video.frame_count, video.width, video.height)
        for frame in video:                           # VideoFrame(index, time, image)
            record = predictor.predict(frame.image)

Frames: `image` is (H, W, 3) uint8 RGB, as a player shows the video: OpenCV (4.5.1 and later,
4.14 here) applies the container's rotation tag (a phone's portrait video, stored landscape with a
90 degree tag) when decoding, CAP_PROP_ORIENTATION_AUTO being on by default; VideoReader turns it
on explicitly, so width and height are those of the frames as shown (a 90 degree tag: a
1920 x 1080 file read 1080 x 1920, turned clockwise), and `orientation` gives the tag (degrees). `index` counts every frame of the file from 0 (the frames skipped by
`every` and `start` included); `time` is the frame's presentation time in seconds (the backend's
CAP_PROP_POS_MSEC, right for variable frame rates too), index / fps where the backend gives none.

`fps` and `frame_count` are what the container says (None where it says nothing usable); the
count can be an estimate (duration times rate) for some containers, so a file may yield a few
frames more or fewer than it.

Errors: VideoReadError (an ImageReadError, so an OSError; its message names the file) for a file
that is missing, a folder, not a regular file, that OpenCV cannot open (not a video, a codec
FFmpeg lacks, an MP4 cut before its index) or whose first frame cannot be decoded, when the
VideoReader is made; and for a frame that OpenCV fails to decode while reading. A damaged part
in a file's middle is skipped, the frames after it read (`damaged` lists the frames lost). A file
that ends early (cut short after its first frames) just ends: compare `frames_seen` with
`frame_count`.
FFmpeg's own log lines ("moov atom not found") are silenced (OPENCV_FFMPEG_LOGLEVEL, unless the
environment sets it): the errors say what went wrong.

SceneCuts finds hard cuts between consecutive frames (PySceneDetect's ContentDetector), so that a
FaceTracker can end its tracks there (FaceTracker.end_tracks):

    cuts = SceneCuts()
    for frame in video:
        if cuts.is_cut(frame.image):
            tracker.end_tracks()
"""

from __future__ import annotations

import math
import os
import shlex
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from lnet_anet.data.errors import ImageReadError

# The suffixes (lower case) of the video containers FFmpeg reads that cameras, phones and screen
# recorders write; predict names the video command for them (images.load_image).
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".wmv", ".flv", ".mpg", ".mpeg",
                            ".3gp", ".3g2", ".mts", ".m2ts", ".ogv", ".mxf"})  # fmt: skip
VIDEO_COMMAND = "python -m lnet_anet.cli.predict_video"
# PySceneDetect's ContentDetector's default threshold (scenedetect 0.7, its `threshold`), taken as is:
# not tuned on this project's data (no video data is at hand).
CUT_THRESHOLD = 27.0
# Grabs tried past a frame that does not decode before the file is taken to end there (_grab): a
# damaged chunk lost 15-19 grabs in trial 86's clips; a file cut short costs this many quick failures.
DAMAGED_GRABS = 300


class VideoReadError(ImageReadError):
    """A video file that is missing, cannot be opened, yields no frame or fails to decode a frame;
    `str(err)` reads `path: reason`."""


class VideoFrame(NamedTuple):
    index: int  # the frame's number in the file, from 0
    time: float | None  # seconds from the start (3 decimals); None where neither timestamp nor fps is known
    image: np.ndarray  # (H, W, 3) uint8 RGB, as shown (rotation tag applied)


def video_hint(path: str | Path) -> str:
    """The reason an image reader gives for a video file: which command reads its frames."""
    return f"a video ({Path(path).suffix.lower()}), not an image: {VIDEO_COMMAND} {shlex.quote(os.fsdecode(path))} reads its frames"


def _file_problem(path: Path) -> str | None:
    """Why `path` is no file to open (missing, a folder, a pipe or device), or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"a link to {os.readlink(path)}, which does not exist" if path.is_symlink() else "file not found"
    except OSError as e:
        return f"cannot read ({e.strerror or e})"
    if stat.S_ISDIR(mode):
        return "is a folder, not a video (give the video files: folder/*.mp4)"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device), not read"
    if not os.access(path, os.R_OK):
        return "cannot read (permission denied)"
    return None


DIGEST_BYTES = 1 << 20  # file_digest reads this much of the file's start


def file_digest(path: str | Path) -> str:
    """A short digest of a video file as stored: SHA-256 of its size and its first DIGEST_BYTES
    bytes (the container's header and first frames; whole files of gigabytes are not read), 16
    hex digits. Another recording or a re-encoded copy has another; a file renamed or copied keeps
    it. Raises OSError when the file cannot be read."""
    import hashlib

    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(DIGEST_BYTES)
    return hashlib.sha256(str(size).encode() + b"\0" + head).hexdigest()[:16]


def _known(value: float) -> float | None:
    """A container property, or None for OpenCV's "unknown" (0, negative, NaN or -2**63)."""
    return value if math.isfinite(value) and value > 0 else None


class VideoReader:
    """The frames of one video file (module docstring), read once, in order.

    every: keep every Nth frame (1: all); start: the index of the first frame kept (the frames
    before it are grabbed, not decoded to RGB); max_frames: stop after this many kept frames
    (None: to the end). Raises VideoReadError when the file cannot be opened or its first frame
    not decoded, ValueError for an every, start or max_frames not an int (every >= 1, start >= 0,
    max_frames >= 1 or None). A start past the file's last frame yields nothing: compare
    frames_seen with start.
    Attributes: path, fps (frames a second) and frame_count (frames in the file), each None when
    the container does not say; width, height (pixels of the frames as shown); orientation (the
    container's rotation tag, degrees, 0 when none); frames_seen (frames of the file grabbed so
    far, the skipped ones included); damaged (the (first, last) indices of each run of frames that
    could not be decoded, skipped with the reading going on after them: _grab)."""

    def __init__(self, path: str | Path, every: int = 1, start: int = 0, max_frames: int | None = None):
        for name, value, least in (("every", every, 1), ("start", start, 0), ("max_frames", max_frames, 1)):
            if value is None and name == "max_frames":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                # trial 86: every=2.5 read every 5th frame, "2" gave a TypeError naming nothing
                raise ValueError(f"{name} must be an int >= {least}{' or None' if name == 'max_frames' else ''}, "
                                 f"got {value!r}")  # fmt: skip
        every, start = int(every), int(start)
        max_frames = None if max_frames is None else int(max_frames)
        self.path = Path(path)
        self.every, self.start, self.max_frames = every, start, max_frames
        problem = _file_problem(self.path)
        if problem is not None:
            raise VideoReadError(self.path, problem)
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # read at the first open: FFmpeg's lines off
        try:
            self._capture = cv2.VideoCapture(os.fsdecode(self.path))
        except cv2.error as e:
            raise VideoReadError(self.path, f"cannot open ({str(e).strip().splitlines()[-1]})") from None
        if not self._capture.isOpened():
            raise VideoReadError(self.path, "not a video OpenCV can open (corrupt, truncated, or a format or "
                                            "codec its FFmpeg lacks)")  # fmt: skip
        # on by default in this OpenCV; set as the docstring says (not an open() parameter: FFmpeg refuses it)
        self._capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        self.fps = _known(self._capture.get(cv2.CAP_PROP_FPS))
        count = _known(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = int(count) if count is not None and count < 2**62 else None
        self.orientation = int(self._capture.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
        self.frames_seen = 0
        self.damaged: list[tuple[int, int]] = []
        self._first = self._next()  # a file that opens but decodes nothing is refused now, not later
        if self._first is None:
            self.close()
            raise VideoReadError(self.path, "no frame could be decoded (empty, corrupt or truncated)")
        self.height, self.width = self._first.image.shape[:2]
        self._started = False

    def _grab_once(self) -> bool:
        try:
            return bool(self._capture.grab())
        except cv2.error as e:
            raise VideoReadError(self.path, f"frame {self.frames_seen}: cannot decode "
                                            f"({str(e).strip().splitlines()[-1]})") from None  # fmt: skip

    def _grab(self) -> bool:
        """Move to the file's next frame (not decoded to RGB); False at its end. A frame that does
        not decode where the file declares more frames is a damaged part: up to DAMAGED_GRABS more
        grabs look for the frames after it (the decoder starts again at the next key frame), whose
        index then comes from its time (OpenCV's own count does not see the frames lost), and the
        part is kept in `damaged`. Trial 86: a damaged chunk in a clip's middle lost every frame
        after it, 33 of 46, though they decoded exactly."""
        if self._grab_once():
            self.frames_seen += 1
            return True
        if self.frame_count is None or self.frames_seen >= self.frame_count:
            return False
        first_lost = self.frames_seen
        for _ in range(DAMAGED_GRABS):
            if self._grab_once():
                msec = self._capture.get(cv2.CAP_PROP_POS_MSEC)
                index = round(msec / 1000 * self.fps) if self.fps and math.isfinite(msec) and msec > 0 else first_lost
                self.frames_seen = max(index, first_lost) + 1
                if index > first_lost:  # the frames not decoded, first to last (no time: none counted lost)
                    self.damaged.append((first_lost, index - 1))
                return True
        return False

    def _next(self) -> VideoFrame | None:
        """The file's next frame, decoded, or None at its end."""
        if not self._grab():
            return None
        index, msec = self.frames_seen - 1, self._capture.get(cv2.CAP_PROP_POS_MSEC)
        try:
            ok, bgr = self._capture.retrieve()
        except cv2.error as e:
            raise VideoReadError(self.path, f"frame {index}: cannot decode ({str(e).strip().splitlines()[-1]})") from None
        if not ok or bgr is None or bgr.size == 0:
            raise VideoReadError(self.path, f"frame {index}: cannot decode")
        if math.isfinite(msec) and (msec > 0 or index == 0):
            time = round(msec / 1000, 3)
        else:  # no timestamp from the backend
            time = round(index / self.fps, 3) if self.fps else None
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if bgr.ndim == 3 else cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
        return VideoFrame(index, time, image)

    def __iter__(self) -> Iterator[VideoFrame]:
        """The kept frames (every, start, max_frames), once. Raises RuntimeError when iterated
        again, VideoReadError for a frame that cannot be decoded."""
        if self._started:
            raise RuntimeError(f"{self.path}: a VideoReader is read once; make another to read it again")
        self._started = True
        return self._frames()

    def _frames(self) -> Iterator[VideoFrame]:
        kept = 0
        frame = self._first if self.start == 0 else None
        self._first = None  # not held for the whole video
        while self.max_frames is None or kept < self.max_frames:
            if frame is None:  # the next frame to keep: the ones before it grabbed, not decoded
                while self.frames_seen < self.start or (self.frames_seen - self.start) % self.every:
                    if not self._grab():
                        return
                frame = self._next()
                if frame is None:
                    return
            kept += 1
            yield frame
            frame = None

    @property
    def expected_frames(self) -> int | None:
        """How many frames iteration should yield, from frame_count (None when it is unknown and
        max_frames does not bound it)."""
        if self.frame_count is None:
            return self.max_frames
        left = max(0, -(-(self.frame_count - self.start) // self.every))
        return left if self.max_frames is None else min(left, self.max_frames)

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SceneCuts:
    """Hard cuts (a shot change) between consecutive frames, as PySceneDetect finds them
    (scenedetect.detectors.ContentDetector: the mean absolute change of the pixels' hue,
    saturation and value, 0-255 each, averaged over the three, at or above `threshold`; frames
    downscaled to about 256 pixels on their longer side first, as its SceneManager does).
    Its minimum scene length is off (0 frames): a cut is said on the frame it happens, not after
    15 more, so a camera flash can read as a cut. A frame of another size than the one before is a
    cut. threshold: CUT_THRESHOLD (ContentDetector's default, not tuned here). Frames read with
    a step (every 5th) differ more: a fast pan can then read as a cut."""

    def __init__(self, threshold: float = CUT_THRESHOLD):
        self.threshold = float(threshold)
        self._detector = None
        self._size: tuple[int, int] | None = None
        self.score: float | None = None  # the last frame's content change (ContentDetector's content_val)

    def is_cut(self, rgb: np.ndarray) -> bool:
        """Whether the frame `rgb` ((H, W, 3) uint8 RGB, the frames in order) starts a new shot;
        False for the first frame."""
        from scenedetect import FrameTimecode
        from scenedetect.detectors import ContentDetector
        from scenedetect.scene_manager import compute_downscale_factor

        h, w = rgb.shape[:2]
        changed = self._size is not None and (w, h) != self._size
        if self._detector is None or changed:
            self._detector = ContentDetector(threshold=self.threshold, min_scene_len=0)
            self._frames = 0
        self._size = (w, h)
        factor = compute_downscale_factor(max(w, h))
        small = rgb if factor <= 1 else cv2.resize(rgb, (max(1, round(w / factor)), max(1, round(h / factor))),
                                                   interpolation=cv2.INTER_LINEAR)  # fmt: skip
        cuts = self._detector.process_frame(FrameTimecode(self._frames, fps=25.0),
                                            cv2.cvtColor(small, cv2.COLOR_RGB2BGR))  # fmt: skip
        self._frames += 1
        self.score = self._detector._frame_score
        return changed or bool(cuts)


__all__ = ["CUT_THRESHOLD", "VIDEO_COMMAND", "VIDEO_SUFFIXES", "SceneCuts", "VideoFrame", "VideoReadError", "file_digest",
           "VideoReader", "video_hint"]
