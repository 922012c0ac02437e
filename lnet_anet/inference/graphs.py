"""The three computations a Predictor runs, each one module of plain tensors in and out, so that
the same module runs in torch or, exported once, in ONNX Runtime (lnet_anet.inference.runtime).

  LNetGraph     canvases (N, H, W, 3) -> LNet's averaged response maps (N, h, w)
  RegionGraph   LNet_s (Liu et al., ICCV 2015, Sec. 3): canvases (N, H, W, 3) and regions
                (K, 5) = (canvas index, x0, y0, x1, y1) in canvas pixels -> the regions cut out
                (torchvision's roi_align, aligned) at the cascade's input size and read by
                LNet: response maps (K, h', w')
  FaceGraph     the face crops of a batch -> ANet's patch features (N, patches, D) and the
                mean and std (N,) of each age / attractiveness head's label distribution
                (DLDL-v2's expectation); the ANet trunk stages a head shares with ANet
                (fuse.shared_trunk_stages) run once for both ("interweaved")

Images go in as they are cut: uint8 RGB, (N, H, W, 3); each graph normalises them with the
bundle's mean/std (data.preprocess.Normalize: (x / 255 - mean) / std) as its first step, which
ONNX Runtime does faster than numpy. rois are float32; boxes are pixels with exclusive ends,
origin top-left.
"""

from __future__ import annotations

import torch
from torch import nn

from lnet_anet.data.preprocess import ANetInput, HeadInput, Normalize
from lnet_anet.dldl.label_distribution import mixture_logits


class Normalized(nn.Module):
    """uint8 RGB (N, H, W, 3) -> float32 (N, 3, H, W): (x / 255 - mean) / std per channel, as
    data.preprocess.Normalize does for one image."""

    def __init__(self, normalize: Normalize):
        super().__init__()
        self.register_buffer("mean", torch.tensor(normalize.mean, dtype=torch.float32).view(1, 3, 1, 1) * 255)
        self.register_buffer("std", torch.tensor(normalize.std, dtype=torch.float32).view(1, 3, 1, 1) * 255)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return (images.permute(0, 3, 1, 2).float() - self.mean) / self.std


