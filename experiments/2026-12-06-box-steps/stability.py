"""Round 2 of RULE.md: how far the top face's box moves under bench_end_to_end's perturbations, per bundle.

    PYTHONPATH=. python experiments/2026-12-06-box-steps/stability.py --part tune --bundles R1=B1 E3=B2 ... --out F.json

Chips: 300 UTKFace chips of the train partition (--part tune, bench_end_to_end's tune sample) or
of the val partition (--part val, its val sample), read through Predictor.load(bundle). With
--wider-lone DETECTIONS (bench_detection's per-image detections of the WIDER part): instead, the
first --chips photos by name of that part with exactly one face found there (a diagnostic).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))
from bench_end_to_end import SAMPLE_SEED, data_cfg, stability  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("tune", "val"), required=True)
    ap.add_argument("--bundles", nargs="+", required=True, help="NAME=PATH ...")
    ap.add_argument("--chips", type=int, default=300)
    ap.add_argument("--wider-lone", type=Path, default=None, help="detections JSON of WIDER's --part (bench_detection)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.wider_lone is not None:
        from bench_detection import find_wider_labels

        from lnet_anet.data.readers.detection import hash_part, read_wider_txt

        table = read_wider_txt(find_wider_labels(datasets_root() / "wider_face_train", "wider")[0])
        mask = hash_part(table["name"]) == args.part
        in_part = dict(zip(table["name"][mask], table["path"][mask], strict=True))
        lone = sorted(d["name"] for d in json.loads(args.wider_lone.read_text()) if len(d["boxes"]) == 1)
        paths = [in_part[n] for n in lone if n in in_part][: args.chips]
    else:
        partition = "train" if args.part == "tune" else "val"
        chips = split_of(build_index(data_cfg("utkface", datasets_root())), partition).reset_index(drop=True)
        paths = chips["path"].sample(n=args.chips, random_state=SAMPLE_SEED[args.part]).tolist()
    table = {}
    for item in args.bundles:
        name, path = item.split("=", 1)
        table[name] = {k: {m: round(v[m], 4) for m in ("found", "median_box_iou")}
                       for k, v in stability(Predictor.load(path), paths).items()}  # fmt: skip
        print(name, {k: v["median_box_iou"] for k, v in table[name].items()}, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    what = f"WIDER {args.part} photos with one face found in {args.wider_lone}" if args.wider_lone else "UTKFace chips"
    args.out.write_text(json.dumps({"part": args.part, "pictures": what, "n": len(paths),
                                    "bundles": dict(b.split("=", 1) for b in args.bundles), "median_box_iou": table},
                                   indent=1))  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
