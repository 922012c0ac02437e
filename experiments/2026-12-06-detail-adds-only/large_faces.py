"""Set C of RULE.md: large faces in a large photo, read with and without the detail pass.

    PYTHONPATH=. python experiments/2026-12-06-detail-adds-only/large_faces.py make --part tune
    PYTHONPATH=. python experiments/2026-12-06-detail-adds-only/large_faces.py score --part tune --setting 0.5 --out F.json

make: per face size (350, 450, 600 px) 7 pictures of 6000 x 4000, each a WIDER photo of the part
(hash_part, as bench_detection.py splits it) upscaled (cubic) with five aligned CelebA-HQ faces of
the part's CelebA partition (tune: train, val: val) pasted at that side, on a row of five spaced
columns at a random height each; JPEG quality 90, under --work (runs/, never committed).

score: Predictor.predict on each picture (the records a user gets) with --setting: "none" (no
detail pass) or a detail ratio. A pasted face is "found once" when exactly one face box's centre
lies in its face box (the aligned tile times ALIGNED_FACE_BOX), "boxed twice" when several do; a
box whose centre lies in no pasted face's tile and no WIDER face's box is a false alarm.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from lnet_anet.data import datasets_root
from lnet_anet.data.readers.celeba import read_partition
from lnet_anet.data.readers.detection import hash_part, read_wider_txt

ALIGNED_FACE_BOX = (0.2421, 0.1980, 0.7661, 0.9154)  # benchmarks/make_face_grids.py
SIZES = (350, 450, 600)
PER_SIZE = 7
PHOTO = (6000, 4000)


def make(part: str, work: Path, seed: int = 0) -> list[dict]:
    root = datasets_root()
    wider = root / "wider_face_train"
    table = read_wider_txt(next(iter(sorted((wider / "wider_face_split").glob("wider_face_*_bbx_gt.txt")))))
    table = table[hash_part(table["name"]) == part].reset_index(drop=True)
    hq = root / "celeba_hq128"
    partition = read_partition(hq / "list_eval_partition.txt")
    names = sorted(partition.index[partition == {"tune": "train", "val": "val"}[part]])
    rng = np.random.default_rng(seed)
    faces = iter(rng.permutation(names))
    work.mkdir(parents=True, exist_ok=True)
    pictures = []
    for side in SIZES:
        for j in range(PER_SIZE):
            bg_i = int(rng.integers(len(table)))
            bg = cv2.imread(table["path"][bg_i])
            h0, w0 = bg.shape[:2]
            photo = cv2.resize(bg, PHOTO, interpolation=cv2.INTER_CUBIC)
            kx, ky = PHOTO[0] / w0, PHOTO[1] / h0
            column = PHOTO[0] // 5
            tiles = []
            for c in range(5):
                face = cv2.imread(str(hq / "img_celeba_hq" / next(faces)))
                face = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
                x = c * column + int(rng.integers(0, column - side))
                y = int(rng.integers(0, PHOTO[1] - side))
                photo[y:y + side, x:x + side] = face
                tiles.append([x, y, x + side, y + side])
            others = [[b[0] * kx, b[1] * ky, b[2] * kx, b[3] * ky] for b in table["boxes"][bg_i]]
            path = work / f"{part}_{side}_{j}.jpg"
            cv2.imwrite(str(path), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
            pictures.append({"path": str(path.resolve()), "side": side, "tiles": tiles, "background_faces": others})
    (work / f"{part}.json").write_text(json.dumps(pictures))
    return pictures


def _centre_in(box, region) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def score(pictures: list[dict], setting: str) -> dict:
    from lnet_anet.inference.predictor import Predictor

    predictor = Predictor.load(None)
    predictor.detail_ratio = None if setting == "none" else float(setting)
    rows, seconds = [], []
    for pic in pictures:
        t = time.perf_counter()
        record = predictor.predict(pic["path"])
        if record.get("error"):
            raise OSError(f"{pic['path']}: {record['error']}")
        boxes = [f["box"] for f in record["faces"]]
        seconds.append(time.perf_counter() - t)
        face_boxes = [[x0 + (x1 - x0) * ALIGNED_FACE_BOX[0], y0 + (y1 - y0) * ALIGNED_FACE_BOX[1],
                       x0 + (x1 - x0) * ALIGNED_FACE_BOX[2], y0 + (y1 - y0) * ALIGNED_FACE_BOX[3]]
                      for x0, y0, x1, y1 in pic["tiles"]]  # fmt: skip
        per_face = [sum(_centre_in(b, fb) for b in boxes) for fb in face_boxes]
        false = sum(not any(_centre_in(b, r) for r in [*pic["tiles"], *pic["background_faces"]]) for b in boxes)
        rows.append({"path": pic["path"], "side": pic["side"], "per_face": per_face, "false_alarms": false,
                     "boxes": [[round(v) for v in b] for b in boxes]})  # fmt: skip
    n = sum(len(r["per_face"]) for r in rows)
    out = {"setting": setting, "pictures": len(rows), "faces": n,
           "found_once": sum(c == 1 for r in rows for c in r["per_face"]) / n,
           "boxed_twice": sum(c >= 2 for r in rows for c in r["per_face"]) / n,
           "missed": sum(c == 0 for r in rows for c in r["per_face"]) / n,
           "false_alarms_per_picture": sum(r["false_alarms"] for r in rows) / len(rows),
           "median_s": float(np.median(seconds))}  # fmt: skip
    out["by_side"] = {side: {"found_once": float(np.mean([c == 1 for r in rows if r["side"] == side for c in r["per_face"]])),
                             "boxed_twice": float(np.mean([c >= 2 for r in rows if r["side"] == side for c in r["per_face"]]))}
                      for side in SIZES}  # fmt: skip
    out["rows"] = rows
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("make", "score"))
    ap.add_argument("--part", choices=("tune", "val"), required=True)
    ap.add_argument("--work", type=Path, default=Path("runs/detail-adds/C"))
    ap.add_argument("--setting", default="none")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.what == "make":
        print(f"{len(make(args.part, args.work))} pictures under {args.work}")
        return 0
    result = score(json.loads((args.work / f"{args.part}.json").read_text()), args.setting)
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}), file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
