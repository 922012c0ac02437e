"""Do the heads answer more steadily when they read a contrast-stretched copy of the photo? (RULE.md)

    PYTHONPATH=. python experiments/2026-12-05-stretched-heads/diagnose.py --run PARTS --chips 400 --files 400 \
        --out experiments/2026-12-05-stretched-heads/tune.json

PARTS: a folder whose .hydra/config.yaml is the age run's config that defines UTKFace's tune part
(run.sh copies experiments/2026-12-04-age-gpu/device-runs/age-lite0-gpu-tune85/hydra/config.yaml).
Two policies through Predictor in one run: "shipped" (the embedded bundle as it is) and "stretched"
(the same bundle; every photo's faces are found as now, and the heads cut them from
stretch_contrast(photo)). A diagnostic on tune parts only."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lnet_anet.data import datasets_root
from lnet_anet.data.from_config import build_index, split_of
from lnet_anet.data.preprocess import stretch_contrast
from lnet_anet.inference.predictor import Predictor

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


capture = _module(ROOT / "experiments" / "2026-12-02-age-prior" / "capture.py")
sys.path.insert(0, str(ROOT / "benchmarks"))
bench = _module(ROOT / "benchmarks" / "bench_end_to_end.py")
PERTURB = ("brightness_x0.6", "brightness_x1.5", "jpeg_q95", "grayscale")


class StretchedHeads(Predictor):
    """The candidate: faces found on the photo as it is; the heads read its contrast-stretched copy
    (a copy the exposure retry already made is kept)."""

    def _detect(self, images, analyses):
        found = super()._detect(images, analyses)
        for image, analysis in zip(images, analyses or (), strict=False):
            if analysis.read_as is None:
                analysis.read_as = stretch_contrast(image)
        return found


def top(predictor: Predictor, images: list[np.ndarray]) -> list[dict | None]:
    out = []
    for record in predictor.predict_many(images, batch_size=8):
        out.append(max(record["faces"], key=lambda f: f["score"]) if record["faces"] else None)
    return out


def perturbed_reads(predictor: Predictor, chips, names: tuple[str, ...]):
    """Per chip with a face: (chip image, its perturbations (bench_end_to_end.perturbations), true
    age, the top face of the chip, the top face of each named perturbation, None when none)."""
    for path, age in zip(chips["path"], chips["age"], strict=True):
        img = Image.open(path).convert("RGB")
        variants = bench.perturbations(img)
        base, *others = top(predictor, [np.asarray(img)] + [variants[p][0] for p in names])
        if base is not None:
            yield img, variants, age, base, others


def score(predictor: Predictor, chips, files, names: list[str]) -> dict:
    thresholds = np.asarray(predictor.bundle.svm.threshold)
    result: dict = {}
    t0 = time.perf_counter()
    errors, d_age = [], {p: [] for p in PERTURB}
    flips = {p: [] for p in PERTURB}
    for _, _, age, base, others in perturbed_reads(predictor, chips, PERTURB):
        errors.append(base["age"]["mean"] - age)
        d0 = np.array([base["attributes"][n] for n in names]) >= thresholds
        for p, face in zip(PERTURB, others, strict=True):
            if face is not None:
                d_age[p].append(abs(face["age"]["mean"] - base["age"]["mean"]))
                flips[p].append(float((d0 != (np.array([face["attributes"][n] for n in names]) >= thresholds)).mean()))
    err = np.abs(errors)
    result["chips"] = {"scored": len(chips), "with_face": len(errors), "mae": float(err.mean()),
                       "bias": float(np.mean(errors))}
    result["stability"] = {p: {"faces": len(d_age[p]), "median_abs_d_age": float(np.median(d_age[p])),
                               "p95_abs_d_age": float(np.percentile(d_age[p], 95)),
                               "decisions_flipped": float(np.mean(flips[p]))} for p in PERTURB}  # fmt: skip
    correct, found = [], 0
    for face, (_, row) in zip(top(predictor, list(files["path"])), files.iterrows(), strict=True):
        if face is None:
            continue
        found += 1
        decided = np.array([face["attributes"][n] for n in names]) >= thresholds
        correct.append(decided == row[names].to_numpy().astype(bool))
    result["attributes"] = {"files": len(files), "with_face": found,
                            "mean_accuracy": float(np.mean(correct)) if correct else float("nan")}
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True, help="folder with .hydra/config.yaml defining the tune part")
    ap.add_argument("--chips", type=int, default=400)
    ap.add_argument("--files", type=int, default=400)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    tune, _ = capture.parts(args.run, "tune")
    chips = tune.sample(n=min(args.chips, len(tune)), random_state=0)
    celeba = build_index(bench.data_cfg("celeba_hq", datasets_root()))
    files = split_of(celeba, "train").sample(n=args.files, random_state=0)
    results = {"rule": "RULE.md", "part": "tune (UTKFace tune part; CelebA-HQ train files)",
               "command": " ".join(["python", *sys.argv]), "policies": {}}
    for name, cls in (("shipped", Predictor), ("stretched", StretchedHeads)):
        predictor = cls.load()
        names = predictor.attributes
        results["policies"][name] = score(predictor, chips, files, names)
        print(name, json.dumps(results["policies"][name]), flush=True)
    args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
