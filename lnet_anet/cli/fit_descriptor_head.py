"""Fit the opt-in attractiveness descriptor head on SCUT-FBP5500's training list (issue 17).

    python -m lnet_anet.cli.fit_descriptor_head --out runs/attractiveness-descriptor.safetensors
    python -m lnet_anet.cli.fit_descriptor_head --fold 1 --out runs/desc/f1.safetensors   # CV: fold 1 held out
    python -m lnet_anet.predict photo.jpg --attractiveness-descriptor runs/attractiveness-descriptor.safetensors

Each training image goes through the Predictor's localizer (the bundle's LNet, as at
prediction); dlib's face-recognition descriptor of its best face box is cached in --cache (one
row per image file, reused by every fold), and a DLDL-v2 head on the descriptors of the images
not held out is trained and saved (lnet_anet.dldl.descriptor.DescriptorHead: feature_dldl, KL +
L1, sigma 0.3, 60 epochs, seed 0). Images without a face are left out and counted. Folds: --fold k of --folds n
(seed --seed) holds out the images of fold k by lnet_anet.data.readers.age.fold_of, as
benchmarks/bench_attractiveness.py scores them. Needs dlib-bin and face_recognition_models.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lnet_anet.dldl.descriptor import DEFAULT_SETTINGS, PRECISIONS, REFINES

DEFAULT_ROOT = Path("../shared/datasets/scut_fbp5500_train")


def descriptors_of(paths: list[str], predictor, describe, cache: Path, made_by: str) -> dict[str, np.ndarray]:
    """{file name: (128,) descriptor of its best face box}; images without a face, or unreadable
    (reported on stderr), are absent.
    Cached in `cache` (npz of names and descriptors, and `made_by`: the bundle whose localizer
    found the faces and the descriptor's settings; a cache made otherwise is refused), computed
    for the names it lacks."""
    from lnet_anet.data.errors import ImageReadError
    from lnet_anet.data.images import load_image

    found: dict[str, np.ndarray] = {}
    if cache.exists():
        z = np.load(cache)
        made_with = str(z["made_by"]) if "made_by" in z.files else "unrecorded settings"
        if made_with != made_by:
            raise ValueError(f"{cache}: made with {made_with}, not {made_by}; delete it or pass --cache")
        found = dict(zip(z["names"].tolist(), z["descriptors"], strict=True))
        missing = set(z["missing"].tolist())
    else:
        missing = set()
    todo = [p for p in paths if os.path.basename(p) not in found and os.path.basename(p) not in missing]
    for start in tqdm(range(0, len(todo), 8), desc="descriptors", unit="x8 images", dynamic_ncols=True):
        read = []  # decoded once, for the localizer and for dlib
        for path in todo[start : start + 8]:
            try:
                read.append((path, load_image(path)))
            except ImageReadError as e:
                print(f"skipped: {e}", file=sys.stderr)
                missing.add(os.path.basename(path))
        images = [image for _, image in read]
        for (path, image), faces in zip(read, predictor.locate_many(images, 8, kind="face"), strict=True):
            if faces:
                found[os.path.basename(path)] = describe(image, [faces[0][0]])[0]
            else:
                missing.add(os.path.basename(path))
    if todo:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, names=np.array(list(found)), descriptors=np.stack(list(found.values())),
                 missing=np.array(sorted(missing), dtype=str), made_by=np.array(made_by))  # fmt: skip
    return found


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="SCUT-FBP5500 as released (or its parent)")
    p.add_argument("--bundle", type=Path, help="model bundle whose localizer finds the faces (default: embedded)")
    p.add_argument("--cache", type=Path, default=Path("runs/scut-descriptors.npz"))
    p.add_argument("--fold", type=int, help="hold out this fold (1..folds); default: fit on the whole list")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weight", type=float, default=0.5, help="the descriptor's share of the mixed score")
    p.add_argument("--refine", choices=REFINES, default=DEFAULT_SETTINGS["refine"],
                   help="dlib's landmark box: the localizer's box mapped (fast), or dlib's HOG detector near it")
    p.add_argument("--precision", choices=PRECISIONS, default=DEFAULT_SETTINGS["precision"],
                   help="the descriptor network: int8 on ONNX Runtime (fast) or fp32 (dlib's own numbers)")
    args = p.parse_args(argv)

    from lnet_anet.data.readers.age import fold_of
    from lnet_anet.data.readers.attractiveness import read_scut_fbp5500
    from lnet_anet.dldl.descriptor import DescriptorHead, FaceDescriptor
    from lnet_anet.inference.predictor import Predictor

    try:
        describe = FaceDescriptor(refine=args.refine, precision=args.precision)
        index = read_scut_fbp5500(args.root)
    except (ImportError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    index = index[index["split"] == "train"].reset_index(drop=True)
    paths = index["path"].astype(str).tolist()
    names = [os.path.basename(q) for q in paths]
    keep = np.ones(len(index), bool)
    if args.fold is not None:
        if not 1 <= args.fold <= args.folds:
            print(f"error: --fold must be in 1..{args.folds}, got {args.fold}", file=sys.stderr)
            return 1
        keep = fold_of(names, args.folds, args.seed) != args.fold
    predictor = Predictor.load(args.bundle)
    bundle = str(args.bundle.resolve()) if args.bundle else "embedded"
    try:
        made_by = f"bundle {bundle}, refine {args.refine}, precision {args.precision}"
        found = descriptors_of(paths, predictor, describe, args.cache, made_by)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rows = [i for i in np.flatnonzero(keep) if names[i] in found]
    x = np.stack([found[names[i]] for i in rows])
    y = index["attractiveness"].to_numpy(np.float64)[rows]
    info = {"data": str(args.root), "fold": args.fold, "folds": args.folds, "seed": args.seed,
            "no_face": int(keep.sum()) - len(rows), "bundle": bundle,
            "command": " ".join(["python -m lnet_anet.cli.fit_descriptor_head", *(argv or sys.argv[1:])])}  # fmt: skip
    settings = {"refine": args.refine, "precision": args.precision}
    head = DescriptorHead.fit(x, y, weight=args.weight, info=info, settings=settings)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    head.save(args.out)
    print(json.dumps({"out": str(args.out), **head.info}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
