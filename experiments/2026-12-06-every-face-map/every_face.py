"""LNet's upper part taught every face with image-level tags: one-face-kept copies (RULE.md).

    PYTHONPATH=. python experiments/2026-12-06-every-face-map/every_face.py train   # caches, both arms
    PYTHONPATH=. python experiments/2026-12-06-every-face-map/every_face.py score   # -> scores.json

Work files (maps, checkpoints): runs/every-face-map/. Tune part of WIDER only (the check-map
study's fit and choose halves).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "experiments" / "2026-12-02-lnet-wild"))

from wild import wider_tune_halves  # noqa: E402

from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.engine import TrainConfig, Trainer  # noqa: E402
from lnet_anet.inference.bundle import load_bundle  # noqa: E402
from lnet_anet.inference.shipped import DEFAULT_BUNDLE  # noqa: E402
from lnet_anet.lnet.check_map import check_loss, fill_faces  # noqa: E402
from lnet_anet.lnet.multiscale import place  # noqa: E402
from lnet_anet.lnet.training import CachedScenes, cache_scenes  # noqa: E402
from lnet_anet.models.lnet import LNetUpper  # noqa: E402

RUN = ROOT / "runs" / "every-face-map"
HERE = Path(__file__).resolve().parent
CANVAS = (448, 448)  # the zoom-in's canvas for a 320 px photo
KEEP_MIN_PX = 20  # faces kept alone are at least this high
KEEP_PER_PHOTO = 3
COUNT_MIN_PX = 24  # faces counted by the measure (bench_detection's don't-care rule)
STRIDE = 8  # the bundle LNet's map stride


class Views(Dataset):
    """Photos on the 448 px canvas, each also mirrored: as they are ("a face"), every listed face
    filled ("no face") or every listed face but `keep` filled, the kept face's pixels put back ("a
    face"). Items as check_map.TaggedPhotos'."""

    def __init__(self, items: list[tuple[str, np.ndarray, str, int]], mean, std, n_attributes: int):
        self.items = [(*item, m) for item in items for m in (False, True)]
        self.mean, self.std, self.n_attributes = np.asarray(mean, np.float32), np.asarray(std, np.float32), n_attributes

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        path, boxes, mode, keep, mirror = self.items[i]
        image = load_image(path)
        if mode == "filled":
            image = fill_faces(image, boxes)
        elif mode == "one":
            others = np.delete(boxes, keep, axis=0)
            kept = fill_faces(image, others)
            x0, y0, x1, y1 = boxes[keep]
            ys, xs = slice(max(0, int(y0)), int(np.ceil(y1))), slice(max(0, int(x0)), int(np.ceil(x1)))
            kept[ys, xs] = image[ys, xs]
            image = kept
        if mirror:
            image = np.ascontiguousarray(image[:, ::-1])
        canvas, _ = place(image, CANVAS)
        x = (canvas.astype(np.float32) / 255 - self.mean) / self.std
        return {"image": torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))),
                "has_face": torch.tensor(0.0 if mode == "filled" else 1.0),
                "attributes": torch.zeros(self.n_attributes), "box": torch.zeros(4)}  # fmt: skip


def _boxes(row) -> np.ndarray:
    return np.asarray(row["boxes"], np.float64).reshape(-1, 4)


def _kept_faces(row, rng: np.random.Generator) -> list[int]:
    boxes, dont = _boxes(row), np.asarray(row["dont_care"], bool)
    ok = [k for k in range(len(boxes)) if not dont[k] and boxes[k, 3] - boxes[k, 1] >= KEEP_MIN_PX]
    if len(boxes) < 2:
        return []  # a lone face: the photo itself already teaches it
    return sorted(rng.choice(ok, size=min(KEEP_PER_PHOTO, len(ok)), replace=False).tolist()) if ok else []


def _cached(arrays: dict[str, np.ndarray]) -> CachedScenes:
    arrays = dict(arrays)
    arrays["attributes_known"] = np.zeros(len(arrays["image"]), np.float32)
    return CachedScenes(arrays)


