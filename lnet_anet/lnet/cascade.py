"""LNet_o -> LNet_s (Liu et al., ICCV 2015, Sec. 3): a second look at each face the first stage
found.

The first stage (LNet_o) reads the whole image; the region around each face it finds (the head
and shoulders: `context` times the box's longer side, about its centre) is cropped, resized to
the network's input and read again (LNet_s); the second map's best face, mapped back, is the
refined box. The first stage decides *whether* there is a face (its threshold and score stand);
the second only places the box, with its own Localizer settings (box level and box model)
fitted on tune regions (`fit_refiner`). A small face fills more of its region than of the image,
so the second map sees it on more cells. The paper trains LNet_s as a network of its own; here
it is LNet_o's weights read again (`refine` takes any net; bundles record weights: "lnet_o").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lnet_anet.lnet.localizer import (
    Detection,
    Localizer,
    Responses,
    evaluate_localization,
    fit_box_model,
    score_detections,
    score_localization,
)

# (canvases (N, 3, H, W), rois (K, 5)) -> LNet_s's response maps (K, h, w): a RegionGraph.
RegionMaps = Callable[[torch.Tensor, torch.Tensor], "torch.Tensor | np.ndarray"]


def region_crops(images: torch.Tensor, rois: torch.Tensor, size: int) -> torch.Tensor:
    """(K, 3, size, size): the regions rois (K, 5) = (image index, x0, y0, x1, y1) in pixels of
    images (N, 3, H, W), resized by torchvision's roi_align (aligned pixel centres, 2x2 samples
    per output pixel); outside the image is 0."""
    from torchvision.ops import (
        roi_align,  # imported here: torchvision's ops import torch._dynamo (~1 s)
    )

    return roi_align(images, rois.to(images.dtype), size, spatial_scale=1.0, sampling_ratio=2, aligned=True)


@dataclass
class Cascade:
    """The second stage's settings. localizer: LNet_s's (its threshold only has to pass the
    region's best peak); context: region side / the first box's longer side; input_size: the
    side LNet_s reads the region at."""

    localizer: Localizer
    context: float = 2.0
    input_size: int = 224

    def __post_init__(self) -> None:
        if isinstance(self.localizer, dict):  # from JSON
            self.localizer = Localizer(**self.localizer)
        if self.context < 1 or self.input_size < 16:
            raise ValueError(f"cascade needs context >= 1 and input_size >= 16, got {self.context}, {self.input_size}")

    @classmethod
    def from_json(cls, settings: dict) -> Cascade:
        """From a run's cascade.json or a bundle's preprocessing.cascade: its settings, and
        "weights": "lnet_o" (LNet_s is LNet_o's weights; no other kind is stored)."""
        settings = dict(settings)
        if settings.pop("weights", None) != "lnet_o":
            raise ValueError("cascade weights must be 'lnet_o' (LNet_s shares LNet_o's)")
        return cls(**settings)

    def regions(self, boxes: torch.Tensor) -> torch.Tensor:
        """Square regions (N, 4) about the boxes' centres, `context` times their longer side."""
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        half = (boxes[:, 2:] - boxes[:, :2]).amax(dim=1, keepdim=True).clamp(min=1.0) * self.context / 2
        return torch.cat([centre - half, centre + half], dim=1)

    def crops(self, images: torch.Tensor, image_of: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
        """The regions of (normalised) images resized to input_size; outside the image is 0 (the
        mean colour after normalisation)."""
        rois = torch.cat([image_of[:, None].to(images.dtype), regions.to(images.dtype)], dim=1)
        return region_crops(images, rois, self.input_size)

    def second_maps(self, net: torch.nn.Module, images: torch.Tensor, first: Sequence[Sequence[Detection]],
                    region_maps: RegionMaps | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
        """(LNet_s's response maps (N, h, w), regions (N, 4), image of each) for every first-stage
        face: the regions cropped and read by `net`, or by `region_maps` when given (the
        Predictor's inference.graphs.RegionGraph, in torch or ONNX Runtime)."""
        boxes = [torch.as_tensor(np.asarray(b), dtype=torch.float32) for dets in first for b, _ in dets]
        image_of = torch.tensor([i for i, dets in enumerate(first) for _ in dets], dtype=torch.long)
        if not boxes:
            return torch.zeros(0, 1, 1), torch.zeros(0, 4), image_of
        regions = self.regions(torch.stack(boxes))
        if region_maps is not None:
            rois = torch.cat([image_of[:, None].float(), regions], dim=1)
            return torch.as_tensor(region_maps(images, rois)).float().cpu(), regions, image_of
        crops = self.crops(images, image_of.to(images.device), regions.to(images.device))
        return net(crops)["response"].float().cpu(), regions, image_of

    def to_image(self, box: np.ndarray, region: torch.Tensor) -> np.ndarray:
        """A box in region-crop pixels, back in image pixels."""
        scale = float(region[2] - region[0]) / self.input_size
        origin = region[:2].double().repeat(2).numpy()
        return origin + np.asarray(box, np.float64) * scale

    def to_region(self, box: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
        """A box in image pixels, in region-crop pixels (to_image's inverse)."""
        return (box - region[:2].repeat(2)) * (self.input_size / float(region[2] - region[0]))

    @torch.no_grad()
    def refine(self, net: torch.nn.Module | None, images: torch.Tensor, first: Sequence[Sequence[Detection]],
               image_sizes: Sequence[tuple[int, int]] | None = None,
               region_maps: RegionMaps | None = None) -> list[list[Detection]]:  # fmt: skip
        """The first stage's detections of a batch of images with their boxes placed by LNet_s
        (a face whose region holds no peak keeps its first box); clipped to image_sizes when
        given (default: the images' own size). LNet_s is `net` or `region_maps` (second_maps)."""
        maps, regions, _ = self.second_maps(net, images, first, region_maps)
        sizes = image_sizes or [tuple(images.shape[-2:])] * len(first)
        out, k = [], 0
        for dets, (h, w) in zip(first, sizes, strict=True):
            refined = []
            for box, score in dets:
                found = self.localizer(maps[k], self.input_size)
                if found:
                    box = np.clip(self.to_image(found[0][0], regions[k]), 0, [w, h, w, h])
                refined.append((box, score))
                k += 1
            out.append(refined)
        return out


def region_responses(cascade: Cascade, net: torch.nn.Module, loader: Iterable[dict | None], first: Localizer,
                     device: torch.device | str = "cpu") -> Responses:  # fmt: skip
    """LNet_s's maps of the region around the best first-stage face of every image that has one
    (scenes with "image", "box", "has_face"), with the true box in region-crop pixels."""
    maps, boxes = [], []
    net.eval()
    with torch.no_grad():
        for batch in loader:
            if batch is None:
                continue
            images = batch["image"].to(device)
            responses = net(images)["response"].float().cpu()
            size = tuple(images.shape[-2:])
            has_face = batch.get("has_face", torch.ones(len(images))).bool()
            first_faces = [first(r, size)[:1] if f else [] for r, f in zip(responses, has_face, strict=True)]
            second, regions, image_of = cascade.second_maps(net, images, first_faces)
            for m, region, i in zip(second, regions, image_of.tolist(), strict=True):
                maps.append(m)
                boxes.append(cascade.to_region(batch["box"][i].float(), region))
    if not maps:
        raise ValueError("the first stage found no face in the scenes: no region to fit the second stage on")
    n = len(maps)
    return Responses(torch.stack(maps), torch.stack(boxes), torch.ones(n, dtype=torch.bool),
                     [(cascade.input_size, cascade.input_size)] * n)  # fmt: skip


def fit_refiner(regions: Responses, base: Localizer, box_levels: Sequence[float]) -> tuple[Localizer, dict]:
    """LNet_s's Localizer: for each box level, a box model fitted on the tune regions; the one with
    the best recall there. Its threshold is 0 (the region's best peak is the face: the first
    stage has decided that there is one). Returns it and the tune recall of each level."""
    trials = {}
    for level in box_levels:
        candidate = fit_box_model(regions, dataclasses.replace(base, threshold=0.0, box_level=level, box_model=None))
        trials[level] = (candidate, score_localization(regions, candidate))
    best = max(trials, key=lambda lv: (trials[lv][1]["recall"], trials[lv][1]["mean_iou"]))
    return trials[best][0], {str(lv): {k: m[k] for k in ("recall", "mean_iou")} for lv, (_, m) in trials.items()}


@torch.no_grad()
def evaluate_cascade(net: torch.nn.Module, cascade: Cascade, first: Localizer, loader: Iterable[dict | None],
                     device: torch.device | str = "cpu", iou: float = 0.5) -> dict[str, float]:  # fmt: skip
    """score_localization's figures (recall, mean_iou, false_positives_per_image on face scenes,
    empty_image_rate on face-free ones) for the two stages over scenes with "image", "box",
    "has_face"."""
    net.eval()
    found, truth, face = [], [], []
    for batch in loader:
        if batch is None:
            continue
        images = batch["image"].to(device)
        size = tuple(images.shape[-2:])
        first_faces = [first(r, size) for r in net(images)["response"].float().cpu()]
        found += cascade.refine(net, images, first_faces)
        truth += [b.numpy() for b in batch["box"].float()]
        face += batch.get("has_face", torch.ones(len(images))).bool().tolist()
    return score_detections(found, truth, face, iou)


def evaluate_stages(net: torch.nn.Module, first: Localizer, cascade: Cascade | None, loader: Iterable[dict | None],
                    device: torch.device | str = "cpu") -> dict[str, float]:  # fmt: skip
    """The figures of what the predictor runs: both stages when there is a cascade, else LNet_o
    alone (score_localization's figures); "stages" says which."""
    if cascade is None:
        return {**evaluate_localization(net, loader, device, localizer=first), "stages": 1}
    return {**evaluate_cascade(net, cascade, first, loader, device), "stages": 2}


__all__ = ["Cascade", "RegionMaps", "region_crops", "evaluate_cascade", "evaluate_stages", "fit_refiner", "region_responses"]
