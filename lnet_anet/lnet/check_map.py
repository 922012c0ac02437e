"""LNet's check map (LNet(check=True)): a second face map learnt from real photos with
image-level tags only, which the Predictor reads to drop faces without evidence in it
(preprocessing.lnet.check_faces; experiments/2026-12-02-lnet-wild).

What the network learns from, with the face tag max-pooled over its map as LNet's face tag is:
- each photo, letterboxed on LNet's canvas as the Predictor places a photo at scale 1, and its
  mirror image: "a face";
- the same photo with every listed face filled with the photo's mean colour (fill_faces): "no
  face". Negatives at the positives' own scale and padding: face-free crops enlarged to the canvas
  taught a map to tell the kind of picture, not the face (the study's round 3);
- optionally the composed scenes LNet learnt from, with their tags (they keep close-up faces in).

The boxes choose the pixels to fill; the loss never reads a box. The lower part is fixed (its maps
are cached); a copy of the upper part (neck and tag filters) trains from the bundle's weights, and
its neck and face filter become the check map's, scaled so that the photos' median peak is the
bundle's face map's (the check map's units then match the score's).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import ConcatDataset, Dataset

from lnet_anet.data.images import ImageReadError, load_image
from lnet_anet.lnet.multiscale import place
from lnet_anet.lnet.training import CachedScenes, cache_scenes
from lnet_anet.models.lnet import LNet, LNetUpper

FILL_GROW = 0.25  # each listed face is filled grown by this share of its size on every side


def fill_faces(image: np.ndarray, boxes: np.ndarray, grow: float = FILL_GROW) -> np.ndarray:
    """A copy of `image` (H, W, 3) uint8 with every box ((k, 4) x0, y0, x1, y1 pixels) grown by
    `grow` of its size on each side and filled with the image's mean colour."""
    out = image.copy()
    fill = image.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    h, w = image.shape[:2]
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
        dx, dy = grow * (x1 - x0), grow * (y1 - y0)
        out[max(0, int(y0 - dy)) : min(h, int(np.ceil(y1 + dy))), max(0, int(x0 - dx)) : min(w, int(np.ceil(x1 + dx)))] = fill
    return out


class TaggedPhotos(Dataset):
    """Photos on LNet's canvas with one image-level tag: as they are ("a face", has_face 1) or
    with their listed faces filled (`filled`: "no face", has_face 0); each also mirrored. Items as
    ComposedScenes' (image (3, H, W) normalised with mean / std, has_face, attributes (unknown:
    zeros; attributes_known 0), box zeros); an unreadable photo is reported on stderr and skipped
    (None, for collate_skip_bad)."""

    def __init__(self, paths: list[str], boxes: list[np.ndarray], filled: bool, mean, std, num_attributes: int,
                 input_size: tuple[int, int] = (224, 224)):  # fmt: skip
        self.items = [(p, b, m) for p, b in zip(paths, boxes, strict=True) for m in (False, True)]
        self.filled, self.input_size, self.num_attributes = filled, tuple(input_size), num_attributes
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict | None:
        path, boxes, mirror = self.items[i]
        try:
            image = load_image(path)
        except ImageReadError as e:
            if not mirror and not self.filled:  # said once per photo
                print(f"check map: {e}: skipped", file=sys.stderr)
            return None
        if self.filled:
            image = fill_faces(image, boxes)
        if mirror:
            image = np.ascontiguousarray(image[:, ::-1])
        canvas, _ = place(image, self.input_size)
        x = (canvas.astype(np.float32) / 255 - self.mean) / self.std
        return {"image": torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))),
                "has_face": torch.tensor(0.0 if self.filled else 1.0), "attributes": torch.zeros(self.num_attributes),
                "attributes_known": torch.tensor(0.0), "box": torch.zeros(4)}  # fmt: skip


