"""What the block-1 ANet changes in attractiveness (issue 15, shipping the block-1 ANet). Two parts:

1. --same: every SCUT-FBP5500 training image read end to end through `Predictor.predict` by
   two bundles; the share whose attractiveness (the bundle head's, no descriptor) is the same.
   The bundle head crops LNet's region, which ANet does not move, so the bundle head's 5-fold CV
   (its fold nets, experiments/2026-11-30-attractiveness-scut) carries over when the share is ~1.
2. --caches: the opt-in descriptor head's own part (dlib's map and descriptor joined to ANet's
   feature; fit_descriptor_head's recipe: 3 networks, seed 0) in 5-fold CV on fit_descriptor_head's
   cached inputs, one cache per ANet, the same folds (fold_of, seed 0). A diagnostic: the
   shipped figure mixes this part with the bundle head's fold nets (bench_attractiveness), which
   are not on this machine; the two ANets' descriptor parts are compared here on the same faces.

    python experiments/2026-12-03-anet-block1/attractiveness.py --same before=B0:BOX0:FACE0 block1=B1 \\
        --caches before=runs/ship/scut-map-before.npz block1=runs/anet-block1/scut-map.npz --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from lnet_anet.cli.fit_descriptor_head import DEFAULT_ROOTS, training_part  # noqa: E402
from lnet_anet.data.readers.age import fold_of  # noqa: E402
from lnet_anet.dldl.descriptor import DescriptorHead, joined_inputs, network_inputs  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def labelled(text: str) -> tuple[str, str]:
    label, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected LABEL=VALUE, got {text!r}")
    return label, value


def scores(y: np.ndarray, p: np.ndarray) -> dict:
    return {"pearson_r": round(float(np.corrcoef(y, p)[0, 1]), 4), "mae": round(float(np.abs(p - y).mean()), 4),
            "rmse": round(float(np.sqrt(((p - y) ** 2).mean())), 4), "faces": len(y)}  # fmt: skip


def same_attractiveness(bundles: list[tuple[str, str]], paths: list[str], truth: np.ndarray | None = None) -> dict:
    """Each bundle's top-face attractiveness per file; the share equal to the first bundle's, the
    mean change (added in session 36, crop-pad round 4) and, given the scores, each bundle's
    scores against them (in-sample for a head trained on these images)."""
    values = {}
    for label, spec in bundles:
        bundle, *heads = spec.split(":")
        kw = dict(zip(("box_head", "face_head"), heads, strict=False))  # the heads are optional
        predictor = Predictor.load(bundle, **kw)
        out = []
        for record in predictor.predict_many(paths, batch_size=8):
            faces = record["faces"]
            out.append(faces[0]["attractiveness"]["mean"] if faces else np.nan)
        values[label] = np.array(out, np.float64)
    first, *rest = values
    r = {"files": len(paths), "with_a_face": {k: float(np.mean(np.isfinite(v))) for k, v in values.items()}}
    if truth is not None:
        r["against the scores"] = {k: scores(truth[np.isfinite(v)], v[np.isfinite(v)]) for k, v in values.items()}
    for label in rest:
        both = np.isfinite(values[first]) & np.isfinite(values[label])
        diff = np.abs(values[first][both] - values[label][both])
        r[f"{label} vs {first}"] = {"same (|diff| < 1e-4)": round(float(np.mean(diff < 1e-4)), 4),
                                    "max |diff|": round(float(diff.max()), 4) if diff.size else None,
                                    "mean |diff|": round(float(diff.mean()), 5) if diff.size else None}  # fmt: skip
    return r


def descriptor_cv(cache: Path, index, folds: int = 5, seed: int = 0) -> dict:
    """5-fold CV of the descriptor head's own expectation on the cached faces (fit_descriptor_head's recipe)."""
    z = np.load(cache)
    found = dict(zip(z["names"].tolist(), zip(z["descriptors"], z["features"], strict=True), strict=True))
    names = [os.path.basename(p) for p in index["path"].astype(str)]  # folds over the whole list, as fit_descriptor_head
    fold = fold_of(names, folds, seed)
    rows = np.array([i for i, n in enumerate(names) if n in found])
    x = joined_inputs(network_inputs(np.stack([found[names[i]][0] for i in rows]), True),
                      np.stack([found[names[i]][1] for i in rows]))  # fmt: skip
    y = index["attractiveness"].to_numpy(np.float64)[rows]
    pred = np.full(len(rows), np.nan)
    for k in range(1, folds + 1):
        held = fold[rows] == k
        head = DescriptorHead.fit(x[~held], y[~held], target="attractiveness", members=3, reads_map=True, seed=seed)
        pred[held] = head.regress(x[held])
        print(f"{cache.name} fold {k}: {scores(y[held], pred[held])}", flush=True)
    return {"cache": str(cache), "no_face": len(names) - len(rows), **scores(y, pred)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--same", type=labelled, nargs="*", default=[], help="LABEL=BUNDLE[:BOX_HEAD:FACE_HEAD]")
    ap.add_argument("--caches", type=labelled, nargs="*", default=[], help="LABEL=fit_descriptor_head's --cache")
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOTS["attractiveness"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    index = training_part("attractiveness", args.root)
    results = {"command": " ".join(["python experiments/2026-12-03-anet-block1/attractiveness.py", *(argv or sys.argv[1:])])}
    if args.same:
        results["bundle head, end to end"] = same_attractiveness(args.same, index["path"].astype(str).tolist(),
                                                                        index["attractiveness"].to_numpy(np.float64))
        print(json.dumps(results["bundle head, end to end"]), flush=True)
    results["descriptor part, 5-fold CV (diagnostic)"] = {
        label: descriptor_cv(Path(cache), index) for label, cache in args.caches}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "attractiveness.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
