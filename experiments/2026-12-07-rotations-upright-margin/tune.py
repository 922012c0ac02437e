"""`--rotations`: the rules of RULE.md on tune parts. Each image is read at its 4 quarter turns
once by the Predictor's own detection (today's shipped bundle), recording each turn's mean
P(upright) over its 3 strongest faces (what `rotations` reads) and its faces' LNet scores; then
each rule of the family is applied to the file as it would be stored at each turn j (the stored
file's own reading is turn 0 to the rule). A file is read upright when the rule's turn undoes j.

    PYTHONPATH=. python experiments/2026-12-07-rotations-upright-margin/tune.py --family margin --n 200 \
        --out experiments/2026-12-07-rotations-upright-margin/tune.json     # round 1
    PYTHONPATH=. python experiments/2026-12-07-rotations-upright-margin/tune.py --family strong --n 200 \
        --out experiments/2026-12-07-rotations-upright-margin/tune2.json    # round 2

(tune.json was written by this script's first version, 5db7f59, which recorded the chances only.)
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
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.inference.upright import choose_turn  # noqa: E402

# each family's candidates (None: the shipped rule), named as the tables name them
FAMILIES = {"margin": (None, 0.02, 0.05, 0.1, 0.2), "strong": (None, 3.0, 5.0, 7.0)}
NAMES = {"margin": "margin", "strong": "strong over"}


def choose(family: str, value, chances: dict[int, float], scores: dict[int, list[float]]) -> int:
    """The turn the rule picks. margin: upright.choose_turn's margin. strong: a turn k != 0 is out
    when the stored reading found more faces with LNet score over `value` than it did."""
    if family == "margin":
        return choose_turn(chances, margin=value)
    if value is not None and 0 in scores:
        stored = sum(s > value for s in scores[0])
        chances = {k: p for k, p in chances.items() if k == 0 or sum(s > value for s in scores.get(k, [])) >= stored}
    return choose_turn(chances)


def read_upright(family: str, value, chances: dict[int, float], scores: dict[int, list[float]]) -> list[bool]:
    out = []
    for j in range(4):  # the file stored at turn j: its turn k reads the upright image's turn (j + k) % 4
        stored_chances = {(t - j) % 4: p for t, p in chances.items()}
        stored_scores = {(t - j) % 4: v for t, v in scores.items()}
        out.append((j + choose(family, value, stored_chances, stored_scores)) % 4 == 0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=sorted(FAMILIES), required=True)
    ap.add_argument("--fit-lists", type=Path, default=Path("runs/upright"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    sets = unused_tune_images(datasets_root(), args.fit_lists, args.n)
    predictor = Predictor.load()
    results = {"command": "python experiments/2026-12-07-rotations-upright-margin/tune.py " + " ".join(sys.argv[1:]),
               "machine": machine(), "sets": {}, "readings": {}}  # fmt: skip
    for name, paths in sets.items():
        readings = []
        for path in paths:
            img = load_image(Path(path))
            turned = [np.ascontiguousarray(np.rot90(img, k)) for k in range(4)]
            found = predictor._detect(turned, None)
            (chances,) = predictor._turn_chances([{k: (turned[k], found[k]) for k in range(4)}])
            readings.append({"chances": {str(k): round(p, 5) for k, p in chances.items()},
                             "scores": {str(k): [round(float(s), 4) for _, s in found[k]] for k in range(4) if found[k]}})  # fmt: skip
        results["readings"][name] = readings
        table = {}
        for value in FAMILIES[args.family]:
            rows = np.array([read_upright(args.family, value, {int(k): p for k, p in r["chances"].items()},
                                          {int(k): v for k, v in r["scores"].items()}) for r in readings], bool)  # fmt: skip
            table["shipped" if value is None else f"{NAMES[args.family]} {value}"] = {
                "stored upright (j 0)": round(float(rows[:, 0].mean()), 4),
                "stored turned (j 1-3)": round(float(rows[:, 1:].mean()), 4),
                "all four turns": round(float(rows.mean()), 4)}  # fmt: skip
        results["sets"][name] = {"images": len(paths), **table}
        print(name, json.dumps(results["sets"][name]), flush=True)
    args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
