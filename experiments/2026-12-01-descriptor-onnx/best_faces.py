"""The diagnostics' shared pass: each image through the Predictor, and for its best face ANet's
feature, the int8 descriptor of its box and what `extra` takes from the record (cached as npz)."""

import sys
from pathlib import Path

import numpy as np

from lnet_anet.data.images import load_image


def best_face_rows(predictor, describe, df, out: Path, extra) -> dict[str, np.ndarray]:
    """{"F": ANet features, "D": descriptors, plus extra(face record, row index) -> {key: value}}
    for the rows of `df` (a "path" column) with a face; read from `out` when it exists."""
    if out.exists():
        return dict(np.load(out))
    rows: dict[str, list] = {"F": [], "D": []}
    for i, path in enumerate(df["path"]):
        img = load_image(path)
        faces = predictor.analyse(img).record["faces"]
        if faces:
            face = max(faces, key=lambda f: f["score"])
            box = np.array(face["box"])
            rows["F"].append(predictor.anet_features(img, [box])[0])
            rows["D"].append(describe(img, [box])[0])
            for key, value in extra(face, i).items():
                rows.setdefault(key, []).append(value)
        if i % 500 == 0:
            print(out.stem, i, file=sys.stderr, flush=True)
    result = {k: np.array(v) for k, v in rows.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **result)
    return result
