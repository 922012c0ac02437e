"""A small face in a large photo (issue 14: a 6000 x 4000 photo with one 100 px face), through
`Predictor.locate_many` on the JPEG files, at several detail ratios, each in its own process (peak
memory per setting).

    PYTHONPATH=. OMP_NUM_THREADS=2 python benchmarks/bench_large_photo.py --part tune --ratios none,0.35,0.5 \\
        --out runs/large-photo/tune

Photos (composed, a diagnostic of the real thing; written under --work, never committed): a WIDER
FACE photo of the part asked for (hash_part, as bench_detection.py splits it) resized to --size
(cubic), with one face of another photo of the same part (not blurred, occluded, atypical or
invalid; at least 48 px high in its photo) pasted so that its WIDER box is --face px high, at a
random place; JPEG quality 90. The background photo's own WIDER faces, resized with it, are
don't-care: a box on one of them is neither found nor a false alarm.

Settings (--ratios): a detail ratio, "none" (detail pass off: the bundle as shipped), or "mtcnn"
(the peer: facenet-pytorch's MTCNN(keep_all=True), default thresholds, min_face_size 20, on the
decoded photo). Per setting: the share of photos whose pasted face is found (a face box with IoU >= 0.5 with its
box), false alarms per photo (boxes on neither face), the median seconds per photo (decode
included, after one warm-up photo) and the process's peak resident memory (ru_maxrss). --call
predict times Predictor.predict (every face's attributes, age and attractiveness too) instead of
locate_many.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torchvision.ops import box_iou

from lnet_anet.data import datasets_root, runs_root
from lnet_anet.data.readers.detection import hash_part, read_wider_txt


def compose_photos(wider: Path, part: str, n: int, size: tuple[int, int], face: int, work: Path, seed: int) -> list[dict]:
    """n photos written under work; each: path, the pasted face's box, the background's boxes."""
    table = read_wider_txt(next(iter(sorted((wider / "wider_face_split").glob("wider_face_*_bbx_gt.txt")))))
    table = table[hash_part(table["name"]) == part].reset_index(drop=True)
    faces = [(i, b) for i, row in table.iterrows() for k, b in enumerate(row["boxes"])
             if b[3] - b[1] >= 48 and not (row["blur"][k] or row["occlusion"][k] or row["pose"][k] or row["invalid"][k])]  # fmt: skip
    rng = np.random.default_rng(seed)
    work.mkdir(parents=True, exist_ok=True)
    photos = []
    for j in range(n):
        bg_i = int(rng.integers(len(table)))
        src_i, box = faces[int(rng.integers(len(faces)))]
        bg = cv2.imread(table["path"][bg_i])
        h0, w0 = bg.shape[:2]
        photo = cv2.resize(bg, size, interpolation=cv2.INTER_CUBIC)
        kx, ky = size[0] / w0, size[1] / h0
        src = cv2.imread(table["path"][src_i])
        x0, y0, x1, y1 = (float(v) for v in box)
        k = face / (y1 - y0)  # the face box `face` px high, with a margin of a third of it around
        m = (y1 - y0) / 3
        cx0, cy0 = int(max(0, x0 - m)), int(max(0, y0 - m))
        cx1, cy1 = int(min(src.shape[1], x1 + m)), int(min(src.shape[0], y1 + m))
        patch = cv2.resize(src[cy0:cy1, cx0:cx1], (round((cx1 - cx0) * k), round((cy1 - cy0) * k)), interpolation=cv2.INTER_CUBIC)
        px = int(rng.integers(0, size[0] - patch.shape[1]))
        py = int(rng.integers(0, size[1] - patch.shape[0]))
        photo[py:py + patch.shape[0], px:px + patch.shape[1]] = patch
        pasted = [px + (x0 - cx0) * k, py + (y0 - cy0) * k, px + (x1 - cx0) * k, py + (y1 - cy0) * k]
        others = [[b[0] * kx, b[1] * ky, b[2] * kx, b[3] * ky] for b in table["boxes"][bg_i]]
        path = work / f"{part}_{j:03d}.jpg"
        cv2.imwrite(str(path), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
        photos.append({"path": str(path), "face": pasted, "background_faces": others})
    return photos


def _iou(a, b) -> float:
    return float(box_iou(torch.from_numpy(np.asarray([a], np.float64)), torch.from_numpy(np.asarray([b], np.float64)))[0, 0])


def _detector(setting: str, bundle: str | None, call: str = "locate"):
    """path -> face boxes, for a setting of --ratios; call "predict": through Predictor.predict
    (every face's attributes, age and attractiveness too) instead of locate_many."""
    if setting == "mtcnn":
        from facenet_pytorch import MTCNN
        from PIL import Image

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
        mtcnn = MTCNN(keep_all=True, device="cpu")

        def detect(path):
            boxes, _ = mtcnn.detect(Image.open(path).convert("RGB"))
            return [] if boxes is None else [[float(v) for v in b] for b in boxes]

        return detect
    from lnet_anet.inference.predictor import Predictor

    predictor = Predictor.load(bundle)
    predictor.detail_ratio = None if setting == "none" else float(setting)
    if call == "predict":
        return lambda path: [face["box"] for face in predictor.predict(path)["faces"]]
    return lambda path: [b for b, _ in next(predictor.locate_many([path]))]


def run_setting(photos: list[dict], setting: str, bundle: str | None, call: str = "locate") -> dict:
    """One setting in this process: found, false alarms, seconds, peak memory."""
    detect = _detector(setting, bundle, call)
    detect(photos[0]["path"])  # warm-up: graphs, tables
    found, false_alarms, seconds = 0, 0, []
    for photo in photos:
        t = time.perf_counter()
        boxes = detect(photo["path"])
        seconds.append(time.perf_counter() - t)
        hit = any(_iou(b, photo["face"]) >= 0.5 for b in boxes)
        found += hit
        for b in boxes:
            if _iou(b, photo["face"]) < 0.5 and all(_iou(b, o) < 0.3 for o in photo["background_faces"] + [photo["face"]]):
                false_alarms += 1
    return {"setting": setting, "photos": len(photos), "found": found / len(photos),
            "false_alarms_per_photo": false_alarms / len(photos), "median_s": statistics.median(seconds),
            "max_s": max(seconds), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wider", type=Path, default=datasets_root() / "wider_face_train")
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--n", type=int, default=10, help="photos")
    ap.add_argument("--size", default="6000x4000", help="WxH of the photos")
    ap.add_argument("--face", type=float, default=100.0, help="the pasted face box's height, px")
    ap.add_argument("--ratios", default="none,0.5", help="settings, comma-separated: detail ratios, none (off), mtcnn")
    ap.add_argument("--bundle", default=None, help="default: the embedded bundle")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--call", choices=("locate", "predict"), default="locate",
                    help="time Predictor.locate_many (localization) or Predictor.predict (every head too); MTCNN "
                         "localizes only")  # fmt: skip
    ap.add_argument("--work", type=Path, default=runs_root() / "large-photo" / "photos")
    ap.add_argument("--out", type=Path, default=None, help="results.json goes here")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: one setting, JSON on stdout
    args = ap.parse_args(argv)
    listing = args.work / f"{args.part}.json"
    if args.one is not None:
        photos = json.loads(listing.read_text())
        print(json.dumps(run_setting(photos, args.one, args.bundle, args.call)))
        return 0
    if not any((args.wider / "wider_face_split").glob("wider_face_*_bbx_gt.txt")):
        ap.error(f"--wider {args.wider}: no WIDER FACE label file there (wider_face_split/wider_face_*_bbx_gt.txt); "
                 "pass --wider DIR or set LNET_ANET_DATASETS")  # fmt: skip
    w, h = (int(v) for v in args.size.lower().split("x"))
    photos = compose_photos(args.wider, args.part, args.n, (w, h), args.face, args.work, args.seed)
    listing.write_text(json.dumps(photos))
    results = []
    for ratio in args.ratios.split(","):
        cmd = [sys.executable, __file__, "--work", str(args.work), "--part", args.part, "--one", ratio.strip(),
               "--call", args.call]  # fmt: skip
        if args.bundle:
            cmd += ["--bundle", args.bundle]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(results[-1], flush=True)
    record = {"command": " ".join(["python", "benchmarks/bench_large_photo.py", *(argv or sys.argv[1:])]),
              "part": args.part, "size": [w, h], "face_px": args.face, "call": args.call,
              "threads": os.environ.get("OMP_NUM_THREADS"),
              "machine": {"processor": platform.machine(), "cpu_count": os.cpu_count(), "load": os.getloadavg()},
              "results": results}  # fmt: skip
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
