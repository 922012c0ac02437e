"""False alarms on face-free crops of WIDER photos under each policy (RULE.md, rule 5's line 8 and its diagnostic)

    PYTHONPATH=. python experiments/2026-12-05-nested-faces/face_free.py --part tune \
        --policies "shipped,arbitrate whole,arbitrate whole + picture" --out experiments/2026-12-05-nested-faces/face-free-tune.json

The face-free crops bench_detection cuts (--face-free: one square crop per photo that overlaps no
grown WIDER box; written under runs/nested-faces/face-free-<part>, never committed), read through
each policy's Predictor at the bundle's own threshold (bench_detection's "lnet_anet_shipped"): false
alarms per crop, and of them how many the rescue kept ("rescued"). Policies: arbitrate.py's, among
them "arbitrate whole + picture (decided)" (rule 5: the lone part judged only after the check, the
filter and the rescue decided the faces)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "2026-12-05-settled-box"))
import arbitrate  # noqa: E402
import settle  # noqa: E402

from lnet_anet.data.images import load_image  # noqa: E402

ROOT = HERE.parents[1]


def run_face_free(args) -> dict:
    bench, df, _ = settle.wider_part(args.part, args.limit)
    crops = bench.face_free_crops(df, ROOT / "runs" / "nested-faces" / f"face-free-{args.part}")
    out = {"part": args.part, "crops": len(crops), "policies": {}}
    for name, predictor in arbitrate.policies():
        per_crop = []
        for path in crops:
            img = load_image(path)
            record = predictor.predict(img)
            per_crop.append({"faces": len(record["faces"]), "rescued": sum("face_probability" in f for f in record["faces"])})
        faces = np.array([c["faces"] for c in per_crop])
        out["policies"][name] = {"false_alarms_per_crop": float(faces.mean()),
                                 "rescued_per_crop": float(np.mean([c["rescued"] for c in per_crop])),
                                 "crops_with_a_false_alarm": int((faces > 0).sum()), "per_crop": [c["faces"] for c in per_crop]}  # fmt: skip
        print(name, {k: v for k, v in out["policies"][name].items() if k != "per_crop"}, flush=True)
    return out


def main(argv=None) -> int:
    def more(ap):
        ap.add_argument("--policies", default="shipped,arbitrate whole + picture")

    def runner(args):
        arbitrate.NAMES = tuple(args.policies.split(","))
        return run_face_free(args)

    return settle.cli(__doc__, {"face-free": runner}, ["face-free", *(sys.argv[1:] if argv is None else argv)], more)


if __name__ == "__main__":
    sys.exit(main())
