"""The arms of RULE.md on the tune files of experiments/2026-12-07-age-soften-all, end to end through
`Predictor.predict` (the default backend): each file read as stored and re-saved at JPEG q95 and
q75, by the embedded bundle and each --bundle (make_bundle.py), on the same decoded images.

    PYTHONPATH=.:benchmarks OMP_NUM_THREADS=2 python experiments/2026-12-07-age-jpeg-finetune/evaluate.py \
        --arm ft-jpeg=runs/age-jpeg-ft/jpeg --arm ft-plain=runs/age-jpeg-ft/plain \
        --out experiments/2026-12-07-age-jpeg-finetune/tune.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench_end_to_end import _jpeg
from PIL import Image
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

from lnet_anet.data import datasets_root
from lnet_anet.data.readers.age import read_utkface
from lnet_anet.data.readers.celeba import read_celeba
from lnet_anet.inference.predictor import Predictor

SOFTEN = Path("experiments/2026-12-07-age-soften-all/tune.json")
READS = ("stored", "jpeg_q95", "jpeg_q75")


def top_age(record: dict) -> float | None:
    faces = record.get("faces") or []
    return None if not faces else float(max(faces, key=lambda f: f["score"])["age"]["mean"])


def moves(ages: dict[str, list]) -> dict[str, dict[str, float]]:
    out = {}
    for r in READS[1:]:
        d = np.array([abs(a - b) for a, b in zip(ages["stored"], ages[r], strict=True) if a is not None and b is not None])
        out[r] = {"n": len(d), "median": float(np.median(d)), "p95": float(np.percentile(d, 95)),
                  "share_over_5": float(np.mean(d > 5))}  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", action="append", default=[], help="LABEL=FILE (make_bundle.py), beside the embedded one")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=None, help="the first N files of each set (a smoke run)")
    args = ap.parse_args()
    names = json.loads(SOFTEN.read_text())["data"]
    root = datasets_root()
    utk = read_utkface(root / "utkface128" / "UTKFace")
    utk = utk.set_index(utk["path"].map(lambda p: Path(p).name)).loc[names["utkface_tune"]]
    cel = read_celeba(root / "celeba_hq128")
    cel = cel.set_index(cel["path"].map(lambda p: Path(p).name)).loc[names["celeba_hq_train"]]
    utk, cel = utk.head(args.limit or len(utk)), cel.head(args.limit or len(cel))
    arms = {"shipped": Predictor.load()}
    arms.update({label: Predictor.load(file) for label, file in (spec.split("=", 1) for spec in args.bundle)})
    true, young = utk["age"].to_numpy(float), cel["Young"].to_numpy() > 0
    ages = {label: {part: {r: [] for r in READS} for part in ("utk", "celeba")} for label in arms}
    for part, paths in (("utk", utk["path"]), ("celeba", cel["path"])):
        for path in tqdm(list(paths), desc=part):
            stored = Image.open(path).convert("RGB")
            images = {"stored": np.asarray(stored), "jpeg_q95": np.asarray(_jpeg(stored, 95)),
                      "jpeg_q75": np.asarray(_jpeg(stored, 75))}  # fmt: skip
            for label, predictor in arms.items():
                for r in READS:
                    ages[label][part][r].append(top_age(predictor.predict(images[r])))
    results = {"bundles": {label: str(p.bundle.path) for label, p in arms.items()}, "arms": {}}
    for label in arms:
        pred = np.array([np.nan if a is None else a for a in ages[label]["utk"]["stored"]])
        ok = ~np.isnan(pred)
        err = pred[ok] - true[ok]
        bands = {"0-12": true[ok] < 13, "13-59": (true[ok] >= 13) & (true[ok] < 60), "60+": true[ok] >= 60}
        c = np.array([np.nan if a is None else a for a in ages[label]["celeba"]["stored"]])
        cok = ~np.isnan(c)
        results["arms"][label] = r = {
            "utk_mae": float(np.abs(err).mean()), "utk_found": int(ok.sum()),
            "utk_bands": {b: {"mae": float(np.abs(err[m]).mean()), "bias": float(err[m].mean()), "n": int(m.sum())}
                          for b, m in bands.items()},  # fmt: skip
            "utk_moves": moves(ages[label]["utk"]), "celeba_moves": moves(ages[label]["celeba"]),
            "celeba_auc_not_young": float(roc_auc_score(~young[cok], c[cok])),
            "celeba_young_45_plus": float(np.mean(c[cok & young] >= 45)),
            "same_ages_as_shipped": ages[label] == ages["shipped"],
        }
        print(label, "MAE %.2f" % r["utk_mae"], {b: (round(v["mae"], 2), round(v["bias"], 2)) for b, v in r["utk_bands"].items()},
              "UTK q95/q75 p95 %.2f/%.2f" % (r["utk_moves"]["jpeg_q95"]["p95"], r["utk_moves"]["jpeg_q75"]["p95"]),
              "CelebA q95/q75 p95 %.2f/%.2f" % (r["celeba_moves"]["jpeg_q95"]["p95"], r["celeba_moves"]["jpeg_q75"]["p95"]),
              "AUC %.3f young45+ %.3f" % (r["celeba_auc_not_young"], r["celeba_young_45_plus"]),
              "same as shipped" if r["same_ages_as_shipped"] else "", flush=True)
    args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
