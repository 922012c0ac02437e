"""Faces followed across the frames of a video: each face of a record joined to a track by its box.

The Predictor reads every frame on its own, so a steady face's age and attribute decisions move
from frame to frame (README, "Video"). A FaceTracker takes the frames' records in order and gives
each face a "track": the id of the face it continues (matched to the faces of the frames before
by box overlap) and the face's answers averaged over the track so far, which move far less.

    tracker = FaceTracker(predictor.decision_thresholds)
    for record in predictor.predict_many(frames):
        for face in tracker.update(record)["faces"]:
            print(face["track"]["id"], face["track"]["age"])
    for track in tracker.summaries():                 # every track, ended ones included
        print(track["id"], track["frames"], track["age"], track["present"])

Matching: the faces of a frame and the live tracks (seen in the last max_missed + 1 frames) are
paired one to one by the Hungarian algorithm on the IoU of the face's box with the track's last
box (torchvision.ops.box_iou, scipy.optimize.linear_sum_assignment); a pair of IoU under
`min_iou` is no match. An unmatched face starts a new track. There is no motion model and no
appearance model: faces that move more than about their own size between frames start new tracks,
and two faces that cross may swap tracks, each track then averaging two people (read "frames" and
watch for jumps). A frame of another size than the one before (a new video) ends every track, and
so does `end_tracks()` (a scene cut: the next faces get new ids, even at the same place).

Averages over the track's frames (its last `window` frames, or all):
- age and attractiveness: weighted by 1 / std**2 (the frames the net was surer of count more);
  "std" is the root of the weighted mean of the frames' variances, the uncertainty of one frame,
  not shrunk by the number of frames, since the frames of a video are not independent readings;
- attributes: the mean probability; "present": the attributes whose mean probability reaches
  their decision threshold (the bundle's, as the records' "present").

`summaries()` gives every track seen so far, the ended ones included, averaged so over its whole
length (running sums: an ended track keeps no frame's record, so a long video's memory stays small).
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass
class _Track:
    id: int
    box: np.ndarray
    last_frame: int  # the tracker's count of frames (FaceTracker.frame)
    first: tuple[int, float | None]  # (frame, time) of its first face, as summaries() gives them
    last: tuple[int, float | None] = (0, None)
    frames: int = 0
    ended: bool = False
    answers: deque = field(default_factory=deque)  # the face records of its last `window` frames (none once ended)
    sums: dict[str, list[float]] = field(default_factory=dict)  # "age": [sum w, sum w * mean, frames], whole track
    attribute_sums: dict[str, float] = field(default_factory=dict)  # name -> sum of probabilities, whole track
    with_attributes: int = 0  # its frames with attribute probabilities

    def add(self, face: dict, frame: int, time: float | None) -> None:
        """One more frame's face: the window's records and the whole track's sums."""
        self.last = (frame, time)
        self.frames += 1
        for target in ("age", "attractiveness"):
            answer = face.get(target)
            if answer:
                weight = 1.0 / _floored(answer["std"]) ** 2
                sums = self.sums.setdefault(target, [0.0, 0.0, 0])
                sums[0] += weight
                sums[1] += weight * float(answer["mean"])
                sums[2] += 1
        if face.get("attributes"):
            self.with_attributes += 1
            for name, p in face["attributes"].items():
                self.attribute_sums[name] = self.attribute_sums.get(name, 0.0) + float(p)


def _frame_number(value, count: int) -> int:
    """A record's "frame": any whole number (a numpy integer, OpenCV's CAP_PROP_POS_FRAMES float
    12.0) as an int, else the tracker's own count (trial 86: np.int64 and floats were replaced by
    the count without a word)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value == int(value):
        return int(value)
    return count


def _seconds(value) -> float | None:
    """A record's "time" in seconds as a float, or None when it is not a finite number (a NaN time
    made the tracks' summaries invalid JSON: trial 86)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


