"""What added_faces.py's check faces cost on face-free crops (a diagnostic, tune part only).

    PYTHONPATH=. python experiments/2026-12-06-every-face-map/added_free.py CROPS_DIR   # -> added-free.json

CROPS_DIR: bench_detection's face-free crops of WIDER tune photos (--work DIR --face-free writes
DIR/face_free/<event>__<file stem>__<x>_<y>_<side>.png; `../2026-12-06-zoom-scales/run.sh probe`
wrote runs/zoom-scales/probe-shipped/face_free). Only the crops of choose-half photos are read.
The check localizer is added-faces.json's (its fitted settings and threshold). Per crop: the
shipped Predictor's faces, and the check faces that overlap none of them (IoU < 0.3), which
round 2 would add.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from added_faces import new_faces  # noqa: E402
from check_detector import MapOf, wider_tune_halves  # noqa: E402

from lnet_anet.data.preprocess import LNetInput  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.lnet.photo_fitting import _detect_all, photo_maps  # noqa: E402


def main(crops_dir: str) -> None:
    torch.set_num_threads(2)
    fitted = json.loads((HERE / "added-faces.json").read_text())["check_localizer"]
    scales = fitted.pop("scales")
    predictor = Predictor.load()
    bundle = predictor.bundle
    localizer = dataclasses.replace(bundle.localizer(), max_faces=50, max_peaks=100, face_box=None, **fitted)
    _, choose = wider_tune_halves()
    stems = {Path(p).stem for p in choose["path"]}
    crops = sorted(str(c) for c in Path(crops_dir).glob("*.png") if c.name.split("__")[1] in stems)
    net = MapOf(bundle.lnet, "check")
    checked = _detect_all(photo_maps(net, LNetInput.from_dict(bundle.preprocessing["lnet"]), crops, scales), localizer,
                          scales)  # fmt: skip
    shipped, added = 0, 0
    for record, theirs in zip(predictor.predict_many(crops), checked, strict=True):
        mine = np.array([f["box"] for f in record["faces"]], np.float64).reshape(-1, 4)
        shipped += len(mine)
        added += len(new_faces(mine, theirs))
    result = {"crops": len(crops), "shipped_false_alarms_per_crop": shipped / max(len(crops), 1),
              "added_check_faces_per_crop": added / max(len(crops), 1), "crops_dir": crops_dir}  # fmt: skip
    print(json.dumps(result), flush=True)
    (HERE / "added-free.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
