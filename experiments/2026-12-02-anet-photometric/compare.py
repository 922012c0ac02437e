"""Bundles side by side, end to end through `Predictor` on image files (RULE.md; issue 15).

    PYTHONPATH=. python experiments/2026-12-02-anet-photometric/compare.py --part tune \\
        --bundle before=lnet_anet/assets/default.lnetanet \\
                 photometric=runs/anet-photometric/photometric.lnetanet:runs/anet-photometric/box_head.safetensors:runs/anet-photometric/face_head.safetensors \\
        --out experiments/2026-12-02-anet-photometric/tune

--bundle LABEL=BUNDLE[:BOX_HEAD:FACE_HEAD]: a bundle whose ANet is not the shipped one needs the
box head and face head fitted on it (Predictor.load(box_head=, face_head=)); an empty field keeps the
shipped head (BUNDLE::FACE_HEAD).

Parts. tune: celeba_hq128 train's tune part as train_anet splits it (identity-disjoint 10%,
tune_split {frac 0.1, seed 0}: neither ANet trained on it), UTKFace train chips (seeded sample)
and SCUT-FBP5500 folds 1-2 (bench_end_to_end's tune folds). val: the val partitions and SCUT folds
3-5.

Per bundle:
- attributes of the top face of each CelebA-HQ file, at the bundle's decisions and at p >= 0.5;
- the share of attribute decisions that flip when a file is re-saved (JPEG q95 / q75), made
  darker or brighter (x0.6 / x1.5) or gray (bench_end_to_end.perturbations), on --flips files;
- faces found on UTKFace chips and SCUT images as shipped.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import SCUT_FOLDS, data_cfg, faces_found, perturbations, top_faces  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_fit_tune, split_of  # noqa: E402
from lnet_anet.data.readers.age import fold_of  # noqa: E402
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.metrics.attributes import attribute_metrics  # noqa: E402

PERTURB = ("jpeg_q95", "jpeg_q75", "brightness_x0.6", "brightness_x1.5", "grayscale")


def load(spec: str) -> Predictor:
    bundle, *heads = spec.split(":")
    box_head, face_head = ([h or None for h in heads] + [None, None])[:2]  # an empty field: the shipped head
    return Predictor.load(bundle, box_head=box_head, face_head=face_head)


def attributes(predictor: Predictor, files, names, train_labels) -> dict:
    faces = top_faces(predictor, files["path"].tolist())
    found = np.array([f is not None for f in faces])
    labels = files[names].to_numpy()[found]
    probs = np.array([[f["attributes"][n] for n in names] for f in faces if f is not None])
    out = {"n": int(len(files)), "found": float(found.mean())}
    for key, decided in (("decisions", probs >= predictor.bundle.svm.threshold), ("p_ge_0.5", probs >= 0.5)):
        m = attribute_metrics(decided, labels, names, train_labels)
        out[key] = {k: float(m[k]) for k in ("mean_accuracy", "mean_balanced_accuracy")}
    return out


def flips(predictor: Predictor, paths: list[str]) -> dict:
    """Share of the 40 decisions of the top face that differ between each file and its
    perturbed copy (files where either has no face are counted apart)."""
    names = predictor.attributes
    thresholds = predictor.bundle.svm.threshold
    rows = {p: [] for p in PERTURB}
    lost = dict.fromkeys(PERTURB, 0)
    for path in paths:
        img = Image.open(path).convert("RGB")
        variants = {k: v for k, (v, _) in perturbations(img).items() if k in PERTURB}
        base, *got = top_faces(predictor, [np.asarray(img), *variants.values()])
        if base is None:
            continue
        before = np.array([base["attributes"][n] for n in names]) >= thresholds
        for name, face in zip(variants, got, strict=True):
            if face is None:
                lost[name] += 1
                continue
            rows[name].append(float(((np.array([face["attributes"][n] for n in names]) >= thresholds) != before).mean()))
    return {p: {"flips": float(np.mean(rows[p])), "n": len(rows[p]), "no_face": lost[p]} for p in PERTURB}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", nargs="+", required=True, help="LABEL=BUNDLE[:BOX_HEAD:FACE_HEAD]")
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--flips", type=int, default=600, help="CelebA-HQ files perturbed (0: skip)")
    ap.add_argument("--chips", type=int, default=2000, help="UTKFace chips for faces found")
    ap.add_argument("--flip-chips", type=int, default=0, help="UTKFace chips perturbed too (the stability benchmark's set)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many files of each set (a smoke run)")
    ap.add_argument("--datasets", type=Path, default=None)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    root = args.datasets or datasets_root()
    celeba = build_index(data_cfg("celeba_hq", root))
    train = split_of(celeba, "train")
    files = split_fit_tune(train, 0.1, 0)[1] if args.part == "tune" else split_of(celeba, "val")
    names = list(celeba.attrs["attributes"])
    if args.limit:
        files = files.iloc[: args.limit]
    flip_paths = files["path"].sample(n=min(args.flips, len(files)), random_state=0).tolist()
    utk = build_index(data_cfg("utkface", root))
    chips = split_of(utk, "train" if args.part == "tune" else "val")
    chips = chips.sample(n=min(args.chips, len(chips)), random_state=1)["path"].tolist()[: args.limit]
    scut = read_scut_fbp5500(root / "scut_fbp5500_train")
    scut = scut[scut["split"] == "train"].reset_index(drop=True)
    scut_paths = scut[np.isin(fold_of(scut["path"].map(lambda p: Path(p).name).tolist(), 5, 0),
                              SCUT_FOLDS[args.part])]["path"].tolist()[: args.limit]  # fmt: skip
    results = {"command": shlex.join(["python", *sys.argv]), "part": args.part, "machine": machine(),
               "n": {"celeba_hq": len(files), "flips": len(flip_paths), "utkface": len(chips), "scut": len(scut_paths),
                     "flip_chips": min(args.flip_chips, len(chips))},
               "bundles": {}}  # fmt: skip
    for item in args.bundle:
        label, spec = item.split("=", 1)
        predictor = load(spec)
        t0 = time.perf_counter()
        r = {"spec": spec, "attributes": attributes(predictor, files, names, train[names].to_numpy())}
        print(label, json.dumps(r), flush=True)
        if flip_paths:
            r["flips"] = flips(predictor, flip_paths)
        if args.flip_chips:
            r["flips_utkface"] = flips(predictor, chips[: args.flip_chips])
        r["found"] = {"utkface": faces_found(predictor, chips), "scut": faces_found(predictor, scut_paths)}
        r["seconds"] = time.perf_counter() - t0
        results["bundles"][label] = r
        print(label, json.dumps(r), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    labels = list(results["bundles"])
    lines = [f"# ANet photometric: {args.part} part, end to end through Predictor", "",
             f"Command: `{results['command']}`", "", f"Files: {results['n']}", "",
             "| | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]  # fmt: skip

    def row(title, get):
        lines.append(f"| {title} | " + " | ".join(f"{get(results['bundles'][k]):.4f}" for k in labels) + " |")

    for key in ("decisions", "p_ge_0.5"):
        for m in ("mean_accuracy", "mean_balanced_accuracy"):
            row(f"attributes, {key}: {m}", lambda b, key=key, m=m: b["attributes"][key][m])
    for p in PERTURB if flip_paths else ():
        row(f"decisions flipped, {p}", lambda b, p=p: b["flips"][p]["flips"])
    if flip_paths:
        row("decisions flipped, mean of the five", lambda b: float(np.mean([b["flips"][p]["flips"] for p in PERTURB])))
    if args.flip_chips:
        for p in PERTURB:
            row(f"decisions flipped, UTKFace chips, {p}", lambda b, p=p: b["flips_utkface"][p]["flips"])
    row("faces found, UTKFace chips", lambda b: b["found"]["utkface"]["found"])
    row("faces found, SCUT images", lambda b: b["found"]["scut"]["found"])
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
