"""Nested boxes arbitrated by the face head, against the shipped merge (RULE.md)

    PYTHONPATH=. python experiments/2026-12-05-nested-faces/arbitrate.py stability --run PARTS --chips 300 --files 400 \
        --out experiments/2026-12-05-nested-faces/stability-tune.json
    PYTHONPATH=. python experiments/2026-12-05-nested-faces/arbitrate.py wider --part tune \
        --out experiments/2026-12-05-nested-faces/wider-tune.json
    PYTHONPATH=. python experiments/2026-12-05-nested-faces/arbitrate.py cost --out experiments/2026-12-05-nested-faces/cost.json

PARTS as experiments/2026-12-05-settled-box/settle.py (run.sh makes it). Policies, both through
Predictor on the same inputs: "shipped" (the embedded bundle), "arbitrate" (the same, with
Predictor.arbitrate_nested on: rule 1), "arbitrate large" (arbitrate_fill 0.4: rule 2) and "arbitrate whole"
(arbitrate_fill 0.8: rule 3), "arbitrate whole + picture" (rule 3 with Predictor.arbitrate_picture, the lone
part judged right after the merge: rule 4, PictureInMerge) and "arbitrate whole + picture (decided)" (the same
judged once the faces are decided, as the library does: rule 5).
wider --threshold shipped reads the photos at the bundle's own threshold (bench_detection's
"lnet_anet_shipped"; rule 4's line 5b) instead of the opened one."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "2026-12-05-settled-box"))
import settle  # noqa: E402
from settle import cli, time_policies  # noqa: E402

from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.lnet.multiscale import lone_part  # noqa: E402

ROOT = HERE.parents[1]


FILLS = {"shipped": None, "arbitrate": None, "arbitrate large": 0.4, "arbitrate whole": 0.8,
         "arbitrate whole + picture": 0.8, "arbitrate whole + picture (decided)": 0.8}  # RULE.md's rules 1-5
POLICIES = tuple(FILLS)
NAMES = POLICIES


class PictureInMerge(Predictor):
    """Rule 4's placement: a picture's lone part judged against the whole picture right after the
    scales are merged, before the check map, the face filter and the rescue decide the faces (on val
    its whole-picture regions then passed the check and the rescue on face-free crops; the library
    asks after them: rule 5). Rule 4's figures were made at db26ae8, whose merge also arbitrated in
    the rescue's reading; the library no longer does (rule 5), so this class re-creates rule 4 but
    for that."""

    def _read_scales(self, images, analyses, localizer=None, maps=None, checks=None):
        found = super()._read_scales(images, analyses, localizer, maps, checks)
        return [lone_part(faces, img.shape[:2], self._nested_arbiter(img)) for img, faces in zip(images, found, strict=True)]

    def _whole_picture(self, image, faces):
        return faces


def policies():
    for name in NAMES:
        predictor = (PictureInMerge if name == "arbitrate whole + picture" else Predictor).load()
        predictor.arbitrate_nested = name != "shipped"
        predictor.arbitrate_fill = FILLS[name]
        predictor.arbitrate_picture = "+ picture" in name
        yield name, predictor


def run_stability(args) -> dict:
    return settle.run_stability(args, policies())


def run_wider(args) -> dict:
    bench, df, truth = settle.wider_part(args.part, args.limit)
    out = {"part": args.part, "threshold": args.threshold, "n_images": len(df), "policies": {}}
    for name, predictor in policies():
        if args.threshold == "opened":  # as bench_detection's "lnet_anet"
            loc = predictor.localizer
            loc.threshold, loc.min_relative_score, loc.max_faces, loc.max_peaks = -float("inf"), 0.0, 100, 200
        dets, t0 = [], time.perf_counter()
        for path in df["path"]:
            faces = predictor.analyse(path).record["faces"]
            dets.append((np.array([f["box"] for f in faces], np.float64).reshape(-1, 4),
                         np.array([f["score"] for f in faces], np.float64)))  # fmt: skip
        res = bench.evaluate_detections(dets, truth, iou=0.5, fppi=bench.FPPI, bands=bench.SIZE_BANDS)
        out["policies"][name] = {"ap50": res["ap"], "recall_at_0.1_fppi": res["recall_at_0.1_fppi"],
                                 "recall_at_1_fppi": res["recall_at_1_fppi"], "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
        print(name, out["policies"][name], flush=True)
    return out


def run_cost(args) -> dict:
    return time_policies(policies())


def main(argv=None) -> int:
    def more(ap):
        ap.add_argument("--policies", default=",".join(POLICIES), help=f"comma-separated, of: {', '.join(POLICIES)}")
        ap.add_argument("--threshold", choices=("opened", "shipped"), default="opened", help="wider: the localizer's threshold")

    def chosen(run):  # the --policies named, then the runner
        def runner(args):
            global NAMES
            NAMES = tuple(args.policies.split(","))
            return run(args)

        return runner

    return cli(__doc__, {k: chosen(v) for k, v in (("stability", run_stability), ("wider", run_wider), ("cost", run_cost))},
               argv, more)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
