"""The exposure retry's choice of reading, before or after the check (RULE.md): both policies in one run.

    PYTHONPATH=. python experiments/2026-12-05-retry-check/retry.py --part tune --run runs/retry-check/parts \
        --out experiments/2026-12-05-retry-check/tune.json

Policies, both through `Predictor` on arrays decoded from the files (gains applied in memory):
"shipped" compares the stretched reading with the first on their best faces before the check map
drops any; "candidate" (the library's `Predictor._better_reading`) on the faces that pass it. An image
whose mean luma lies inside the retry's levels is never read again, so it is read once and its record
counts for both. --run: a folder whose .hydra/config.yaml defines UTKFace's tune part (run.sh makes it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "2026-12-05-settled-box"))
import settle  # noqa: E402  (cli, wider_part, diagnose: capture and bench_end_to_end)

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.data.preprocess import mean_luma  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

ROOT = HERE.parents[1]
GAINS = {"utkface": (1.0, 0.15, 0.3, 2.5, 3.0), "celeba_hq": (0.15, 3.0), "face_free": (1.0, 0.3, 2.5),
         "wider": (1.0, 0.3, 2.5)}  # fmt: skip


class Shipped(Predictor):
    """The retry's choice as shipped: the best faces' scores before the check."""

    def _better_reading(self, faces, image, before, before_image, checks) -> bool:
        return bool(faces) and (not before or faces[0][1] > before[0][1])


def gained(img: np.ndarray, gain: float) -> np.ndarray:
    return img if gain == 1 else np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def read_both(predictors: dict, images, gain: float):
    """Per image: {policy: record} (one shared record where the retry cannot fire) and whether it could."""
    levels = next(iter(predictors.values()))._lnet.retry_exposure
    for img in images:
        seen = gained(img, gain)
        level = mean_luma(seen)
        gated = levels is not None and not (levels[0] <= level <= levels[1])
        if gated:
            yield {name: p.predict(seen) for name, p in predictors.items()}, True
        else:
            record = next(iter(predictors.values())).predict(seen)
            yield dict.fromkeys(predictors, record), False


def tally(per_image: list[tuple[dict, bool]], score) -> dict:
    """Each policy's score(records) and how many images could retry / differ between the policies."""
    names = list(per_image[0][0]) if per_image else []
    out = {"images": len(per_image), "could_retry": sum(g for _, g in per_image),
           "records_differ": sum(1 for recs, _ in per_image if len({_key(r) for r in recs.values()}) > 1)}
    for name in names:
        out[name] = score([recs[name] for recs, _ in per_image])
    return out


def _key(record: dict) -> str:
    return repr([(f["box"], f.get("score")) for f in record["faces"]])


def run(args, predictors: dict | None = None, gains: dict | None = None) -> dict:
    """Every set's figures under each policy (default: shipped and candidate) at each gain (default: GAINS)."""
    predictors = predictors or {"shipped": Shipped.load(), "candidate": Predictor.load()}
    gains = gains or GAINS
    out = {"part": args.part, "policies": list(predictors), "gains": gains, "sets": {}}
    t0 = time.perf_counter()
    if args.part == "val":  # UTKFace's 20% hold-out, as bench_end_to_end reads it (not the run folder's eval split)
        chips_part = split_of(build_index(settle.diagnose.bench.data_cfg("utkface", datasets_root())), "val")
    else:
        chips_part, _ = settle.diagnose.capture.parts(args.run, "tune")
    chips = chips_part.sample(n=min(args.chips, len(chips_part)), random_state=0)
    images = [np.asarray(load_image(p)) for p in chips["path"]]
    ages = chips["age"].to_numpy(np.float64)

    def age_score(records):
        found = [k for k, r in enumerate(records) if r["faces"]]
        errs = [abs(records[k]["faces"][0]["age"]["mean"] - ages[k]) for k in found]
        return {"with_face": len(found) / len(records), "age_mae": float(np.mean(errs)) if errs else None}

    for gain in gains["utkface"]:
        out["sets"][f"utkface x{gain:g}"] = tally(list(read_both(predictors, images, gain)), age_score)
        print(f"utkface x{gain:g}", out["sets"][f"utkface x{gain:g}"], f"{time.perf_counter() - t0:.0f} s", flush=True)

    celeba = build_index(settle.diagnose.bench.data_cfg("celeba_hq", datasets_root()))
    files = split_of(celeba, "train" if args.part == "tune" else "val").sample(n=args.files, random_state=0)
    any_one = next(iter(predictors.values()))
    names = any_one.attributes
    thresholds = np.asarray(any_one.bundle.svm.threshold)
    truth = files[names].to_numpy().astype(bool)
    images = [np.asarray(load_image(p)) for p in files["path"]]

    def attribute_score(records):
        found = [k for k, r in enumerate(records) if r["faces"]]
        correct = [(np.array([records[k]["faces"][0]["attributes"][n] for n in names]) >= thresholds) == truth[k]
                   for k in found]  # fmt: skip
        return {"with_face": len(found) / len(records), "attribute_accuracy": float(np.mean(correct)) if correct else None}

    for gain in gains["celeba_hq"]:
        out["sets"][f"celeba_hq x{gain:g}"] = tally(list(read_both(predictors, images, gain)), attribute_score)
        print(f"celeba_hq x{gain:g}", out["sets"][f"celeba_hq x{gain:g}"], f"{time.perf_counter() - t0:.0f} s", flush=True)

    bench, df, truth_boxes = settle.wider_part(args.part, args.limit)
    crops = bench.face_free_crops(df, ROOT / "runs" / "retry-check" / f"face-free-{args.part}")
    images = [np.asarray(load_image(p)) for p in crops]

    def false_alarms(records):
        return {"false_alarms_per_crop": float(np.mean([len(r["faces"]) for r in records]))}

    for gain in gains["face_free"]:
        out["sets"][f"face_free x{gain:g}"] = tally(list(read_both(predictors, images, gain)), false_alarms)
        print(f"face_free x{gain:g}", out["sets"][f"face_free x{gain:g}"], f"{time.perf_counter() - t0:.0f} s", flush=True)

    def detection(records):
        dets = [(np.array([f["box"] for f in r["faces"]], np.float64).reshape(-1, 4),
                 np.array([f["score"] for f in r["faces"]], np.float64)) for r in records]  # fmt: skip
        res = bench.evaluate_detections(dets, truth_boxes, iou=0.5, fppi=bench.FPPI, bands=bench.SIZE_BANDS)
        return {"ap50": res["ap"], "recall_at_0.1_fppi": res["recall_at_0.1_fppi"]}

    photos = [np.asarray(load_image(p)) for p in df["path"]]  # as displayed: EXIF orientation applied
    for gain in gains["wider"]:
        out["sets"][f"wider x{gain:g}"] = tally(list(read_both(predictors, photos, gain)), detection)
        print(f"wider x{gain:g}", out["sets"][f"wider x{gain:g}"], f"{time.perf_counter() - t0:.0f} s", flush=True)
    out["seconds"] = round(time.perf_counter() - t0)
    return out


def main(argv=None) -> int:
    return settle.cli(__doc__, {"run": run}, ["run", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
