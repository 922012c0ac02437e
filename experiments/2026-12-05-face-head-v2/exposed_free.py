"""Round 2's line T6 (RULE.md): false alarms on the held-out face-free crops made x3 brighter
(clipped) and x0.15 darker, JPEG q95, per bundle and face head.

    PYTHONPATH=. python experiments/2026-12-05-face-head-v2/exposed_free.py --part tune \\
        --bundle shipped=lnet_anet/assets/default.lnetanet v2=lnet_anet/assets/default.lnetanet::runs/face-head-v2/v2.safetensors \\
        --out experiments/2026-12-05-face-head-v2/tune/exposed-free.json

The crops are face-filter collect.py's (bench_detection.face_free_crops of the WIDER part, under
--work); on tune only the choose half (the face heads never learnt from it). The copies are made
under --work (never committed).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-03-face-filter"))
from collect import sets  # noqa: E402
from photometric import perturbed  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

KINDS = ("x3", "x0.15")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--bundle", nargs="+", required=True, help="LABEL=BUNDLE[::FACE_HEAD]")
    ap.add_argument("--work", type=Path, default=Path("runs/face-filter"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    free = sets(args.part, datasets_root(), args.work)["free"]
    held = [p for p, fitted in zip(free["paths"], free["fitted"], strict=True) if not fitted]
    files = {kind: perturbed(held, kind, args.work / f"exposed-free-{args.part}" / kind) for kind in KINDS}
    out = {"command": shlex.join(["python", *sys.argv]), "part": args.part, "crops": len(held),
           "machine": machine(), "false_alarms_per_crop": {}}  # fmt: skip
    for item in args.bundle:
        label, spec = item.split("=", 1)
        bundle, _, head = spec.partition("::")
        predictor = Predictor.load(bundle, face_head=head or None)
        out["false_alarms_per_crop"][label] = {
            kind: float(np.mean([len(r["faces"]) for r in predictor.predict_many(paths, batch_size=8)]))
            for kind, paths in files.items()}  # fmt: skip
        print(label, json.dumps(out["false_alarms_per_crop"][label]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
