"""Fitting the localizer's few numbers on real photos with face boxes (e.g. WIDER FACE's tune part).

The network is not touched: LNet learnt where faces are from image-level tags only. What real
photos set here are the localizer's settings, as the composed tune scenes set them before
(lnet_anet.lnet.fitting), now for photos with many faces of every size:
- the scales the photo is read at (lnet_anet.lnet.multiscale) and the suppression settings
  (min_relative_score, nms_iou, min_size, ...), chosen by AP at IoU 0.5 on the tune photos;
- the box model (log width / height from the blob's measures), refitted on the tune faces;
- the operating threshold: the score at which the tune photos have `fppi` false alarms per image.
The tune photos and the photos these figures are scored on must be apart (a fixed split by file
name: lnet_anet.data.readers.detection.hash_part).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from lnet_anet.data.images import load_image
from lnet_anet.data.preprocess import LNetInput
from lnet_anet.lnet.localizer import BOX_FEATURES, Localizer, _as_map, box_features
from lnet_anet.lnet.multiscale import Placement, place, read_scales, same_shape
from lnet_anet.metrics.detection import evaluate_detections, label_detections

Detection = tuple[np.ndarray, float]


@dataclass
class PhotoMaps:
    """LNet's response maps of photos at several scales: per photo, scale -> (map (h, w),
    Placement, canvas (H, W)); and each photo's (height, width)."""

    maps: list[dict[float, tuple[torch.Tensor, Placement, tuple[int, int]]]]
    image_sizes: list[tuple[int, int]]


@torch.inference_mode()
def photo_maps(net: torch.nn.Module, lnet_input: LNetInput, paths: Sequence[str], scales: Sequence[float],
               batch_size: int = 8, map_key: str = "response") -> PhotoMaps:  # fmt: skip
    """Run LNet over photo files at every scale (one batch of canvases per scale). map_key: which
    of LNet's maps to keep ("response", the face map the localizer reads; "check", the check map
    of an LNet(check=True), which LNetInput.find_on_check reads). Raises ImageReadError naming a
    file that cannot be read, KeyError when the net has no such map."""
    net.eval()
    maps: list[dict] = []
    sizes: list[tuple[int, int]] = []
    for start in tqdm(range(0, len(paths), batch_size), desc="LNet maps", dynamic_ncols=True, disable=None):
        images = [load_image(p) for p in paths[start:start + batch_size]]
        per = [{} for _ in images]
        for scale in scales:
            placed = [place(img, lnet_input.input_size, scale, lnet_input.resize, lnet_input.zoom_out_canvas,
                            lnet_input.zoom_in_canvas) for img in images]  # fmt: skip
            for group in same_shape(range(len(images)), [c.shape for c, _ in placed]):  # fitted canvases differ
                x = torch.from_numpy(np.stack([lnet_input.normalize(placed[k][0]) for k in group]))
                responses = net(x)[map_key].float()
                for i, k in enumerate(group):
                    per[k][scale] = (responses[i].clone(), placed[k][1], tuple(x.shape[-2:]))
        maps += per
        sizes += [img.shape[:2] for img in images]
    return PhotoMaps(maps, sizes)


def detect(photo: dict, localizer: Localizer, scales: Sequence[float], image_hw: tuple[int, int],
           lnet: LNetInput | None = None) -> list[Detection]:  # fmt: skip
    """One photo's faces in its pixels from its maps at `scales`, merged across scales, as the
    Predictor finds them (multiscale.read_scales). With `lnet`, its zoom-in and fallback
    scales are read as the Predictor reads them too (the maps must hold them)."""

    def at(scale: float, which: list[int]) -> list[list[Detection]]:
        r, where, size = photo[scale]
        return [[(px, float(score)) for box, score in localizer(r, size)
                 if (px := where.to_image(box, image_hw)) is not None]]  # fmt: skip

    policy = lnet if lnet is not None else LNetInput(input_size=(1, 1))  # no zoom-in, no fallback
    policy = dataclasses.replace(policy, scales=tuple(scales))
    return read_scales([image_hw], at, policy, localizer)[0]


