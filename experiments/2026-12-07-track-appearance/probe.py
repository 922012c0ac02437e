"""Probe (tune part only): do ANet's face features tell the faces of a clip apart, and why are faces split?

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-07-track-appearance/probe.py

Runs the embedded bundle once per tune clip (bench_video_tracks' clips), keeps ANet's feature of
each face (the patch average the attribute SVMs read), then reports:
- cosine similarity of the same labelled face across frames vs two labelled faces of one clip;
- for every labelled face split over two tracks by FaceTracker's defaults: frames unseen before
  the new track, the IoU of its new box with the old track's last box, and the similarity.
The records (with features) are saved to runs/track-appearance/tune.pkl for the tracker study.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_video_tracks as bench  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def records_with_features(predictor, frames):
    """predict_many's records, each face given "feature" (ANet's patch average, (D,))."""
    original = predictor._analyse_faces

    def keep(faces):
        features = original(faces)
        for (*_, face), f in zip(faces, features, strict=True):
            face["feature"] = np.asarray(f, np.float32)
        return features

    predictor._analyse_faces = keep
    try:
        return list(predictor.predict_many(frames, batch_size=4))
    finally:
        predictor._analyse_faces = original


def unit(v):
    return v / max(np.linalg.norm(v), 1e-9)


def main() -> int:
    part = sys.argv[1] if len(sys.argv) > 1 else "tune"
    clips = bench.clips(datasets_root() / "wider_face_train", part, 20, 40, 1, 24.0, 85,
                        Path("runs/video-tracks/frames-" + part), 0.85)  # fmt: skip
    predictor = Predictor.load()
    out = Path("runs/track-appearance")
    out.mkdir(parents=True, exist_ok=True)
    records = [records_with_features(predictor, c["frames"]) for c in clips]
    with open(out / f"{part}.pkl", "wb") as f:
        pickle.dump({"clips": clips, "records": records}, f)
    same, other = [], []
    for clip, recs in zip(clips, records, strict=True):
        per_face: dict[int, list] = {}
        for k, rec in enumerate(recs):
            found = np.array([f["box"] for f in rec["faces"]], np.float64).reshape(-1, 4)
            if not len(found):
                continue
            overlap = bench._iou(clip["faces"][k], found)
            for j in range(len(clip["faces"][k])):
                b = int(np.argmax(overlap[j]))
                if overlap[j, b] >= 0.5:
                    per_face.setdefault(j, []).append((k, unit(rec["faces"][b]["feature"])))
        for j, seen in per_face.items():
            same += [float(a[1] @ b[1]) for a in seen for b in seen if b[0] - a[0] >= 5]
            for i, others in per_face.items():
                if i > j:
                    other += [float(a[1] @ b[1]) for a in seen for b in others if abs(b[0] - a[0]) >= 5]
    q = lambda v: np.percentile(v, [1, 5, 25, 50, 75, 95, 99]).round(3).tolist()  # noqa: E731
    print("same face, frames >= 5 apart:", len(same), "pairs, percentiles 1/5/25/50/75/95/99:", q(same))
    print("two faces of one clip:", len(other), "pairs, percentiles 1/5/25/50/75/95/99:", q(other))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
