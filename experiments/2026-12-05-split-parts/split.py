"""Two overlapping faces that fill the picture judged as one (RULE.md): shipped and candidate in one run.

    PYTHONPATH=. python experiments/2026-12-05-split-parts/split.py stability --run runs/split-parts/parts \
        --chips 300 --files 400 --out experiments/2026-12-05-split-parts/stability-tune.json
    PYTHONPATH=. python experiments/2026-12-05-split-parts/split.py sets --run runs/split-parts/parts --part tune \
        --out experiments/2026-12-05-split-parts/sets-tune.json
    PYTHONPATH=. python experiments/2026-12-05-split-parts/split.py nested --run runs/split-parts/parts --part tune \
        --out experiments/2026-12-05-split-parts/nested-tune.json   # rule 2 (RULE.md)

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

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
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


NESTED_INSIDE = 0.4  # rule 2: a further face this much inside the first face's region is a part of it


def nested_further(faces: list, image_hw: tuple[int, int]) -> list:
    """Rule 2: the faces, less the further ones whose region lies NESTED_INSIDE within the first's
    (intersection over the further region's area) when the first's shorter side is at least FILL
    of the picture's. The first face is never changed."""
    if len(faces) < 2:
        return faces
    first = np.asarray(faces[0][0], np.float64)
    if min(first[2] - first[0], first[3] - first[1]) < FILL * min(image_hw):
        return faces
    kept = faces[:1]
    for region, score in faces[1:]:
        r = np.asarray(region, np.float64)
        inter = (max(0.0, min(first[2], r[2]) - max(first[0], r[0])) *
                 max(0.0, min(first[3], r[3]) - max(first[1], r[1])))  # fmt: skip
        if inter < NESTED_INSIDE * max((r[2] - r[0]) * (r[3] - r[1]), 1e-12):
            kept.append((region, score))
    return kept


class NestedFurther(Predictor):
    """Rule 2's candidate: nested_further once the faces are decided, then rule 5's step."""

    def _whole_picture(self, image, faces):
        return super()._whole_picture(image, nested_further(faces, image.shape[:2]))


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


def run_sets(args, named=None) -> dict:
    """The sets' figures of two (name, predictor) policies (default: shipped and split parts), the
    second read only where the first's record has two faces or more."""
    (first, shipped), (second, candidate) = named or list(policies())
    names = (first, second)
    out = {"part": args.part, "sets": {}}
    t0 = time.perf_counter()
    if args.part == "val":  # UTKFace's 20% hold-out, as bench_end_to_end reads it (not the run folder's eval split)
        chips = split_of(build_index(settle.diagnose.bench.data_cfg("utkface", datasets_root())), "val")
    else:
        chips, _ = settle.diagnose.capture.parts(args.run, "tune")
    ages = chips["age"].to_numpy(np.float64)
    pairs = list(both(shipped, candidate, list(chips["path"]), lambda p, x: p.predict(str(x))))
    differ = [k for k, (s, c) in enumerate(pairs) if s is not c and _key(s) != _key(c)]
    utk = {"chips": len(pairs), "chips_that_differ": len(differ),
           "faces": {name: sum(len(pair[i]["faces"]) for pair in pairs) for i, name in enumerate(names)}}
    for i, name in enumerate(names):
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
    for i, name in enumerate(names):
        dets = [(np.array([f["box"] for f in pair[i]["faces"]], np.float64).reshape(-1, 4),
                 np.array([f["score"] for f in pair[i]["faces"]], np.float64)) for pair in pairs]  # fmt: skip
        res = bench.evaluate_detections(dets, truth, iou=0.5, fppi=bench.FPPI, bands=bench.SIZE_BANDS)
        wider[name] = {"ap50": res["ap"], "recall_at_0.1_fppi": res["recall_at_0.1_fppi"]}
    out["sets"]["wider"] = wider
    print("wider", wider, f"{time.perf_counter() - t0:.0f} s", flush=True)

    crops = bench.face_free_crops(df, ROOT / "runs" / "split-parts" / f"face-free-{args.part}")
    pairs = list(both(shipped, candidate, crops, lambda p, x: p.predict(str(x))))
    free = {"crops": len(pairs)}
    for i, name in enumerate(names):
        free[name] = {"false_alarms_per_crop": float(np.mean([len(pair[i]["faces"]) for pair in pairs]))}
    out["sets"]["face_free"] = free
    print("face_free", free, f"{time.perf_counter() - t0:.0f} s", flush=True)
    out["seconds"] = round(time.perf_counter() - t0)
    return out


def _key(record: dict) -> str:
    return repr([(f["box"], f.get("score")) for f in record["faces"]])


def main(argv=None) -> int:
    def nested(args):  # rule 2 against the library as it is (after the merge fix)
        return run_sets(args, [("shipped", Predictor.load()), ("nested further", NestedFurther.load())])

    return settle.cli(__doc__, {"stability": run_stability, "sets": run_sets, "nested": nested}, argv)


if __name__ == "__main__":
    sys.exit(main())
