"""predict --closeups (Predictor.lone_skip_share = CLOSEUP_SKIP_SHARE) against the default reading,
end to end through `Predictor.predict_many` on the files, the two in the same process, their time
paired chunk by chunk (the order alternating).

    PYTHONPATH=. python experiments/2026-12-07-closeups/closeups.py --n 300 \
        --out experiments/2026-12-07-closeups/val.json

Files: the first --n of each val list of experiments/2026-12-01-upright/lists.py (runs/upright:
score-utkface-val, score-celeba_hq128-val, score-scut, score-wider-val). Per list: faces per file
each way, files whose record differs (any key but "settings"), files whose top face moved (IoU <
0.5, or found by one only), and ms per file each way (sum of the chunks' times).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

from lnet_anet.engine.runs import machine
from lnet_anet.inference.predictor import CLOSEUP_SKIP_SHARE, Predictor

LISTS = ("score-utkface-val", "score-celeba_hq128-val", "score-scut", "score-wider-val")
CHUNK = 10


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lists", type=Path, default=Path("runs/upright"))
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    plain, closeups = Predictor.load(), Predictor.load()
    closeups.lone_skip_share = CLOSEUP_SKIP_SHARE
    out = {"command": "python experiments/2026-12-07-closeups/closeups.py " + " ".join(sys.argv[1:]),
           "machine": machine(), "backend": "default (onnxruntime on the CPU)", "share": CLOSEUP_SKIP_SHARE,
           "model": plain.model_identity, "sets": {}}  # fmt: skip
    for name in LISTS:
        paths = [p for p in (args.lists / f"{name}.txt").read_text().split() if p][: args.n]
        records = {"plain": [], "closeups": []}
        seconds = {"plain": 0.0, "closeups": 0.0}
        for i in range(0, len(paths), CHUNK):
            chunk = paths[i : i + CHUNK]
            order = [("plain", plain), ("closeups", closeups)]
            for label, predictor in order if (i // CHUNK) % 2 == 0 else order[::-1]:
                t0 = time.perf_counter()
                records[label] += list(predictor.predict_many(chunk, batch_size=4))
                seconds[label] += time.perf_counter() - t0
        differ = moved = 0
        for a, b in zip(records["plain"], records["closeups"], strict=True):
            b = {k: v for k, v in b.items() if k != "settings"}
            differ += a != b
            ta, tb = (r["faces"][0]["box"] if r.get("faces") else None for r in (a, b))
            if (ta is None) != (tb is None):
                moved += 1
            elif ta is not None and float(box_iou(torch.tensor([ta]), torch.tensor([tb]))[0, 0]) < 0.5:
                moved += 1
        row = {"files": len(paths), "records_differ": differ, "top_face_moved": moved}
        for label in records:
            counts = np.array([len(r.get("faces") or []) for r in records[label]])
            row[label] = {"faces_per_file": round(float(counts.mean()), 4), "faces": int(counts.sum()),
                          "ms_per_file": round(1000 * seconds[label] / len(paths), 1)}  # fmt: skip
        out["sets"][name] = row
        print(name, json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
