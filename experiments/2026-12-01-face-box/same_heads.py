"""Check that the face box changes only the reported box: the embedded bundle before and after
on the same val files, attributes, age and attractiveness compared face by face, and each new
box compared with the old box mapped by the fitted face_box. Run from the repository root:

    PYTHONPATH=. python experiments/2026-12-01-face-box/same_heads.py OLD.lnetanet NEW.lnetanet
"""

import json
import sys
from pathlib import Path

import numpy as np

from lnet_anet.data.readers.celeba import read_partition
from lnet_anet.inference.predictor import Predictor

old, new = (Predictor.load(p) for p in sys.argv[1:3])
data = Path("../shared/datasets")
part = read_partition(data / "celeba_hq128" / "list_eval_partition.txt")
files = [data / "celeba_hq128" / "img_celeba_hq" / n for n in sorted(part.index[part == "val"])[:300]]
files += sorted((data / "utkface128").rglob("*.jpg"))[:300]
faces = differ = 0
box_err = []
for a, b in zip(old.predict_many(files), new.predict_many(files), strict=True):
    assert len(a["faces"]) == len(b["faces"]), a["image"]
    for fa, fb in zip(a["faces"], b["faces"], strict=True):
        faces += 1
        differ += any(fa[k] != fb[k] for k in ("score", "attributes", "present", "age", "attractiveness"))
        mapped = np.clip(new.localizer.to_face_box(fa["box"]), 0, [a["width"], a["height"]] * 2)
        box_err.append(float(np.abs(mapped - fb["box"]).max()))
report = {"files": len(files), "faces": faces, "faces_whose_heads_differ": differ,
          "max_px_between_new_box_and_old_box_mapped": max(box_err)}
print(json.dumps(report, indent=2))
