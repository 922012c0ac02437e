"""Faces found on the check map or on the face map by the same refitted localizer (a diagnostic
added after RULE.md's round; tune part of WIDER only, not through the Predictor).

    PYTHONPATH=. python experiments/2026-12-06-every-face-map/check_detector.py   # -> check-detector.json

For each map (the embedded bundle's face map, "response"; its check map, "check"), the
localizer's settings, scales and box model are fitted on the fit half's boxes exactly as
`python -m lnet_anet.cli.fit_localizer` fits them (photo_fitting.fit_photo_localizer, its
DEFAULT_SEARCH), and the choose half is scored by evaluate_detections (AP at IoU 0.5, recall at
0.1 false alarms per image). No box head, face head or check step: the map and the localizer alone.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "experiments" / "2026-12-02-lnet-wild"))

from wild import wider_tune_halves  # noqa: E402

from lnet_anet.cli.fit_localizer import DEFAULT_SEARCH  # noqa: E402
from lnet_anet.data.preprocess import LNetInput  # noqa: E402
from lnet_anet.inference.bundle import load_bundle  # noqa: E402
from lnet_anet.inference.shipped import DEFAULT_BUNDLE  # noqa: E402
from lnet_anet.lnet.photo_fitting import _detect_all, fit_photo_localizer, photo_maps  # noqa: E402
from lnet_anet.metrics.detection import evaluate_detections  # noqa: E402

HERE = Path(__file__).resolve().parent
SCALE_SETS = ([2.0], [1.0, 2.0])


class MapOf(torch.nn.Module):
    """LNet with one of its maps as the "response" photo_maps reads."""

    def __init__(self, lnet, which: str):
        super().__init__()
        self.lnet, self.which = lnet, which

    def forward(self, x):
        return {"response": self.lnet(x)[self.which]}


def truth(table) -> list:
    """Per photo (boxes, dont_care): WIDER's invalid faces and faces under 24 px do not count
    (bench_detection's rule)."""
    out = []
    for b, d in zip(table["boxes"], table["dont_care"], strict=True):
        boxes = np.asarray(b, np.float64).reshape(-1, 4)
        out.append((boxes, np.asarray(d, bool) | (boxes[:, 3] - boxes[:, 1] < 24)))
    return out


def main() -> None:
    torch.set_num_threads(2)
    bundle = load_bundle(DEFAULT_BUNDLE)
    lnet_input = LNetInput.from_dict(bundle.preprocessing["lnet"])
    fit, choose = wider_tune_halves()
    scales = sorted({s for g in SCALE_SETS for s in g})
    results = {}
    for which in ("response", "check"):
        net = MapOf(bundle.lnet, which)
        pm_fit = photo_maps(net, lnet_input, list(fit["path"]), scales)
        pm_choose = photo_maps(net, lnet_input, list(choose["path"]), scales)
        # as fit_localizer starts: the box model refitted to the photos' face boxes directly, no face_box on top
        base = dataclasses.replace(bundle.localizer(), max_faces=50, max_peaks=100, face_box=None)
        localizer, chosen, report = fit_photo_localizer(pm_fit, truth(fit), base, DEFAULT_SEARCH,
                                                        SCALE_SETS, progress=False)  # fmt: skip
        # fit_photo_localizer returns the localizer with its operating threshold (0.1 false alarms per fit photo)
        scored = evaluate_detections(_detect_all(pm_choose, localizer, chosen), truth(choose), bands=None)
        results[which] = {
            "scales": list(chosen), "fit_half_ap50_whole_ranking": report["tune_ranking"]["ap"],
            "box_model_refit": report["box_model_refit"],
            "choose_ap50_at_fitted_threshold": scored["ap"], "choose_recall_at_fitted_threshold": scored["max_recall"],
            "choose_recall_at_0.1_fppi": scored.get("recall_at_0.1_fppi"),
            "settings": {k: getattr(localizer, k) for k in DEFAULT_SEARCH},
        }  # fmt: skip
        print(which, json.dumps(results[which], default=str), flush=True)
    (HERE / "check-detector.json").write_text(json.dumps(results, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
