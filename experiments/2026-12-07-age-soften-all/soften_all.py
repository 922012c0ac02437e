"""Softening every age crop against the shipped bar (RULE.md): UTKFace tune chips and CelebA-HQ
train files read as stored and re-saved at JPEG q95 / q75, end to end through `Predictor.predict`,
the age crop's softening set in memory per arm. Tune parts only.

    PYTHONPATH=.:benchmarks OMP_NUM_THREADS=2 python experiments/2026-12-07-age-soften-all/soften_all.py \
        --utk 300 --celeba 150 --out experiments/2026-12-07-age-soften-all/tune.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
from bench_end_to_end import _jpeg
from omegaconf import OmegaConf
from PIL import Image
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

from lnet_anet.data import datasets_root
from lnet_anet.data.from_config import build_index, split_fit_tune, split_of
from lnet_anet.data.readers.celeba import read_celeba
from lnet_anet.inference.predictor import Predictor

ARMS = {"shipped": None, "all2": (2.0, 0.0), "all1.5": (1.5, 0.0)}
READS = ("stored", "jpeg_q95", "jpeg_q75")
RUN = Path("experiments/2026-12-02-age-prior/tune-run/hydra-config.yaml")


def utk_tune(n: int):
    cfg = OmegaConf.load(RUN)
    _, tune = split_fit_tune(split_of(build_index(cfg.data), "train"), frac=0.15, seed=1)
    return tune.sample(n=min(n, len(tune)), random_state=0)


def top_age(record: dict) -> float | None:
    faces = record.get("faces") or []
    return None if not faces else float(max(faces, key=lambda f: f["score"])["age"]["mean"])


def read_all(predictor: Predictor, paths: list[str], label: str) -> dict[str, dict[str, list]]:
    """{arm: {read: [age or None per file]}}."""
    shipped = predictor._heads["age"]
    ages = {arm: {r: [] for r in READS} for arm in ARMS}
    for path in tqdm(paths, desc=label):
        stored = Image.open(path).convert("RGB")
        images = {"stored": np.asarray(stored), "jpeg_q95": np.asarray(_jpeg(stored, 95)),
                  "jpeg_q75": np.asarray(_jpeg(stored, 75))}  # fmt: skip
        for arm, soften in ARMS.items():
            predictor._heads["age"] = shipped if soften is None else dataclasses.replace(
                shipped, soften=soften[0], soften_above=soften[1])  # fmt: skip
            for r in READS:
                ages[arm][r].append(top_age(predictor.predict(images[r])))
    predictor._heads["age"] = shipped
    return ages


def moves(ages: dict[str, list]) -> dict[str, dict[str, float]]:
    out = {}
    for r in READS[1:]:
        d = [abs(a - b) for a, b in zip(ages["stored"], ages[r], strict=True) if a is not None and b is not None]
        out[r] = {"n": len(d), "median": float(np.median(d)), "p95": float(np.percentile(d, 95)),
                  "share_over_5": float(np.mean(np.asarray(d) > 5))}  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--utk", type=int, default=300)
    ap.add_argument("--celeba", type=int, default=150)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    predictor = Predictor.load()
    chips = utk_tune(args.utk)
    celeba = split_of(read_celeba(datasets_root() / "celeba_hq128"), "train").sample(n=args.celeba, random_state=0)
    utk_ages = read_all(predictor, chips["path"].tolist(), "UTKFace tune")
    cel_ages = read_all(predictor, celeba["path"].tolist(), "CelebA-HQ train")
    true = chips["age"].to_numpy(float)
    young = celeba["Young"].to_numpy() > 0
    results = {"data": {"utkface_tune": chips["path"].map(lambda p: Path(p).name).tolist(),
                        "celeba_hq_train": celeba["path"].map(lambda p: Path(p).name).tolist()}, "arms": {}}  # fmt: skip
    for arm in ARMS:
        pred = np.array([np.nan if a is None else a for a in utk_ages[arm]["stored"]])
        ok = ~np.isnan(pred)
        err = pred[ok] - true[ok]
        band = {"0-12": true[ok] < 13, "60+": true[ok] >= 60}
        c = np.array([np.nan if a is None else a for a in cel_ages[arm]["stored"]])
        cok = ~np.isnan(c)
        results["arms"][arm] = {
            "utk_mae": float(np.abs(err).mean()), "utk_found": int(ok.sum()),
            "utk_bands": {b: {"mae": float(np.abs(err[m]).mean()), "bias": float(err[m].mean()), "n": int(m.sum())}
                          for b, m in band.items()},  # fmt: skip
            "utk_moves": moves(utk_ages[arm]), "celeba_moves": moves(cel_ages[arm]),
            "celeba_auc_not_young": float(roc_auc_score(~young[cok], c[cok])),
            "celeba_young_45_plus": float(np.mean(c[cok & young] >= 45)),
        }
    args.out.write_text(json.dumps(results, indent=1))
    for arm, r in results["arms"].items():
        print(arm, "MAE %.2f" % r["utk_mae"], {b: (round(v["mae"], 2), round(v["bias"], 2)) for b, v in r["utk_bands"].items()},
              "UTK q95/q75 p95 %.2f/%.2f" % (r["utk_moves"]["jpeg_q95"]["p95"], r["utk_moves"]["jpeg_q75"]["p95"]),
              "CelebA q95/q75 p95 %.2f/%.2f" % (r["celeba_moves"]["jpeg_q95"]["p95"], r["celeba_moves"]["jpeg_q75"]["p95"]),
              "AUC %.3f young45+ %.3f" % (r["celeba_auc_not_young"], r["celeba_young_45_plus"]))


if __name__ == "__main__":
    main()
