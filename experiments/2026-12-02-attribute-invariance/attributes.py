"""Linear attribute heads with and without an exposure-invariance penalty (RULE.md; a diagnostic
on tune parts, issue 15).

    PYTHONPATH=. python experiments/2026-12-02-attribute-invariance/attributes.py collect --out runs/attribute-invariance
    PYTHONPATH=. python experiments/2026-12-02-attribute-invariance/attributes.py evaluate --out runs/attribute-invariance

collect: ANet's feature of the top face's region (through Predictor.predict, captured where the
Predictor computes it) for 3,000 fit files and the 1,000 tune files, the tune files also
perturbed (grayscale, brightness x0.6 / x1.5, JPEG q75); for each fit file, the same region read
in two exposure views (the feature changes). The bundle's own decisions are kept beside them.
evaluate: per-attribute logistic regressions for each lambda; accuracy and flips.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "experiments" / "2026-12-02-region-head"))
from bench_end_to_end import SAMPLE_SEED, data_cfg  # noqa: E402
from region import Spy  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.transforms import exposure_view  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402

PERTURB = ("grayscale", "brightness_x0.6", "brightness_x1.5", "jpeg_q75")
LAMBDAS = (0.0, 1.0, 10.0, 100.0)


def perturbed(img: Image.Image, name: str) -> np.ndarray:
    arr = np.asarray(img)
    if name == "grayscale":
        return np.asarray(img.convert("L").convert("RGB"))
    if name.startswith("brightness"):
        return np.clip(arr * float(name.split("x")[1]), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def top(predictor: Predictor, spy: Spy, arr: np.ndarray):
    """(region, feature, the bundle's decisions) of the strongest face, or None."""
    record = predictor.predict(arr)
    if not record["faces"]:
        return None
    k = int(np.argmax([f["score"] for f in record["faces"]]))
    region, _, feature = spy.last[k]
    present = set(record["faces"][k]["present"])
    return region, feature, np.array([a in present for a in predictor.attributes])


def collect(args) -> None:
    torch.set_num_threads(2)
    celeba = build_index(data_cfg("celeba_hq", args.datasets))
    train = split_of(celeba, "train")
    tune = train.sample(n=1000, random_state=SAMPLE_SEED["tune"]).iloc[: args.tune]
    fit = train.drop(tune.index).sample(n=args.fit, random_state=7)
    predictor = Predictor.load(args.bundle)
    names = predictor.attributes
    spy = Spy(predictor)
    rng = np.random.default_rng(0)
    out = {"fit_x": [], "fit_y": [], "changes": [], "tune_x": [], "tune_y": [], "tune_bundle": [],
           **{f"{p}_x": [] for p in PERTURB}, **{f"{p}_bundle": [] for p in PERTURB}}  # fmt: skip
    for i, (path, labels) in enumerate(zip(fit["path"], fit[names].to_numpy(), strict=True)):
        arr = np.asarray(Image.open(path).convert("RGB"))
        got = top(predictor, spy, arr)
        if got is None:
            continue
        region, feature, _ = got
        out["fit_x"].append(feature)
        out["fit_y"].append(labels)
        for _ in range(2):
            view = exposure_view(arr, rng)[1]
            out["changes"].append(predictor.anet_features(view, [region], kind="region")[0] - feature)
        if i % 500 == 0:
            print(f"fit {i}/{len(fit)}", flush=True)
    for i, (path, labels) in enumerate(zip(tune["path"], tune[names].to_numpy(), strict=True)):
        img = Image.open(path).convert("RGB")
        got = top(predictor, spy, np.asarray(img))
        views = [top(predictor, spy, perturbed(img, p)) for p in PERTURB]
        if got is None or any(v is None for v in views):  # kept only when every view has a face
            continue
        out["tune_x"].append(got[1])
        out["tune_y"].append(labels)
        out["tune_bundle"].append(got[2])
        for p, v in zip(PERTURB, views, strict=True):
            out[f"{p}_x"].append(v[1])
            out[f"{p}_bundle"].append(v[2])
        if i % 200 == 0:
            print(f"tune {i}/{len(tune)}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(args.out / "features.npz", names=np.array(names), **{k: np.array(v) for k, v in out.items()})


def fit_heads(x: np.ndarray, y: np.ndarray, changes: np.ndarray, lam: float, c: float = 0.1, scores_only: bool = False):
    """Per-attribute logistic regressions on standardised features whose L2 penalty is
    w' (I + lam K) w, K the covariance of the standardised feature changes: fitted as a plain L2
    fit on x L^-T (L L' = I + lam K), the weights mapped back. Returns a function x -> (N, A) bools."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(0), x.std(0) + 1e-6
    cz = changes / scale
    lower = np.linalg.cholesky(np.eye(x.shape[1]) + lam * (cz.T @ cz) / len(cz))
    back = np.linalg.inv(lower).T  # x' = z @ back, w = back @ w'
    z = ((x - mean) / scale) @ back
    w, b = np.zeros((x.shape[1], y.shape[1])), np.zeros(y.shape[1])
    for a in range(y.shape[1]):
        if y[:, a].all() or not y[:, a].any():  # one class in the fit files: that decision always
            b[a] = 1.0 if y[:, a].all() else -1.0
            continue
        m = LogisticRegression(C=c, max_iter=2000).fit(z, y[:, a])
        w[:, a], b[a] = back @ m.coef_[0], m.intercept_[0]
    if scores_only:
        return lambda q: ((q - mean) / scale) @ w + b
    return lambda q, t=0.0: ((q - mean) / scale) @ w + b > t


def tuned_thresholds(x: np.ndarray, y: np.ndarray, changes: np.ndarray, lam: float, folds: int = 5) -> np.ndarray:
    """Round 2: per attribute, the score threshold (A,) that maximises balanced accuracy on 5-fold
    out-of-fold scores of the fit files (fit_heads' scores: log-odds)."""
    scores = np.zeros(y.shape, np.float64)
    part = np.arange(len(x)) % folds
    for f in range(folds):
        held = part == f
        head = fit_heads(x[~held], y[~held], changes, lam, scores_only=True)
        scores[held] = head(x[held])
    out = np.zeros(y.shape[1])
    for a in range(y.shape[1]):
        pos, neg = y[:, a], ~y[:, a]
        if not (pos.any() and neg.any()):
            continue
        grid = np.quantile(scores[:, a], np.linspace(0.01, 0.99, 99))
        bal = [0.5 * ((scores[pos, a] > t).mean() + (scores[neg, a] <= t).mean()) for t in grid]
        out[a] = grid[int(np.argmax(bal))]
    return out


def balanced(decided: np.ndarray, y: np.ndarray) -> float:
    out = []
    for a in range(y.shape[1]):
        pos, neg = y[:, a], ~y[:, a]
        if pos.any() and neg.any():
            out.append(0.5 * (decided[pos, a].mean() + (~decided[neg, a]).mean()))
    return float(np.mean(out))


def evaluate(args) -> None:
    d = np.load(args.out / "features.npz")
    y_fit, y_tune = d["fit_y"] > 0, d["tune_y"] > 0
    rows = {}

    def score(label: str, original: np.ndarray, views: dict[str, np.ndarray]) -> None:
        flips = {p: float((views[p] != original).mean()) for p in PERTURB}
        rows[label] = {"accuracy": float((original == y_tune).mean()), "balanced": balanced(original, y_tune),
                       "flips": flips, "mean_flips": float(np.mean(list(flips.values())))}  # fmt: skip
        r = rows[label]
        print(f"{label:28s} acc {r['accuracy']:.4f}  balanced {r['balanced']:.4f}  flips "
              + " ".join(f"{p} {v:.4f}" for p, v in flips.items()) + f"  mean {r['mean_flips']:.4f}", flush=True)

    score("bundle's SVMs (in-sample)", d["tune_bundle"], {p: d[f"{p}_bundle"] for p in PERTURB})
    for lam in LAMBDAS:
        decide = fit_heads(d["fit_x"], y_fit, d["changes"], lam)
        t = tuned_thresholds(d["fit_x"], y_fit, d["changes"], lam) if args.round == 2 else 0.0
        score(f"refit, lambda {lam:g}" + (", tuned" if args.round == 2 else ""), decide(d["tune_x"], t),
              {p: decide(d[f"{p}_x"], t) for p in PERTURB})  # fmt: skip
    info = {"fit_files": int(len(y_fit)), "tune_files": int(len(y_tune)), "changes": int(len(d["changes"])),
            "rows": rows}  # fmt: skip
    (args.out / ("evaluate.json" if args.round == 1 else "evaluate-round2.json")).write_text(json.dumps(info, indent=1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", choices=("collect", "evaluate"))
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--fit", type=int, default=3000)
    ap.add_argument("--tune", type=int, default=1000, help="the first files of the tune sample (a smoke run: fewer)")
    ap.add_argument("--round", type=int, choices=(1, 2), default=1, help="evaluate: 2 tunes thresholds on the fit files")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    {"collect": collect, "evaluate": evaluate}[args.step](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
