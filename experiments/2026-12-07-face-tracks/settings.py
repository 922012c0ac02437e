"""Round 2 (RULE.md): FaceTracker's matching settings replayed over one prediction per clip.

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-07-face-tracks/settings.py tune
    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-07-face-tracks/settings.py val 0.3,5 MIN_IOU,MAX_MISSED

tune: every candidate on 20 tune-part clips, the choice by the rule (tune/settings.json). val: the
named settings only, beside each other, on round 1's 20 val clips (val2/settings.json).
"""

from __future__ import annotations

import copy
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_video_tracks as bench  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.engine.runs import write_json  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

HERE = Path(__file__).resolve().parent
CANDIDATES = list(itertools.product((0.1, 0.2, 0.3), (5, 15, 30)))


def replay(predictor, clips, records, min_iou, max_missed):
    """bench.score_clip's per-face frames, from recorded predictions (the trackers only read records)."""
    faces = []
    for k, (clip, recs) in enumerate(zip(clips, records, strict=True)):
        saved = predictor.predict_many
        predictor.predict_many = lambda paths, batch_size=4, recs=recs: (copy.deepcopy(r) for r in recs)
        try:
            per_face = bench.score_clip(predictor, clip, {"min_iou": min_iou, "max_missed": max_missed, "window": 30})
        finally:
            predictor.predict_many = saved
        faces += [(k, per_face[j]) for j in sorted(per_face)]
    return bench.summarise(faces, len(predictor.bundle.attributes))


def main() -> int:
    part = sys.argv[1]
    settings = CANDIDATES if part == "tune" else [tuple(float(v) if "." in v else int(v) for v in s.split(","))
                                                  for s in sys.argv[2:]]  # fmt: skip
    clips = bench.clips(datasets_root() / "wider_face_train", part, 20, 40, 1, 24.0, 85,
                        Path("runs/video-tracks/frames-" + part), 0.85)  # fmt: skip
    predictor = Predictor.load()
    records = [list(predictor.predict_many(c["frames"], batch_size=4)) for c in clips]
    rows = {f"{m},{x}": replay(predictor, clips, records, m, x) for m, x in settings}
    out = {"part": part, "clips": [c["name"] for c in clips], "settings": rows}
    if part == "tune":
        limit = rows["0.3,5"]["tracks_given_two_faces"] + 1
        ok = [(k, r) for k, r in rows.items() if r["tracks_given_two_faces"] <= limit]
        best = max(ok, key=lambda kr: (kr[1]["one_track_id"], float(kr[0].split(",")[0]), -int(kr[0].split(",")[1])))
        out["chosen"] = best[0]
    folder = HERE / ("tune" if part == "tune" else "val2")
    folder.mkdir(exist_ok=True)
    write_json(folder / "settings.json", out)
    for k, r in rows.items():
        print(k, "one id", round(r["one_track_id"], 3), "two-face tracks", r["tracks_given_two_faces"], "of", r["tracks"],
              "age", round(r["per_track"]["median_abs_d_age"], 2), round(r["per_track"]["p95_abs_d_age"], 2),
              "flips", round(r["per_track"]["decisions_flipped"], 4))  # fmt: skip
    print("chosen", out.get("chosen"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