class FaceTracker:
    """Tracks of the faces of consecutive frames' records (module docstring).

    decision_thresholds: attribute -> threshold for the track's "present"
    (Predictor.decision_thresholds; None: no "present"). min_iou: the least IoU (0-1] of a face's
    box with a track's last box for them to match. max_missed: frames a track may go unseen and
    still be continued (15: chosen on tune clips, experiments/2026-12-07-face-tracks, round 2). window: frames averaged (None: the whole track). Raises ValueError for a
    min_iou outside (0, 1], a negative max_missed or a window under 1."""

    def __init__(self, decision_thresholds: Mapping[str, float] | None = None, min_iou: float = 0.3,
                 max_missed: int = 15, window: int | None = 30):  # fmt: skip
        if isinstance(min_iou, bool) or not isinstance(min_iou, numbers.Real) or not 0 < min_iou <= 1:
            raise ValueError(f"min_iou must be a number in (0, 1], got {min_iou!r}")
        if isinstance(max_missed, bool) or not isinstance(max_missed, numbers.Integral) or max_missed < 0:
            raise ValueError(f"max_missed must be a whole number >= 0, got {max_missed!r}")
        if window is not None and (isinstance(window, bool) or not isinstance(window, numbers.Integral) or window < 1):
            raise ValueError(f"window must be a whole number >= 1 or None, got {window!r}")
        self.decision_thresholds = dict(decision_thresholds) if decision_thresholds is not None else None
        self.min_iou, self.max_missed, self.window = min_iou, max_missed, window
        self.frame = -1  # the index of the last frame given
        self._tracks: list[_Track] = []  # the live ones
        self._all: list[_Track] = []  # every track, by id
        self._next_id = 0
        self._size: tuple | None = None  # the last frame's (width, height): another size ends every track

    def update(self, record: dict) -> dict:
        """The next frame's record (Predictor.predict's), its faces given "track": {"id" (int, from 0
        in order of appearance), "frames" (frames the track has a face in), "age", "attractiveness"
        ({"mean", "std"} over the window, or None when no frame had it), "attributes" (mean
        probabilities), "present" (with decision_thresholds)}. The record is changed in place and
        returned. A record with an error or no face moves the frame count on. Boxes are
        [x0, y0, x1, y1] in the frame's pixels. A frame of another width or height than the one
        before ends every track (a new video). Raises TypeError for anything but a record (a dict
        with a "faces" list)."""
        if not isinstance(record, dict) or not isinstance(record.get("faces", []), list):
            raise TypeError(f"update takes one record (a dict with a 'faces' list, as Predictor.predict gives), "
                            f"not {type(record).__name__}")  # fmt: skip
        self.frame += 1
        size = (record.get("width"), record.get("height"))
        if size != (None, None):
            if self._size is not None and size != self._size:
                self.end_tracks()
            self._size = size
        faces = record.get("faces") or []
        for track in self._tracks:
            if self.frame - track.last_frame > self.max_missed + 1:
                self._end(track)
        self._tracks = [t for t in self._tracks if not t.ended]
        frame, time = _frame_number(record.get("frame"), self.frame), _seconds(record.get("time"))
        if not faces:
            return record
        boxes = np.array([f["box"] for f in faces], np.float64).reshape(-1, 4)
        owner = self._match(boxes)
        for k, face in enumerate(faces):
            track = owner.get(k)
            if track is None:
                track = _Track(self._next_id, boxes[k], self.frame, (frame, time))
                self._next_id += 1
                self._tracks.append(track)
                self._all.append(track)
            track.box, track.last_frame = boxes[k], self.frame
            track.add(face, frame, time)
            track.answers.append(face)
            while self.window is not None and len(track.answers) > self.window:
                track.answers.popleft()
            face["track"] = self._summary(track)
        return record

    def end_tracks(self) -> None:
        """End every live track (a scene cut, a new video): the next frame's faces start new tracks,
        with new ids, wherever they are. The ended tracks stay in summaries()."""
        for track in self._tracks:
            self._end(track)
        self._tracks = []

    def _end(self, track: _Track) -> None:
        track.ended = True
        track.answers = deque()  # its sums stay; its frames' records go

    def summaries(self) -> list[dict]:
        """Every track seen so far, by id, the ended ones included: {"id", "first_frame",
        "last_frame" (the records' "frame", else the count of records given to update, from 0),
        "first_time", "last_time" (the records' "time", seconds, or None), "frames" (frames with
        its face), "ended" (True: it cannot be continued: missed more than max_missed frames,
        end_tracks, a new frame size), "age", "attractiveness" ({"mean", "std"} over all its
        frames, weighted by 1 / std**2 as the window's; std is one frame's uncertainty, not the
        error of the mean; None when no frame had it), "attributes" (mean probabilities over its
        frames with them), "present" (with decision_thresholds)}. Unlike a face's "track", which
        averages the last `window` frames, these cover the whole track."""
        out = []
        for track in self._all:
            ended = track.ended or self.frame + 1 - track.last_frame > self.max_missed + 1
            summary = {"id": track.id, "first_frame": track.first[0], "last_frame": track.last[0],
                       "first_time": track.first[1], "last_time": track.last[1], "frames": track.frames,
                       "ended": ended, "age": _from_sums(track.sums.get("age")),
                       "attractiveness": _from_sums(track.sums.get("attractiveness"))}  # fmt: skip
            if track.with_attributes:
                summary["attributes"] = {name: round(total / track.with_attributes, 4)
                                         for name, total in track.attribute_sums.items()}  # fmt: skip
                if self.decision_thresholds is not None:
                    summary["present"] = self._present(summary["attributes"])
            out.append(summary)
        return out

    def _present(self, mean: Mapping[str, float]) -> list[str]:
        assert self.decision_thresholds is not None
        return [name for name, p in mean.items()
                if name in self.decision_thresholds and p >= self.decision_thresholds[name]]  # fmt: skip

    def _match(self, boxes: np.ndarray) -> dict[int, _Track]:
        """face index -> the live track it continues (one to one, IoU >= min_iou)."""
        if not self._tracks:
            return {}
        import torch
        from scipy.optimize import linear_sum_assignment
        from torchvision.ops import box_iou

        last = np.stack([t.box for t in self._tracks])
        iou = np.nan_to_num(box_iou(torch.from_numpy(boxes), torch.from_numpy(last)).numpy())  # a box of no area: 0
        rows, cols = linear_sum_assignment(iou, maximize=True)
        return {int(r): self._tracks[int(c)] for r, c in zip(rows, cols, strict=True) if iou[r, c] >= self.min_iou}

    def _summary(self, track: _Track) -> dict:
        out = {"id": track.id, "frames": track.frames,
               "age": _weighted([f.get("age") for f in track.answers]),
               "attractiveness": _weighted([f.get("attractiveness") for f in track.answers])}  # fmt: skip
        probabilities = [f["attributes"] for f in track.answers if f.get("attributes")]
        if probabilities:
            mean = {name: round(float(np.mean([p[name] for p in probabilities])), 4) for name in probabilities[-1]}
            out["attributes"] = mean
            if self.decision_thresholds is not None:
                out["present"] = self._present(mean)
        return out


def _floored(std: float) -> float:
    """A frame's std, at least 1e-3 (a weight of 1 / std**2 stays finite)."""
    return max(float(std), 1e-3)


def _from_sums(sums: list[float] | None) -> dict | None:
    """{"mean", "std"} of a track's running [sum w, sum w * mean, frames] (w = 1 / std**2): the
    weighted mean and sqrt(sum w * std**2 / sum w) = sqrt(frames / sum w), as _weighted's; None
    when no frame had it."""
    if not sums:
        return None
    weights, weighted, n = sums
    return {"mean": round(weighted / weights, 3), "std": round(float(np.sqrt(n / weights)), 3)}


def _weighted(answers: list[dict | None]) -> dict | None:
    """{"mean", "std"} of answers {"mean", "std"} weighted by 1 / std**2 (module docstring); None
    when none is given."""
    given = [(float(a["mean"]), _floored(a["std"])) for a in answers if a]
    if not given:
        return None
    means, stds = np.array(given).T
    weights = 1.0 / stds**2
    mean = float((weights * means).sum() / weights.sum())
    std = float(np.sqrt((weights * stds**2).sum() / weights.sum()))
    return {"mean": round(mean, 3), "std": round(std, 3)}


__all__ = ["FaceTracker"]
