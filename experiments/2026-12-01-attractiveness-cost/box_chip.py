"""Diagnostic for the cost (issue 17), not shipped: the descriptor's chip cut from the localizer's box
alone, without dlib's 5 landmarks (1.3-1.7 ms of the descriptor head inside `predict`).

The box chip: the square the landmark chip would cover, predicted from the box (centre shift and
side relative to the box's side: medians over all 3,300 training-list faces of
dlib.get_face_chip_details' rectangle, so slightly favourable to the box chip), no rotation, cut by
OpenCV (bilinear, zeros outside the image). The landmark chip: FaceDescriptor.chip, as shipped.
Both go through the same int8 network, and a joint head (as shipped: DescriptorHead.fit on
joined_inputs) per outer fold is mixed 0.5 with the bundle fold head's out-of-fold score, for
seeds 0-2 of the head. Inputs per image come from the fold's bundle through the Predictor
(FeaturePredictor of benchmarks/bench_attractiveness.py): ANet's feature, the bundle head's score
and the box of the best face, cached in --cache.

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/box_chip.py --runs 'runs/scut/e11x16-f{k}' \
        --cache runs/boxchip/cache.npz --out experiments/2026-12-01-attractiveness-cost/box_chip.json
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-01-descriptor-onnx"))
from scut_folds import metrics, scut_training_list  # noqa: E402

from benchmarks.bench_attractiveness import FeaturePredictor, _with_enlarge, best_face  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.dldl.descriptor import CHIP_SIZE, DescriptorHead, FaceDescriptor, joined_inputs  # noqa: E402
from lnet_anet.inference.build import rebundle, replace_heads  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--runs", required=True, help="fold run pattern with {k}")
parser.add_argument("--cache", type=Path, required=True)
parser.add_argument("--seeds", type=int, default=3)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

index, names, y, folds = scut_training_list(args.root)
describer = FaceDescriptor()
if not args.cache.exists():
    n = len(index)
    feats, head_oof, boxes = (
        np.full((n, 256), np.nan, np.float32),
        np.full(n, np.nan),
        np.full((n, 4), np.nan),
    )
    for k in range(1, 6):
        bundle = replace_heads(DEFAULT_BUNDLE, Path(tempfile.mkdtemp()) / f"f{k}.lnetanet",
                               attractiveness=Path(args.runs.format(k=k)), command=f"box_chip fold {k}")  # fmt: skip
        predictor = FeaturePredictor.load(rebundle(bundle, bundle, lambda c: _with_enlarge(c, 1.1)))
        rows = np.flatnonzero(folds == k)
        for i, record in zip(
            rows, predictor.predict_many([index["path"][i] for i in rows], 8), strict=True
        ):
            face = best_face(record)
            if face is not None:
                feats[i], head_oof[i], boxes[i] = (
                    face["_feature"],
                    face["attractiveness"]["mean"],
                    face["box"],
                )
    rects = np.full((n, 3), np.nan)  # the landmark chip's square: centre shift, side / box side
    landmark_descriptors = np.full((n, 128), np.nan, np.float32)
    for i, path in enumerate(index["path"]):
        if np.isfinite(boxes[i]).all():
            image, (x0, y0, x1, y1) = load_image(path), boxes[i]
            side = max(x1 - x0, y1 - y0)
            shape = describer._landmarks(image, describer._dlib_box(image, boxes[i]))
            r = describer._dlib.get_face_chip_details(shape, CHIP_SIZE, 0.25).rect
            rects[i] = [((r.left() + r.right()) / 2 - (x0 + x1) / 2) / side,
                        ((r.top() + r.bottom()) / 2 - (y0 + y1) / 2) / side, (r.right() - r.left()) / side]  # fmt: skip
            landmark_descriptors[i] = describer(image, [boxes[i]])[0]
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.cache,
        feats=feats,
        head_oof=head_oof,
        boxes=boxes,
        rects=rects,
        landmark_descriptors=landmark_descriptors,
    )
z = np.load(args.cache)
feats, head_oof, boxes, rects = z["feats"], z["head_oof"], z["boxes"], z["rects"]
found = np.isfinite(head_oof)
box_map = np.median(rects[found], 0)


def box_chip(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    cx, cy, scale = (
        (x0 + x1) / 2 + box_map[0] * side,
        (y0 + y1) / 2 + box_map[1] * side,
        CHIP_SIZE / (box_map[2] * side),
    )
    warp = np.array(
        [[scale, 0, CHIP_SIZE / 2 - scale * cx], [0, scale, CHIP_SIZE / 2 - scale * cy]], np.float32
    )
    return cv2.warpAffine(
        image, warp, (CHIP_SIZE, CHIP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )


box_descriptors = np.full((len(index), 128), np.nan, np.float32)
for i in np.flatnonzero(found):
    box_descriptors[i] = describer._net(box_chip(load_image(index["path"][i]), boxes[i])[None])[0][
        0
    ]

record = {
    "faces": int(found.sum()),
    "box_map": [round(float(v), 4) for v in box_map],
    "seeds": args.seeds,
}
for name, descriptors in (
    ("landmark chip (shipped)", z["landmark_descriptors"]),
    ("box chip", box_descriptors),
):
    x, runs = joined_inputs(descriptors, feats), []
    for seed in range(args.seeds):
        oof = np.full(len(y), np.nan)
        for k in range(1, 6):
            train, test = (folds != k) & found, (folds == k) & found
            oof[test] = DescriptorHead.fit(x[train], y[train], seed=seed).regress(x[test])
        runs.append(metrics(0.5 * oof[found] + 0.5 * head_oof[found], y[found]))
    record[name] = {"mixed_0.5_per_seed": runs,
                    "mean": {m: round(float(np.mean([r[m] for r in runs])), 4) for m in runs[0]},
                    "sd": {m: round(float(np.std([r[m] for r in runs], ddof=1)), 4) for m in runs[0]}}  # fmt: skip
    print(name, record[name]["mean"], record[name]["sd"], flush=True)
record["command"] = "python experiments/2026-12-01-attractiveness-cost/box_chip.py " + " ".join(
    sys.argv[1:]
)
args.out.write_text(json.dumps(record, indent=2) + "\n")
