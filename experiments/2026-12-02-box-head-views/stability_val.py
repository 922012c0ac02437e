"""Val once (RULE.md): the stability benchmark's box, age and decision figures for the shipped box
head and the one taught to ignore the exposure, in one run on the same 300 UTKFace val chips
(bench_end_to_end's val sample with --limit 300 --stability 300, as the box-head study's
stability-val: the same chips).

    PYTHONPATH=. python experiments/2026-12-02-box-head-views/stability_val.py \
        --heads before=runs/box-head-views/box_head_before.safetensors invariant=runs/box-head-views/box_head.safetensors \
        --out experiments/2026-12-02-box-head-views/stability-val.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import SAMPLE_SEED, data_cfg, stability  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--heads", nargs="+", required=True, help="LABEL=box head file")
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    seed = SAMPLE_SEED["val"]
    chips = split_of(build_index(data_cfg("utkface", args.datasets)), "val").reset_index(drop=True)
    chips = chips.sample(n=args.n, random_state=seed).reset_index(drop=True)
    paths = chips["path"].sample(n=args.n, random_state=seed).tolist()
    results = {"command": " ".join(sys.argv), "chips": len(paths), "machine": machine(), "heads": {}}
    for label, path in (h.split("=", 1) for h in args.heads):
        results["heads"][label] = {"file": path, "stability": stability(Predictor.load(box_head=path), paths)}
        for name, r in results["heads"][label]["stability"].items():
            print(f"{label:10s} {name:16s} box IoU {r['median_box_iou']:.3f}  age {r['median_abs_d_age']:.2f} / "
                  f"{r['p95_abs_d_age']:.2f}  flips {r['decisions_flipped']:.4f}", flush=True)
    args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
