"""`--rotations` with a margin over the stored reading (RULE.md), on tune parts: each image read at
its 4 quarter turns by the Predictor's own detection, each turn's mean P(upright) over its 3
strongest faces (what `rotations` reads), recorded once with today's bundle; then each rule applied
to the file as it would be stored at each turn j (the stored file's own reading is turn 0 to the
rule). The same readings as experiments/2026-12-06-rotations-upright-bar/tune.py, rules by margin.

    PYTHONPATH=. python experiments/2026-12-07-rotations-upright-margin/tune.py --n 200 \
        --out experiments/2026-12-07-rotations-upright-margin/tune.json
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

MARGINS = (None, 0.02, 0.05, 0.1, 0.2)  # None: the shipped rule


def read_upright(chances: dict[int, float], margin: float | None) -> list[bool]:
    """For the file stored at turn j = 0..3: whether the rule picks the turn that undoes j."""
    out = []
    for j in range(4):
        stored = {(t - j) % 4: p for t, p in chances.items()}  # the stored file's turn k reads upright turn (j + k) % 4
        out.append((j + choose_turn(stored, margin=margin)) % 4 == 0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fit-lists", type=Path, default=Path("runs/upright"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    sets = unused_tune_images(datasets_root(), args.fit_lists, args.n)
    predictor = Predictor.load()
    results = {"command": "python experiments/2026-12-07-rotations-upright-margin/tune.py " + " ".join(sys.argv[1:]),
               "machine": machine(), "sets": {}, "chances": {}}  # fmt: skip
    for name, paths in sets.items():
        all_chances = []
        for path in paths:
            img = load_image(Path(path))
            turned = [np.ascontiguousarray(np.rot90(img, k)) for k in range(4)]
            found = predictor._detect(turned, None)
            (chances,) = predictor._turn_chances([{k: (turned[k], found[k]) for k in range(4)}])
            all_chances.append({str(k): round(p, 5) for k, p in chances.items()})
        results["chances"][name] = all_chances
        table = {}
        for margin in MARGINS:
            rows = np.array([read_upright({int(k): p for k, p in c.items()}, margin) for c in all_chances], bool)
            table["shipped" if margin is None else f"margin {margin}"] = {
                "stored upright (j 0)": round(float(rows[:, 0].mean()), 4),
                "stored turned (j 1-3)": round(float(rows[:, 1:].mean()), 4),
                "all four turns": round(float(rows.mean()), 4)}  # fmt: skip
        results["sets"][name] = {"images": len(paths), **table}
        print(name, json.dumps(results["sets"][name]), flush=True)
    args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
