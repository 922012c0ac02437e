"""A WIDER tree of the fit half of WIDER's tune part (wild.wider_tune_halves), for round 2's fit:
its label file holds the fit half's photos only, and its images folder is a link to the shared
copy (no image is copied).

    PYTHONPATH=. python experiments/2026-12-06-every-face-map/fit_tree.py --out runs/find-on-check/fit-tree
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "experiments" / "2026-12-02-lnet-wild"))

from wild import datasets_root, wider_tune_halves  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    fit, _ = wider_tune_halves()
    src = datasets_root() / "wider_face_train"
    (args.out / "wider_face_split").mkdir(parents=True, exist_ok=True)
    link = args.out / "WIDER_train"
    if not link.exists():
        link.symlink_to((src / "WIDER_train").resolve())
    label = sorted((src / "wider_face_split").glob("wider_face_*_bbx_gt.txt"))[0]
    keep, lines, out, i = set(fit["name"]), label.read_text().splitlines(), [], 0
    while i < len(lines):  # WIDER's blocks: name, count, max(count, 1) rows
        name, n = lines[i].strip(), int(lines[i + 1])
        if name in keep:
            out += lines[i:i + 2 + max(n, 1)]
        i += 2 + max(n, 1)
    (args.out / "wider_face_split" / "wider_face_train_bbx_gt.txt").write_text("\n".join(out) + "\n")
    print(f"{args.out}: {len(keep)} fit-half photos")


if __name__ == "__main__":
    main()
