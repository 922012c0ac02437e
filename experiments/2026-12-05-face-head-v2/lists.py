"""The v2 face head's extra pictures (RULE.md): photometric copies of the shipped head's face list
and three more face-free crops of each fit-half WIDER tune photo. Run after
experiments/2026-12-02-face-verifier/fit_lists.py (which writes faces-fit.txt, free-fit.txt).

    PYTHONPATH=. python experiments/2026-12-05-face-head-v2/lists.py --verifier runs/face-verifier --out runs/face-head-v2

Writes <out>/faces-photometric.txt (x0.15, x3 clipped and gray JPEG q95 copies, made as
experiments/2026-12-03-face-filter/photometric.py makes them, under <out>/photometric/) and
<out>/free-more.txt (face-free crops under <out>/free-seed{1,2,3}/). Every file is a copy of
dataset pictures: it stays under runs/, never committed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "experiments" / "2026-12-03-face-filter"))
from bench_detection import face_free_crops  # noqa: E402
from collect import VERIFIER_SEED, crop_photo  # noqa: E402
from photometric import GAINS, perturbed  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, mark_small, read_wider_txt  # noqa: E402

SEEDS = (1, 2, 3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verifier", type=Path, default=Path("runs/face-verifier"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    faces = [p for p in (args.verifier / "faces-fit.txt").read_text().split("\n") if p]
    copies = []
    for kind in GAINS:
        copies += perturbed(faces, kind, args.out / "photometric" / kind)
    (args.out / "faces-photometric.txt").write_text("\n".join(copies) + "\n")
    table = read_wider_txt(next((datasets_root() / "wider_face_train" / "wider_face_split").glob("*_bbx_gt.txt")))
    table["part"] = hash_part(table["name"])
    tune = mark_small(table[table["part"] == "tune"].reset_index(drop=True), 24.0)
    fit_half = hash_part(tune["name"].tolist(), 0.5, seed=VERIFIER_SEED) == "tune"  # collect.py: "tune" = fitted
    free = []
    for seed in SEEDS:
        crops = face_free_crops(tune[fit_half].reset_index(drop=True), args.out / f"free-seed{seed}", seed=seed)
        free += crops
    held = {crop_photo(Path(c)) for c in free} & set(tune.loc[~fit_half, "name"])
    if held:
        raise SystemExit(f"{len(held)} crops come from choose-half photos")
    (args.out / "free-more.txt").write_text("\n".join(free) + "\n")
    print(f"{len(copies)} photometric face copies, {len(free)} more face-free crops")
    return 0


if __name__ == "__main__":
    sys.exit(main())
