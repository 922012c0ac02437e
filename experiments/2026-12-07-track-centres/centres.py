"""Round 3 of FaceTracker's matching (RULE.md): IoU alone (A) against IoU or mutual centres (B),
replayed over one prediction per clip of round 2's clips.

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-07-track-centres/centres.py tune
    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-07-track-centres/centres.py val
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_video_tracks as bench  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.engine.runs import write_json  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

HERE = Path(__file__).resolve().parent
CANDIDATES = {"A": {"match_centres": False}, "B": {"match_centres": True}}


def replay(predictor, clips, records, settings):
    """bench.score_clip's per-face frames from the recorded predictions, then bench.summarise."""
    faces = []
    for k, (clip, recs) in enumerate(zip(clips, records, strict=True)):
        saved = predictor.predict_many
        predictor.predict_many = lambda paths, batch_size=4, recs=recs: (copy.deepcopy(r) for r in recs)
        try:
            per_face = bench.score_clip(predictor, clip, {"min_iou": 0.3, "max_missed": 15, "window": 30, **settings})
        finally:
            predictor.predict_many = saved
        faces += [(k, per_face[j]) for j in sorted(per_face)]
    return bench.summarise(faces, len(predictor.bundle.attributes))


def main() -> int:
    part = sys.argv[1]
    clips = bench.clips(datasets_root() / "wider_face_train", part, 20, 40, 1, 24.0, 85,
                        Path("runs/video-tracks/frames-" + part), 0.85)  # fmt: skip
    predictor = Predictor.load()
    records = [list(predictor.predict_many(c["frames"], batch_size=4)) for c in clips]
    rows = {name: replay(predictor, clips, records, settings) for name, settings in CANDIDATES.items()}
    out = {"part": part, "clips": [c["name"] for c in clips], "candidates": CANDIDATES, "results": rows}
    a, b = rows["A"], rows["B"]
    if part == "tune":
        out["chosen"] = "B" if (b["one_track_id"] >= a["one_track_id"] + 0.01
                                and b["tracks_given_two_faces"] <= a["tracks_given_two_faces"] + 1) else "A"  # fmt: skip
    else:
        out["default"] = "B" if (b["one_track_id"] >= a["one_track_id"]
                                 and b["tracks_given_two_faces"] <= a["tracks_given_two_faces"] + 1) else "A"  # fmt: skip
    write_json(HERE / f"{part}.json", out)
    for name, r in rows.items():
        print(name, "one id", round(r["one_track_id"], 3), f"({r['faces_seen_twice']} faces seen twice)",
              "two-face tracks", r["tracks_given_two_faces"], "of", r["tracks"],
              "age", round(r["per_track"]["median_abs_d_age"], 2), round(r["per_track"]["p95_abs_d_age"], 2),
              "flips", round(r["per_track"]["decisions_flipped"], 4))  # fmt: skip
    print("chosen" if part == "tune" else "default", out.get("chosen", out.get("default")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
