"""Round 2's bar for the frame try (RULE.md), on tune parts only.

    PYTHONPATH=. python experiments/2026-12-02-frame-rescue/frame_bar.py \\
        --free runs/frame-rescue/wider-tune-before/face_free --out experiments/2026-12-02-frame-rescue/tune/frame_bar.json

Each picture that the bundle before (rescue on, no frame try) leaves without a face gets the face
head's P(face) of its frame candidate (Predictor.frame_region: the whole picture as the face box):
2,000 UTKFace train chips (compare.py's sample) and the WIDER tune face-free crops that
bench_detection.py --face-free cut (its --work folder). For each bar: chips found and face-free
false alarms per crop if the frame were kept above it. Chosen: the lowest bar whose false alarms
stay <= the rule's line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

sys.path.insert(0, str(REPO / "experiments" / "2026-12-02-anet-photometric"))
from compare import load  # noqa: E402

BARS = (0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


def frame_chances(predictor: Predictor, paths: list[str]) -> tuple[list[int], list[float]]:
    """(faces the bundle finds in each picture, P(face) of the frame of each picture without)."""
    found, chances = [], []
    for path in paths:
        image = load_image(Path(path))
        found.append(len(predictor.predict(image)["faces"]))
        if found[-1]:
            continue
        chances.append(float(predictor.face_head.probability(predictor.frame_feature(image)[None])[0]))
    return found, chances


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default="lnet_anet/assets/default.lnetanet",
                    help="BUNDLE[:BOX_HEAD:FACE_HEAD] (compare.py's form): the bundle before the frame try")
    ap.add_argument("--exclude", type=Path, default=None,
                    help="a list of face-free crops to leave out (the face head's own: round 3's held-out count)")
    ap.add_argument("--free", type=Path, required=True, help="bench_detection's face-free crops of the WIDER tune part")
    ap.add_argument("--line", type=float, default=0.067, help="face-free false alarms per crop not to pass (RULE.md)")
    ap.add_argument("--min-found", type=float, default=0.0, help="UTKFace chips found not to fall under (RULE.md)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    predictor = load(args.bundle)
    utk = build_index(data_cfg("utkface", datasets_root()))
    chips = split_of(utk, "train").sample(n=2000, random_state=1)["path"].tolist()
    left_out = {Path(line).name for line in args.exclude.read_text().split()} if args.exclude else set()
    free = sorted(str(p) for p in args.free.iterdir() if p.name not in left_out)
    chip_faces, chip_p = frame_chances(predictor, chips)
    free_faces, free_p = frame_chances(predictor, free)
    chip_found, free_found = int(np.sum(np.array(chip_faces) > 0)), int(np.sum(free_faces))  # chips with one; alarms
    rows = {}
    for bar in BARS:
        rows[str(bar)] = {"utkface_found": (chip_found + int(np.sum(np.array(chip_p) > bar))) / len(chips),
                          "face_free_false_alarms_per_crop": (free_found + int(np.sum(np.array(free_p) > bar))) / len(free)}  # fmt: skip
    passing = [b for b in BARS if rows[str(b)]["face_free_false_alarms_per_crop"] <= args.line
               and rows[str(b)]["utkface_found"] >= args.min_found]
    out = {"n_chips": len(chips), "n_free": len(free), "before": {"utkface_found": chip_found / len(chips),
           "face_free_false_alarms_per_crop": free_found / len(free)}, "by_bar": rows, "line": args.line,
           "chosen": min(passing) if passing else None, "chip_chances": chip_p, "free_chances": free_p}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: v for k, v in out.items() if not k.endswith("chances")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
