"""Fit an opt-in descriptor head: attractiveness on SCUT-FBP5500's training list, or
age on UTKFace's train part.

    python -m lnet_anet.cli.fit_descriptor_head --out runs/attractiveness-descriptor.safetensors
    python -m lnet_anet.cli.fit_descriptor_head --fold 1 --out runs/desc/f1.safetensors   # CV: fold 1 held out
    python -m lnet_anet.cli.fit_descriptor_head --target age --limit 9000 --out runs/age-descriptor.safetensors
    python -m lnet_anet.predict photo.jpg --attractiveness-descriptor --descriptor-head runs/attractiveness-descriptor.safetensors

Each training image goes through the Predictor's localizer (the bundle's LNet, as at
prediction); dlib's face-recognition descriptor of its best face box and the bundle ANet's
feature of it are cached in --cache (one row per image file, reused by every fold), and a
DLDL-v2 head on the images not held out is trained and saved
(lnet_anet.dldl.descriptor.DescriptorHead: feature_dldl, KL + L1, the target's sigma, 60
epochs, --members networks of seeds 0, 1, ... averaged; --inputs: what it reads, by default
ANet's feature, dlib's last map and its descriptor; a head that reads ANet's feature serves this
bundle's ANet only). Images without a face are left out and counted. Folds: --fold k of
--folds n (seed --seed) holds out the images of fold k by lnet_anet.data.readers.age.fold_of, as
benchmarks/bench_attractiveness.py scores them. Needs dlib-bin and face_recognition_models (pip
install -e '.[descriptor]').
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lnet_anet.cli.arguments import (
    CommandParser,
    DefaultsHelpFormatter,
    add_replace_shipped,
    int_in,
    output_file,
    stops_on_interrupt,
)
from lnet_anet.cli.head_fitting import save_head
from lnet_anet.data import datasets_root
from lnet_anet.data.errors import DATA_HINT, DataNotFoundError
from lnet_anet.dldl.descriptor_settings import DEFAULT_SETTINGS, PRECISIONS, REFINES
from lnet_anet.engine.checkpoint import save_npz_atomic

DATASETS = datasets_root()
# Networks per head, of seeds 0, 1, ...: three (for attractiveness the 3-seed joint head led the nested CV of
# experiments/2026-12-01-attractiveness-cost, section 2; end to end in its section 7; for age, chosen on a
# tune part of UTKFace's train part: experiments/2026-12-01-age-descriptor-data, map.json).
DEFAULT_MEMBERS = {"attractiveness": 3, "age": 3}
# What a head reads: ANet's feature, dlib's last map (the input of its descriptor's layer), its descriptor.
INPUTS = ("anet+map+descriptor", "anet+descriptor", "descriptor")
# The map cut attractiveness's RMSE by 0.009 in 5-fold CV (experiments/2026-12-01-attractiveness-cost,
# section 9) and age's tune-part MAE by 0.16 years (experiments/2026-12-01-age-descriptor-data, map.json).
DEFAULT_INPUTS = {"attractiveness": "anet+map+descriptor", "age": "anet+map+descriptor"}
DEFAULT_ROOTS = {"attractiveness": DATASETS / "scut_fbp5500_train", "age": DATASETS / "utkface128" / "UTKFace"}
UTKFACE_HOLDOUT = {"frac": 0.2, "seed": 0}  # conf/data/utkface.yaml's: the age net's val part stays out


def training_part(target: str, root: Path):
    """The images a head for `target` may learn from: SCUT-FBP5500's training list
    (attractiveness), or UTKFace without its hash-based 20% val part (age). A DataFrame with
    path and the target's column; FileNotFoundError / ValueError from the readers."""
    from lnet_anet.data.readers.age import holdout_split, read_utkface
    from lnet_anet.data.readers.attractiveness import read_scut_fbp5500

    if target == "age":
        index = holdout_split(read_utkface(root), **UTKFACE_HOLDOUT)
    else:
        index = read_scut_fbp5500(root)
    return index[index["split"] == "train"].reset_index(drop=True)
SAVE_EVERY = 1000  # images between saves of the descriptor cache