class LNetGraph(nn.Module):
    """canvases (N, H, W, 3) uint8 -> response (N, h, w), float32; and the check map (N, h, w)
    too when the LNet has one (LNet's check=True: output_names has "check")."""

    input_names = ("canvases",)

    def __init__(self, lnet: nn.Module, normalize: Normalize):
        super().__init__()
        self.lnet, self.normalize = lnet, Normalized(normalize)
        self.output_names = ("response", "check") if getattr(lnet, "check", False) else ("response",)

    def forward(self, canvases: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out = self.lnet(self.normalize(canvases))
        if "check" in out:
            return out["response"].float(), out["check"].float()
        return out["response"].float()


class RegionGraph(nn.Module):
    """LNet_s on regions of the canvases: (canvases (N, H, W, 3) uint8, rois (K, 5)) ->
    (K, h', w'); outside a canvas is 0 after normalisation (the mean colour)."""

    input_names = ("canvases", "rois")
    output_names = ("response",)

    def __init__(self, lnet: nn.Module, input_size: int, normalize: Normalize):
        super().__init__()
        self.lnet, self.input_size, self.normalize = lnet, int(input_size), Normalized(normalize)

    def forward(self, canvases: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        from lnet_anet.lnet.cascade import region_crops

        return self.lnet(region_crops(self.normalize(canvases), rois, self.input_size))["response"].float()


class FaceGraph(nn.Module):
    """(ANet's crops (N, S, S, 3) uint8, then one crop batch per head that reads its own crop) ->
    (features (N, patches [x2 with the mirror image], D), then per head its mean and std (N,)
    in the head's units: years, or the 1-5 attractiveness scale).

    heads: {name: (net, HeadInput)} in output order. A head reads ANet's patch-averaged feature
    (HeadInput.reads_anet_features), or ANet's trunk maps after the first k stages it shares
    with ANet (an ANetDLDL, or an ensemble of them, reading ANet's crop: shared_stages[name] = k
    >= 1; the stages are computed once, each head taking the map at its own depth), or its own
    crop (k = 0; with ANet's mirror views on, that crop's mirror image too, the two predicted
    distributions averaged). shared_stages: {name: k}, or one k for every head that reads a crop."""

    def __init__(self, anet: nn.Module, anet_input: ANetInput, heads: dict[str, tuple[nn.Module, HeadInput]],
                 shared_stages: int | dict[str, int] = 0):  # fmt: skip
        super().__init__()
        self.anet, self.anet_input = anet, anet_input
        self.heads = nn.ModuleDict({name: net for name, (net, _) in heads.items()})
        self.head_inputs = {name: prep for name, (_, prep) in heads.items()}
        crop_heads = [n for n, p in self.head_inputs.items() if not p.reads_anet_features]
        depth = shared_stages if isinstance(shared_stages, dict) else dict.fromkeys(crop_heads, shared_stages)
        self.shared_stages = {n: int(depth.get(n, 0)) for n in crop_heads}
        self.cuts = sorted({k for k in self.shared_stages.values() if k})  # where ANet's trunk pass is cut
        self.normalize = Normalized(anet_input.normalize)
        size = anet_input.canonical_size
        self.grid = anet.patch_grid(size, size, anet_input.stride)  # validates the sizes
        self.own_crop = [n for n in crop_heads if not self.shared_stages[n]]
        self.input_names = ("anet_crops", *(f"{n}_crops" for n in self.own_crop))
        self.head_normalize = nn.ModuleDict({n: Normalized(self.head_inputs[n].normalize) for n in self.own_crop})
        self.output_names = ("features", *(f"{n}_{v}" for n in self.head_inputs for v in ("mean", "std")))

    def forward(self, crops: torch.Tensor, *head_crops: torch.Tensor) -> tuple[torch.Tensor, ...]:
        anet, p = self.anet, self.anet_input
        crops = self.normalize(crops)
        views = torch.stack([crops, crops.flip(-1)], 1).flatten(0, 1) if p.mirror else crops
        maps, trunk, done = {}, views, 0  # the trunk's maps after each cut, computed once
        for k in self.cuts:
            trunk = maps[k] = anet.trunk.forward_stages(trunk, done, k)
            done = k
        trunk = anet.trunk.forward_stages(trunk, done) if done else anet.trunk(views)
        features = anet.dense_features_from_trunk(trunk, p.stride, self.grid)  # (V, nY, nX, D)
        features = features.reshape(crops.shape[0], -1, anet.feature_dim)
        own = dict(zip(self.own_crop, head_crops, strict=True))
        outputs = [features.float()]
        for name, prep in self.head_inputs.items():
            net, k = self.heads[name], self.shared_stages.get(name, 0)
            if prep.reads_anet_features:
                logits = net(features.mean(1))["logits"]
            elif k:  # an ANetDLDL (or an ensemble of them) on the maps of ANet's crops (same crop)
                if p.mirror and net.mirror:  # crops and mirror images in one pass
                    logits = net.dense_logits_from_pairs(maps[k], stage=k)
                else:
                    logits = net.dense_logits_from_trunk(maps[k][0::2] if p.mirror else maps[k], stage=k)
            else:
                x = self.head_normalize[name](own[name])
                if p.mirror:  # the crop and its mirror image in one batch, their distributions averaged
                    logits = mixture_logits(net(torch.cat([x, x.flip(-1)]))["logits"].chunk(2))
                else:
                    logits = net(x)["logits"]
            pred = net.head.predict(logits.float())
            outputs += [pred["mean"].float(), pred["std"].float()]
        return tuple(outputs)


__all__ = ["FaceGraph", "LNetGraph", "RegionGraph"]