def train() -> None:
    bundle = load_bundle(DEFAULT_BUNDLE)
    pre = bundle.config["preprocessing"]["lnet"]
    base = copy.deepcopy(bundle.lnet).eval()
    fit, _ = wider_tune_halves()
    rng = np.random.default_rng(0)
    plain = [(p, _boxes(r), "plain", -1) for p, (_, r) in zip(fit["path"], fit.iterrows(), strict=True)]
    filled = [(p, _boxes(r), "filled", -1) for p, (_, r) in zip(fit["path"], fit.iterrows(), strict=True)]
    one = [(p, _boxes(r), "one", k) for p, (_, r) in zip(fit["path"], fit.iterrows(), strict=True)
           for k in _kept_faces(r, rng)]  # fmt: skip
    RUN.mkdir(parents=True, exist_ok=True)
    views = {}
    for name, items in (("plain", plain), ("filled", filled), ("one", one)):
        views[name] = cache_scenes(base, Views(items, pre["mean"], pre["std"], base.num_attributes),
                                   RUN / f"fit-{name}.npz", 0)  # fmt: skip
    print(f"fit photos {len(plain)}, one-face-kept copies {len(one)} (each also mirrored)", flush=True)
    for arm, parts in (("control", ("plain", "filled")), ("candidate", ("plain", "filled", "one"))):
        trained = copy.deepcopy(bundle.lnet)
        config = TrainConfig(epochs=4, batch_size=64, lr=1e-3, warmup_steps=50, num_threads=2, num_workers=0)
        Trainer(LNetUpper(trained), check_loss, ConcatDataset([_cached(views[p]) for p in parts]), config,
                RUN / f"train-{arm}").fit()  # fmt: skip
        torch.save({k: v for k, v in trained.state_dict().items() if not k.startswith("backbone.")},
                   RUN / f"{arm}-upper.pt")  # fmt: skip


@torch.no_grad()
def _face_maps(lnet, arrays: dict[str, np.ndarray], check: bool = False) -> np.ndarray:
    """The face tag's map (raw), or with check the bundle's check map (ReLU'd), per cached photo."""
    lnet.eval()
    out = []
    for i in range(0, len(arrays["image"]), 32):
        coarse = torch.from_numpy(arrays["image"][i : i + 32]).float()
        fine = torch.from_numpy(arrays["fine"][i : i + 32]).float() if "fine" in arrays else None
        out.append((lnet.check_map(fine, coarse) if check else lnet.upper(fine, coarse)[:, -1]).numpy())
    return np.concatenate(out)


def _cells(face_map: np.ndarray, placement, hw):
    """The map's cell centres in the photo's pixels (py rows, px columns), the cells inside the
    photo, and `within(box, grow)`: the cells whose centre lies in a box grown by `grow` of its
    size on each side."""
    h_map, w_map = face_map.shape
    py = ((np.arange(h_map) + 0.5) * STRIDE - placement.y0) / placement.ky
    px = ((np.arange(w_map) + 0.5) * STRIDE - placement.x0) / placement.kx
    inside = ((py >= 0) & (py < hw[0]))[:, None] & ((px >= 0) & (px < hw[1]))[None, :]

    def within(box, grow: float = 0.0) -> np.ndarray:
        x0, y0, x1, y1 = box
        gx, gy = grow * (x1 - x0), grow * (y1 - y0)
        return ((py >= y0 - gy) & (py <= y1 + gy))[:, None] & ((px >= x0 - gx) & (px <= x1 + gx))[None, :]

    return py, px, inside, within


def _counted(boxes: np.ndarray, dont: np.ndarray) -> list[int]:
    return [k for k, (_, y0, _, y1) in enumerate(boxes) if not dont[k] and y1 - y0 >= COUNT_MIN_PX]


def _values(face_map: np.ndarray, placement, boxes: np.ndarray, dont: np.ndarray, hw) -> tuple[list, list, float]:
    """(the counted faces' values, their heights, the photo's background value) on one map."""
    py, px, inside, within = _cells(face_map, placement, hw)
    background = inside & ~np.any([within(b, 0.5) for b in boxes], axis=0) if len(boxes) else inside
    values, heights = [], []
    for k in _counted(boxes, dont):
        x0, y0, x1, y1 = boxes[k]
        cells = within(boxes[k])
        if not cells.any():
            i = int(np.clip(np.searchsorted(py, (y0 + y1) / 2) - 1, 0, len(py) - 1))
            j = int(np.clip(np.searchsorted(px, (x0 + x1) / 2) - 1, 0, len(px) - 1))
            cells[i, j] = True
        values.append(float(face_map[cells].max()))
        heights.append(float(y1 - y0))
    bg = float(face_map[background].max()) if background.any() else -np.inf
    return values, heights, bg


