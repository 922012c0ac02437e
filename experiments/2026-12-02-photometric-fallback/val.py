"""Val, scored once after the choice on tune parts (diagnose.py, gate.py, exposure.py): the shipped
bundle before and with `retry_exposure`, end to end through `Predictor.predict` on image files:
UTKFace val chips and CelebA-HQ val files as shipped, made dark (x0.15) and over-exposed (x3)
and saved as JPEG files (quality 95, under --work). Faces found, age MAE (chips) and attribute
accuracy at the bundle's decisions (files), per bundle and exposure.

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-02-photometric-fallback/val.py \
        --bundle before=lnet_anet/assets/default.lnetanet --bundle retry=runs/photometric-fallback/retry.lnetanet --n 400
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, "benchmarks")
argv, sys.argv = sys.argv, sys.argv[:1]
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.metrics.attributes import attribute_metrics  # noqa: E402

GAINS = (1.0, 0.15, 3.0)


def files_at(paths: list[str], gain: float, work: Path) -> list[str]:
    if gain == 1.0:
        return [str(p) for p in paths]
    out = []
    for p in paths:
        target = work / f"x{gain}" / (Path(p).stem + ".jpg")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            img = np.asarray(load_image(p)).astype(np.float32) * gain
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(target, quality=95)
        out.append(str(target))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", action="append", required=True, help="LABEL=FILE")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--work", type=Path, default=Path("runs/photometric-fallback/val-files"))
    ap.add_argument("--out", type=Path, default=Path("experiments/2026-12-02-photometric-fallback/val.json"))
    args = ap.parse_args(argv[1:])
    data = Path("../shared/datasets")
    celeba = build_index(data_cfg("celeba_hq", data))
    files = split_of(celeba, "val").sample(n=args.n, random_state=5)
    names = list(celeba.attrs["attributes"])
    chips = split_of(build_index(data_cfg("utkface", data)), "val").sample(n=args.n, random_state=5)
    out = {"n": args.n, "gains": GAINS, "bundles": dict(b.split("=", 1) for b in args.bundle)}
    for label, path in out["bundles"].items():
        p = Predictor.load(path)
        res = {}
        for gain in GAINS:
            recs = list(p.predict_many(files_at(list(chips["path"]), gain, args.work / "utk")))
            ages = np.array([r["faces"][0]["age"]["mean"] if r["faces"] else np.nan for r in recs])
            hit = ~np.isnan(ages)
            res[f"utk x{gain}"] = {"found": float(hit.mean()), "age_mae": float(np.abs(ages[hit] - chips["age"].to_numpy()[hit]).mean()),
                                   "stretched": sum(r.get("exposure") == "stretched" for r in recs)}  # fmt: skip
            recs = list(p.predict_many(files_at(list(files["path"]), gain, args.work / "celeba")))
            hit = np.array([bool(r["faces"]) for r in recs])
            decided = np.array([[n in r["faces"][0]["present"] for n in names] for r, h in zip(recs, hit, strict=True) if h])
            m = attribute_metrics(decided.astype(float), files[names].to_numpy()[hit], names)
            res[f"celeba x{gain}"] = {"found": float(hit.mean()), "mean_accuracy": m["mean_accuracy"],
                                      "mean_balanced_accuracy": m["mean_balanced_accuracy"],
                                      "stretched": sum(r.get("exposure") == "stretched" for r in recs)}  # fmt: skip
            print(label, gain, res[f"utk x{gain}"], res[f"celeba x{gain}"], flush=True)
        out[label] = res
    args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
