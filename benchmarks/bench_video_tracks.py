"""Faces across video frames: how much each face's answers move from frame to frame, read frame by
frame (the Predictor alone, the baseline) and over its track (lnet_anet.inference.tracking.FaceTracker),
and how well the tracks keep to one face each.

    PYTHONPATH=. OMP_NUM_THREADS=2 python benchmarks/bench_video_tracks.py --part val --clips 20 --frames 40 \\
        --out runs/video-tracks/val

Clips (composed, a diagnostic stand-in for video: no video data is at hand): a WIDER FACE photo of the
part asked for (hash_part, as bench_detection.py splits it; taken in a seeded random order, so the
clips come from every event) with at least two labelled faces of
--min-face px or more inside the first frame, a window of --window-share of the photo's width and
height that pans --step px a frame (right, then down), each frame a JPEG of quality --quality read
back (the re-encoding a video's frames get). The shared copy's WIDER photos are 320 px wide: its
clips are ~270 x 180 px frames. The labelled faces, moved with the crop, say which
face each answer is of: a face found with IoU >= 0.5 with a labelled face of >= --min-face px is
that face's; other faces are left out of the figures.

Figures, over the labelled faces' consecutive frames where both frames found the face:
- median and 95th percentile |d age| (years) between consecutive frames: per frame (the record's
  age) and per track (the track's average);
- the share of attribute decisions ("present") that flip between consecutive frames, per frame
  and per track;
- identity: the labelled faces found in 2 or more frames, the share of them given one track id
  all along, and the tracks that were given two labelled faces.
Writes results.json and results.md to --out (default runs/video-tracks/<time>); frames under --work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from lnet_anet.data import datasets_root, runs_root
from lnet_anet.data.readers.detection import hash_part, read_wider_txt
from lnet_anet.engine.runs import write_json


def clips(wider: Path, part: str, n: int, frames: int, step: int, min_face: float, quality: int, work: Path,
          share: float = 0.85) -> list[dict]:  # fmt: skip
    """n clips: {"name", "frames": [jpeg paths], "faces": per frame (k, 4) labelled boxes in its pixels}."""
    table = read_wider_txt(next(iter(sorted((wider / "wider_face_split").glob("wider_face_*_bbx_gt.txt")))))
    table = table[hash_part(table["name"]) == part].reset_index(drop=True)
    out = []
    order = np.random.default_rng(0).permutation(len(table))  # across the events, not the first event's photos
    for _, row in table.iloc[order].iterrows():
        if len(out) == n:
            break
        image = cv2.imread(row["path"])
        if image is None:
            continue
        w, h = round(image.shape[1] * share), round(image.shape[0] * share)
        boxes = np.asarray(row["boxes"], np.float64).reshape(-1, 4)
        big = boxes[(boxes[:, 3] - boxes[:, 1] >= min_face) & ~np.asarray(row["invalid"], bool)]
        room_x, room_y = image.shape[1] - w, image.shape[0] - h
        moves = [(min(i * step, room_x), min(max(0, i * step - room_x), room_y)) for i in range(frames)]  # right, then down
        inside = [b for b in big if b[0] >= 0 and b[2] <= w and b[1] >= 0 and b[3] <= h]  # in the first frame
        if len(inside) < 2:
            continue
        folder = work / Path(row["name"]).stem
        folder.mkdir(parents=True, exist_ok=True)
        paths, faces = [], []
        for i, (x, y) in enumerate(moves):
            path = folder / f"{i:03d}.jpg"
            cv2.imwrite(str(path), image[y : y + h, x : x + w], [cv2.IMWRITE_JPEG_QUALITY, quality])
            paths.append(str(path))
            faces.append(big - [x, y, x, y])
        out.append({"name": row["name"], "frames": paths, "faces": faces})
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt, rb = np.maximum(a[:, None, :2], b[None, :, :2]), np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(2)
    area = lambda x: (x[:, 2:] - x[:, :2]).prod(1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def score_clip(predictor, clip: dict, tracker_kwargs: dict) -> dict:
    """Per labelled face and frame: (age, track age, present, track present, track id), or None."""
    from lnet_anet.inference.tracking import FaceTracker

    tracker = FaceTracker(predictor.decision_thresholds, **tracker_kwargs)
    per_face: dict[int, list] = {}
    for k, record in enumerate(predictor.predict_many(clip["frames"], batch_size=4)):
        tracker.update(record)
        truth = clip["faces"][k]
        found = np.array([f["box"] for f in record["faces"]], np.float64).reshape(-1, 4)
        overlap = _iou(truth, found) if len(found) else np.zeros((len(truth), 0))
        for j in range(len(truth)):
            best = int(np.argmax(overlap[j])) if overlap.shape[1] else -1
            if best < 0 or overlap[j, best] < 0.5 or record["faces"][best].get("age") is None:
                per_face.setdefault(j, []).append(None)
                continue
            face = record["faces"][best]
            per_face.setdefault(j, []).append((face["age"]["mean"], face["track"]["age"]["mean"], set(face["present"]),
                                               set(face["track"]["present"]), face["track"]["id"]))  # fmt: skip
    return per_face


def summarise(faces: list[tuple[int, list]], n_attributes: int) -> dict:
    """(clip, score_clip's frames) of every labelled face -> the figures of the module docstring
    (track ids are a clip's own: each clip has its tracker)."""
    d_age, d_track, flips, track_flips = [], [], [], []
    one_id, seen, owners = 0, 0, {}
    for f, (clip, frames) in enumerate(faces):
        found = [x for x in frames if x is not None]
        if len(found) >= 2:
            seen += 1
            one_id += len({x[4] for x in found}) == 1
        for x in found:
            owners.setdefault((clip, x[4]), set()).add(f)
        for a, b in zip(frames, frames[1:], strict=False):
            if a is None or b is None:
                continue
            d_age.append(abs(b[0] - a[0]))
            d_track.append(abs(b[1] - a[1]))
            flips.append(len(a[2] ^ b[2]) / n_attributes)
            track_flips.append(len(a[3] ^ b[3]) / n_attributes)
    pct = lambda v, q: float(np.percentile(v, q)) if v else float("nan")  # noqa: E731
    return {"pairs": len(d_age),
            "per_frame": {"median_abs_d_age": pct(d_age, 50), "p95_abs_d_age": pct(d_age, 95),
                          "decisions_flipped": float(np.mean(flips)) if flips else float("nan")},
            "per_track": {"median_abs_d_age": pct(d_track, 50), "p95_abs_d_age": pct(d_track, 95),
                          "decisions_flipped": float(np.mean(track_flips)) if track_flips else float("nan")},
            "faces_seen_twice": seen, "one_track_id": one_id / seen if seen else float("nan"),
            "tracks_given_two_faces": sum(len(v) > 1 for v in owners.values()), "tracks": len(owners)}  # fmt: skip


def markdown(r: dict) -> str:
    s = r["summary"]
    f = lambda v, spec: "n/a" if v != v else format(v, spec)  # noqa: E731
    return "\n".join([
        f"# Faces across frames: per frame and per track ({r['data']['part']} part, diagnostic: composed clips)", "",
        f"`{r['command']}`", "",
        f"{r['data']['clips']} clips of {r['data']['frames']} frames ({r['data']['window_share']:g} of the photo, panned "
        f"{r['data']['step']} px a frame, "
        f"JPEG q{r['data']['quality']}); {s['pairs']} consecutive frame pairs of labelled faces found in both.", "",
        "| | per frame (the Predictor alone) | per track (FaceTracker) |", "|---|---|---|",
        f"| median abs d age, years | {f(s['per_frame']['median_abs_d_age'], '.2f')} | {f(s['per_track']['median_abs_d_age'], '.2f')} |",
        f"| p95 abs d age, years | {f(s['per_frame']['p95_abs_d_age'], '.2f')} | {f(s['per_track']['p95_abs_d_age'], '.2f')} |",
        f"| attribute decisions flipped | {f(s['per_frame']['decisions_flipped'], '.4f')} | {f(s['per_track']['decisions_flipped'], '.4f')} |",
        "", f"Identity: {s['faces_seen_twice']} labelled faces found in 2 or more frames, "
        f"{f(s['one_track_id'], '.3f')} of them kept one track id all along; {s['tracks_given_two_faces']} of "
        f"{s['tracks']} tracks were given two labelled faces. Tracker: `{json.dumps(r['tracker'])}`.", ""])  # fmt: skip


EXIT_STATUS = """\
exit status:
  0    the clips were made and scored
  1    no wider_face_split under --wider, or no photo of the part has two faces big enough
  2    bad usage: an unknown option or a value out of range"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=EXIT_STATUS)  # fmt: skip
    ap.add_argument("--wider", type=Path, default=datasets_root() / "wider_face_train")
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--step", type=int, default=1, help="px the window moves a frame")
    ap.add_argument("--window-share", type=float, default=0.85, help="the frame's share of the photo's sides")
    ap.add_argument("--min-face", type=float, default=24.0, help="labelled faces this high or more are scored")
    ap.add_argument("--quality", type=int, default=85, help="JPEG quality of the frames")
    ap.add_argument("--window", type=int, default=30, help="FaceTracker's window (frames averaged)")
    ap.add_argument("--max-missed", type=int, default=15,
                    help="FaceTracker's max_missed (default 15, its default since round 2 of "
                         "experiments/2026-12-07-face-tracks; round 1 ran 5)")  # fmt: skip
    ap.add_argument("--min-iou", type=float, default=0.3, help="FaceTracker's min_iou (default 0.3)")
    ap.add_argument("--bundle", default=None, help="default: the embedded bundle")
    ap.add_argument("--work", type=Path, default=runs_root() / "video-tracks" / "frames")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    if (args.window < 1 or args.clips < 1 or args.frames < 2 or args.step < 0 or not 0 < args.window_share <= 1
            or args.max_missed < 0 or not 0 < args.min_iou <= 1):  # fmt: skip
        ap.error("--window and --clips must be >= 1, --frames >= 2, --step and --max-missed >= 0, --window-share and "
                 "--min-iou in (0, 1]")  # fmt: skip
    if not (args.wider / "wider_face_split").is_dir():
        print(f"error: no wider_face_split under {args.wider} (--wider DIR)", file=sys.stderr)
        return 1
    from lnet_anet.inference.predictor import Predictor

    made = clips(args.wider, args.part, args.clips, args.frames, args.step, args.min_face, args.quality, args.work,
                 args.window_share)  # fmt: skip
    if not made:
        print(f"error: no photo of the {args.part} part has two faces of {args.min_face:g} px in its first frame",
              file=sys.stderr)  # fmt: skip
        return 1
    predictor = Predictor.load(args.bundle)
    tracker = {"min_iou": args.min_iou, "max_missed": args.max_missed, "window": args.window}
    faces = []
    for k, clip in enumerate(made):
        per_face = score_clip(predictor, clip, tracker)
        faces += [(k, per_face[j]) for j in sorted(per_face)]
        print(f"clip {k + 1}/{len(made)}: {clip['name']}", flush=True)
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    record = {"command": "python " + shlex.join(sys.argv), "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "revision": revision or None,
              "data": {"wider": str(args.wider), "part": args.part, "clips": len(made), "frames": args.frames,
                       "step": args.step, "window_share": args.window_share, "min_face": args.min_face,
                       "quality": args.quality,
                       "names": [c["name"] for c in made]},
              "tracker": tracker, "machine": {"processor": platform.processor() or platform.machine()},
              "summary": summarise(faces, len(predictor.bundle.attributes))}  # fmt: skip
    out = args.out or runs_root() / "video-tracks" / f"{dt.datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", record)  # strict JSON: a figure over no frame pair is null
    (out / "results.md").write_text(markdown(record))
    print(markdown(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
