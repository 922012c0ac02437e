"""Localization on tight face photos (the face fills the frame) and on composed scenes, at several
LNet scales, from cached response maps: the diagnostic behind the choice of the bundle's scales.

    PYTHONPATH=. python benchmarks/tune_tight_faces.py --part tune [--n 200] [--bundle FILE]
        [--thresholds T ...] [--out DIR]

Sets (files as shipped; `--part tune` reads only TRAIN partitions, `--part val` the val parts):
- utkface: UTKFace chips (tune: random train-part chips; val: the 20% hold-out);
- celeba_hq: CelebA-HQ 128 px files (tune: train partition; val: val partition);
- scut: SCUT-FBP5500 images (tune: folds 1-2 of fold_of(name, 5, seed 0); val: folds 3-5);
- scenes: composed scenes at LNet's input size, half of them face-free (tune: train-partition
  CelebA-HQ faces; val: val-partition faces), faces 0.15-0.7 of the canvas as in training.

For every scale set and localizer variant (threshold, box_level, min_relative_score, box
model; one localizer for every scale, as the Predictor runs it): the share of tight photos with a
face, the IoU of the top face's crop region (face_region(box, enlarge)) with the whole file (the
crop ANet and the age net were trained on: the aligned file, cropped whole), the median ratio
whole-file side / crop side (the enlarge that would make them match), and on the scenes recall @
IoU 0.5, false positives per face scene and the share of face-free scenes with no face.
Without the LNet_s cascade (the default bundle drops it).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data import datasets_root
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.data.preprocess import LNetInput  # noqa: E402
from lnet_anet.data.readers.age import fold_of  # noqa: E402
from lnet_anet.data.transforms import face_region  # noqa: E402
from lnet_anet.inference.bundle import load_bundle  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE  # noqa: E402
from lnet_anet.lnet.localizer import score_detections  # noqa: E402
from lnet_anet.lnet.multiscale import place  # noqa: E402
from lnet_anet.lnet.photo_fitting import detect  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCALES = (1.0, 0.7, 0.6, 0.5, 0.45, 0.4)


def tight_paths(datasets: Path, part: str, n: int, seed: int = 1) -> dict[str, list[str]]:
    """name -> image files of the tight sets for a part (tune: train partitions only)."""
    from lnet_anet.data.readers.attractiveness import read_scut_fbp5500

    out = {}
    utk = build_index(data_cfg("utkface", datasets))
    utk = split_of(utk, "train" if part == "tune" else "val")
    out["utkface"] = utk.sample(n=min(n, len(utk)), random_state=seed)["path"].tolist()
    celeba = build_index(data_cfg("celeba_hq", datasets))
    celeba = split_of(celeba, "train" if part == "tune" else "val")
    out["celeba_hq"] = celeba.sample(n=min(n, len(celeba)), random_state=seed)["path"].tolist()
    scut = read_scut_fbp5500(datasets / "scut_fbp5500_train")
    scut = scut[scut["split"] == "train"].reset_index(drop=True)
    names = scut["path"].map(os.path.basename).tolist()
    folds = fold_of(names, 5, 0)
    keep = np.isin(folds, [1, 2] if part == "tune" else [3, 4, 5])
    scut = scut[keep]
    out["scut"] = scut.sample(n=min(n, len(scut)), random_state=seed)["path"].tolist()
    return out


def scenes(datasets: Path, part: str, n: int, side: int, seed: int = 7):
    """n composed scenes (uint8 canvas, box or NaN, has_face), half face-free."""
    from lnet_anet.data.scenes import BackgroundBank, ComposedScenes

    celeba = build_index(data_cfg("celeba_hq", datasets))
    faces = split_of(celeba, "train" if part == "tune" else "val").sample(frac=1.0, random_state=seed)
    s = ComposedScenes(faces, BackgroundBank(side), canvas=side, seed=seed if part == "tune" else seed + 1, p_empty=0.5)
    return [s.scene(i) for i in range(min(n, len(s)))]


@torch.inference_mode()
def maps_of(net, lnet: LNetInput, images: list[np.ndarray], scales) -> list[dict]:
    out = [{} for _ in images]
    for scale in scales:
        for start in range(0, len(images), 16):
            chunk = images[start:start + 16]
            placed = [place(img, lnet.input_size, scale, lnet.resize, lnet.zoom_out_canvas, lnet.zoom_in_canvas) for img in chunk]
            x = torch.from_numpy(np.stack([lnet.normalize(c) for c, _ in placed]))
            r = net(x)["response"].float()
            for k, (_, where) in enumerate(placed):
                out[start + k][scale] = (r[k].clone(), where, tuple(x.shape[-2:]))
    return out


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def score_tight(all_maps, sizes, localizer, scales, enlarge: float = 1.0) -> dict:
    found, ious, ratios = 0, [], []
    for m, (h, w) in zip(all_maps, sizes, strict=True):
        dets = detect(m, localizer, scales, (h, w))
        if not dets:
            ious.append(0.0)
            continue
        found += 1
        box = max(dets, key=lambda d: d[1])[0]
        region = face_region(box, enlarge)
        ious.append(_iou(region, (0, 0, w, h)))
        ratios.append(max(h, w) / (region[2] - region[0]))
    return {"found": found / len(sizes), "crop_iou": float(np.mean(ious)),
            "crop_iou_found": float(np.mean([i for i in ious if i > 0])) if found else 0.0,
            "side_ratio_median": float(np.median(ratios)) if ratios else float("nan")}  # fmt: skip


def score_scenes(all_maps, items, localizer, scales) -> dict:
    dets = [detect(m, localizer, scales, img.shape[:2]) for m, (img, _, _) in zip(all_maps, items, strict=True)]
    m = score_detections(dets, [b for _, b, _ in items], [f for *_, f in items])
    return {k: float(m[k]) for k in ("recall", "false_positives_per_image", "empty_image_rate", "mean_iou") if k in m}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--n", type=int, default=200, help="images per set")
    ap.add_argument("--scales", type=float, nargs="*", default=list(SCALES))
    ap.add_argument("--cache", type=Path, default=REPO / "runs" / "tight-faces")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--scale-sets", nargs="*", default=None,
                    help="scale sets as comma lists, e.g. 1 1,0.45 (default: every single scale and pair)")
    ap.add_argument("--thresholds", type=float, nargs="*", default=None,
                    help="localizer thresholds tried (default: the bundle's and 0.5)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.bundle)
    lnet = dataclasses.replace(LNetInput.from_dict(bundle.preprocessing["lnet"]), scales=(1.0,))
    base = bundle.localizer()
    args.cache.mkdir(parents=True, exist_ok=True)
    # the maps depend on the bundle's LNet, the data and the scales: all in the key, so another run reads its own
    key = hashlib.sha256(repr((bundle.part_digest("lnet"), sorted(bundle.preprocessing["lnet"].items()),
                               str(Path(args.datasets).resolve()),
                               sorted(args.scales))).encode()).hexdigest()[:12]  # fmt: skip
    cache = args.cache / f"maps-{args.part}-{args.n}-{key}.pt"
    if cache.exists():
        data = torch.load(cache, weights_only=False)
    else:
        data = {}
        for name, paths in tight_paths(args.datasets, args.part, args.n).items():
            images = [load_image(p) for p in paths]
            data[name] = {"maps": maps_of(bundle.lnet.eval(), lnet, images, args.scales),
                          "sizes": [img.shape[:2] for img in images], "paths": paths}  # fmt: skip
            print(name, "maps done", flush=True)
        items = scenes(args.datasets, args.part, args.n, lnet.input_size[0])
        data["scenes"] = {"maps": maps_of(bundle.lnet.eval(), lnet, [img for img, _, _ in items], args.scales),
                          "items": items}  # fmt: skip
        torch.save(data, cache.with_suffix(".tmp"))
        os.replace(cache.with_suffix(".tmp"), cache)  # a run killed while saving leaves no cache to trust
    scale_sets = [(s,) for s in args.scales] + [(1.0, s) for s in args.scales if s < 1] + [
        (a, b) for a, b in itertools.combinations([s for s in args.scales if s < 1], 2)]  # fmt: skip
    if args.scale_sets:
        scale_sets = [tuple(float(v) for v in text.split(",")) for text in args.scale_sets]
    rows = []
    for scales in scale_sets:
        for thr, level, rel in itertools.product(args.thresholds or [base.threshold, 0.5], [base.box_level], [base.min_relative_score]):
            loc = dataclasses.replace(base, threshold=thr, box_level=level, min_relative_score=rel)
            row = {"scales": list(scales), "threshold": thr, "box_level": level, "min_relative_score": rel}
            for name in ("utkface", "celeba_hq", "scut"):
                row[name] = score_tight(data[name]["maps"], data[name]["sizes"], loc, scales)
            row["scenes"] = score_scenes(data["scenes"]["maps"], data["scenes"]["items"], loc, scales)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"scales-{args.part}.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
