"""lnet_anet's Predictor against MTCNN, dlib HOG and OpenCV's Haar cascade on labelled photos (WIDER FACE,
FDDB, a CSV or VOC XML of boxes): the same images, the same scoring code (evaluate_detections).

    OMP_NUM_THREADS=1 python benchmarks/bench_detection.py \\
        --wider ../shared/datasets/wider_face_train --part val --threads 1 \\
        --out experiments/2026-11-30-detection-wider

Data: WIDER FACE's `wider_face_split/wider_face_*_bbx_gt.txt` under --wider (read by
read_wider_txt; the first by name when there are several, e.g. train before val); or, with
--format wider-mat / fddb / csv / voc and --labels (and --images), any benchmark the readers of
lnet_anet.data.readers.detection take (scored whole: --part all). --format wider-mat without
--labels takes wider_face_train.mat or wider_face_val.mat, else the one *.mat, from --wider or
--wider/wider_face_split (an error when there are none or several). --format fddb reads the
folds --fddb-folds names (default all 10). The label file used is printed and recorded.
Split rule (hash_part): an image is in the val part when the first 8 bytes of
sha256("lnet_anet-wider-v1:<event>/<file>.jpg") / 2**64 >= 0.7 (30%), else in the tune part
(kept for fitting the localizer; never scored here). Faces lower than --min-height (24) pixels,
and WIDER's invalid faces, are don't-care. A file of WIDER's evaluation settings
(wider_{easy,medium,hard}_val.mat) counts only the faces its gt_list names, as WIDER's evaluation
does, and takes --min-height 0 unless given. The scores are all-point (VOC) AP at IoU 0.5 over
the faces that count, not WIDER's own evaluation code, so the figures sit beside the peers run
here, not beside published WIDER tables. For AP, FDDB's ellipses are scored as their bounding
boxes; FDDB's labels also get FDDB's own evaluation (lnet_anet.metrics.fddb: ellipse regions,
Hungarian matching, every ellipse counts): each row's true positive rate at 100 and 1000 false
positives, and the tool's ROC files (--out/fddb/<row>DiscROC.txt and ContROC.txt), which
published FDDB plotting scripts read.

Detectors (each gets the image file; reading it is part of its time):
  lnet_anet        Predictor.load() end to end (analyse(path): LNet, localizer, the LNet_s cascade
                   when the bundle has one (the embedded one has none), ANet attributes, age)
                   with its localizer opened up so the AP curve is complete: threshold -inf,
                   min_relative_score 0, max_faces 100, max_peaks 200.
  lnet_anet_shipped the same with the bundle's localizer settings as shipped ("shipped" names the
                   bundle's own settings, not the embedded bundle: with --bundle it is that bundle;
                   results.md says under its table which bundle each lnet_anet row read).
  lnet_anet_localize the shipped localization part (read, LNet, localizer, LNet_s if any, and the face
                   filter and rescue, which read ANet's feature of doubtful faces; no box heads or
                   answers; Predictor.locate_many): the faces lnet_anet_shipped finds, the time to set
                   beside MTCNN's. Its boxes are the localizer's fixed face box, not the box heads'
                   (they read ANet), so its AP differs from lnet_anet_shipped's where the bundle has
                   box heads (the embedded one has).
  lnet_anet_localize_open  the same, localizer opened up as for lnet_anet (the AP curve without
                   ANet's cost per box).
  baseline_localize  lnet_anet_localize with the --baseline bundle (default: the embedded one):
                   an older bundle beside the --bundle under test, in the same run. Left out of the
                   default detectors when neither --bundle nor --baseline is given (the same bundle twice).
  mtcnn            facenet-pytorch MTCNN(keep_all=True), default thresholds and min_face_size
                   20; its probabilities are the scores.
  dlib_hog         dlib.get_frontal_face_detector().run(image, 1, -1): upsample once, every
                   window scoring above -1 kept, its SVM score as the score.
  haar             cv2 haarcascade_frontalface_default.xml, detectMultiScale3(scaleFactor 1.1,
                   minNeighbors 3, minSize 20x20, outputRejectLevels=True); levelWeights as scores.
The embedded bundle's own thresholds decide which scales it reads, and it keeps weak faces
(experiments/2026-12-04-threshold-policy), so opening its localizer adds no box: lnet_anet's and
lnet_anet_localize_open's rows equal lnet_anet_shipped's and lnet_anet_localize's for it. They
differ for a bundle whose threshold leaves boxes out.
Times: median ms per image over the scored images, torch/OpenCV threads = --threads, batch 1.

Intervals (--intervals N resamples, default 1000; 0: none): each row's AP50, recall at 0.1 and 1
false alarms per image, max recall and face-free false alarms per crop get their 95% confidence
interval, the percentile bootstrap with the photos (crops) resampled whole (lnet_anet.metrics.intervals;
none under 10 photos); each lnet_anet row gets the interval of its difference to each peer row on the
same resamples (results.json: "versus").

Face-free check (--face-free): from each scored photo (those of --part: val, tune or all), at most
one square crop of side >= 64 px (random, seeded) that overlaps no labelled box of any size (each
box grown by 50% per side for hair and head) -- WIDER labels even tiny faces, but an unlabelled
face or a body part may remain. The crops are written under --work (runs/, never committed) and
each detector's false alarms per crop are counted at its own operating point (lnet_anet_shipped:
the bundle's threshold; mtcnn: its thresholds; dlib_hog: score >= 0, dlib's default; haar: every
detection). results.json's data.face_free says how many crops of which part.

Images the labels name that cannot be read (missing, empty, truncated, not an image) are checked
once before any detector runs, with the readers the chosen detectors use (the Predictor's
load_image; read_image, OpenCV, for the peers), reported on stderr with the reason and left out for
every detector alike; results.json lists them under data.skipped, results.md counts them.

Writes results.json (strict JSON: an AP over no faces is null), results.md, curves.json (each
row's precision-recall and recall-against-false-alarms points, one per distinct score, and its
operating point's) and curves.png (those curves drawn, and FDDB's discrete ROC for FDDB's labels)
to --out (default
runs/bench_detection/<format>-<time>, never committed; pass --out experiments/... for a recorded
run); per-image detections go to --work. Exit status: 0 done; 1 the data cannot be scored (a bad
or missing label file, an empty part, no readable image), one `error: ...` line on stderr; 2 a
bad command line (unknown detector, --fddb-folds out of 1-10, ...), likewise one line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import re
import shlex
import statistics
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch

from lnet_anet.cli.arguments import bundle_refusal
from lnet_anet.data import datasets_root, runs_root
from lnet_anet.data.errors import DataNotFoundError, DatasetFormatError, ImageReadError
from lnet_anet.data.images import load_image, read_image
from lnet_anet.data.readers.detection import (
    detection_key,
    hash_part,
    mark_small,
    n_faces,
    read_box_csv,
    read_detections,
    read_fddb,
    read_voc_xml,
    read_wider_mat,
    read_wider_txt,
)
from lnet_anet.engine.runs import machine, say_left_out
from lnet_anet.metrics.detection import (
    FPPI,
    SIZE_BANDS,
    detection_intervals,
    evaluate_detections,
    truth_from_table,
)
from lnet_anet.metrics.fddb import FALSE_POSITIVES, fddb_roc, write_roc_files
from lnet_anet.metrics.intervals import MIN_ITEMS, RESAMPLES, format_interval, named_intervals

READERS = {
    "wider": read_wider_txt,
    "wider-mat": read_wider_mat,
    "fddb": read_fddb,  # called with folds= (--fddb-folds)
    "csv": read_box_csv,
    "voc": read_voc_xml,  # called with classes= (--voc-classes)
}
ALL = ("lnet_anet", "lnet_anet_shipped", "lnet_anet_localize", "lnet_anet_localize_open", "baseline_localize", "mtcnn",
       "dlib_hog", "haar")
PREDICTOR_DETECTORS = ("lnet_anet", "lnet_anet_shipped", "lnet_anet_localize", "lnet_anet_localize_open", "baseline_localize")
FDDB_FOLDS = tuple(range(1, 11))
# what each format's labels mark don't-care, before the faces under --min-height
DONT_CARE_LABEL = {"wider": "WIDER invalid=1, or ", "wider-mat": "WIDER invalid=1, or ", "fddb": "",
                   "csv": "the CSV's dont_care column = 1, or ", "voc": "VOC difficult=1, or "}  # fmt: skip
# the peers' packages (`make bench-install`): checked before any detector runs
PEER_PACKAGES = {"mtcnn": ("facenet_pytorch", "facenet-pytorch"), "dlib_hog": ("dlib", "dlib-bin")}


class UsageError(ValueError):
    """A command line the script cannot run (exit status 2, one `error: ...` line)."""


def rgb(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"{path}: cannot read image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


# ----------------------------------------------------------------------------- detectors


def make_detector(name: str, bundle=None, baseline=None, box_head=None, face_head=None):
    """A function path -> (boxes (k, 4) [x0, y0, x1, y1] exclusive, scores (k,), extra dict).
    box_head / face_head: the box head / face head files lnet_anet and lnet_anet_shipped use
    (default: the shipped ones; a bundle with another ANet needs heads fitted on it)."""
    if name in ("lnet_anet", "lnet_anet_shipped"):
        from lnet_anet.inference.predictor import Predictor

        pred = Predictor.load(bundle, box_head=box_head, face_head=face_head)
        shipped = float(pred.localizer.threshold)
        if name == "lnet_anet":
            loc = pred.localizer
            loc.threshold, loc.min_relative_score = -float("inf"), 0.0
            loc.max_faces, loc.max_peaks = 100, 200

        def detect(path):
            a = pred.analyse(path)
            if a.record.get("error"):
                raise OSError(a.record["error"])
            faces = a.record["faces"]
            boxes = np.array([f["box"] for f in faces], np.float64).reshape(-1, 4)
            return boxes, np.array([f["score"] for f in faces], np.float64), {"analysis": a}

        detect.settings = dict(vars(pred.localizer)) | {"shipped_threshold": shipped,  # type: ignore[attr-defined]
                                                        "bundle": str(bundle or "embedded"),
                                                        "identity": pred.bundle.identity, "model": pred.model_identity,
                                                        "box_head": str(box_head or "the bundle's"),
                                                        "face_head": str(face_head or "the bundle's")}  # fmt: skip
        return detect
    if name == "lnet_anet_localize":
        return _localize_only(bundle)
    if name == "lnet_anet_localize_open":
        return _localize_only(bundle, opened=True)
    if name == "baseline_localize":
        return _localize_only(baseline)
    if name == "mtcnn":
        from facenet_pytorch import MTCNN

        net = MTCNN(keep_all=True, device="cpu")

        def detect(path):
            boxes, probs = net.detect(rgb(path))
            if boxes is None:
                return np.zeros((0, 4)), np.zeros(0), {}
            return np.asarray(boxes, np.float64), np.asarray(probs, np.float64), {}

        detect.settings = {"keep_all": True, "thresholds": list(net.thresholds), "min_face_size": net.min_face_size}  # type: ignore[attr-defined]
        return detect
    if name == "dlib_hog":
        import dlib

        hog = dlib.get_frontal_face_detector()

        def detect(path):
            rects, scores, _ = hog.run(rgb(path), 1, -1.0)
            # dlib rectangles are inclusive: right = left + width - 1
            boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects], np.float64)
            return boxes.reshape(-1, 4), np.asarray(scores, np.float64), {}

        detect.settings = {"upsample": 1, "adjust_threshold": -1.0, "dlib": dlib.__version__}  # type: ignore[attr-defined]
        return detect
    if name == "haar":
        cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml"))

        def detect(path):
            gray = cv2.cvtColor(rgb(path), cv2.COLOR_RGB2GRAY)
            rects, _, weights = cascade.detectMultiScale3(gray, scaleFactor=1.1, minNeighbors=3, minSize=(20, 20),
                                                          outputRejectLevels=True)  # fmt: skip
            if len(rects) == 0:
                return np.zeros((0, 4)), np.zeros(0), {}
            r = np.asarray(rects, np.float64).reshape(-1, 4)
            boxes = np.concatenate([r[:, :2], r[:, :2] + r[:, 2:]], axis=1)
            return boxes, np.asarray(weights, np.float64).reshape(-1), {}

        detect.settings = {"cascade": "haarcascade_frontalface_default.xml", "scaleFactor": 1.1, "minNeighbors": 3,  # type: ignore[attr-defined]
                           "minSize": [20, 20], "opencv": cv2.__version__}  # fmt: skip
        return detect
    raise ValueError(f"unknown detector {name!r} (one of {', '.join(ALL)})")


def _localize_only(bundle=None, opened: bool = False):
    """The Predictor's localization part alone (Predictor.locate_many: read, LNet at the bundle's
    scales, localizer, LNet_s cascade when the bundle has one, the face filter and rescue, boxes in
    image pixels; no box heads or answers): the time to compare with a face detector's. Same boxes
    as lnet_anet_shipped."""
    from lnet_anet.inference.predictor import Predictor

    pred = Predictor.load(bundle)
    shipped = float(pred.localizer.threshold)
    if opened:  # the whole ranking, for the AP curve (as the lnet_anet detector, without ANet)
        loc = pred.localizer
        loc.threshold, loc.min_relative_score, loc.max_faces, loc.max_peaks = -float("inf"), 0.0, 100, 200

    def detect(path):
        (faces,) = pred.locate_many([path], batch_size=1)
        boxes = np.array([b for b, _ in faces], np.float64).reshape(-1, 4)
        return boxes, np.array([s for _, s in faces], np.float64), {}

    detect.settings = dict(vars(pred.localizer)) | {"shipped_threshold": shipped, "lnet_input": pred._lnet.to_dict(),  # type: ignore[attr-defined]
                                                    "bundle": str(bundle or "embedded"), "identity": pred.bundle.identity,
                                                    "model": pred.model_identity}  # fmt: skip
    return detect


def run_detector(detect, paths: list[str], keep=None) -> tuple[list, list[float], list]:
    detect(paths[0])  # warm-up (lazy init, first-call allocations)
    dets, times, extras = [], [], []
    for p in paths:
        t = time.perf_counter()
        boxes, scores, extra = detect(p)
        times.append((time.perf_counter() - t) * 1000)
        dets.append((boxes, scores))
        extras.append(keep(extra) if keep else None)
    return dets, times, extras


# ----------------------------------------------------------------------------- diagnosis


def peak_stats(analysis, boxes: np.ndarray, dont_care: np.ndarray, kernel: int) -> dict:
    """Where LNet's response map peaks, in image pixels, and which true faces hold a peak."""
    from lnet_anet.lnet.localizer import find_peaks

    response, (h_in, w_in), where = analysis.maps[0]  # the first scale's map and canvas
    r = torch.as_tensor(response, dtype=torch.float64)
    mh, mw = r.shape
    peaks = find_peaks(r, kernel).numpy()
    vals = r[peaks[:, 0], peaks[:, 1]].numpy() if len(peaks) else np.zeros(0)
    # cell centre on LNet's canvas, then on the image
    px = ((peaks[:, 1] + 0.5) * w_in / mw - where.x0) / where.kx
    py = ((peaks[:, 0] + 0.5) * h_in / mh - where.y0) / where.ky
    inside = [(px >= b[0]) & (px < b[2]) & (py >= b[1]) & (py < b[3]) for b in boxes]
    in_any = np.any(inside, axis=0) if inside else np.zeros(len(peaks), bool)
    return {
        "n_peaks": int(len(peaks)),
        "n_peaks_in_a_face": int(in_any.sum()),  # any WIDER box, don't-care included
        "face_has_peak": [bool(m.any()) for m in inside],
        "face_best_peak": [float(vals[m].max()) if m.any() else None for m in inside],
        "map_max": float(r.max()),
        "cell_px": float(w_in / mw / where.kx),
    }


