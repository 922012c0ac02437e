"""Face grids scored by box centres, for detectors whose boxes frame faces differently.

    python benchmarks/grid_centre_scores.py runs/face-grids/val/boxes.csv runs/bench_grids_val \\
        --out experiments/2026-11-30-face-separation/grids-val/centres.json

IoU >= 0.5 with the whole aligned tile (bench_detection.py's score) suits lnet_anet, whose box of an
aligned CelebA-HQ file is about the file, but not MTCNN, dlib or Haar, whose boxes are tight on the
face inside the tile (IoU with the tile below 0.5 even when right). Here, from the detections
bench_detection.py saved (--work), at each detector's operating point (lnet_anet: its threshold,
already applied; the peers: bench_detection.operating_point): a face is found when a box's centre
lies in its tile (one box per face, greedy by score); a box "over two faces" holds the centres
of two tiles or more.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from lnet_anet.data.readers.detection import read_box_csv
from lnet_anet.metrics.detection import truth_from_table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("labels", type=Path)
    ap.add_argument("work", type=Path, help="bench_detection.py's --work folder (detections_*.json)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    spec = importlib.util.spec_from_file_location("bench_detection", Path(__file__).parent / "bench_detection.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    table = read_box_csv(args.labels)
    truth = dict(zip(table["name"], truth_from_table(table), strict=True))
    out = {}
    for path in sorted(args.work.glob("detections_*.json")):
        name = path.stem.removeprefix("detections_")
        found = faces = boxes = over_two = 0
        for row in json.loads(path.read_text()):
            gt, _ = truth[row["name"]]
            b, s = np.array(row["boxes"], np.float64).reshape(-1, 4), np.array(row["scores"], np.float64)
            keep = bench.operating_point(name, s, None) if name in ("mtcnn", "dlib_hog", "haar") else np.ones(len(s), bool)
            b, s = b[keep], s[keep]
            centres = (b[:, :2] + b[:, 2:]) / 2
            taken = np.zeros(len(gt), bool)
            for i in np.argsort(-s, kind="stable"):
                inside = (gt[:, 0] <= centres[i, 0]) & (centres[i, 0] < gt[:, 2]) & (gt[:, 1] <= centres[i, 1]) & (centres[i, 1] < gt[:, 3])
                hit = np.nonzero(inside & ~taken)[0]
                if len(hit):
                    taken[hit[0]] = True
            tile_centres = (gt[:, :2] + gt[:, 2:]) / 2
            for box in b:
                held = (box[0] <= tile_centres[:, 0]) & (tile_centres[:, 0] < box[2]) & (box[1] <= tile_centres[:, 1]) & (tile_centres[:, 1] < box[3])
                over_two += int(held.sum() >= 2)
            found, faces, boxes = found + int(taken.sum()), faces + len(gt), boxes + len(b)
        out[name] = {"faces": faces, "found_by_centre": found / faces, "boxes": boxes,
                     "boxes_over_two_faces": over_two, "share_boxes_over_two_faces": over_two / max(boxes, 1)}
        print(f"{name}: found {found / faces:.3f} of {faces}, {boxes} boxes, {over_two} over two faces")
    args.out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