def _detect_all(pm: PhotoMaps, localizer: Localizer, scales: Sequence[float]) -> list[list[Detection]]:
    return [detect(m, localizer, scales, hw) for m, hw in zip(pm.maps, pm.image_sizes, strict=True)]


def operating_threshold(detections: Sequence[Sequence[Detection]], truth: Sequence, fppi: float,
                        iou: float = 0.5) -> float:  # fmt: skip
    """The lowest score threshold (detections kept when score > it) with at most `fppi` false
    alarms per image on these photos (detections of don't-care faces are not counted)."""
    scores, labels = [], []
    for dets, (boxes, dont_care) in zip(detections, truth, strict=True):
        b = np.array([d[0] for d in dets]).reshape(-1, 4)
        s, lab = label_detections(b, np.array([d[1] for d in dets]), boxes, dont_care, iou)
        scores.append(s)
        labels.append(lab)
    scores, labels = np.concatenate(scores), np.concatenate(labels)
    order = np.argsort(-scores, kind="stable")
    false_alarms = np.cumsum(labels[order] == 0)
    allowed = fppi * len(detections)
    over = np.nonzero(false_alarms > allowed)[0]
    if len(over) == 0:
        return float(scores.min()) - 1e-6 if len(scores) else 0.0
    return float(scores[order][over[0]])  # that detection and the weaker ones are dropped


def _care(boxes, dont_care) -> np.ndarray:
    """The face boxes (N, 4) that count, of one photo's truth."""
    return np.asarray(boxes, np.float64).reshape(-1, 4)[~np.asarray(dont_care, bool)]


def _sole_face(care: np.ndarray, cx: float, cy: float) -> np.ndarray | None:
    """The face box holding the point (cx, cy) when exactly one does, else None."""
    inside = (care[:, 0] <= cx) & (cx < care[:, 2]) & (care[:, 1] <= cy) & (cy < care[:, 3])
    return care[inside][0] if inside.sum() == 1 else None


def fit_box_model_on_photos(pm: PhotoMaps, truth: Sequence, localizer: Localizer, scales: Sequence[float]) -> Localizer:
    """`localizer` with its box_model refitted by least squares on the photos' faces: for every
    face found (at every scale) whose weighted centre lies in exactly one face box that counts,
    log width / height of that box on the canvas against [1, *box_features]. Raises ValueError
    with fewer than 4 * (len(BOX_FEATURES) + 1) such faces."""
    rows, targets = [], []
    for photo, (boxes, dont_care) in zip(pm.maps, truth, strict=True):
        care = _care(boxes, dont_care)
        for scale in scales:
            r, where, size = photo[scale]
            r = _as_map(r)
            found, (cell_h, cell_w, _, _) = localizer.faces(r, size)
            for window, score, own in found:
                centre, features = box_features(own, window, score, localizer.box_level, (cell_h, cell_w))
                cx = (float(centre[0]) - where.x0) / where.kx
                cy = (float(centre[1]) - where.y0) / where.ky
                gt = _sole_face(care, cx, cy)
                if gt is None:
                    continue
                rows.append(np.concatenate([[1.0], features]))
                targets.append(np.log(np.maximum([(gt[2] - gt[0]) * where.kx, (gt[3] - gt[1]) * where.ky], 1.0)))
    need = 4 * (len(BOX_FEATURES) + 1)
    if len(rows) < need:
        raise ValueError(f"refitting the box model needs {need} faces found inside one box, got {len(rows)}")
    coef, *_ = np.linalg.lstsq(np.array(rows), np.array(targets), rcond=None)
    return dataclasses.replace(localizer, box_model=tuple(tuple(map(float, c)) for c in coef.T))


