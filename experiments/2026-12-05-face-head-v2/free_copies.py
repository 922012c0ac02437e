"""Round 3's extra face-free pictures (RULE.md): x0.15, x3 (clipped) and gray copies, JPEG q95, of
every face-free crop the v2 head learnt from, made as face-filter's photometric.py makes them.

    PYTHONPATH=. python experiments/2026-12-05-face-head-v2/free_copies.py \\
        --lists runs/face-verifier/free-fit.txt runs/face-head-v2/free-more.txt --out runs/face-head-v2

Writes <out>/free-photometric.txt and the copies under <out>/free-photometric/ (never committed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-03-face-filter"))
from photometric import GAINS, perturbed  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lists", nargs="+", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    crops = [p for f in args.lists for p in f.read_text().split("\n") if p]
    copies = [c for kind in GAINS for c in perturbed(crops, kind, args.out / "free-photometric" / kind)]
    (args.out / "free-photometric.txt").write_text("\n".join(copies) + "\n")
    print(f"{len(copies)} copies of {len(crops)} face-free crops")
    return 0


if __name__ == "__main__":
    sys.exit(main())
