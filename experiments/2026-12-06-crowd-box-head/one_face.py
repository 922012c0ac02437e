"""RULE.md line 4: one-face pictures keep their boxes. The shipped bundle before and the gated one,
end to end through `Predictor.predict` on UTKFace val chips as shipped (a random 500, seed 0): every
record with one face must be identical; a record with two or more faces may differ in its boxes
alone (the crowd head places them).

    PYTHONPATH=. python experiments/2026-12-06-crowd-box-head/one_face.py BEFORE.lnetanet AFTER.lnetanet --out J
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, "benchmarks")
from bench_end_to_end import data_cfg  # noqa: E402

from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("before", type=Path)
parser.add_argument("after", type=Path)
parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
parser.add_argument("--limit", type=int, default=500)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()

chips = split_of(build_index(data_cfg("utkface", args.datasets)), "val").sample(n=args.limit, random_state=0)
before, after = Predictor.load(args.before), Predictor.load(args.after)
counts = {"chips": 0, "one_face_identical": 0, "one_face_differ": 0, "several_faces": 0,
          "several_boxes_only_differ": 0, "several_other_differ": 0, "no_face": 0}  # fmt: skip
for path in chips["path"]:
    a, b = before.predict(path), after.predict(path)
    counts["chips"] += 1
    strip = lambda r: [{k: v for k, v in f.items() if k != "box"} for f in r["faces"]]  # noqa: E731
    a.pop("bundle", None), b.pop("bundle", None)
    if not a["faces"]:
        counts["no_face"] += a == b
    elif len(a["faces"]) == 1:
        counts["one_face_identical" if a == b else "one_face_differ"] += 1
    else:
        counts["several_faces"] += 1
        same_rest = strip(a) == strip(b) and {k: v for k, v in a.items() if k != "faces"} == {k: v for k, v in b.items() if k != "faces"}
        counts["several_boxes_only_differ" if same_rest else "several_other_differ"] += 1
args.out.parent.mkdir(parents=True, exist_ok=True)
args.out.write_text(json.dumps(counts, indent=1) + "\n")
print(counts)
