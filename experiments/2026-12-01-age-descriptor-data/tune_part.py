"""The shared pieces of choose.py, map.py, std_scale.py and stretch.py: their command line, the
cached train chips with their ages, the tune part (fold 1 of 5 by file name, seed 1), the bundle's
own age (mean and std) on it end to end, the figures by band, and the heads' fit sample."""

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lnet_anet.cli.fit_descriptor_head import DEFAULT_ROOTS, training_part
from lnet_anet.data.readers.age import fold_of
from lnet_anet.inference.predictor import Predictor

BANDS = ((0, 12), (13, 29), (30, 44), (45, 59), (60, 200))


def arguments(parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """--cache (the cached chips), --root (UTKFace) and --out (the record), beside what `parser`
    has already; torch on the 2 cores."""
    parser = parser or argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOTS["age"])
    parser.add_argument("--out", type=Path, required=True)
    torch.set_num_threads(2)
    return parser.parse_args()


@dataclass
class TunePart:
    names: list            # the cached chips of the train part
    outputs: np.ndarray    # their dlib outputs, as cached (descriptors, or descriptors + map)
    features: np.ndarray   # their ANet features
    y: np.ndarray          # their ages
    tune: np.ndarray       # bool: in the tune part
    band: np.ndarray       # index into BANDS
    bundle_age: np.ndarray  # the Predictor's age on the tune chips (NaN elsewhere, or no face)
    bundle_std: np.ndarray  # its std (the bundle age net's label distribution's), likewise

    @property
    def scored(self) -> np.ndarray:
        return self.tune & np.isfinite(self.bundle_age)

    def figures(self, pred: np.ndarray) -> dict:
        """MAE over the scored tune chips, and MAE and bias by band."""
        scored = self.scored
        e = pred[scored] - self.y[scored]
        out = {"mae": round(float(np.abs(e).mean()), 3)}
        for k, (lo, hi) in enumerate(BANDS):
            sel = self.band[scored] == k
            out[f"{lo}-{hi if hi < 200 else ''}"] = {"n": int(sel.sum()), "mae": round(float(np.abs(e[sel]).mean()), 2),
                                                      "bias": round(float(e[sel].mean()), 2)}  # fmt: skip
        return out


def tune_part(cache: Path, root: Path) -> TunePart:
    index = training_part("age", root)
    age_of = dict(zip(index["path"].map(os.path.basename), index["age"].astype(float), strict=True))
    path_of = dict(zip(index["path"].map(os.path.basename), index["path"], strict=True))
    z = np.load(cache)
    names = [n for n in z["names"].tolist() if n in age_of]
    keep = np.isin(z["names"], names)
    y = np.array([age_of[n] for n in names])
    tune = fold_of(names, 5, 1) == 1
    predictor = Predictor.load()
    bundle_age, bundle_std = np.full(len(names), np.nan), np.full(len(names), np.nan)
    for i in np.flatnonzero(tune):
        faces = predictor.predict(path_of[names[i]])["faces"]
        if faces:
            bundle_age[i], bundle_std[i] = faces[0]["age"]["mean"], faces[0]["age"]["std"]
    band = np.digitize(y, [b[1] + 0.5 for b in BANDS[:-1]])
    return TunePart(names, z["descriptors"][keep], z["features"][keep], y, tune, band, bundle_age, bundle_std)


def fit_sample(tune: np.ndarray, size: int = 6000) -> np.ndarray:
    """The heads' training rows: a seeded sample of `size` of the chips outside the tune part
    (the shipped recipe's size)."""
    fit_rows = np.flatnonzero(~tune)
    return np.random.default_rng(0).choice(fit_rows, min(size, len(fit_rows)), replace=False)


def shipped_mix(part: TunePart):
    """The shipped recipe's head (3 networks reading ANet's feature, dlib's last map and the
    descriptor) fitted on fit_sample, and its mix with the Predictor's age (0.5 each, as shipped)
    on the scored tune chips: (head, the inputs of every chip, the scored rows, their mixed ages)."""
    from lnet_anet.dldl.descriptor import DescriptorHead, joined_inputs, network_inputs

    x = joined_inputs(network_inputs(part.outputs, True), part.features)
    sample = fit_sample(part.tune)
    head = DescriptorHead.fit(x[sample], part.y[sample], target="age", members=3, reads_map=True)
    rows = np.flatnonzero(part.scored)
    return head, x, rows, np.clip(0.5 * part.bundle_age[rows] + 0.5 * head.regress(x[rows]), 0, 116)
