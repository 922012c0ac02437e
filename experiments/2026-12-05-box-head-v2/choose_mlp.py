"""Round 2 of RULE.md: box heads with one hidden layer (scikit-learn MLPRegressor), on tune data only.

    PYTHONPATH=. python experiments/2026-12-05-box-head-v2/choose_mlp.py runs/box-head-v2/dump.pkl \\
        runs/box-head-v2/pairs-fit.npz --out experiments/2026-12-05-box-head-v2/choose_mlp.json

The same dump, pairs, figures and lines as choose.py (round 1); the head is an MLP on the same
standardised inputs, to the standardised offsets, its prediction applied at `shrink`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from choose import DATA, SOURCES, choice, figures, read_study  # noqa: E402

from lnet_anet.inference.box_head import BoxHead, decode_boxes, encode_boxes  # noqa: E402

HIDDEN, ALPHAS, SHRINKS = (64, 256), (1e-3, 1e-1, 1.0), (0.5, 0.75, 1.0)


class MLPBoxHead:
    """BoxHead's correct() with an MLP inside (a study's stand-in; not the library's form)."""

    def __init__(self, boxes, features, targets, hidden: int, alpha: float, shrink: float):
        from sklearn.neural_network import MLPRegressor

        self.mean, self.scale = features.mean(0), features.std(0) + 1e-6
        x = self._inputs(boxes, features)
        y = encode_boxes(boxes, targets)
        self.y_mean, self.y_scale = y.mean(0), y.std(0) + 1e-9
        self.model = MLPRegressor(hidden_layer_sizes=(hidden,), alpha=alpha, early_stopping=True, validation_fraction=0.1,
                                  max_iter=300, random_state=0).fit(x, (y - self.y_mean) / self.y_scale)  # fmt: skip
        self.shrink = shrink

    def _inputs(self, boxes, features):
        sides = np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-6)
        return np.concatenate([(features - self.mean) / self.scale, np.log(sides) - 4.0], 1)

    def correct(self, boxes, features):
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        offsets = self.model.predict(self._inputs(b, np.asarray(features, np.float64))) * self.y_scale + self.y_mean
        return decode_boxes(b, self.shrink * offsets.reshape(-1, 4))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", type=Path)
    ap.add_argument("pairs", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    _, sets, p = read_study(args.dump, args.pairs)
    score = lambda head: {name: figures(head, rows) for name, rows in sets.items()}  # noqa: E731
    table = {"B0 shipped": score(BoxHead.load(None))}
    # the WIDER candidates' exposure views as pairs of the same target (RULE.md, round 2)
    on = p["change_of"] >= 0
    order = p["change_of"][on]
    extra_b, extra_x, extra_t = p["boxes"][order], p["features"][order] + p["changes"][on], p["targets"][order]
    for (data, sources), hidden, alpha, shrink in itertools.product(DATA.items(), HIDDEN, ALPHAS, SHRINKS):
        m = np.isin(p["source"], [SOURCES.index(s) for s in sources])
        key = f"mlp {data} hidden {hidden} alpha {alpha:g} shrink {shrink:g}"
        if shrink == SHRINKS[0]:  # one fit per (data, hidden, alpha); the shrinks share it
            head = MLPBoxHead(np.concatenate([p["boxes"][m], extra_b]), np.concatenate([p["features"][m], extra_x]),
                              np.concatenate([p["targets"][m], extra_t]), hidden, alpha, shrink)  # fmt: skip
        head.shrink = shrink
        table[key] = score(head)
        print(key, table[key], flush=True)
    eligible, chosen, qualifies = choice(table, [k for k in table if k != "B0 shipped"])
    out = {"table": table, "eligible": eligible, "chosen": chosen, "qualifies": qualifies}
    args.out.write_text(json.dumps(out, indent=1))
    print("chosen:", chosen, "qualifies:", qualifies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
