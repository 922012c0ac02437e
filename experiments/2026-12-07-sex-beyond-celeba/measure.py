"""How often the shipped bundle's `Male` decision is right beyond CelebA-HQ (trial 88): UTKFace
val chips (their file names carry a gender, 0 male / 1 female) beside CelebA-HQ val files (its
`Male` labels), end to end through Predictor on the files as shipped, the same samples as
bench_end_to_end (val part, seed 0). A measurement for the docs: nothing is chosen from it.

    PYTHONPATH=. python experiments/2026-12-07-sex-beyond-celeba/measure.py --limit 1000 \
        --out experiments/2026-12-07-sex-beyond-celeba/results.json [--bundle FILE] [--celeba-limit 2000]

With --celeba-limit the CelebA-HQ sample is that size, and the mean accuracy of the 40 attributes
at the bundle's decisions is given too (experiments/2026-12-07-male-beyond-celeba's val lines).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def top_faces(predictor: Predictor, paths: list[str], desc: str) -> list[dict | None]:
    out = []
    for record in tqdm(predictor.predict_many(paths), total=len(paths), desc=desc, disable=None):
        out.append(max(record["faces"], key=lambda f: f["score"]) if record["faces"] else None)
    return out


def scores(faces: list[dict | None], male: np.ndarray, groups: dict[str, np.ndarray]) -> dict:
    """Per group: faces found, and over them the share of men and of women whose `Male` decision
    (the record's "present") is right, the men's and women's counts, the AUC of p(Male)."""
    found = np.array([f is not None for f in faces])
    p = np.array([f["attributes"]["Male"] if f else np.nan for f in faces])
    said = np.array([bool(f and "Male" in f["present"]) for f in faces])
    out = {}
    for name, sel in groups.items():
        keep = sel & found
        men, women = keep & male, keep & ~male
        out[name] = {"n": int(sel.sum()), "found": float(found[sel].mean()) if sel.any() else None,
                     "men": int(men.sum()), "men_right": float(said[men].mean()) if men.any() else None,
                     "women": int(women.sum()), "women_right": float((~said[women]).mean()) if women.any() else None,
                     "women_p_male_over_0.9": int((p[women] > 0.9).sum()),
                     "auc": float(roc_auc_score(male[keep], p[keep])) if men.any() and women.any() else None}  # fmt: skip
    return out


def mean_accuracy(faces: list[dict | None], labels, names: list[str]) -> dict:
    """The mean over the attributes of the share of files with a face whose decision ("present")
    matches the label, and the same for Male alone."""
    kept = [(f, i) for i, f in enumerate(faces) if f is not None]
    said = np.array([[n in f["present"] for n in names] for f, _ in kept])
    truth = labels.iloc[[i for _, i in kept]][list(names)].to_numpy() == 1
    per = (said == truth).mean(0)
    return {"n": len(kept), "mean": float(per.mean()), "Male": float(per[list(names).index("Male")])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=1000, help="files of each set (default 1000)")
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--bundle", type=Path, default=None, help="the bundle (default: the embedded one)")
    ap.add_argument("--celeba-limit", type=int, default=None, help="CelebA-HQ files (default: --limit)")
    args = ap.parse_args()
    predictor = Predictor.load(args.bundle)
    utk = split_of(build_index(data_cfg("utkface", args.datasets)), "val").reset_index(drop=True)
    utk = utk.sample(n=min(args.limit, len(utk)), random_state=0).reset_index(drop=True)
    celeba = split_of(build_index(data_cfg("celeba_hq", args.datasets)), "val")
    celeba = celeba.sample(n=min(args.celeba_limit or args.limit, len(celeba)), random_state=0).reset_index(drop=True)
    age, male = utk["age"].to_numpy(), utk["gender"].to_numpy() == 0
    results = {
        "command": " ".join(sys.argv), "bundle": predictor.bundle.identity, "model": predictor.model_identity,
        "threshold_male": float(predictor.decision_thresholds["Male"]),
        "utkface_val_chips": scores(top_faces(predictor, utk["path"].tolist(), "UTKFace chips"), male, {
            "all": np.ones(len(utk), bool), "0-12": age <= 12, "13-59": (age >= 13) & (age <= 59), "60+": age >= 60}),
        "celeba_hq_val_files": scores(faces := top_faces(predictor, celeba["path"].tolist(), "CelebA-HQ files"),
                                      celeba["Male"].to_numpy() == 1, {"all": np.ones(len(celeba), bool)}),
        "celeba_hq_val_mean_accuracy_at_decisions": mean_accuracy(faces, celeba, predictor.attributes),
        "machine": machine(),
    }  # fmt: skip
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
