"""Two overlapping faces that fill the picture judged as one (RULE.md): shipped and candidate in one run.

    PYTHONPATH=. python experiments/2026-12-05-split-parts/split.py stability --run runs/split-parts/parts \
        --chips 300 --files 400 --out experiments/2026-12-05-split-parts/stability-tune.json
    PYTHONPATH=. python experiments/2026-12-05-split-parts/split.py sets --run runs/split-parts/parts --part tune \
        --out experiments/2026-12-05-split-parts/sets-tune.json

"stability": experiments/2026-12-05-settled-box's stability() of each policy (300 tune chips x 7
perturbations, age MAE on them, CelebA-HQ train files' attributes). "sets": the whole UTKFace tune
part (files as shipped), the WIDER tune photos at the bundle's threshold and their face-free crops;
each image is read by the shipped policy, and again by the candidate only where the shipped record
has two faces or more (the candidate changes nothing else). --run: a folder whose
.hydra/config.yaml defines UTKFace's tune part (as experiments/2026-12-04-age-gpu's run.sh makes it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "2026-12-05-settled-box"))
import settle  # noqa: E402  (cli, stability, wider_part, diagnose.capture)

from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.lnet.multiscale import FILL  # noqa: E402

ROOT = HERE.parents[1]
MIN_IOS = 0.5  # the two regions overlap by at least this share of the smaller one's area


def split_pair(faces: list, image_hw: tuple[int, int], arbiter) -> list:
    """A picture's faces, its two faces made one (the whole picture as its region, the higher
    score) when they overlap by MIN_IOS of the smaller, their union's shorter side is at least FILL
    of the picture's, and arbiter(region, whole) holds for each of them (RULE.md)."""
    if len(faces) != 2:
        return faces
    (a, sa), (b, sb) = ((np.asarray(r, np.float64), s) for r, s in faces)
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    h, w = image_hw
    union_side = min(max(a[2], b[2]) - min(a[0], b[0]), max(a[3], b[3]) - min(a[1], b[1]))
    if smaller <= 0 or inter < MIN_IOS * smaller or union_side < FILL * min(h, w):
        return faces
    whole = np.array([0.0, 0.0, w, h], np.float64)
    if arbiter(a, whole) and arbiter(b, whole):
        return [(whole, max(sa, sb))]
    return faces


class SplitParts(Predictor):
    """The candidate: split_pair before rule 5's lone-part step, the same face head as arbiter."""

    def _whole_picture(self, image, faces):
        return super()._whole_picture(image, split_pair(faces, image.shape[:2], self._nested_arbiter(image)))


def policies():
    yield "shipped", Predictor.load()
    yield "split parts", SplitParts.load()


def run_stability(args) -> dict:
    return settle.run_stability(args, policies())


def both(shipped: Predictor, candidate: Predictor, items, read=lambda p, x: p.predict(x)):
    """(shipped record, candidate record) per item; the candidate reads only where shipped has >= 2 faces."""
    for item in items:
        record = read(shipped, item)
        yield record, (read(candidate, item) if len(record["faces"]) >= 2 else record)


def run_sets(args) -> dict:
    shipped, candidate = (p for _, p in policies())
    out = {"part": args.part, "sets": {}}
    t0 = time.perf_counter()
    chips, _ = settle.diagnose.capture.parts(args.run, args.part)
    ages = chips["age"].to_numpy(np.float64)
    pairs = list(both(shipped, candidate, list(chips["path"]), lambda p, x: p.predict(str(x))))
    differ = [k for k, (s, c) in enumerate(pairs) if s is not c and _key(s) != _key(c)]
    utk = {"chips": len(pairs), "chips_that_differ": len(differ)}
    for i, name in enumerate(("shipped", "split parts")):
        recs = [pair[i] for pair in pairs]
        found = [k for k, r in enumerate(recs) if r["faces"]]
        err = {k: abs(recs[k]["faces"][0]["age"]["mean"] - ages[k]) for k in found}
        utk[name] = {"with_a_face": len(found) / len(recs), "more_than_one_face": sum(len(r["faces"]) > 1 for r in recs),
                     "mae": float(np.mean(list(err.values()))),
                     "mae_on_chips_that_differ": float(np.mean([err[k] for k in differ if k in err])) if differ else None}  # fmt: skip
    out["sets"]["utkface"] = utk
    print("utkface", utk, f"{time.perf_counter() - t0:.0f} s", flush=True)

    bench, df, truth = settle.wider_part(args.part, args.limit)
    pairs = list(both(shipped, candidate, list(df["path"]), lambda p, x: p.analyse(x).record))
    wider = {"photos": len(pairs), "photos_that_differ": sum(_key(s) != _key(c) for s, c in pairs)}
    for i, name in enumerate(("shipped", "split parts")):
        dets = [(np.array([f["box"] for f in pair[i]["faces"]], np.float64).reshape(-1, 4),
                 np.array([f["score"] for f in pair[i]["faces"]], np.float64)) for pair in pairs]  # fmt: skip
        res = bench.evaluate_detections(dets, truth, iou=0.5, fppi=bench.FPPI, bands=bench.SIZE_BANDS)
        wider[name] = {"ap50": res["ap"], "recall_at_0.1_fppi": res["recall_at_0.1_fppi"]}
    out["sets"]["wider"] = wider
    print("wider", wider, f"{time.perf_counter() - t0:.0f} s", flush=True)

    crops = bench.face_free_crops(df, ROOT / "runs" / "split-parts" / f"face-free-{args.part}")
    pairs = list(both(shipped, candidate, crops, lambda p, x: p.predict(str(x))))
    free = {"crops": len(pairs)}
    for i, name in enumerate(("shipped", "split parts")):
        free[name] = {"false_alarms_per_crop": float(np.mean([len(pair[i]["faces"]) for pair in pairs]))}
    out["sets"]["face_free"] = free
    print("face_free", free, f"{time.perf_counter() - t0:.0f} s", flush=True)
    out["seconds"] = round(time.perf_counter() - t0)
    return out


def _key(record: dict) -> str:
    return repr([(f["box"], f.get("score")) for f in record["faces"]])


def main(argv=None) -> int:
    return settle.cli(__doc__, {"stability": run_stability, "sets": run_sets}, argv)


if __name__ == "__main__":
    sys.exit(main())