def check_loss(model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """LNet's loss (models.lnet.lnet_loss) with the attribute loss only where the attributes are
    known (batch["attributes_known"]: the composed scenes, not the photos)."""
    out = model(batch["image"], batch.get("fine"))
    known = batch["has_face"] * batch["attributes_known"]
    per_image = F.binary_cross_entropy_with_logits(out["logits"], batch["attributes"], reduction="none").mean(dim=1)
    attribute_loss = (per_image * known).sum() / known.sum().clamp(min=1)
    face_loss = F.binary_cross_entropy_with_logits(out["face"], batch["has_face"])
    with torch.no_grad():
        accuracy = ((out["face"] > 0) == (batch["has_face"] > 0.5)).float().mean()
    return attribute_loss + face_loss, {"bce": float(attribute_loss.detach()), "face_bce": float(face_loss.detach()),
                                        "face_accuracy": float(accuracy)}  # fmt: skip


def _cached(arrays: dict[str, np.ndarray], known: float) -> CachedScenes:
    arrays = dict(arrays)
    arrays["attributes_known"] = np.full(len(arrays["image"]), known, np.float32)
    return CachedScenes(arrays)


@torch.no_grad()
def median_peak(lnet: LNet, arrays: dict[str, np.ndarray]) -> float:
    """The median over cached photos of the face map's peak (ReLU'd), from `lower`'s maps."""
    lnet.eval()
    fine = torch.from_numpy(arrays["fine"]).float() if "fine" in arrays else None
    maps = lnet.upper(fine, torch.from_numpy(arrays["image"]).float())
    return float(np.median(F.relu(maps[:, -1]).amax(dim=(1, 2)).numpy()))


def train_check_map(lnet: LNet, photos: list[str], boxes: list[np.ndarray], work: Path, normalize: tuple,
                    composed: Dataset | None = None, epochs: int = 4, lr: float = 1e-3, batch_size: int = 64,
                    threads: int | None = None) -> tuple[dict[str, torch.Tensor], float, int]:  # fmt: skip
    """The check map learnt from `photos` (their listed faces `boxes`, (k, 4) pixels each) and,
    optionally, `composed` scenes (lnet.training.scenes), from `lnet`'s weights (it is not changed).
    normalize: LNet's (mean, std). The lower part's maps are cached in `work` (photos.npz,
    filled.npz, composed.npz: reused when there) and the training's checkpoints go to
    work/train (a killed run resumes). Photos and filled photos are repeated to about half the
    samples when composed scenes are given. Returns (the state of LNet(check=True)'s check_neck.*
    and check_filter.*; the ratio the face filter was divided by: the trained map's median peak
    over the photos / lnet's; the number of photos read). Raises ValueError when no photo can be
    read, or when lnet has no face tag (face_tag=True: the check map is the face tag's map)."""
    from lnet_anet.engine import TrainConfig, Trainer

    if not lnet.face_tag:
        raise ValueError("the bundle's LNet has no face tag (LNet's face_tag=True), whose map the check map learns")
    work.mkdir(parents=True, exist_ok=True)
    mean, std = normalize
    base = copy.deepcopy(lnet).eval()
    n_attributes = base.num_attributes
    photo_maps = cache_scenes(base, TaggedPhotos(photos, boxes, False, mean, std, n_attributes), work / "photos.npz", 0)
    if not len(photo_maps.get("image", ())):
        raise ValueError(f"none of the {len(photos)} photos could be read")
    filled_maps = cache_scenes(base, TaggedPhotos(photos, boxes, True, mean, std, n_attributes), work / "filled.npz", 0)
    tagged = [_cached(photo_maps, 0.0), _cached(filled_maps, 0.0)]
    parts: list[Dataset] = tagged
    if composed is not None:
        scenes = _cached(cache_scenes(base, composed, work / "composed.npz", 0), 1.0)
        repeat = max(1, round(len(scenes) / sum(len(t) for t in tagged)))
        parts = [scenes, *(tagged * repeat)]
    trained = copy.deepcopy(lnet)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, warmup_steps=50,
                         num_threads=threads, num_workers=0)  # fmt: skip
    Trainer(LNetUpper(trained), check_loss, ConcatDataset(parts), config, work / "train").fit()
    ratio = median_peak(trained, photo_maps) / max(median_peak(base, photo_maps), 1e-12)
    state = {"check_" + k: v.clone() for k, v in trained.state_dict().items() if k.startswith("neck.")}
    state["check_filter.weight"] = trained.attribute_filters.weight[-1:].detach().clone() / ratio
    state["check_filter.bias"] = trained.attribute_filters.bias[-1:].detach().clone() / ratio
    return state, ratio, len(photo_maps["image"]) // 2  # each photo cached with its mirror image


def with_check_map(lnet: LNet, state: dict[str, torch.Tensor], model: str, kwargs: dict) -> LNet:
    """`lnet` built again as the registry's `model`(**kwargs, check=True) (a bundle's
    nets.lnet), with lnet's own weights and `state`'s check map (train_check_map)."""
    from lnet_anet.models.registry import create_model

    checked = create_model(model, **{**kwargs, "check": True})
    own = {k: v for k, v in lnet.state_dict().items() if not k.startswith("check_")}
    checked.load_state_dict(own | state)
    return checked.eval()


__all__ = ["FILL_GROW", "TaggedPhotos", "check_loss", "fill_faces", "median_peak", "train_check_map", "with_check_map"]
