"""A diagnostic of the UTKFace tune chips that the shipped policy reports with two faces or more (RULE.md).

    PYTHONPATH=. python experiments/2026-12-05-split-parts/diagnose.py --run runs/split-parts/parts \
        --out experiments/2026-12-05-split-parts/diagnose-tune.json

For each such chip: its true age; each face's region (the heads' crop region, image pixels), score,
age and the face head's P(face) of the region; the whole picture's P(face); each further face's
overlap with the first (intersection over the smaller region, IoS) and the union's shorter side as a
share of the picture's. Then which of the candidate's conditions held. Tune part only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import split  # noqa: E402

from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.inference.predictor import JUDGE_PAD, Predictor  # noqa: E402


def ios(a, b) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    p = Predictor.load()
    chips, _ = split.settle.diagnose.capture.parts(args.run, "tune")
    rows = []
    for path, age in zip(chips["path"], chips["age"], strict=True):
        img = np.asarray(load_image(path))
        caught = []
        real = p._whole_picture

        def spy(image, faces, real=real, caught=caught):
            caught.append([np.asarray(r, np.float64) for r, _ in faces])
            return real(image, faces)

        p._whole_picture = spy
        record = p.predict(img)
        p._whole_picture = real
        if len(record["faces"]) < 2 or not caught:
            continue
        regions = caught[-1]
        h, w = img.shape[:2]
        whole = np.array([0.0, 0.0, w, h])
        chances = p.face_head.probability(p.anet_features(img, [*regions, whole], kind="region", pad=JUDGE_PAD))
        first = regions[0]
        rows.append({
            "path": Path(path).name, "age": float(age), "hw": [h, w],
            "faces": [{"region": [round(float(v), 1) for v in r], "score": round(f["score"], 2), "age": round(f["age"]["mean"], 1),
                       "p_face": round(float(c), 3), "area_share": round(float((r[2] - r[0]) * (r[3] - r[1]) / (h * w)), 2)}
                      for r, f, c in zip(regions, record["faces"], chances[:-1], strict=False)],
            "p_face_whole": round(float(chances[-1]), 3),
            "ios_with_first": [round(ios(first, r), 2) for r in regions[1:]],
            "union_side_share": [round(float(min(max(first[2], r[2]) - min(first[0], r[0]),
                                                 max(first[3], r[3]) - min(first[1], r[1])) / min(h, w)), 2) for r in regions[1:]],
        })  # fmt: skip
    summary = {"chips": len(chips), "with_two_faces_or_more": len(rows),  # counts as plain ints for JSON
               "exactly_two": sum(len(r["faces"]) == 2 for r in rows),
               "ios_at_least_0.5": sum(r["ios_with_first"][0] >= split.MIN_IOS for r in rows),
               "union_at_least_fill": sum(r["union_side_share"][0] >= split.FILL for r in rows),
               "whole_beats_both": sum(r["p_face_whole"] > max(f["p_face"] for f in r["faces"][:2]) for r in rows),
               "whole_beats_first": sum(r["p_face_whole"] > r["faces"][0]["p_face"] for r in rows),
               "second_inside_first_region_half": sum(r["ios_with_first"][0] >= 0.5 for r in rows),
               "first_face_abs_err": float(np.mean([abs(r["faces"][0]["age"] - r["age"]) for r in rows]))}  # fmt: skip
    summary = {k: v if isinstance(v, float) else int(v) for k, v in summary.items()}
    print(json.dumps(summary, indent=1))
    args.out.write_text(json.dumps({"command": " ".join(["python", *sys.argv]), "summary": summary, "chips": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