# ----------------------------------------------------------------------------- face-free crops


def face_free_crops(df, out_dir: Path, min_side: int = 64, grow: float = 0.5, tries: int = 200, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for path, name, boxes in zip(df["path"], df["name"], df["boxes"], strict=True):
        img = cv2.imread(path)
        if img is None:
            continue
        h, w = img.shape[:2]
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        size = b[:, 2:] - b[:, :2]
        grown = np.concatenate([b[:, :2] - grow * size, b[:, 2:] + grow * size], axis=1)
        best = None
        for _ in range(tries):
            side = int(rng.integers(min_side, max(min_side, min(h, w)) + 1))
            if side > min(h, w):
                break
            x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            hit = (grown[:, 0] < x0 + side) & (grown[:, 2] > x0) & (grown[:, 1] < y0 + side) & (grown[:, 3] > y0)
            if not hit.any() and (best is None or side > best[2]):
                best = (x0, y0, side)
        if best is None:
            continue
        x0, y0, side = best
        dst = out_dir / (name.replace("/", "__").rsplit(".", 1)[0] + f"__{x0}_{y0}_{side}.png")
        cv2.imwrite(str(dst), img[y0 : y0 + side, x0 : x0 + side])  # PNG: no second JPEG loss
        paths.append(str(dst))
    return paths


SAVED_DRAWN = 0.5  # --vis: a saved output's boxes drawn (it has no operating point of its own here)


TRUTH_COLOUR, DONT_CARE_COLOUR, FOUND_COLOUR = (255, 0, 255), (150, 150, 150), (0, 255, 0)  # RGB, --vis panels
VIS_KEY = "magenta: labelled faces that count, gray: don't care, green: the row's boxes"


def draw_detections(df, truth, drawn: dict[str, list[np.ndarray]], folder: Path, height: int = 360) -> list[Path]:
    """One JPEG per image of df (in folder, never under experiments/: they are the data's
    pixels): a panel per row of `drawn` (name -> boxes per image), the image `height` px high, a
    dark gap between panels; labelled faces that count in magenta (seen on white walls too),
    don't-care gray, the row's boxes green over them; the row's name and count on top, white on a
    dark box; VIS_KEY in a strip below (wrapped where one line would not fit: trial 81). Returns
    the files written."""
    from lnet_anet.inference.visualize import _panel, _text

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (path, name) in enumerate(zip(df["path"], df["name"], strict=True)):
        image = load_image(path)  # as displayed (EXIF orientation applied): the boxes' frame
        k = height / image.shape[0]
        base = cv2.resize(image, (max(1, round(image.shape[1] * k)), height), interpolation=cv2.INTER_AREA)
        gap = np.full((height, 6, 3), 32, np.uint8)
        panels = []
        for row, boxes in drawn.items():
            tile = base.copy()
            for box, dont_care in zip(*truth[i], strict=True):
                x0, y0, x1, y1 = (int(round(v * k)) for v in box)
                cv2.rectangle(tile, (x0, y0), (x1 - 1, y1 - 1), DONT_CARE_COLOUR if dont_care else TRUTH_COLOUR, 2)
            for box in boxes[i]:
                x0, y0, x1, y1 = (int(round(v * k)) for v in box)
                cv2.rectangle(tile, (x0, y0), (x1 - 1, y1 - 1), FOUND_COLOUR, 2)
            _text(tile, f"{row}: {len(boxes[i])}", 6, 20, 0.55)
            panels += [tile, gap]
        picture = np.concatenate(panels[:-1], axis=1)
        key = _panel([VIS_KEY], picture.shape[1], 0.5)  # wrapped at its commas where it does not fit
        out = folder / f"{i:03d}_{name.replace('/', '__').rsplit('.', 1)[0]}.jpg"
        cv2.imwrite(str(out), cv2.cvtColor(np.concatenate([picture, key]), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        written.append(out)
    return written


def operating_point(name: str, scores: np.ndarray, shipped_threshold: float | None) -> np.ndarray:
    if name == "dlib_hog":
        return scores >= 0.0
    if name == "lnet_anet_shipped":
        return np.ones(len(scores), bool)  # the bundle's own threshold already applied
    if name in ("lnet_anet", "lnet_anet_localize_open"):
        return scores > shipped_threshold if shipped_threshold is not None else np.ones(len(scores), bool)
    return np.ones(len(scores), bool)


# ----------------------------------------------------------------------------- data


# WIDER FACE's official val labels, and its evaluation settings' files: a benchmark scores them
# whole (--part all by default)
OFFICIAL_VAL = ("wider_face_val_bbx_gt.txt", "wider_face_val.mat", "wider_easy_val.mat", "wider_medium_val.mat",
                "wider_hard_val.mat")


def find_wider_labels(root: Path, fmt: str) -> tuple[Path, str]:
    """The label file under --wider when --labels is not given, and how it was chosen. wider:
    wider_face_val_bbx_gt.txt (the official val set, OFFICIAL_VAL) in root/wider_face_split, else
    in root, else the first by name of wider_face_*_bbx_gt.txt there. wider-mat: wider_face_val.mat,
    else wider_face_train.mat there, else the only *.mat. Raises DataNotFoundError when there is
    none, DatasetFormatError when several .mat files could be it."""
    if not root.is_dir():
        raise DataNotFoundError(root, "WIDER FACE folder not found (--wider DIR, the folder holding wider_face_split/; "
                                      "or give the label file with --labels)")  # fmt: skip
    where = [d for d in (root / "wider_face_split", root) if d.is_dir()]
    if fmt == "wider":
        for d in where:
            found = sorted(d.glob("wider_face_*_bbx_gt.txt"), key=lambda f: (f.name not in OFFICIAL_VAL, f.name))
            if found:
                also = f"; also there: {', '.join(f.name for f in found[1:])} (choose with --labels)" if found[1:] else ""
                return found[0], f"found in {d}{also}"
        raise DataNotFoundError(root, "no wider_face_*_bbx_gt.txt here or in wider_face_split/; give the label file with --labels")
    official = [d / n for d in where for n in ("wider_face_val.mat", "wider_face_train.mat") if (d / n).is_file()]
    found = official or [f for d in where for f in sorted(d.glob("*.mat"))]
    if not found:
        raise DataNotFoundError(root, "no .mat label file here or in wider_face_split/ (wider_face_train.mat or "
                                      "wider_face_val.mat); give the label file with --labels")  # fmt: skip
    if len(official) > 1:  # the official wider_face_split/ holds both: val, as for the .txt files
        return official[0], (f"found in {official[0].parent}; also there: "
                             f"{', '.join(f.name for f in official[1:])} (choose with --labels)")  # fmt: skip
    if len(found) > 1:
        raise DatasetFormatError(root, f"several .mat label files: {', '.join(map(str, found))}; choose one with --labels")
    return found[0], f"found in {found[0].parent}; --labels to choose another"


def read_labels(fmt: str, labels: Path, images: Path | None, folds=FDDB_FOLDS, voc_classes=("face",)):
    """The reader's table (lnet_anet.data.readers.detection). A missing FDDB fold is named with the
    --fddb-folds that would read the folds that are there."""
    if fmt == "voc":
        return read_voc_xml(labels, images, classes=voc_classes)
    if fmt != "fddb":
        return READERS[fmt](labels, images)
    try:
        return read_fddb(labels, images, folds=folds)
    except DataNotFoundError as e:
        if not re.fullmatch(r"FDDB-fold-\d\d(-ellipseList)?\.txt", Path(e.path).name) or Path(e.path) == labels:
            raise  # not a fold missing from the folds folder (a fold file given as --labels: "is not a folder")
        have = [k for k in FDDB_FOLDS if (labels / f"FDDB-fold-{k:02d}.txt").is_file()
                and (labels / f"FDDB-fold-{k:02d}-ellipseList.txt").is_file()]  # fmt: skip
        which = f"--fddb-folds {' '.join(map(str, have))}" if have else "--fddb-folds K [K ...]"
        raise DataNotFoundError(e.path, f"missing label file; to score only the folds that are there: {which}") from None


def unreadable(paths: list[str], names: list[str], detectors: list[str], sizes: dict | None = None) -> list[dict]:
    """The images a chosen detector could not read, as [{"name", "path", "reason"}]: each is read
    once, before any detector runs, with the readers the detectors use (the Predictor's
    load_image; read_image, OpenCV, for the peers), so that every detector scores the same images
    (locate_many would give an unreadable image no face without a word). sizes: filled with
    {path: (height, width)} of each image read (as displayed: EXIF orientation applied)."""
    predictor = any(d in PREDICTOR_DETECTORS for d in detectors)
    peers = any(d not in PREDICTOR_DETECTORS for d in detectors)
    bad = []
    for path, name in zip(paths, names, strict=True):
        try:
            shape = load_image(path).shape[:2] if predictor else None  # as displayed: EXIF orientation applied
            if peers:
                read_image(path)  # OpenCV can decode it (else its reason)
                # as the peers read it (rgb: OpenCV applies the EXIF orientation); read_image's stored, sideways
                # size flagged a turned photo's boxes as outside it (trial 84)
                shape = shape or rgb(path).shape[:2]
        except ImageReadError as e:
            bad.append({"name": name, "path": path, "reason": e.reason})
            continue
        if sizes is not None and shape is not None:
            sizes[path] = tuple(int(v) for v in shape)
    return bad


def boxes_outside(df, sizes: dict) -> list[dict]:
    """The labelled boxes that lie wholly outside their image ([{"name", "box", "image_hw"}]): no
    detection can match them, so each counts as a missed face. Label formats without an image size
    (CSV, WIDER, FDDB) cannot refuse them when read; here the image's size is known."""
    out = []
    for path, name, boxes in zip(df["path"], df["name"], df["boxes"], strict=True):
        if path not in sizes:
            continue
        h, w = sizes[path]
        for b in np.asarray(boxes, np.float64).reshape(-1, 4):
            if b[0] >= w or b[1] >= h or b[2] <= 0 or b[3] <= 0:
                out.append({"name": name, "box": [round(float(v), 1) for v in b], "image_hw": [h, w]})
    return out


def benchmark_data(args, detectors: list[str]) -> dict:
    """Checks the command line and reads the benchmark: {"labels", "found" (how --labels was
    chosen, or None), "table" (every image), "df" (the scored ones), "skipped" (unreadable())}.
    Raises UsageError for a bad command line, DatasetFormatError / DataNotFoundError (label
    files) or ValueError (nothing to score) for the data."""
    unknown = [d for d in detectors if d not in ALL]
    if unknown or not (detectors or args.detections):
        what = f"unknown detector {unknown[0]!r}" if unknown else "--detectors names no detector"
        raise UsageError(f"{what} (--detectors takes a comma-separated list of: {', '.join(ALL)})")
    missing = [f"{d} needs {PEER_PACKAGES[d][1]}" for d in detectors
               if d in PEER_PACKAGES and importlib.util.find_spec(PEER_PACKAGES[d][0]) is None]  # fmt: skip
    if missing:
        raise UsageError(f"{'; '.join(missing)}: `make bench-install` installs the peers (or leave them out of "
                         "--detectors)")  # fmt: skip
    if args.fddb_folds is not None and args.format != "fddb":
        raise UsageError("--fddb-folds is for --format fddb")
    if args.voc_classes is not None and args.format != "voc":
        raise UsageError("--voc-classes is for --format voc")
    voc_classes = tuple(c.strip() for c in (args.voc_classes or "face").split(",") if c.strip())
    if not voc_classes:
        raise UsageError(f"--voc-classes names no class, got {args.voc_classes!r}")
    bad = [k for k in args.fddb_folds or () if k not in FDDB_FOLDS]
    if bad or len(set(args.fddb_folds or ())) != len(args.fddb_folds or ()):
        raise UsageError(f"--fddb-folds takes distinct fold numbers 1-10, got {' '.join(map(str, args.fddb_folds))}")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    if args.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {args.threads}")
    if args.vis < 0:
        raise UsageError(f"--vis must be 0 or more, got {args.vis}")
    for opt, path in (("--bundle", args.bundle), ("--baseline", args.baseline), ("--box-head", args.box_head),
                      ("--face-head", args.face_head)):
        if path is not None and not path.exists():
            raise UsageError(f"{opt} {path}: no such file")
        refused = bundle_refusal(opt, path) if path is not None and opt in ("--bundle", "--baseline") else None
        if refused:  # before the labels and photos are read
            raise UsageError(refused)
    if args.labels is None and args.format not in ("wider", "wider-mat"):
        raise UsageError(f"--format {args.format} needs --labels (the label file or folder)")

    found = None
    labels = args.labels
    if labels is None:
        labels, found = find_wider_labels(args.wider, args.format)
        print(f"labels: {labels} ({found})", flush=True)
    if args.part is None:  # the official val set whole; WIDER's train labels (.txt or .mat): their hash val part; others whole
        args.part = "all" if Path(labels).name in OFFICIAL_VAL else "val" if args.format.startswith("wider") else "all"
    with warnings.catch_warnings(record=True) as said:  # the readers' warnings as the script's other lines
        warnings.simplefilter("always")
        table = read_labels(args.format, labels, args.images, tuple(args.fddb_folds or FDDB_FOLDS), voc_classes)
    for w in said:
        print(f"warning: {w.message}", file=sys.stderr)
    if not len(table):
        raise ValueError(f"{labels}: the labels name no image")
    setting = table.attrs.get("setting")  # WIDER's easy / medium / hard file: its gt_list decides which faces count
    if args.min_height is None:
        args.min_height = 0.0 if setting else 24.0
    table["part"] = hash_part(table["name"])
    df = table if args.part == "all" else table[table["part"] == args.part].reset_index(drop=True)
    if not len(df):
        raise ValueError(f"{labels}: the {args.part} part holds none of its {len(table)} images (a fixed 70/30 split "
                         "by file name, hash_part); to score every image: --part all")  # fmt: skip
    if args.limit:
        df = df.iloc[: args.limit].reset_index(drop=True)
    sizes: dict = {}
    skipped = unreadable(list(df["path"]), list(df["name"]), [*detectors, *args.detections], sizes)  # files: as peers
    outside = boxes_outside(df, sizes)
    if outside:  # kept, as labelled: said, since each is a face no detector can find
        first = outside[0]
        print(f"warning: {len(outside)} labelled box(es) lie wholly outside their image, each a face no detector can "
              f"match (the first: {first['name']} {first['box']} in an image of {first['image_hw'][1]}x"
              f"{first['image_hw'][0]}); all are listed in results.json (boxes_outside)", file=sys.stderr)  # fmt: skip
    say_left_out(skipped, "skipped")
    if len(skipped) == len(df):
        s = skipped[0]
        raise ValueError(f"none of the {len(df)} images can be read (the first: {s['path']}: {s['reason']}); "
                         "is the image folder right (--images)?")  # fmt: skip
    if skipped:
        gone = {s["path"] for s in skipped}
        df = df[[p not in gone for p in df["path"]]].reset_index(drop=True)
    df = mark_small(df, args.min_height)
    care, dont = n_faces(df)
    if care == 0:  # AP is not defined over no face
        why = (f"none of the {dont} faces of the {len(df)} images counts (each is lower than --min-height "
               f"{args.min_height:g} px or marked don't-care)" if dont else f"the labels name no face in the {len(df)} images")
        hint = ("lower --min-height or check the labels" if dont else
                "check --voc-classes (the <name> of the face objects)" if args.format == "voc" else "check the labels")
        raise ValueError(f"{labels}: {why}: nothing to score AP on; {hint}")
    return {"labels": labels, "found": found, "table": table, "df": df, "skipped": skipped, "boxes_outside": outside,
            "sizes": sizes,
            "voc_classes": list(voc_classes) if args.format == "voc" else None, "setting": setting}


def saved_detections(specs: list[str]) -> dict[str, Path]:
    """--detections NAME=PATH ... -> {NAME: PATH}. Raises UsageError for a spec without `=`, an
    empty name, a name given twice or one of the detectors' names."""
    out: dict[str, Path] = {}
    for spec in specs:
        name, eq, path = spec.partition("=")
        name = name.strip()
        if not eq or not name or not path:
            raise UsageError(f"--detections takes NAME=PATH, got {spec!r}")
        if name in out or name in ALL:
            raise UsageError(f"--detections {name}=...: {'given twice' if name in out else 'a detector of this script'}; "
                             "give the saved output another name")  # fmt: skip
        out[name] = Path(path)
    return out


def matched_detections(found: dict, names: list[str], source: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each scored image's saved (boxes, scores), by detection_key; an image without an entry found
    nothing (said in one warning line). Raises ValueError when no image has one (the names differ)."""
    empty = (np.zeros((0, 4)), np.zeros(0))
    keys = [detection_key(n) for n in names]
    missing = [k for k in keys if k not in found]
    if len(missing) == len(keys):
        raise ValueError(f"{source}: none of the {len(keys)} scored images has detections there (a label names "
                         f"{keys[0]!r}; the file names {next(iter(found), 'no image')!r}): images are matched by name, "
                         "without extension")  # fmt: skip
    if missing:
        print(f"warning: {source}: {len(missing)} of the {len(keys)} scored images have no detections there (the first: "
              f"{missing[0]}): scored as finding no face", file=sys.stderr)  # fmt: skip
    return [found.get(k, empty) for k in keys]


# ----------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="exit status: 0 the record was written (images that cannot be read are left out for every "
                                        "detector, named on stderr and counted in results.md: check them before "
                                        "comparing with another run); 1 labels that cannot be read (the error names the "
                                        "file and line), or no image that can; 2 bad usage (an unknown option, a bad "
                                        "value, a peer's package missing)")  # fmt: skip
    ap.add_argument("--format", choices=tuple(READERS), default="wider",
                    help="wider: *_bbx_gt.txt; wider-mat: wider_face_*.mat; fddb: the FDDB-folds folder; "
                         "csv: path,x0,y0,x1,y1; voc: a folder of Pascal VOC XML")  # fmt: skip
    ap.add_argument("--wider", type=Path, default=datasets_root() / "wider_face_train",
                    help="WIDER FACE's folder, where --format wider / wider-mat look for the labels without --labels")  # fmt: skip
    ap.add_argument("--labels", type=Path, default=None,
                    help="the label file or folder (default for wider: the first wider_face_split/*_bbx_gt.txt; for "
                         "wider-mat: wider_face_{train,val}.mat or the one *.mat under --wider)")  # fmt: skip
    ap.add_argument("--images", type=Path, default=None, help="image folder (default: the reader's)")
    ap.add_argument("--part", choices=("val", "tune", "all"), default=None,
                    help="hash_part of the image names as the label file spells them (default: all for WIDER's "
                         "official val labels and the other formats; val for WIDER's other label files, e.g. its train "
                         "labels); the formats spell a photo differently (CSV event/x.jpg, VOC x.jpg, FDDB event/x), so "
                         "the same photos converted to another format fall in other parts")  # fmt: skip
    ap.add_argument("--fddb-folds", type=int, nargs="+", default=None, metavar="K",
                    help="--format fddb: the folds to read, FDDB-fold-K.txt (default: all 10)")  # fmt: skip
    ap.add_argument("--voc-classes", default=None, metavar="NAMES",
                    help="--format voc: comma-separated <name>s of the objects that are faces, any case "
                         "(default: face)")  # fmt: skip
    ap.add_argument("--min-height", type=float, default=None,
                    help="faces lower than this many pixels are don't-care (default: 24; 0 for a file of WIDER's "
                         "evaluation settings, wider_{easy,medium,hard}_val.mat, whose gt_list decides)")  # fmt: skip
    ap.add_argument("--detectors", default=None,
                    help=f"comma-separated, of: {', '.join(ALL)} (default: all of them, but baseline_localize "
                         "without --bundle or --baseline; a peer whose package is missing is then left out, said in "
                         "one line: `make bench-install` installs them)")  # fmt: skip
    ap.add_argument("--detections", action="append", default=[], metavar="NAME=PATH",
                    help="also score a detector's saved output as the row NAME (repeat for more): a folder of WIDER "
                         "FACE's submission files (<event>/<image>.txt), a .txt of FDDB's output blocks (name, count, "
                         "x y w h score), a .csv (name,x0,y0,x1,y1,score) or a detections_<name>.json of --work; "
                         "images are matched by name without extension (read_detections); with --detections and no "
                         "--detectors, no detector runs")  # fmt: skip
    ap.add_argument("--bundle", type=Path, default=None, help="lnet_anet's bundle (default: the embedded one)")
    ap.add_argument("--baseline", type=Path, default=None, help="baseline_localize's bundle (default: the embedded one)")
    ap.add_argument("--box-head", type=Path, default=None,
                    help="the box head file of lnet_anet and lnet_anet_shipped (default: the bundle's)")
    ap.add_argument("--face-head", type=Path, default=None,
                    help="the face head file (rescue) of lnet_anet and lnet_anet_shipped (default: the bundle's)")
    ap.add_argument("--threads", type=int, default=2, help="torch and OpenCV threads (default: 2)")
    ap.add_argument("--limit", type=int, default=None, help="score only the first N images (a smoke test)")
    ap.add_argument("--intervals", type=int, default=RESAMPLES, metavar="N",
                    help=f"bootstrap resamples of the photos for each figure's 95%% interval, and for the interval of "
                         f"each lnet_anet row's difference to each peer on the same photos (default: {RESAMPLES}; 0: none)")  # fmt: skip
    ap.add_argument("--face-free", action="store_true",
                    help="also count false alarms on face-free crops of the photos (the docstring says how they are cut)")
    ap.add_argument("--vis", type=int, default=0, metavar="N",
                    help="draw the first N scored images into --work/vis/, one panel per row: the labelled faces and "
                         "the row's boxes at its operating point (saved outputs: score >= 0.5) (default: 0, none)")  # fmt: skip
    ap.add_argument("--work", type=Path, default=None,
                    help="per-image detections and the face-free crops (default: runs/bench_detection/work/<the "
                         "--out folder's name>, one per run; never under experiments/: the crops are the data's)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=None,
                    help="default: runs/bench_detection/<format>-<time>; experiments/... for a recorded run")  # fmt: skip
    args = ap.parse_args(argv)
    if args.intervals < 0:
        ap.error(f"--intervals must be 0 (none) or a number of resamples, got {args.intervals}")
    args.out = args.out or runs_root() / "bench_detection" / f"{args.format}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    args.work = args.work or runs_root() / "bench_detection" / "work" / args.out.name
    try:
        args.detections = saved_detections(args.detections)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.detectors is None and args.detections:  # only the saved outputs are scored
        detectors = []
    elif args.detectors is None:  # the default, all: run the peers that are installed (named ones must be: exit 2)
        absent = [d for d in ALL if d in PEER_PACKAGES and importlib.util.find_spec(PEER_PACKAGES[d][0]) is None]
        detectors = [d for d in ALL if d not in absent
                     and not (d == "baseline_localize" and args.bundle is None and args.baseline is None)]
        if absent:
            print(f"note: skipping {', '.join(f'{d} (needs {PEER_PACKAGES[d][1]})' for d in absent)}: `make "
                  "bench-install` installs the peers", file=sys.stderr)  # fmt: skip
    else:
        detectors = [d.strip() for d in args.detectors.split(",") if d.strip()]
    try:
        data = benchmark_data(args, detectors)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as e:  # DatasetFormatError, DataNotFoundError, ...: the message names the file
        print(f"error: {e}", file=sys.stderr)
        return 1
    labels, table, df, skipped = data["labels"], data["table"], data["df"], data["skipped"]
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    truth = truth_from_table(df)
    paths = list(df["path"])
    care, dont = n_faces(df)
    gone = f", {len(skipped)} unreadable skipped" if skipped else ""
    print(f"{len(df)} images ({args.part} part of {len(table)}{gone}), {care} faces that count, {dont} don't-care", flush=True)
    args.work.mkdir(parents=True, exist_ok=True)
    if "ellipses" in df:
        (args.out / "fddb").mkdir(parents=True, exist_ok=True)

    free_paths = face_free_crops(df, args.work / "face_free") if args.face_free else []
    results: dict = {}
    diagnosis = None
    drawn: dict[str, list[np.ndarray]] = {}  # --vis: each row's boxes at its operating point, first images
    curves: dict[str, dict] = {}  # each row's PR / FPPI points (and FDDB's ROC): curves.json, curves.png
    scored: dict[str, list] = {}  # each row's detections, for the intervals of the differences between rows
    fddb_faces = list(df["ellipses"]) if "ellipses" in df else None
    image_sizes = [data["sizes"][p] for p in paths] if fddb_faces is not None else None

    def score(name: str, dets: list, saved: bool, shipped_threshold: float | None = None) -> dict:
        """evaluate_detections' figures of one row. Its curve's points and its operating point's
        (saved: every detection, as the file gives them; else operating_point) go to `curves`, with
        FDDB's ROC for FDDB's labels (files under --out/fddb, its figures in the row)."""
        res = evaluate_detections(dets, truth, iou=0.5, fppi=FPPI, bands=SIZE_BANDS, curve=True)
        curves[name] = res.pop("curve")
        scored[name] = dets
        if args.intervals and len(dets) >= MIN_ITEMS:
            res["intervals"] = detection_intervals(dets, truth, iou=0.5, fppi=FPPI, resamples=args.intervals)
        kept = [(b[m], sc[m]) for b, sc in dets
                for m in [np.ones(len(sc), bool) if saved else operating_point(name, sc, shipped_threshold)]]  # fmt: skip
        at = evaluate_detections(kept, truth, iou=0.5, fppi=FPPI, bands=None, curve=True)["curve"]
        curves[name]["operating_point"] = {k: (at[k][-1] if at[k] else 0.0) for k in ("recall", "precision", "fppi")}
        if fddb_faces is not None:
            roc = fddb_roc(dets, fddb_faces, image_sizes)
            write_roc_files(args.out / "fddb" / name, roc)
            curves[name]["fddb"] = {k: roc[k] for k in ("threshold", "false_positives", "tpr_discrete", "tpr_continuous")}
            res["fddb"] = {k: roc[k] for k in ("n_faces", "n_images", "n_detections", "at_false_positives")}
        return res

    for name, path in args.detections.items():  # saved outputs: scored as they are, no time, no face-free crops
        try:
            dets = matched_detections(read_detections(path), list(df["name"]), path)
        except (ValueError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        results[name] = score(name, dets, saved=True)
        results[name] |= {"median_ms": None, "p90_ms": None, "boxes_per_image": float(np.mean([len(sc) for _, sc in dets])),
                          **box_shapes(dets, truth), "settings": {"detections": str(path)}}  # fmt: skip
        drawn[name] = [b[sc >= SAVED_DRAWN] for b, sc in dets[: args.vis]]
        r = results[name]
        print(f"{name} (saved): AP50 {_num(r['ap'])}, recall@0.1 {_num(r['recall_at_0.1_fppi'])}, recall@1 "
              f"{_num(r['recall_at_1_fppi'])}", flush=True)  # fmt: skip
    for name in detectors:
        t0 = time.time()
        detect = make_detector(name, args.bundle, args.baseline, args.box_head, args.face_head)
        shipped_threshold = detect.settings.get("shipped_threshold")
        keep = None
        if name == "lnet_anet":
            kernel = int(detect.settings["peak_kernel"])
            keep_i = iter(range(len(paths)))

            def keep(extra, kernel=kernel, keep_i=keep_i):
                i = next(keep_i)
                return peak_stats(extra["analysis"], truth[i][0], truth[i][1], kernel)

        dets, times, extras = run_detector(detect, paths, keep)
        res = score(name, dets, saved=False, shipped_threshold=shipped_threshold)
        res["median_ms"] = statistics.median(times)
        res["p90_ms"] = float(np.percentile(times, 90))
        res["boxes_per_image"] = float(np.mean([len(s) for _, s in dets]))
        res |= box_shapes(dets, truth)
        res["settings"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in detect.settings.items()}
        if free_paths:
            fd, ft, _ = run_detector(detect, free_paths)
            counts = []
            for _, s in fd:
                if name in ("lnet_anet", "lnet_anet_localize_open"):  # opened up: count at the shipped threshold
                    counts.append(int(operating_point(name, s, shipped_threshold).sum()))
                else:
                    counts.append(int(operating_point(name, s, None).sum()))
            counts = np.array(counts, np.float64)
            res["face_free"] = {"n_images": len(free_paths), "false_alarms_per_image": float(np.mean(counts)),
                                "images_with_a_false_alarm": float(np.mean(counts > 0))}  # fmt: skip
            if args.intervals and len(counts) >= MIN_ITEMS:
                res["face_free"]["intervals"] = named_intervals(lambda idx, c=counts: c[idx].mean(), ["false_alarms_per_image"],
                                                                len(counts), "crops", args.intervals)  # fmt: skip
        results[name] = res
        drawn[name] = [b[operating_point(name, sc, shipped_threshold)] for b, sc in dets[: args.vis]]
        with open(args.work / f"detections_{name}.json", "w") as fh:
            json.dump([{"name": n, "boxes": b.round(1).tolist(), "scores": s.round(5).tolist(), "ms": round(t, 2)}
                       for n, (b, s), t in zip(df["name"], dets, times, strict=True)], fh)  # fmt: skip
        if name == "lnet_anet":
            diagnosis = diagnose(df, truth, dets, extras)
            (args.work / "peaks_lnet_anet.json").write_text(json.dumps(extras))
        print(f"{name}: AP50 {_num(res['ap'])}, recall@0.1 {_num(res['recall_at_0.1_fppi'])}, recall@1 "
              f"{_num(res['recall_at_1_fppi'])}, {res['median_ms']:.0f} ms/img ({time.time() - t0:.0f} s)", flush=True)  # fmt: skip

    if args.intervals:
        for name, versus in differences(scored, truth, args.intervals).items():
            results[name]["versus"] = versus
    if args.vis:
        pictures = draw_detections(df.iloc[: args.vis], truth, drawn, args.work / "vis")
        print(f"pictures: {len(pictures)} in {args.work / 'vis'} (magenta: labelled faces that count, gray: don't-care, "
              "green: each row's boxes at its operating point)", flush=True)  # fmt: skip
    record = {
        "command": "OMP_NUM_THREADS=" + os.environ.get("OMP_NUM_THREADS", "") + " python " + shlex.join(sys.argv),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": {
            "format": args.format,
            "labels": str(labels),
            "labels_found": data["found"],  # how the file was chosen without --labels, else null
            "fddb_folds": list(args.fddb_folds or FDDB_FOLDS) if args.format == "fddb" else None,
            "voc_classes": data["voc_classes"],
            "part": args.part,
            "split_rule": "none: every image" if args.part == "all" else
                          "val = sha256('lnet_anet-wider-v1:' + name)[:8 bytes] / 2**64 >= 0.7 (hash_part); else tune",
            "n_images": len(df),
            "n_images_all": len(table),
            "n_skipped": len(skipped),
            "skipped": skipped,  # [{"name", "path", "reason"}]: unreadable, left out for every detector
            "boxes_outside": data["boxes_outside"],  # labelled boxes wholly outside their image (kept, as labelled)
            "n_faces": care,
            "n_dont_care": dont,
            "dont_care_rule": (DONT_CARE_LABEL[args.format] + (f"not in {data['setting']}'s gt_list, or " if data["setting"]
                                                               else "") + f"face height < {args.min_height:g} px"),
            "setting": data["setting"],  # WIDER's easy / medium / hard (a gt_list file), else null
            "size_bands_px": {k: list(v) for k, v in SIZE_BANDS.items()},
            "face_free": (f"{len(free_paths)} crops (one per photo of --part {args.part} where one fits; how they "
                          "are cut: benchmarks/bench_detection.py's docstring)" if free_paths else None),
        },
        "iou": 0.5,
        "machine": machine() | {"threads": args.threads, "opencv": cv2.__version__},
        "results": results,
        "diagnosis": diagnosis,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(finite(record), indent=2, default=float, allow_nan=False))
    (args.out / "results.md").write_text(to_markdown(record))
    (args.out / "curves.json").write_text(json.dumps(finite(curves), allow_nan=False))
    picture = plot_curves(curves, args.out / "curves.png", record)
    print(to_markdown(record))
    print(f"curves: {args.out / 'curves.json'}, {picture}")
    print(f"wrote {args.out / 'results.md'} and {args.out / 'results.json'}; per-image detections in {args.work}")
    return 0


def differences(scored: dict[str, list], truth: list, resamples: int) -> dict[str, dict]:
    """For each lnet_anet row, the bootstrap interval of its figures minus each peer row's on the
    same photos (detection_intervals' "versus": a difference whose interval excludes 0 is more
    than the draw of photos): row -> peer -> {"ap", "recall_at_0.1_fppi", ...: [low, high]}."""
    if len(truth) < MIN_ITEMS:  # too few photos for an interval
        return {}
    ours = [n for n in scored if n in PREDICTOR_DETECTORS]
    peers = [n for n in scored if n not in ours]
    out: dict[str, dict] = {}
    for name in ours:
        for peer in peers:
            got = detection_intervals(scored[name], truth, iou=0.5, fppi=FPPI, versus=scored[peer], resamples=resamples)
            out.setdefault(name, {})[peer] = {k.removesuffix(" - versus"): v for k, v in got.items() if k.endswith(" - versus")}
    return out


def box_shapes(dets, truth) -> dict:
    """Over all boxes a detector returned: the share spanning several faces (holding the centres
    of >= 2 faces that count), the share centred on a face (any WIDER box, don't-care included)
    and the median box height."""
    over_two, centred, heights = 0, 0, []
    for (b, _), (g, dc) in zip(dets, truth, strict=True):
        heights += list(b[:, 3] - b[:, 1])
        c = (g[~dc, :2] + g[~dc, 2:]) / 2
        for box in b:
            inside = (c[:, 0] >= box[0]) & (c[:, 0] < box[2]) & (c[:, 1] >= box[1]) & (c[:, 1] < box[3])
            over_two += int(inside.sum() >= 2)
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            centred += int(((g[:, 0] <= cx) & (cx < g[:, 2]) & (g[:, 1] <= cy) & (cy < g[:, 3])).any())
    n = max(len(heights), 1)
    return {"share_boxes_over_two_faces": over_two / n, "share_boxes_centred_on_a_face": centred / n,
            "median_box_height_px": float(np.median(heights)) if heights else None}  # fmt: skip


def diagnose(df, truth, dets, extras) -> dict:
    """How LNet's response and the localizer see the val faces, by face height."""
    bands = [(24, 40), (40, 64), (64, 100), (100, 10_000)]
    rows = {f"{lo}-{hi if hi < 10_000 else 'inf'}": {"faces": 0, "with_peak": 0, "best_iou_ge_0.5": 0, "best_iou_sum": 0.0}
            for lo, hi in bands}  # fmt: skip
    from lnet_anet.metrics.detection import iou as iou_matrix

    for (g, dc), (b, _), ex in zip(truth, dets, extras, strict=True):
        best = iou_matrix(b, g).max(axis=0) if len(b) and len(g) else np.zeros(len(g))
        for j in np.nonzero(~dc)[0]:
            h = g[j, 3] - g[j, 1]
            for lo, hi in bands:
                if lo <= h < hi:
                    row = rows[f"{lo}-{hi if hi < 10_000 else 'inf'}"]
                    row["faces"] += 1
                    row["with_peak"] += int(ex["face_has_peak"][j])
                    row["best_iou_ge_0.5"] += int(best[j] >= 0.5)
                    row["best_iou_sum"] += float(best[j])
    for row in rows.values():
        n = max(row["faces"], 1)
        row["share_with_peak"] = row["with_peak"] / n
        row["share_best_iou_ge_0.5"] = row["best_iou_ge_0.5"] / n
        row["mean_best_iou"] = row.pop("best_iou_sum") / n
    # What if only the box size were wrong: every box shrunk about its centre (a diagnosis on the
    # val part itself, not a fitted setting).
    shrunk = {}
    for f in (0.75, 0.5, 0.33):
        scaled = []
        for b, s in dets:
            c, half = (b[:, :2] + b[:, 2:]) / 2, (b[:, 2:] - b[:, :2]) / 2 * f
            scaled.append((np.concatenate([c - half, c + half], axis=1), s))
        r = evaluate_detections(scaled, truth, bands=None)
        shrunk[f"{f:g}"] = {"ap": r["ap"], "max_recall": r["max_recall"]}
    n_peaks = [ex["n_peaks"] for ex in extras]
    n_boxes = [len(s) for _, s in dets]
    faces_per_image = [int((~dc).sum()) for _, dc in truth]
    return {
        "by_height_px": rows,
        "boxes_shrunk_about_centre": shrunk,
        "peaks_per_image_mean": float(np.mean(n_peaks)),
        "share_peaks_in_a_face": float(sum(ex["n_peaks_in_a_face"] for ex in extras) / max(sum(n_peaks), 1)),
        "share_faces_with_peak": float(sum(r["with_peak"] for r in rows.values()) / max(sum(r["faces"] for r in rows.values()), 1)),
        "boxes_per_image_mean": float(np.mean(n_boxes)),
        "boxes_per_image_hist": {str(k): int(v) for k, v in zip(*np.unique(n_boxes, return_counts=True), strict=True)},
        "faces_per_image_mean": float(np.mean(faces_per_image)),
        "median_face_height_px": float(np.median(np.concatenate([g[~dc, 3] - g[~dc, 1] for g, dc in truth]))),
        "top_box_height_px_median": float(np.median([b[np.argmax(s), 3] - b[np.argmax(s), 1] for b, s in dets if len(s)])),
        "cell_px_median": float(np.median([ex["cell_px"] for ex in extras])),
    }


def plot_curves(curves: dict, path: Path, record: dict) -> Path:
    """curves.png: each row's precision-recall curve (AP in the legend), its recall against false
    alarms per image (log scale) and, for FDDB's labels, FDDB's discrete ROC (true positive rate
    against false positives, up to 2,000), a dot at each row's operating point."""
    from lnet_anet.engine.plots import pyplot, save_figure

    plt = pyplot()
    fddb = any("fddb" in c for c in curves.values())
    fig, axes = plt.subplots(1, 3 if fddb else 2, figsize=(15 if fddb else 10, 4.6))
    d = record["data"]
    for k, (name, c) in enumerate(curves.items()):
        colour = f"C{k % 10}"
        r = record["results"][name]
        op = c["operating_point"]
        bundle = r.get("settings", {}).get("bundle")  # which model a row of ours is (a trial could not tell two apart)
        label = name if bundle is None else f"{name} [{Path(bundle).name}]"
        axes[0].plot([0.0, *c["recall"]], [1.0, *c["precision"]], color=colour, label=f"{label} (AP {_num(r['ap'])})")
        axes[0].plot([op["recall"]], [op["precision"]], "o", color=colour)
        fppi = np.maximum(c["fppi"], 1e-3)  # log axis: no false alarm yet is drawn at 0.001
        axes[1].step(fppi, c["recall"], where="post", color=colour, label=f"{label} ({_num(r['recall_at_0.1_fppi'])} @0.1)")
        axes[1].plot([max(op["fppi"], 1e-3)], [op["recall"]], "o", color=colour)
        if fddb and "fddb" in c:
            at = r["fddb"]["at_false_positives"][str(FALSE_POSITIVES[-1])]["tpr_discrete"]
            axes[2].step(c["fddb"]["false_positives"], c["fddb"]["tpr_discrete"], where="post", color=colour,
                         label=f"{label} ({_num(at)} @{FALSE_POSITIVES[-1]})")  # fmt: skip
    axes[0].set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title="precision-recall, IoU 0.5")
    axes[1].set(xscale="log", xlabel="false alarms per image", ylabel="recall", ylim=(0, 1.02), xlim=(1e-3, 10),
                title="recall against false alarms per image (0 drawn at 0.001)")  # fmt: skip
    if fddb:  # FDDB's curves are read up to 2,000 false positives; a small run's end where its own do
        most = max((max(c["fddb"]["false_positives"], default=0) for c in curves.values() if "fddb" in c), default=0)
        axes[2].set(xlabel="false positives", ylabel="true positive rate", xlim=(0, max(10, min(2000, 1.05 * most))),
                    ylim=(0, 1.02), title="FDDB discrete ROC (FDDB's matching)")  # fmt: skip
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right" if ax is not axes[0] else "lower left")
    fig.suptitle(f"{Path(d['labels']).name} ({d['format']}, {d['part']} part): {d['n_images']} images, "
                 f"{d['n_faces']} faces that count; dots: each row's operating point", fontsize=10)  # fmt: skip
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


def finite(obj):
    """A copy for strict JSON: NaN (an AP or recall over no faces) becomes null, +-inf the strings
    "inf" and "-inf" (a threshold opened up)."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    if isinstance(obj, float | np.floating) and not np.isfinite(obj):
        return None if np.isnan(obj) else str(float(obj))
    return obj


def _num(v, spec: str = ".3f") -> str:
    """A table cell: `n/a` for a value that is missing or NaN (an AP over a size group with no face)."""
    return "n/a" if v is None or not np.isfinite(float(v)) else format(float(v), spec)


def _cell(part: dict, key: str) -> str:
    """part[key] with the interval recorded for it in part["intervals"], if any (format_interval)."""
    return format_interval(part[key], (part.get("intervals") or {}).get(key))


def _capped(r: dict, f: float) -> str:
    """Recall at f false alarms per image, marked (max) where the row's detections end before f
    (its max_fppi: records written before max_fppi carry no mark), with its interval."""
    value = _cell(r, f"recall_at_{f:g}_fppi")
    return f"{value} (max)" if r.get("max_fppi") is not None and r["max_fppi"] < f else value


def to_markdown(record: dict) -> str:
    d = record["data"]
    setting = f", {d['setting']}" if d.get("setting") else ""
    lines = [f"# Face detection on {Path(d['labels']).name} ({d['format']}{setting}, {d['part']} part): lnet_anet and peers", "",
             f"`{record['command']}`", "",
             f"{d['n_images']} images, {d['n_faces']} faces that count, {d['n_dont_care']} don't-care "
             f"({d['dont_care_rule']}); IoU {record['iou']}; {record['machine']['threads']} thread(s).", "",
             *_skipped_lines(d),
             "| detector | AP50 | recall @0.1 FPPI | recall @1 FPPI | max recall | AP50 easy / medium / hard by size | boxes/img | median ms/img | face-free FA/img |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, r in record["results"].items():
        bs = r.get("by_size", {})
        split = " / ".join(_num(bs[k]["ap"]) for k in SIZE_BANDS if k in bs)
        ff = r.get("face_free")
        ffs = _cell(ff, "false_alarms_per_image") if ff else "-"
        lines.append(f"| {name} | {_cell(r, 'ap')} | {_capped(r, 0.1)} | {_capped(r, 1)} | "
                     f"{_cell(r, 'max_recall')} | {split} | {r['boxes_per_image']:.1f} | "
                     f"{'-' if r['median_ms'] is None else format(r['median_ms'], '.0f')} | {ffs} |")  # fmt: skip
    said = next((r["intervals"] for r in record["results"].values() if r.get("intervals")), None)
    if said:
        lines += ["", f"In brackets: the {said['confidence']:.0%} confidence interval, the percentile bootstrap over "
                  f"{said['resamples']} resamples of the {said['n']} photos, each with its faces and false alarms "
                  "(face-free: of the crops; lnet_anet.metrics.intervals): the values of the figure on photos of this "
                  "kind that these photos are consistent with, not the range of a second run. A difference to a peer "
                  "whose interval holds 0 is within what the draw of photos alone can do."]  # fmt: skip
    for name, r in record["results"].items():
        for peer, diff in (r.get("versus") or {}).items():
            if diff.get("ap"):
                lines.append(f"- {name} minus {peer} on the same photos: AP50 {_num(r['ap'] - record['results'][peer]['ap'], '+.3f')} "
                             f"[{diff['ap'][0]:+.3f}, {diff['ap'][1]:+.3f}], recall at 0.1 FPPI "
                             f"{_num(r['recall_at_0.1_fppi'] - record['results'][peer]['recall_at_0.1_fppi'], '+.3f')} "
                             f"[{diff['recall_at_0.1_fppi'][0]:+.3f}, {diff['recall_at_0.1_fppi'][1]:+.3f}].")  # fmt: skip
    fddb = {name: r["fddb"] for name, r in record["results"].items() if "fddb" in r}
    if fddb:  # FDDB's own ROC beside the box AP
        some = next(iter(fddb.values()))
        lines += ["", f"FDDB's own evaluation (ellipse regions, Hungarian matching; {some['n_faces']} ellipses, every "
                  "one counts): true positive rate at k false positives, discrete / continuous "
                  "(ROC files: fddb/<detector>DiscROC.txt, ContROC.txt).", "",
                  "| detector | " + " | ".join(f"@{k} FP" for k in FALSE_POSITIVES) + " |",
                  "|---|" + "---|" * len(FALSE_POSITIVES)]  # fmt: skip
        for name, f in fddb.items():
            cells = [f"{_num(v['tpr_discrete'])} / {_num(v['tpr_continuous'])}" for v in f["at_false_positives"].values()]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    bundles = {name: f"`{r['settings']['bundle']}`" + (f" (bundle {r['settings']['identity']}, model {r['settings']['model']})"
                                                       if r["settings"].get("identity") else "")
               for name, r in record["results"].items() if "bundle" in r.get("settings", {})}  # fmt: skip
    if bundles:  # the rows' names stay as in earlier records; the bundle each read is said here
        lines += ["", "Bundles read: " + "; ".join(f"{name}: {b}" for name, b in bundles.items()) + "."]
    lines += ["", "By size: " + ", ".join(f"{k} = faces {lo:g}-{hi:g} px high" for k, (lo, hi) in SIZE_BANDS.items())
              + " (cumulative like WIDER's settings; WIDER's official split is by detector difficulty, not size).",
              "", "AP here is all-point (VOC) AP at IoU 0.5 over the faces that count, each detection (best score "
              "first) matched to the best still unmatched face (COCO's greedy matching), by the same code for every "
              "detector: beside the peers of this run, not beside published WIDER tables (their own evaluation "
              "code). A recall marked (max) is the row's max recall: its detections end at fewer false alarms per "
              "image than that column's." + (" For AP, FDDB's ellipses are scored as their bounding boxes; the FDDB table above "
                          "follows FDDB's own evaluation." if fddb else ""),
              "", "Curves: curves.json, curves.png (a dot: each row's operating point; a saved output's is all "
              "its detections)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _skipped_lines(d: dict) -> list[str]:
    """The markdown's word on unreadable images (none: no line)."""
    skipped = d.get("skipped") or []
    if not skipped:
        return []
    shown = "; ".join(f"`{s['name']}` ({s['reason']})" for s in skipped[:5]) + ("; ..." if len(skipped) > 5 else "")
    return [f"Skipped, cannot be read: {len(skipped)} image(s), left out for every detector (results.json: "
            f"data.skipped): {shown}.", ""]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
