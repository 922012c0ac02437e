"""Do the answers hold still when the heads read the box head's box, settled by k corrections? (RULE.md)

    PYTHONPATH=. python experiments/2026-12-05-settled-box/settle.py stability --run PARTS --chips 300 --files 400 \
        --out experiments/2026-12-05-settled-box/stability-tune.json
    PYTHONPATH=. python experiments/2026-12-05-settled-box/settle.py wider --part tune \
        --out experiments/2026-12-05-settled-box/wider-tune.json
    PYTHONPATH=. python experiments/2026-12-05-settled-box/settle.py cost --out experiments/2026-12-05-settled-box/cost.json

PARTS: a folder whose .hydra/config.yaml defines UTKFace's tune part (run.sh makes it). Policies, all
through Predictor: "shipped" (the embedded bundle as it is) and "settle k" (k = 1, 2, 3; RULE.md)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from lnet_anet.data import datasets_root
from lnet_anet.data.from_config import build_index, split_of
from lnet_anet.inference.predictor import JUDGE_PAD, Predictor, _turn_back
from lnet_anet.lnet.localizer import box_iou

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STEPS = (1, 2, 3)
PERTURB = ("jpeg_q95", "shift_x_4px", "shift_y_4px", "scale_x0.9", "brightness_x0.6", "brightness_x1.5", "grayscale")


sys.path.insert(0, str(ROOT / "experiments" / "2026-12-05-stretched-heads"))
import diagnose  # noqa: E402  (top, perturbed_reads, capture, bench)

_module = diagnose._module


class Settled(Predictor):
    """The candidate: the box head's correction applied `settle` times, each on the feature of the
    last box's region; with `reread`, the heads read the final box's region. Each face record also
    gets "settle_boxes": the box after each correction (image pixels as displayed)."""

    settle = 1
    reread = True

    def _regions(self, faces: list, boxes: np.ndarray) -> list:
        return [(img, self.localizer.to_region(b), s, f) for (img, _, s, f), b in zip(faces, boxes, strict=True)]

    def _refine_boxes(self, faces, features, shown_in) -> None:
        limits = np.array([[img.shape[1], img.shape[0]] * 2 for img, *_ in faces], np.float64)
        boxes = np.stack([self.face_box(region, img.shape[:2]) for img, region, *_ in faces])
        history = []
        for step in range(self.settle):
            if step:  # the head reads the feature of the region of the box it gave last
                features = self._mean_features(self._regions(faces, boxes), JUDGE_PAD)
            boxes = np.clip(self._box_head.correct(boxes, features), 0, limits)
            history.append(boxes)
        if self.reread:
            self._analyse_all(self._regions(faces, boxes))  # overwrites the records' attributes and heads
        for k, ((_, _, _, face), (a, j, turn)) in enumerate(zip(faces, shown_in, strict=True)):
            shown = [_turn_back(h[k], turn, a.image.shape[:2]) for h in history]
            face["box"] = [round(float(v), 1) for v in shown[-1]]
            face["settle_boxes"] = [[round(float(v), 1) for v in b] for b in shown]
            a.faces_px[j] = shown[-1]


def policies():
    yield "shipped", Predictor.load()
    for k in STEPS:
        p = Settled.load()
        p.settle = k
        yield f"settle {k}", p


def stability(predictor: Predictor, chips, files) -> dict:
    names = predictor.attributes
    thresholds = np.asarray(predictor.bundle.svm.threshold)
    errors, rows = [], {p: {"d_age": [], "iou": [], "flips": []} for p in PERTURB}
    for _, variants, age, base, others in diagnose.perturbed_reads(predictor, chips, PERTURB):
        errors.append(base["age"]["mean"] - age)
        d0 = np.array([base["attributes"][n] for n in names]) >= thresholds
        for p, face in zip(PERTURB, others, strict=True):
            if face is None:
                continue
            sx, sy, tx, ty = variants[p][1]
            b0 = np.array(base["box"]) * [sx, sy, sx, sy] + [tx, ty, tx, ty]
            r = rows[p]
            r["d_age"].append(abs(face["age"]["mean"] - base["age"]["mean"]))
            r["iou"].append(float(box_iou(torch.tensor([b0]), torch.tensor([face["box"]], dtype=torch.float64))[0, 0]))
            r["flips"].append(float((d0 != (np.array([face["attributes"][n] for n in names]) >= thresholds)).mean()))
    result = {"chips": {"scored": len(chips), "with_face": len(errors), "mae": float(np.abs(errors).mean()),
                        "bias": float(np.mean(errors))}}  # fmt: skip
    result["stability"] = {p: {"faces": len(r["d_age"]), "median_abs_d_age": float(np.median(r["d_age"])),
                               "p95_abs_d_age": float(np.percentile(r["d_age"], 95)),
                               "median_box_iou": float(np.median(r["iou"])),
                               "decisions_flipped": float(np.mean(r["flips"]))} for p, r in rows.items()}  # fmt: skip
    correct = []
    for face, (_, row) in zip(diagnose.top(predictor, list(files["path"])), files.iterrows(), strict=True):
        if face is not None:
            decided = np.array([face["attributes"][n] for n in names]) >= thresholds
            correct.append(decided == row[names].to_numpy().astype(bool))
    result["attributes"] = {"files": len(files), "with_face": len(correct), "mean_accuracy": float(np.mean(correct))}
    return result


def run_stability(args, named_predictors=None) -> dict:
    """stability() of each (name, predictor) (default: this script's policies) on the tune data."""
    tune, _ = diagnose.capture.parts(args.run, "tune")
    chips = tune.sample(n=min(args.chips, len(tune)), random_state=0)
    celeba = build_index(diagnose.bench.data_cfg("celeba_hq", datasets_root()))
    files = split_of(celeba, "train").sample(n=args.files, random_state=0)
    out = {"part": "tune (UTKFace tune part; CelebA-HQ train files)", "policies": {}}
    for name, predictor in named_predictors or policies():
        t0 = time.perf_counter()
        out["policies"][name] = stability(predictor, chips, files) | {"seconds": round(time.perf_counter() - t0, 1)}
        print(name, json.dumps(out["policies"][name]), flush=True)
    return out


def wider_part(part: str, limit: int | None = None):
    """benchmarks/bench_detection.py (the module), and the WIDER photos of `part` as it reads
    them: (bench, table, truth)."""
    bench = _module(ROOT / "benchmarks" / "bench_detection.py")
    ns = argparse.Namespace(format="wider", wider=datasets_root() / "wider_face_train", labels=None, images=None,
                            part=part, fddb_folds=None, min_height=24.0, limit=limit, threads=2,
                            bundle=None, baseline=None, box_head=None, face_head=None)  # fmt: skip
    df = bench.benchmark_data(ns, ["lnet_anet"])["df"]
    return bench, df, bench.truth_from_table(df)


def run_wider(args) -> dict:
    bench, df, truth = wider_part(args.part, args.limit)
    predictor = Settled.load()
    predictor.settle, predictor.reread = max(STEPS), False  # the boxes of every k from one run
    loc = predictor.localizer  # opened up as bench_detection's "lnet_anet"
    loc.threshold, loc.min_relative_score, loc.max_faces, loc.max_peaks = -float("inf"), 0.0, 100, 200
    dets = {k: [] for k in STEPS}
    t0 = time.perf_counter()
    for i, path in enumerate(df["path"]):
        faces = predictor.analyse(path).record["faces"]
        scores = np.array([f["score"] for f in faces], np.float64)
        for k in STEPS:
            boxes = np.array([f["settle_boxes"][k - 1] for f in faces], np.float64).reshape(-1, 4)
            dets[k].append((boxes, scores))
        if i % 100 == 0:
            print(f"{i}/{len(df)} {time.perf_counter() - t0:.0f} s", flush=True)
    out = {"part": args.part, "n_images": len(df), "policies": {}}
    for k in STEPS:
        res = bench.evaluate_detections(dets[k], truth, iou=0.5, fppi=bench.FPPI, bands=bench.SIZE_BANDS)
        name = "shipped" if k == 1 else f"settle {k}"  # one correction is the shipped box ("settle 1" reports it too)
        out["policies"][name] = {"ap50": res["ap"], "recall_at_0.1_fppi": res["recall_at_0.1_fppi"],
                                 "recall_at_1_fppi": res["recall_at_1_fppi"]}  # fmt: skip
        print(name, out["policies"][name], flush=True)
    return out


def time_policies(named_predictors) -> dict:
    """The astronaut photo's median time of 20 `predict` calls under each (name, predictor)."""
    from skimage.data import astronaut

    img = astronaut()
    out = {"image": "skimage.data.astronaut (512x512)", "calls": 20, "policies": {}}
    for name, predictor in named_predictors:
        predictor.predict(img)
        times = []
        for _ in range(20):
            t = time.perf_counter()
            predictor.predict(img)
            times.append((time.perf_counter() - t) * 1000)
        out["policies"][name] = {"median_ms": statistics.median(times)}
        print(name, out["policies"][name], flush=True)
    return out


def run_cost(args) -> dict:
    return time_policies(policies())


def cli(doc: str, runners: dict, argv=None, more=None) -> int:
    """The command line of this script and of scripts built on it: `what` picks one of `runners`
    (name -> function of the parsed args, giving the record), written to --out with the command.
    more: a function adding arguments to the parser."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=tuple(runners))
    ap.add_argument("--run", type=Path, help="stability: folder with .hydra/config.yaml defining the tune part")
    ap.add_argument("--chips", type=int, default=300)
    ap.add_argument("--files", type=int, default=400)
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, required=True)
    if more is not None:
        more(ap)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    result = {"rule": "RULE.md", "command": " ".join(["python", *sys.argv])}
    result |= runners[args.what](args)
    args.out.write_text(json.dumps(result, indent=2))
    return 0


def main(argv=None) -> int:
    return cli(__doc__, {"stability": run_stability, "wider": run_wider, "cost": run_cost}, argv)


if __name__ == "__main__":
    sys.exit(main())