def fit_face_box(detections: Sequence[Sequence[Detection]], truth: Sequence, min_faces: int = 20
                 ) -> tuple[tuple[float, float, float, float], int]:  # fmt: skip
    """The Localizer's face_box (width, height, dx, dy) that maps its boxes to the labelled
    face boxes of these photos: per axis, the median of (face side / box side) and of (face
    centre - box centre) / box side, over every detection (image pixels, as the Predictor's
    locate_many(kind="region") gives them) whose centre lies in exactly one face box that
    counts. Medians: a few boxes over two faces or on a neighbour do not pull it. Returns
    (face_box, number of pairs). Raises ValueError with fewer than min_faces pairs."""
    ratios = []
    for dets, (boxes, dont_care) in zip(detections, truth, strict=True):
        care = _care(boxes, dont_care)
        for box, _ in dets:
            x0, y0, x1, y1 = (float(v) for v in box)
            cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
            g = _sole_face(care, cx, cy)
            if g is None or w <= 0 or h <= 0:
                continue
            ratios.append([(g[2] - g[0]) / w, (g[3] - g[1]) / h, ((g[0] + g[2]) / 2 - cx) / w, ((g[1] + g[3]) / 2 - cy) / h])
    if len(ratios) < min_faces:
        raise ValueError(f"fitting the face box needs {min_faces} faces found inside one box, got {len(ratios)}")
    width, height, dx, dy = (float(v) for v in np.median(np.array(ratios), axis=0))
    return (width, height, dx, dy), len(ratios)


def fit_photo_localizer(pm: PhotoMaps, truth: Sequence, base: Localizer, search: dict[str, list],
                        scale_sets: Sequence[Sequence[float]], fppi: float = 0.1, refit_box: bool = True,
                        progress: bool = True) -> tuple[Localizer, tuple[float, ...], dict]:  # fmt: skip
    """The localizer settings and scales with the best AP at IoU 0.5 on the tune photos.

    Every combination of `search` ({Localizer field: [values]}) and of `scale_sets` is scored
    with no threshold (the whole ranking); with refit_box, the best one's box model is refitted
    on the tune faces and kept when it raises the tune AP; then the threshold is set to leave
    `fppi` false alarms per tune image. Returns (localizer, scales, report with every trial and
    the tune figures at the chosen threshold)."""
    trials = []
    combos = list(itertools.product(*search.values()))
    for values, scales in tqdm(list(itertools.product(combos, scale_sets)), desc="localizer search",
                               disable=None if progress else True, dynamic_ncols=True):  # fmt: skip
        candidate = dataclasses.replace(base, threshold=-1e9, **dict(zip(search, values, strict=True)))
        m = evaluate_detections(_detect_all(pm, candidate, scales), truth, bands=None)
        if progress:
            tqdm.write(f"{dict(zip(search, values, strict=True))} scales {list(scales)}: AP50 {m['ap']:.4f}, "
                       f"max recall {m['max_recall']:.3f}")  # fmt: skip
        trials.append({"settings": dict(zip(search, values, strict=True)), "scales": list(scales), "ap": m["ap"],
                       "recall_at_0.1_fppi": m.get("recall_at_0.1_fppi"), "max_recall": m["max_recall"],
                       "localizer": candidate})  # fmt: skip
    best = max(trials, key=lambda t: t["ap"])
    localizer, scales = best["localizer"], tuple(best["scales"])
    report: dict = {"box_model_refit": None}
    if refit_box:
        try:
            refit = fit_box_model_on_photos(pm, truth, localizer, scales)
        except ValueError as e:
            report["box_model_refit"] = {"error": str(e)}
        else:
            ap = evaluate_detections(_detect_all(pm, refit, scales), truth, bands=None)["ap"]
            report["box_model_refit"] = {"ap_before": best["ap"], "ap_after": ap, "kept": ap > best["ap"]}
            if ap > best["ap"]:
                localizer = refit
    detections = _detect_all(pm, localizer, scales)
    localizer = dataclasses.replace(localizer, threshold=operating_threshold(detections, truth, fppi))
    report["tune"] = evaluate_detections(_detect_all(pm, localizer, scales), truth, bands=None)
    report["tune_ranking"] = evaluate_detections(detections, truth, bands=None)
    report["trials"] = [{k: v for k, v in t.items() if k != "localizer"} for t in trials]
    return localizer, scales, report
