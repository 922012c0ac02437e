"""Tune diagnostic, third step: photos made very dark (x0.15) or over-exposed (x3), as issue 14
found them, read by the shipped bundle and again autocontrasted when no face is found; the gate
is the image's mean luma (dark below --dark, bright above --bright). Also the face-free crops
whose mean luma passes the gate (what the second reading can add there). Tune parts only.

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-02-photometric-fallback/exposure.py --n 300
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
from lnet_anet.data.readers.celeba import read_partition  # noqa: E402


def luma(img: np.ndarray) -> float:
    return float((img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--dark", type=float, default=50.0)
    ap.add_argument("--bright", type=float, default=200.0)
    args = ap.parse_args(argv[1:])
    data = dg.DATA
    p = dg.Predictor.load()
    chips = dg.tune_chips(args.n, seed=2)
    part = read_partition(data / "celeba_hq128" / "list_eval_partition.txt")
    rng = np.random.default_rng(2)
    celeb = [data / "celeba_hq128" / "img_celeba_hq" / n for n in rng.choice(sorted(part.index[part == "train"]), args.n, replace=False)]
    wider = json.loads(Path("runs/photometric-fallback/gate.json").read_text())
    free = [r["path"] for r in wider["face_free"]]
    out = {"gate": {"dark_below": args.dark, "bright_above": args.bright}}

    def gated(img):
        m = luma(img)
        return m < args.dark or m > args.bright

    for name, paths in {"utk_chips": chips, "celeba_hq_files": celeb}.items():
        images = [np.asarray(load_image(x)) for x in paths]
        for gain in (1.0, 0.15, 3.0):
            seen = [np.clip(im.astype(np.float32) * gain, 0, 255).astype(np.uint8) for im in images]
            found = [len(f) > 0 for f in p.locate_many(seen)]
            second = [k for k, f in enumerate(found) if not f and gated(seen[k])]
            again = [len(f) > 0 for f in p.locate_many([dg.autocontrast(seen[k]) for k in second])]
            out[f"{name} x{gain}"] = {"found": float(np.mean(found)), "read_again": len(second),
                                      "found_with_fallback": float((sum(found) + sum(again)) / len(found))}  # fmt: skip
            print(name, gain, out[f"{name} x{gain}"], flush=True)
    images = [np.asarray(load_image(x)) for x in free]
    found = [len(f) > 0 for f in p.locate_many(images)]
    second = [k for k, f in enumerate(found) if not f and gated(images[k])]
    again = [len(f) > 0 for f in p.locate_many([dg.autocontrast(images[k]) for k in second])]
    out["face_free"] = {"n": len(images), "fa_per_image": float(np.mean(found)), "read_again": len(second),
                        "fa_per_image_with_fallback": float((sum(found) + sum(again)) / len(found))}  # fmt: skip
    print(out["face_free"], flush=True)
    Path("experiments/2026-12-02-photometric-fallback/exposure.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
