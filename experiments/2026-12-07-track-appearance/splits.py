"""The labelled faces FaceTracker (its defaults) splits over two tracks on the tune clips: for each
split, the frames between the two sightings, the IoU of the two boxes, and the cosine similarity
of ANet's features of the two.

    PYTHONPATH=. python experiments/2026-12-07-track-appearance/splits.py   # after probe.py tune
"""

from __future__ import annotations

import copy
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_video_tracks as bench  # noqa: E402

from lnet_anet.inference.tracking import FaceTracker  # noqa: E402


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def main() -> int:
    with open("runs/track-appearance/tune.pkl", "rb") as f:
        saved = pickle.load(f)
    events = []
    for clip, records in zip(saved["clips"], saved["records"], strict=True):
        tracker = FaceTracker(None)
        seen: dict[int, list] = {}  # labelled face -> [(frame, track id, box, unit feature)]
        for k, record in enumerate(copy.deepcopy(records)):
            tracker.update(record)
            found = np.array([f["box"] for f in record["faces"]]).reshape(-1, 4)
            if not len(found):
                continue
            overlap = bench._iou(clip["faces"][k], found)
            for j in range(len(clip["faces"][k])):
                b = int(np.argmax(overlap[j]))
                if overlap[j, b] >= 0.5:
                    face = record["faces"][b]
                    seen.setdefault(j, []).append((k, face["track"]["id"], np.array(face["box"]), unit(face["feature"])))
        for j, sightings in seen.items():
            for a, b in zip(sightings, sightings[1:], strict=False):
                if a[1] != b[1]:
                    iou = float(bench._iou(a[2][None], b[2][None])[0, 0])
                    events.append((clip["name"], j, b[0] - a[0], round(iou, 2), round(float(a[3] @ b[3]), 3)))
    print("clip, labelled face, frames between, box IoU, ANet cosine similarity")
    for event in events:
        print(*event, sep=", ")
    print(len(events), "splits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
