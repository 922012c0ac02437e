"""Tune diagnostic, second step: per image that the shipped bundle finds no face in (diagnose.py's
sets), its exposure statistics (luma: 1st and 99th percentiles, mean) and whether autocontrast
finds a face in it, to choose when the second reading should run. Writes gate.json.

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-02-photometric-fallback/gate.py --chips 3000
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "experiments/2026-12-02-photometric-fallback")
argv, sys.argv = sys.argv, sys.argv[:1]
import diagnose as dg  # noqa: E402

from lnet_anet.data.images import load_image  # noqa: E402


def luma_stats(img: np.ndarray) -> dict:
    y = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lo, hi = np.percentile(y, [1, 99])
    return {"p1": float(lo), "p99": float(hi), "mean": float(y.mean()),
            "gray": bool(np.abs(img.astype(int) - img.mean(2, keepdims=True)).max() <= 2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chips", type=int, default=3000)
    args = ap.parse_args(argv[1:])
    p = dg.Predictor.load()
    out = {}
    for name, paths in {"utk_chips": dg.tune_chips(args.chips, seed=1), "face_free": dg.tune_face_free()}.items():
        rows = []
        for path, faces in zip(paths, p.locate_many(paths), strict=True):
            img = np.asarray(load_image(path))
            row = {"path": str(path), "found": len(faces) > 0, **luma_stats(img)}
            if not faces:
                row["autocontrast_found"] = len(next(iter(p.locate_many([dg.autocontrast(img)])))) > 0
            rows.append(row)
        out[name] = rows
    Path("runs/photometric-fallback/gate.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main()