def _peaks(face_map: np.ndarray, placement, boxes: np.ndarray, dont: np.ndarray, hw) -> tuple[list, list]:
    """A peak finder on one map (a diagnostic added after the rule): the local maxima (3 x 3) of
    the map. Returns (per counted face, the best peak whose cell centre lies in its box, -inf for
    none; the values of the peaks inside the photo outside every listed box grown by 50%)."""
    from scipy.ndimage import maximum_filter

    _, _, inside, within = _cells(face_map, placement, hw)
    peak = (face_map == maximum_filter(face_map, size=3, mode="constant", cval=-np.inf)) & inside
    free = peak & ~np.any([within(b, 0.5) for b in boxes], axis=0) if len(boxes) else peak
    faces = []
    for k in _counted(boxes, dont):
        hit = peak & within(boxes[k])
        faces.append(float(face_map[hit].max()) if hit.any() else -np.inf)
    return faces, face_map[free].tolist()


def score() -> None:
    bundle = load_bundle(DEFAULT_BUNDLE)
    pre = bundle.config["preprocessing"]["lnet"]
    base = copy.deepcopy(bundle.lnet).eval()
    _, choose = wider_tune_halves()
    items = [(p, _boxes(r), "plain", -1) for p, (_, r) in zip(choose["path"], choose.iterrows(), strict=True)]
    views = Views(items, pre["mean"], pre["std"], base.num_attributes)
    views.items = views.items[::2]  # no mirror images: the photos as they are
    arrays = cache_scenes(base, views, RUN / "choose-plain.npz", 0)
    arms = {"base": base, "shipped_check_map": base}  # the latter added after the rule: a diagnostic beside it
    for arm in ("control", "candidate"):
        lnet = copy.deepcopy(bundle.lnet)
        lnet.load_state_dict(torch.load(RUN / f"{arm}-upper.pt"), strict=False)
        arms[arm] = lnet
    placements = []
    for path in choose["path"]:
        image = load_image(path)
        placements.append((place(image, CANVAS)[1], image.shape[:2]))
    results = {}
    for arm, lnet in arms.items():
        maps = _face_maps(lnet, arrays, check=arm == "shipped_check_map")
        faces, heights, backgrounds, peak_faces, peak_free = [], [], [], [], []
        for m, (_, row), (placement, hw) in zip(maps, choose.iterrows(), placements, strict=True):
            v, h, bg = _values(m, placement, _boxes(row), np.asarray(row["dont_care"], bool), hw)
            faces += v
            heights += h
            backgrounds.append(bg)
            pf, free = _peaks(m, placement, _boxes(row), np.asarray(row["dont_care"], bool), hw)
            peak_faces += pf
            peak_free += free
        faces, heights, backgrounds = np.array(faces), np.array(heights), np.array(backgrounds)
        small = heights < 40
        arm_result = {"faces": int(len(faces)), "faces_24_40px": int(small.sum()), "photos": int(len(backgrounds))}
        for rate in (0.1, 0.5):
            t = float(np.quantile(backgrounds, 1 - rate))
            arm_result[f"recall_at_{rate}_background_photos"] = float((faces > t).mean())
            arm_result[f"background_photos_over_at_{rate}"] = float((backgrounds > t).mean())  # ties (a ReLU'd map's 0s)
            arm_result[f"recall_24_40px_at_{rate}"] = float((faces[small] > t).mean())
            arm_result[f"threshold_at_{rate}"] = t
        peak_faces, peak_free = np.array(peak_faces), np.sort(peak_free)[::-1]
        for fppi in (0.1, 1.0, 3.0):  # peaks outside the faces per photo
            k = int(fppi * len(backgrounds))
            t = peak_free[k] if k < len(peak_free) else -np.inf
            arm_result[f"peak_recall_at_{fppi}_free_peaks_per_photo"] = float((peak_faces > t).mean())
        results[arm] = arm_result
        print(arm, json.dumps(arm_result), flush=True)
    (HERE / "scores.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    torch.set_num_threads(2)
    {"train": train, "score": score}[sys.argv[1]]()
