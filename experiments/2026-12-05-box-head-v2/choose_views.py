"""Rounds 3 and 4 of RULE.md: the MLP box head with an exposure view of every pair, on tune data only.

    PYTHONPATH=. python experiments/2026-12-05-box-head-v2/choose_views.py runs/box-head-v2/dump.pkl \\
        runs/box-head-v2/pairs-views.npz --heads runs/box-head-v2/r3 --out experiments/2026-12-05-box-head-v2/choose_views.json

Each candidate is fitted by the library (BoxHead.fit, hidden 256, the pairs' views as pairs of
their own), scored on the dump as in round 1, saved, and read through `Predictor` on 300 UTKFace
train-partition chips by bench_end_to_end's stability benchmark (its tune sample), B0 beside it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))
from bench_end_to_end import SAMPLE_SEED, data_cfg, stability  # noqa: E402
from choose import SOURCES, choice, figures, read_study  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.inference.box_head import DEFAULT_BOX_HEAD, BoxHead  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

ALPHAS, SHRINKS = (1e-3, 1e-1, 1.0), (0.4, 0.5)
USED = ("wider_candidate", "wider_jitter", "grid_candidate", "grid_jitter")


def box_stability(head_file: Path, paths: list[str]) -> dict:
    return {k: round(v["median_box_iou"], 4) for k, v in stability(Predictor.load(box_head=head_file), paths).items()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", type=Path)
    ap.add_argument("pairs", type=Path)
    ap.add_argument("--heads", type=Path, required=True, help="folder for the candidates' files")
    ap.add_argument("--chips", type=int, default=300)
    ap.add_argument("--consistency", type=float, nargs="+", default=None, help="round 4: the penalty weights")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    _, sets, p = read_study(args.dump, args.pairs)
    chips = split_of(build_index(data_cfg("utkface", datasets_root())), "train").reset_index(drop=True)
    paths = chips["path"].sample(n=args.chips, random_state=SAMPLE_SEED["tune"]).tolist()
    args.heads.mkdir(parents=True, exist_ok=True)
    m = np.isin(p["source"], [SOURCES.index(s) for s in USED])
    assert m.all()
    table = {"B0 shipped": {**{n: figures(BoxHead.load(None), rows) for n, rows in sets.items()},
                            "stability": box_stability(DEFAULT_BOX_HEAD, paths)}}  # fmt: skip
    print("B0", table["B0 shipped"], flush=True)
    grid = itertools.product(ALPHAS, SHRINKS) if args.consistency is None else itertools.product(args.consistency,
                                                                                                    SHRINKS)  # fmt: skip
    for weight, shrink in grid:
        if args.consistency is None:  # round 3: alpha, the views as pairs
            key, name = f"mlp views alpha {weight:g} shrink {shrink:g}", f"alpha{weight:g}-shrink{shrink:g}"
            settings = {"alpha": weight}
        else:  # round 4: the consistency penalty's weight
            key, name = f"mlp consistency {weight:g} shrink {shrink:g}", f"consistency{weight:g}-shrink{shrink:g}"
            settings = {"consistency": weight}
        head = BoxHead.fit(p["boxes"], p["features"], p["targets"], shrink=shrink, hidden=256,
                           feature_changes=p["view_changes"], change_pairs=p["view_of"], invariance=1.0,
                           **settings)  # fmt: skip
        file = args.heads / f"{name}.safetensors"
        head.save(file)
        table[key] = {**{n: figures(head, rows) for n, rows in sets.items()}, "stability": box_stability(file, paths)}
        print(key, table[key], flush=True)
    b0 = table["B0 shipped"]

    def steady(v: dict) -> bool:
        return all(v["stability"][k] >= 0.9 if b >= 0.9 else v["stability"][k] >= b - 0.01
                   for k, b in b0["stability"].items())  # fmt: skip

    eligible, chosen, qualifies = choice(table, [k for k in table if k != "B0 shipped"], steady)
    out = {"pairs": int(len(p["boxes"])), "view_pairs": int(len(p["view_of"])), "chips": len(paths), "table": table,
           "eligible": eligible, "chosen": chosen, "qualifies": qualifies}  # fmt: skip
    args.out.write_text(json.dumps(out, indent=1))
    print("chosen:", chosen, "qualifies:", qualifies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
