"""Round 4's head (RULE.md): FaceHead.fit(..., hidden=128) on round 3's candidates, read from the
capacity diagnostic's cache of fit_face_head's own features (capacity.py), so that the ~15 min of
ANet passes are not run twice. The same head as

    python -m lnet_anet.cli.fit_face_head --faces runs/face-verifier/faces-fit.txt runs/frame-rescue/utk-fit.txt \\
        runs/face-head-v2/faces-photometric.txt --face-free runs/face-verifier/free-fit.txt runs/face-head-v2/free-more.txt \\
        runs/face-head-v2/free-photometric.txt --frames --hidden 128 --out runs/face-head-v2/mlp.safetensors

(`run.sh fit4-check` runs that and compares the digests).

    PYTHONPATH=. python experiments/2026-12-05-face-head-v2/fit_mlp.py --out runs/face-head-v2/mlp.safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from lnet_anet.inference.face_head import DEFAULT_FACE_HEAD, FaceHead

R = Path("runs/face-head-v2")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=R / "capacity-features.npz", help="capacity.py's cache")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if not args.cache.is_file():
        raise SystemExit(f"fit_mlp: {args.cache}: no cache (run capacity.py first)")
    cache = np.load(args.cache)
    x, y = cache["fit_x"], cache["fit_y"]
    anet = FaceHead.load(DEFAULT_FACE_HEAD).anet  # the embedded bundle's ANet, as the shipped head
    head = FaceHead.fit(x, y, hidden=args.hidden, seed=0, anet=anet,
                        info={"features": str(args.cache), "frames": True,
                              "command": "python " + " ".join(sys.argv)})  # fmt: skip
    head.save(args.out)
    print(f"fit_mlp: {len(y)} candidates ({int(y.sum())} faces), {head.info['epochs']} epochs -> {args.out} ({head.digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
