"""The 107 UTKFace val chips that are byte copies of training chips, read end to end through
`Predictor.predict_many`, beside the val part without them (from bench_end_to_end's per-file
record, val/faces_embedded.jsonl.gz): MAE and bias on each, and on the two together (the val part
as it was before data.holdout.drop_copies).

    PYTHONPATH=. python experiments/2026-12-07-utkface-copies/copies.py
"""

import gzip
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

HERE = Path(__file__).resolve().parent


def age_of(path: str) -> int:
    return int(Path(path).name.split("_")[0])


def summary(pairs: list[tuple[float, int]]) -> dict:
    err = np.array([pred - true for pred, true in pairs])
    return {"n": len(err), "mae": round(float(np.abs(err).mean()), 4), "bias": round(float(err.mean()), 4)}


def main() -> int:
    root = datasets_root(HERE.parents[2].parent / "shared" / "datasets")
    cfg = data_cfg("utkface", root)
    cfg.holdout.drop_copies = False
    before = build_index(cfg)
    cfg.holdout.drop_copies = True
    after = build_index(cfg)
    copies = sorted(set(before.loc[before.split == "val", "path"]) - set(after.loc[after.split == "val", "path"]))
    predictor = Predictor.load()
    copy_pairs = [(max(r["faces"], key=lambda f: f["score"])["age"]["mean"], age_of(r["image"]))
                  for r in predictor.predict_many(copies) if r["faces"]]  # fmt: skip
    with gzip.open(HERE / "val" / "faces_embedded.jsonl.gz", "rt") as f:
        clean_pairs = [(line["face"]["age"]["mean"], age_of(line["path"])) for line in map(json.loads, f)
                       if line["set"] == "utkface" and line["face"] and line["face"]["age"]]  # fmt: skip
    out = {"command": "python experiments/2026-12-07-utkface-copies/copies.py", "machine": machine(),
           "model": predictor.model_identity, "copies_in_val_before": len(copies),
           "clean_val": summary(clean_pairs), "copies": summary(copy_pairs),
           "val_before (clean + copies)": summary(clean_pairs + copy_pairs)}  # fmt: skip
    (HERE / "copies.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
