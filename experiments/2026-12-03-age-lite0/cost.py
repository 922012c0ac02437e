"""Rule line 3: what a bundle's age net costs per photo, through `Predictor.predict`.

    PYTHONPATH=. python experiments/2026-12-03-age-lite0/cost.py --bundle shipped=A.lnetanet lite0=B.lnetanet \
        [--calls 20] [--options plain mirror box_jitter] [--out cost.json]

LABEL=BUNDLE[:BOX_HEAD:FACE_HEAD]: a bundle whose ANet is not the shipped one is passed with the box
head and face head fitted on it (an empty field keeps the shipped head).

scikit-image's astronaut resized to 300x300 (one face). The bundles take turns call by call in
one process (torch on 2 threads), so each sees the same machine load; the median per bundle and
the median of the per-call differences from the first bundle are printed as JSON.

--options (session 40): each bundle is also read with mirror views (Predictor.load(mirror=True),
`predict --mirror`) and / or box jitter (`--box-jitter`); the JSON then also has, per bundle, the
median per-call extra of each option over its plain reading ("median_extra_ms").
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import cv2
import torch
from skimage import data

from lnet_anet.inference.predictor import Predictor

OPTIONS = ("plain", "mirror", "box_jitter")


def load(spec: str, option: str = "plain") -> Predictor:
    bundle, *heads = spec.split(":")
    box_head, face_head = ([h or None for h in heads] + [None, None])[:2]
    predictor = Predictor.load(bundle, box_head=box_head, face_head=face_head,
                               mirror=True if option == "mirror" else None)  # fmt: skip
    predictor.box_jitter = option == "box_jitter"
    return predictor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", nargs="+", required=True, help="LABEL=FILE, the first is the reference")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--options", nargs="+", choices=OPTIONS, default=["plain"], help="readings of each bundle")
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    photo = cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA)
    options = ["plain", *(o for o in args.options if o != "plain")]
    predictors = {label if option == "plain" else f"{label} {option}": load(spec, option)
                  for label, spec in (b.split("=", 1) for b in args.bundle) for option in options}  # fmt: skip
    for p in predictors.values():  # warm-up: first calls build graphs and caches
        for _ in range(3):
            p.predict(photo)
    times = {label: [] for label in predictors}
    for _ in range(args.calls):
        for label, p in predictors.items():
            t0 = time.perf_counter()
            faces = p.predict(photo)
            times[label].append(1000 * (time.perf_counter() - t0))
            assert faces["faces"], f"{label}: no face on the astronaut"
    ref = next(iter(times))
    out = {"photo": "skimage astronaut 300x300", "calls": args.calls, "threads": args.threads,
           "median_ms": {k: round(statistics.median(v), 2) for k, v in times.items()},
           "median_diff_ms": {k: round(statistics.median(a - b for a, b in zip(v, times[ref], strict=True)), 2)
                              for k, v in times.items() if k != ref}}  # fmt: skip
    if len(options) > 1:
        out["median_extra_ms"] = {f"{label} {o}": round(statistics.median(
            a - b for a, b in zip(times[f"{label} {o}"], times[label], strict=True)), 2)
            for label in (b.split("=", 1)[0] for b in args.bundle) for o in options[1:]}  # fmt: skip
    print(json.dumps(out, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
