"""How many faces would round 2 add? The shipped Predictor's faces, plus the faces a localizer
fitted on the check map finds where the Predictor found none (a sketch of round 2 outside the
Predictor: no face filter, box head or heads on the added faces; a diagnostic, tune part only).

    PYTHONPATH=. python experiments/2026-12-06-every-face-map/added_faces.py   # -> added-faces.json (~20 min)

The check localizer is fitted on the fit half as check_detector.py fits it (scales [1, 2] only),
with its threshold at 0.1 false alarms per fit photo. On the choose half, each photo's Predictor
faces (`predict_many`, as shipped) are kept as they are; each check face whose box overlaps no
Predictor face (IoU < 0.3) is added, ranked after every Predictor face of the run, in the order of
its check score. Both rankings are scored by evaluate_detections (AP at IoU 0.5, recall at 0.1
false alarms per photo).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check_detector import MapOf, truth, wider_tune_halves  # noqa: E402

from lnet_anet.cli.fit_localizer import DEFAULT_SEARCH  # noqa: E402
from lnet_anet.data.preprocess import LNetInput  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.lnet.photo_fitting import _detect_all, fit_photo_localizer, photo_maps  # noqa: E402
from lnet_anet.metrics.detection import evaluate_detections  # noqa: E402

SCALES = [1.0, 2.0]


def new_faces(mine: np.ndarray, theirs: list) -> list:
    """The check faces (box, score) of `theirs` whose box overlaps none of `mine` ((k, 4) boxes) at IoU 0.3 or more."""
    if not len(mine):
        return list(theirs)
    have = torch.from_numpy(np.asarray(mine, np.float64).reshape(-1, 4))
    return [(box, score) for box, score in theirs
            if float(box_iou(torch.from_numpy(np.asarray(box, np.float64))[None], have).max()) < 0.3]  # fmt: skip


def main() -> None:
    torch.set_num_threads(2)
    predictor = Predictor.load()
    bundle = predictor.bundle
    lnet_input = LNetInput.from_dict(bundle.preprocessing["lnet"])
    fit, choose = wider_tune_halves()
    net = MapOf(bundle.lnet, "check")
    base = dataclasses.replace(bundle.localizer(), max_faces=50, max_peaks=100, face_box=None)
    localizer, scales, _ = fit_photo_localizer(photo_maps(net, lnet_input, list(fit["path"]), SCALES), truth(fit),
                                               base, DEFAULT_SEARCH, [SCALES], progress=False)  # fmt: skip
    checked = _detect_all(photo_maps(net, lnet_input, list(choose["path"]), SCALES), localizer, scales)
    shipped = [[(np.asarray(f["box"], np.float64), float(f["score"])) for f in r["faces"]]
               for r in predictor.predict_many(list(choose["path"]))]  # fmt: skip
    floor = min((s for faces in shipped for _, s in faces), default=0.0)
    combined, added = [], 0
    for mine, theirs in zip(shipped, checked, strict=True):
        more = new_faces(np.array([b for b, _ in mine]), theirs)
        # after every Predictor face, in the order of their check scores
        combined.append([*mine, *((np.asarray(b, np.float64), floor - 1000.0 + float(s)) for b, s in more)])
        added += len(more)
    results = {"check_localizer": {k: getattr(localizer, k) for k in (*DEFAULT_SEARCH, "threshold")} | {"scales": scales},
               "added_faces": added, "photos": len(choose)}  # fmt: skip
    for name, dets in (("shipped", shipped), ("shipped_plus_check_faces", combined)):
        m = evaluate_detections(dets, truth(choose), bands=None)
        results[name] = {"ap50": m["ap"], "recall_at_0.1_fppi": m.get("recall_at_0.1_fppi"),
                         "recall_at_1_fppi": m.get("recall_at_1_fppi"), "max_recall": m["max_recall"]}  # fmt: skip
        print(name, json.dumps(results[name]), flush=True)
    print("added", added, flush=True)
    (HERE / "added-faces.json").write_text(json.dumps(results, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
