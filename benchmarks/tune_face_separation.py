"""Choose the localizer's face separation and zoom-in settings on tune data only (issue 14).

    PYTHONPATH=. python benchmarks/tune_face_separation.py --bundle <the bundle before> \\
        --grids runs/face-grids/tune --separation '[0.3, 0.5]' --min-relative-score '[0.5, 0.0]' \\
        --secondary-threshold '[null, 3.0]' --zoom '[null, [2.0, 96.0], [2.0, 96.0, false]]' \\
        --maps-cache runs/face-separation/maps.pt --out experiments/<date>-face-separation/tune/tune.json

LNet's maps are computed once per image and scale (lnet_anet.lnet.photo_fitting.photo_maps),
then every combination of the settings below is scored by the same code the Predictor runs
(photo_fitting.detect: localizer at each scale, zoom-in rule, merge), at the bundle's own
threshold and box model (unchanged, so that a single face keeps its box and ANet its crop):
- grids (benchmarks/make_face_grids.py --part tune: CelebA-HQ train faces): share of faces
  found at IoU >= 0.5, share of boxes holding the centres of two faces;
- WIDER FACE tune part (hash_part "tune", faces >= 24 px count): AP50 of the ranking and recall
  at the operating threshold;
- single CelebA-HQ train files (the whole file is the face): share found, extra boxes per image;
- face-free crops of those WIDER tune photos (bench_detection.face_free_crops: away from every
  box): false alarms per image.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lnet_anet.data import datasets_root, runs_root
from lnet_anet.data.preprocess import LNetInput
from lnet_anet.data.readers.celeba import read_partition
from lnet_anet.data.readers.detection import hash_part, mark_small, read_box_csv, read_wider_txt
from lnet_anet.inference.bundle import load_bundle
from lnet_anet.inference.predictor import DEFAULT_BUNDLE
from lnet_anet.lnet.photo_fitting import detect, photo_maps
from lnet_anet.metrics.detection import evaluate_detections, truth_from_table

SEARCH = {"separation": [None, 0.3, 0.5], "min_relative_score": [0.95, 0.5, 0.0], "secondary_threshold": [None]}
ZOOM = [None, (2.0, 96.0), (2.0, 1e9)]  # (zoom-in scale, zoom_in_below px); 1e9: always


def over_two(dets, truth) -> float:
    """Share of boxes holding the centres of two or more faces that count."""
    n = hits = 0
    for boxes, (g, dc) in zip(dets, truth, strict=True):
        c = (g[~dc, :2] + g[~dc, 2:]) / 2
        for b in boxes:
            n += 1
            hits += int((((c[:, 0] >= b[0]) & (c[:, 0] < b[2]) & (c[:, 1] >= b[1]) & (c[:, 1] < b[3])).sum()) >= 2)
    return hits / max(n, 1)


def score(pm, truth, localizer, scales, zoom, at_threshold: bool) -> dict:
    dets = [detect(m, localizer, scales, hw, zoom) for m, hw in zip(pm.maps, pm.image_sizes, strict=True)]
    if at_threshold:
        dets = [[d for d in ds if d[1] > localizer.threshold] for ds in dets]
    pairs = [(np.array([b for b, _ in ds]).reshape(-1, 4), np.array([s for _, s in ds])) for ds in dets]
    res = evaluate_detections(pairs, truth, bands=None)
    return {"ap": res["ap"], "recall": res["max_recall"], "boxes_per_image": float(np.mean([len(d) for d in dets])),
            "over_two": over_two([b for b, _ in pairs], truth)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--grids", type=Path, required=True)
    ap.add_argument("--wider", type=Path, default=Path("../shared/datasets/wider_face_train"))
    ap.add_argument("--wider-limit", type=int, default=300)
    ap.add_argument("--celeba-hq", type=Path, default=Path("../shared/datasets/celeba_hq128"))
    ap.add_argument("--singles", type=int, default=300)
    ap.add_argument("--chips", type=int, default=0, help="UTKFace train-part chips (the whole chip is the face; 0: none)")
    ap.add_argument("--datasets", type=Path, default=datasets_root())
    ap.add_argument("--separation", type=json.loads, default=SEARCH["separation"], help="JSON list to try")
    ap.add_argument("--min-relative-score", type=json.loads, default=SEARCH["min_relative_score"], help="JSON list")
    ap.add_argument("--secondary-threshold", type=json.loads, default=SEARCH["secondary_threshold"], help="JSON list")
    ap.add_argument("--zoom", type=json.loads, default=ZOOM, help="JSON list of null or [scale, below px]")
    ap.add_argument("--maps-cache", type=Path, default=None, help="LNet's maps saved here / read from here")
    ap.add_argument("--work", type=Path, default=runs_root() / "face-separation", help="face-free tune crops go here")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    search = {"separation": args.separation, "min_relative_score": args.min_relative_score,
              "secondary_threshold": args.secondary_threshold}
    bundle = load_bundle(args.bundle)
    prep = LNetInput.from_dict(bundle.preprocessing["lnet"])
    base = dataclasses.replace(bundle.localizer(), max_faces=50, max_peaks=100)
    all_scales = sorted({*prep.scales, *(z[0] for z in args.zoom if z), *(s for z in args.zoom if z and len(z) > 3 for s in z[3])})

    grids = read_box_csv(args.grids / "boxes.csv")
    wider = read_wider_txt(args.wider / "wider_face_split" / "wider_face_train_bbx_gt.txt")
    wider = mark_small(wider[hash_part(wider["name"]) == "tune"].reset_index(drop=True).iloc[: args.wider_limit], 24.0)
    part = read_partition(args.celeba_hq / "list_eval_partition.txt")
    singles = sorted(part.index[part == "train"])[: args.singles]
    single_paths = [str(args.celeba_hq / "img_celeba_hq" / n) for n in singles]
    spec = importlib.util.spec_from_file_location("bench_detection", Path(__file__).parent / "bench_detection.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    free = bench.face_free_crops(wider, args.work / "face_free_tune")
    sets = {"grids": (list(grids["path"]), truth_from_table(grids)),
            "wider_tune": (list(wider["path"]), truth_from_table(wider)),
            "singles": (single_paths, [(np.array([[0.0, 0.0, 128.0, 128.0]]), np.array([False]))] * len(singles)),
            "face_free": (free, [(np.zeros((0, 4)), np.zeros(0, bool))] * len(free))}
    if args.chips:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_default import data_cfg

        from lnet_anet.data.from_config import build_index, split_of

        chips = split_of(build_index(data_cfg("utkface", args.datasets)), "train").sample(args.chips, random_state=0)
        sizes = [Image.open(f).size for f in chips["path"]]
        sets["chips"] = (list(chips["path"]), [(np.array([[0.0, 0.0, w, h]], np.float64), np.array([False])) for w, h in sizes])
    cached = args.maps_cache is not None and args.maps_cache.is_file()
    maps = torch.load(args.maps_cache, weights_only=False) if cached else {}  # our own cache, written below
    missing = [k for k in sets if k not in maps]
    maps |= {k: photo_maps(bundle.lnet, prep, sets[k][0], all_scales) for k in missing}
    if missing and args.maps_cache is not None:
        args.maps_cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save(maps, args.maps_cache)
    trials = []
    for values, zoom in itertools.product(itertools.product(*search.values()), args.zoom):
        loc = dataclasses.replace(base, **dict(zip(search, values, strict=True)))
        z = None if not zoom else dataclasses.replace(  # [scale, below(, lone(, fallback scales))]
            prep, zoom_in_scales=(zoom[0],), zoom_in_below=zoom[1], zoom_in_lone=zoom[2] if len(zoom) > 2 else True,
            fallback_scales=tuple(zoom[3]) if len(zoom) > 3 else ())
        row = {"settings": dict(zip(search, values, strict=True)), "zoom_in": list(zoom) if zoom else None}
        for k, (_, truth) in sets.items():
            if k == "face_free":
                found = [detect(m, loc, prep.scales, hw, z) for m, hw in zip(maps[k].maps, maps[k].image_sizes, strict=True)]
                row[k] = {"false_alarms_per_image": float(np.mean([sum(s > loc.threshold for _, s in f) for f in found]))}
                continue
            row[k] = score(maps[k], truth, loc, prep.scales, z, at_threshold=True)
            if k == "wider_tune":
                row[k]["ap_ranking"] = score(maps[k], truth, dataclasses.replace(loc, threshold=-1e9), prep.scales,
                                             z, at_threshold=False)["ap"]  # fmt: skip
        trials.append(row)
        g, w, s = row["grids"], row["wider_tune"], row["singles"]
        if "chips" in row:
            print(f"  chips found {row['chips']['recall']:.3f}", flush=True)
        print(f"{row['settings']} zoom {row['zoom_in']}: grids found {g['recall']:.3f} over-two {g['over_two']:.3f} | "
              f"wider AP {w['ap_ranking']:.3f} recall {w['recall']:.3f} | singles found {s['recall']:.3f} "
              f"boxes/img {s['boxes_per_image']:.2f} | face-free FA/img {row['face_free']['false_alarms_per_image']:.3f}",
              flush=True)  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"command": " ".join(sys.argv), "bundle": str(args.bundle), "scales": list(prep.scales),
                                    "threshold": base.threshold, "n": {k: len(v[0]) for k, v in sets.items()},
                                    "trials": trials}, indent=1, default=float))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
