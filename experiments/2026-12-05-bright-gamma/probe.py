"""A probe on tune parts (session 45): over-exposed UTKFace tune chips with no face, read again darkened by a gamma.

    PYTHONPATH=. python experiments/2026-12-05-bright-gamma/probe.py   # writes runs/gamma-diag.json (here: probe-tune.json)

300 chips of the age net's tune part (runs/split-parts/parts, as experiments/2026-12-05-split-parts)
made x2.5 and x3 brighter: of those the shipped Predictor leaves without a face, how many get one
when read darkened (v -> 255 (v/255)^g); and of the WIDER tune face-free crops over luma 200 (as
they are, and x2.5) with no false alarm, how many get one so.
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "experiments/2026-12-05-settled-box")
import settle  # noqa: E402

from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.data.preprocess import mean_luma  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

GAMMAS = (1.6, 2.2, 3.0)


def gamma(img: np.ndarray, g: float) -> np.ndarray:
    return (255.0 * (img / 255.0) ** g).round().astype(np.uint8)


def brighter(img: np.ndarray, gain: float) -> np.ndarray:
    return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def main() -> None:
    p = Predictor.load()
    chips, _ = settle.diagnose.capture.parts(Path("runs/split-parts/parts"), "tune")
    chips = chips.sample(n=300, random_state=0)
    imgs = [np.asarray(load_image(x)) for x in chips["path"]]
    out = {}
    for gain in (2.5, 3.0):
        seen = [brighter(im, gain) for im in imgs]
        base = [bool(p.predict(s)["faces"]) for s in seen]
        lost = [k for k, b in enumerate(base) if not b]
        row = {"found": float(np.mean(base)), "lost": len(lost)}
        for g in GAMMAS:
            row[f"lost found with gamma {g}"] = int(sum(bool(p.predict(gamma(seen[k], g))["faces"]) for k in lost))
        out[f"utk x{gain}"] = row
        print(gain, row, flush=True)
    bench, df, _ = settle.wider_part("tune")
    crops = bench.face_free_crops(df, Path("runs/retry-check/face-free-tune"))
    free = [np.asarray(load_image(x)) for x in crops]
    for gain in (1.0, 2.5):
        seen = [brighter(im, gain) for im in free]
        bright = [k for k, s in enumerate(seen) if mean_luma(s) > 200]
        base = [bool(p.predict(seen[k])["faces"]) for k in bright]
        clean = [k for k, b in zip(bright, base, strict=True) if not b]
        row = {"bright crops": len(bright), "with a false alarm": int(sum(base))}
        for g in GAMMAS:
            row[f"clean ones with a false alarm at gamma {g}"] = int(sum(bool(p.predict(gamma(seen[k], g))["faces"]) for k in clean))
        out[f"face_free x{gain}"] = row
        print(gain, row, flush=True)
    Path("runs/gamma-diag.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
