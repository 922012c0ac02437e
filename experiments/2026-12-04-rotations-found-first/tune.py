"""Rotations, found first (RULE.md), on tune parts: the shipped rule and the candidate on the same
turn readings. Each image is read at its 4 quarter turns by the Predictor's own detection
(rescue included) and each turn's mean P(upright) over its 3 strongest faces (what `rotations`
reads); an image is read upright when the rule picks turn 0.

    PYTHONPATH=. python experiments/2026-12-04-rotations-found-first/tune.py --n 200 \
        --out experiments/2026-12-04-rotations-found-first/tune.json
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments" / "2026-12-01-upright"))
from lists import unused_tune_images  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import Predictor, _Rescued  # noqa: E402
from lnet_anet.inference.upright import choose_turn  # noqa: E402


def found_first(chances: dict[int, float], found: dict[int, list]) -> int:
    """The candidate: among the turns with a face found at the threshold when there are any."""
    kept = {k: p for k, p in chances.items() if any(not isinstance(f, _Rescued) for f in found[k])}
    return choose_turn(kept or chances)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit-lists", type=Path, default=Path("runs/upright"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    sets = unused_tune_images(datasets_root(), args.fit_lists, args.n)
    predictor = Predictor.load()
    results = {"command": "python experiments/2026-12-04-rotations-found-first/tune.py " + " ".join(sys.argv[1:]),
               "machine": machine(), "sets": {}}  # fmt: skip
    for name, paths in sets.items():
        rows = {"shipped": [], "found first": []}
        differ = 0
        for path in paths:
            img = load_image(Path(path))
            turned = [np.ascontiguousarray(np.rot90(img, k)) for k in range(4)]
            found = dict(enumerate(predictor._detect(turned, None)))
            candidates = [{k: (turned[k], found[k]) for k in range(4)}]
            (chances,) = predictor._turn_chances(candidates)
            shipped, candidate = choose_turn(chances), found_first(chances, found)
            rows["shipped"].append(shipped == 0)
            rows["found first"].append(candidate == 0)
            differ += shipped != candidate
        results["sets"][name] = {"images": len(paths), "turn differs": differ,
                                 **{rule: round(float(np.mean(v)), 4) for rule, v in rows.items()}}  # fmt: skip
        print(name, results["sets"][name], flush=True)
    args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
