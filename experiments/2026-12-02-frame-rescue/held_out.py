"""Face-free false alarms per crop on the WIDER tune crops the face head never learnt from
(round 3, RULE.md): bench_detection.py --face-free's crops of the tune part, split into those in
the face head's face-free list (in-sample) and the others (held out).

    PYTHONPATH=. python experiments/2026-12-02-frame-rescue/held_out.py --free runs/frame-rescue/wider-tune-before/face_free \\
        --fit-list runs/face-verifier/free-fit.txt --bundle before=B frame3=B2::FACE_HEAD --out FILE.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-02-anet-photometric"))
from compare import load  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--free", type=Path, required=True)
    ap.add_argument("--fit-list", type=Path, required=True)
    ap.add_argument("--bundle", nargs="+", required=True, help="LABEL=BUNDLE[:BOX_HEAD:FACE_HEAD]")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    fitted = {Path(line).name for line in args.fit_list.read_text().split()}
    crops = sorted(args.free.iterdir())
    parts = {"held_out": [p for p in crops if p.name not in fitted], "in_sample": [p for p in crops if p.name in fitted]}
    out = {"n": {k: len(v) for k, v in parts.items()}, "bundles": {}}
    for item in args.bundle:
        label, spec = item.split("=", 1)
        predictor = load(spec)
        out["bundles"][label] = {"spec": spec, **{k: float(np.mean([len(predictor.predict(str(p))["faces"]) for p in v]))
                                                 for k, v in parts.items()}}  # fmt: skip
        print(label, out["bundles"][label], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
