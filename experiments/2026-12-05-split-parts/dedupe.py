"""One face per place after the arbitration: a larger box given to two parts goes to one face (session 45).

    PYTHONPATH=. python experiments/2026-12-05-split-parts/dedupe.py sets --run runs/split-parts/parts --part tune \
        --out experiments/2026-12-05-split-parts/dedupe-tune.json   # and --part val: dedupe-val.json

split.py's "sets" (the UTKFace part as shipped, WIDER photos at the bundle's threshold, their
face-free crops) for "before" (multiscale.merge as it was at 0e0b8ff: a larger box could be given
to two kept faces, which then came back as two faces with one region) and "after" (the library's
merge, which gives it to the stronger and drops the weaker). The top face of every picture is the
same in both, so its age and attributes are too: only further faces can go.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import split  # noqa: E402

from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.lnet import multiscale  # noqa: E402


def merge_before(detections, iou, max_faces, contain=multiscale.CONTAIN, arbiter=None):
    """multiscale.merge as it was at 0e0b8ff (each kept part given its larger box, the same box twice)."""
    if not detections:
        return []
    boxes = np.stack([np.asarray(b, np.float64) for b, _ in detections])
    keep = multiscale.nms(boxes, np.array([s for _, s in detections], dtype=np.float64), iou)
    if contain is None or len(keep) < 2:
        return [detections[int(i)] for i in keep[:max_faces]]
    area = np.clip(boxes[:, 2:] - boxes[:, :2], 0, None).prod(1)
    kept, box_of, judged = [], {}, set()
    for i in keep:
        if kept:
            lt = np.maximum(boxes[i, :2], boxes[kept, :2])
            inter = np.clip(np.minimum(boxes[i, 2:], boxes[kept, 2:]) - lt, 0, None).prod(1)
            nested = inter > contain * np.maximum(np.minimum(area[i], area[kept]), 1e-12)
            if nested.any():
                for j in (kept[n] for n in np.flatnonzero(nested)):
                    if arbiter is not None and j not in judged and area[j] < multiscale.PART_AREA * area[i]:
                        judged.add(j)
                        if arbiter(boxes[j], boxes[i]):
                            box_of[j] = int(i)
                continue
        kept.append(int(i))
    return [(detections[box_of[i]][0], detections[i][1]) if i in box_of else detections[i] for i in kept[:max_faces]]


class Before(Predictor):
    """The Predictor with merge_before in its scale reading."""

    def _read_scales(self, *args, **kwargs):
        saved, multiscale.merge = multiscale.merge, merge_before
        try:
            return super()._read_scales(*args, **kwargs)
        finally:
            multiscale.merge = saved


def main(argv=None) -> int:
    def sets(args):
        return split.run_sets(args, [("before", Before.load()), ("after", Predictor.load())])

    return split.settle.cli(__doc__, {"sets": sets}, argv)


if __name__ == "__main__":
    sys.exit(main())