def descriptors_of(paths: list[str], predictor, describe, cache: Path, made_by: str,
                   with_map: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """{file name: ((128,) descriptor, or (128 + 1024,) with dlib's last map, and (F,) ANet
    feature) of its best face}; images without a face, or unreadable (reported on stderr), are absent.
    Cached in `cache` (npz of names, descriptors and features, and `made_by`: the bundle whose
    localizer and ANet read the faces and the descriptor's settings; a cache made otherwise is
    refused), computed for the names it lacks and saved every SAVE_EVERY images, so that a killed
    run goes on where it stopped."""
    from lnet_anet.data.errors import ImageReadError
    from lnet_anet.data.images import load_image

    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if cache.exists():
        z = np.load(cache)
        made_with = str(z["made_by"]) if "made_by" in z.files else "unrecorded settings"
        if made_with != made_by or "features" not in z.files:
            raise ValueError(f"{cache}: made with {made_with}, not {made_by} (or by an older version); "
                             "delete it or pass another --cache")  # fmt: skip
        found = dict(zip(z["names"].tolist(), zip(z["descriptors"], z["features"], strict=True), strict=True))
        missing = set(z["missing"].tolist())
    else:
        missing = set()
    todo = [p for p in paths if os.path.basename(p) not in found and os.path.basename(p) not in missing]

    def save() -> None:
        rows = list(found.values())
        save_npz_atomic(cache, {"names": np.array(list(found), dtype=str),
                                "descriptors": np.stack([d for d, _ in rows]) if rows else np.zeros((0, 0), np.float32),
                                "features": np.stack([f for _, f in rows]) if rows else np.zeros((0, 0), np.float32),
                                "missing": np.array(sorted(missing), dtype=str), "made_by": np.array(made_by)})  # fmt: skip

    for start in tqdm(range(0, len(todo), 8), desc="descriptors", unit="x8 images", dynamic_ncols=True,
                      disable=None):  # fmt: skip
        read = []  # decoded once, for the localizer and for dlib
        for path in todo[start : start + 8]:
            try:
                read.append((path, load_image(path)))
            except ImageReadError as e:
                print(f"skipped: {e}", file=sys.stderr)
                missing.add(os.path.basename(path))
        images = [image for _, image in read]
        for (path, image), regions in zip(read, predictor.locate_many(images, 8, kind="region"), strict=True):
            if regions:  # the best face, read as Predictor reads it: the region for ANet, the face box for dlib
                region = regions[0][0]
                box = predictor.face_box(region, image.shape[:2])
                described = describe(image, [box], with_map=True) if with_map else describe(image, [box])
                found[os.path.basename(path)] = (described[0], predictor.anet_features(image, [region], kind="region")[0])
            else:
                missing.add(os.path.basename(path))
        if (start // 8 + 1) % (SAVE_EVERY // 8) == 0:
            save()
    if todo:
        save()
    return found


EXIT_STATUS = """exit status: 0 the head was written; 1 the fit could not be done (the dataset folder
missing or bad, a bad --std-scale or --fold, no face found in the training images, the descriptor
network not installed) or the output cannot be written: one error line; 2 bad usage (an unknown
option, a bad value); 130 interrupted (--cache keeps the descriptors saved so far)"""


@stops_on_interrupt("--cache keeps the descriptors saved so far (every 1000 images); the same command goes on from them")
def main(argv=None) -> int:
    p = CommandParser(prog="python -m lnet_anet.cli.fit_descriptor_head",
                      description=" ".join(__doc__.split("\n\n")[0].split()),
                      formatter_class=DefaultsHelpFormatter, epilog=EXIT_STATUS)  # fmt: skip
    p.add_argument("--out", type=output_file, required=True, help="the head's file (.safetensors) to write")
    add_replace_shipped(p)
    p.add_argument("--target", choices=tuple(DEFAULT_ROOTS), default="attractiveness",
                   help="attractiveness (SCUT-FBP5500's training list) or age (UTKFace's train part)")
    p.add_argument("--root", type=Path, help="the dataset as released: SCUT-FBP5500 (or its parent) for "
                   "attractiveness, UTKFace's chip folder for age (default, under LNET_ANET_DATASETS or "
                   "../shared/datasets from the current folder: "
                   + "; ".join(f"{target}: {root}" for target, root in DEFAULT_ROOTS.items()) + ")")  # fmt: skip
    p.add_argument("--limit", type=int_in(1), help="a seeded sample of this many training images (default: all)")
    p.add_argument("--bundle", type=Path, help="model bundle whose localizer finds the faces (default: embedded)")
    p.add_argument("--cache", type=Path, help="default runs/<target>-descriptors.npz")
    p.add_argument("--fold", type=int, help="hold out this fold (1..folds); default: fit on the whole list")
    p.add_argument("--folds", type=int_in(1), default=5, help="folds of the training list for --fold (default 5)")
    p.add_argument("--seed", type=int, default=0, help="the folds' and --limit's seed (default 0)")
    p.add_argument("--weight", type=float, default=0.5, help="the descriptor's share of the mixed score")
    p.add_argument("--members", type=int_in(1), help="networks of seeds 0, 1, ... averaged (default: "
                   + ", ".join(f"{t}: {n}" for t, n in DEFAULT_MEMBERS.items()) + ")")  # fmt: skip
    p.add_argument("--inputs", choices=INPUTS,
                   help="what the head reads: ANet's feature (from the bundle), dlib's last map (the 256 x 2 x 2 "
                        "features its descriptor averages) and descriptor (default: "
                        + ", ".join(f"{t}: {i}" for t, i in DEFAULT_INPUTS.items())
                        + "; experiments/2026-12-01-attractiveness-cost, section 9)")  # fmt: skip
    p.add_argument("--std-scale", type=float, default=1.0,
                   help="the factor on the bundle head's std reported beside the mixed mean (default 1); choose it on "
                        "held-out faces, as experiments/2026-12-01-age-descriptor-data/std_scale.py does")  # fmt: skip
    p.add_argument("--refine", choices=REFINES, default=DEFAULT_SETTINGS["refine"],
                   help="dlib's landmark box: the localizer's box mapped (fast), or dlib's HOG detector near it")
    p.add_argument("--precision", choices=PRECISIONS, default=DEFAULT_SETTINGS["precision"],
                   help="the descriptor network: int8 on ONNX Runtime (fast) or fp32 (dlib's own numbers)")
    args = p.parse_args(argv)
    from lnet_anet.cli.head_fitting import refuse_head_output

    refused = refuse_head_output(args, {"--cache": args.cache, "--root": args.root})
    if refused:
        return refused

    from lnet_anet.data.readers.age import fold_of
    from lnet_anet.dldl.descriptor import (
        DescriptorHead,
        FaceDescriptor,
        joined_inputs,
        network_inputs,
    )
    from lnet_anet.inference.predictor import Predictor

    members = DEFAULT_MEMBERS[args.target] if args.members is None else args.members
    inputs = DEFAULT_INPUTS[args.target] if args.inputs is None else args.inputs
    reads_map = "map" in inputs.split("+")
    root = args.root or DEFAULT_ROOTS[args.target]
    if not (np.isfinite(args.std_scale) and args.std_scale > 0):
        print(f"error: --std-scale must be a number > 0, got {args.std_scale}", file=sys.stderr)
        return 1
    if not root.exists():
        how = "" if args.root else " or set LNET_ANET_DATASETS to the folder holding your datasets"
        print(f"error: {root}: no such folder; pass --root DIR (your copy of the dataset){how}", file=sys.stderr)
        return 1
    cache = args.cache or Path(f"runs/{args.target}-descriptors.npz")
    try:
        describe = FaceDescriptor(refine=args.refine, precision=args.precision)
        index = training_part(args.target, root)
    except DataNotFoundError as e:  # the readers' hint names the training configs' settings: this command's instead
        where = "the folder holding train_test_files/ (or SCUT-FBP5500_v2/)" if args.target == "attractiveness" \
            else "UTKFace's chip folder"  # fmt: skip
        print(f"error: {e.path}: {e.message.split('; ' + DATA_HINT)[0]}; pass --root DIR, {where}", file=sys.stderr)
        return 1
    except (ImportError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.limit is not None and args.limit < len(index):
        index = index.sample(n=args.limit, random_state=args.seed).reset_index(drop=True)
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
        made_by = f"bundle {bundle}, refine {args.refine}, precision {args.precision}" + (", with map" if reads_map else "")
        found = descriptors_of(paths, predictor, describe, cache, made_by, reads_map)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rows = [i for i in np.flatnonzero(keep) if names[i] in found]
    if not rows:
        print(f"error: the localizer found no face in any of the {int(keep.sum())} training images; nothing to fit",
              file=sys.stderr)  # fmt: skip
        return 1
    x = network_inputs(np.stack([found[names[i]][0] for i in rows]), reads_map)
    anet = None
    if inputs.startswith("anet+"):
        x, anet = joined_inputs(x, np.stack([found[names[i]][1] for i in rows])), predictor.bundle.part_digest("anet")
    y = index[args.target].to_numpy(np.float64)[rows]
    info = {"data": str(root), "target": args.target, "limit": args.limit, "fold": args.fold, "folds": args.folds, "data_seed": args.seed,
            "no_face": int(keep.sum()) - len(rows), "bundle": bundle, "inputs": inputs,
            "command": " ".join(["python -m lnet_anet.cli.fit_descriptor_head", *(argv or sys.argv[1:])])}  # fmt: skip
    settings = {"refine": args.refine, "precision": args.precision}
    head = DescriptorHead.fit(x, y, weight=args.weight, info=info, settings=settings, anet=anet, target=args.target,
                              members=members, reads_map=reads_map, std_scale=args.std_scale)  # fmt: skip
    save_head(head, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
