"""LNet of "Deep Learning Face Attributes in the Wild" (Liu et al., ICCV 2015): a face localizer
learned from image-level tags only.

An ImageNet backbone (EfficientNet-Lite0) gives a feature map; a 1x1 conv of "tag filters" turns
it into one response map per tag; the global average of each map is that tag's logit, trained
with sigmoid BCE against the image's tags. Nothing in the loss sees a box: faces are where the
tag evidence is, so the response maps light up on faces and `lnet_anet.lnet.localizer` turns them
into boxes.

The tags are the 40 attributes and, with `face_tag=True`, one more image-level tag: whether the
image shows a face at all. It lets face-free images (which the paper uses only to set the
threshold) take part in training. Its logit is the max of its map (`face_pool="max"`): only the
most face-like cell has to answer; with it the maps peak on the face far more often than with a
global-average face logit (the ablation: experiments/2026-11-24-lnet-ablations).
`response` picks the map the localizer reads: "attributes", the paper's average of the ReLU'd
attribute maps, or "face", the ReLU'd face map.

Strides: 16 or 32 read the backbone's last used stage through a 1x1 neck; 8 fuses stride-8 and
stride-16 features (a one-level FPN), so boxes of small faces are placed to 8 pixels.

The net is `upper(*lower(x))`: `lower` is the stem and the backbone stages, `upper` the neck and
the tag filters, and the last stage too when `tune_last_stage`. With a fixed lower part, training
needs only its cached maps (lnet_anet.cli.train_lnet, cache_scenes).

With `check=True` the net has a second upper part of the same shape, a neck and one "check"
filter, read from the same lower maps: a face map learnt from real photos (WIDER FACE photos
tagged "a face", the same photos with their faces filled tagged "no face"; image-level tags,
experiments/2026-12-02-lnet-wild). The Predictor drops a face whose region this map gives no
evidence (LNetInput.check_faces): a second opinion that costs a 1x1 neck, not a second backbone.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from lnet_anet.models.backbones import create_backbone
from lnet_anet.models.registry import register_model

# Per output stride: timm's features_only index, the backbone stages used (the later ones are cut)
# and the channels of the last one's output.
_LITE0_STAGES = {8: (3, 5, 112), 16: (3, 5, 112), 32: (4, 7, 320)}
_STRIDE8_STAGE, _STRIDE8_CHANNELS = 2, 40  # blocks[2] of Lite0 ends at stride 8, 40 channels
RESPONSES = ("attributes", "face")


def _conv_bn_act(cin: int, cout: int, k: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU6(inplace=True))  # fmt: skip


class FuseStride8(nn.Module):
    """Stride-16 features upsampled onto stride-8 ones (1x1 laterals, sum, 1x1 conv). Only 1x1
    convs: each cell's tags are read from its own features, so the maps stay as local as the
    backbone's features (a 3x3 conv here spread the face map far beyond the face)."""

    def __init__(self, fine_channels: int, coarse_channels: int, channels: int):
        super().__init__()
        self.fine = nn.Sequential(nn.Conv2d(fine_channels, channels, 1, bias=False), nn.BatchNorm2d(channels))
        self.coarse = nn.Sequential(nn.Conv2d(coarse_channels, channels, 1, bias=False), nn.BatchNorm2d(channels))
        self.mix = _conv_bn_act(channels, channels)

    def forward(self, fine: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(self.coarse(coarse), size=fine.shape[-2:], mode="nearest")
        return self.mix(F.relu6(self.fine(fine) + up))


class LNet(nn.Module):
    """Backbone -> neck -> 1x1 tag filters -> GAP logits.

    forward(x (B,3,H,W)) -> {"logits": (B, A) attribute logits, "response": (B, H', W') the map
    the localizer reads, and "face" (B,) the face tag's logit when face_tag}, H' = ceil(H/stride).
    """

    def __init__(
        self,
        pretrained: str = "package",
        num_attributes: int = 40,
        stride: int = 16,
        neck_channels: int = 256,
        drop_rate: float = 0.1,
        face_tag: bool = False,
        response: str = "attributes",
        tune_last_stage: bool = True,
        face_pool: str = "avg",
        check: bool = False,
    ):
        super().__init__()
        if stride not in _LITE0_STAGES:
            raise ValueError(f"stride must be one of {sorted(_LITE0_STAGES)}, got {stride}")
        if num_attributes < 1:
            raise ValueError(f"num_attributes must be >= 1, got {num_attributes}")
        if response not in RESPONSES or (response == "face" and not face_tag):
            raise ValueError(f"response must be one of {RESPONSES} ('face' needs face_tag), got {response!r}")
        out_index, n_blocks, channels = _LITE0_STAGES[stride]
        self.stride, self.num_attributes = stride, num_attributes
        self.face_tag, self.response = face_tag, response
        self.tune_last_stage = tune_last_stage
        if face_pool not in ("avg", "max"):
            raise ValueError(f"face_pool must be 'avg' or 'max', got {face_pool!r}")
        self.face_pool = face_pool
        self.backbone = create_backbone(pretrained=pretrained, features_only=True, out_indices=(out_index,))
        self.backbone.blocks = self.backbone.blocks[:n_blocks]  # timm runs every stage otherwise
        if stride == 8:
            self.neck = FuseStride8(_STRIDE8_CHANNELS, channels, neck_channels)
            channels = neck_channels
        elif neck_channels > 0:
            # The backbone's last feature is a linear bottleneck; the neck adds a non-linearity so
            # the tag filters are not a purely linear read-out of it.
            self.neck = _conv_bn_act(channels, neck_channels)
            channels = neck_channels
        else:
            self.neck = nn.Identity()
        self.dropout = nn.Dropout2d(drop_rate)
        self.attribute_filters = nn.Conv2d(channels, num_attributes + int(face_tag), 1)
        self.check = check
        if check:  # the second opinion's neck and filter (module docstring), on the same lower maps
            self.check_neck = copy.deepcopy(self.neck)
            self.check_filter = nn.Conv2d(channels, 1, 1)

    def lower(self, x: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(stride-8 map when stride == 8 else None, input of the last stage when
        tune_last_stage else its output)."""
        x = self.backbone.bn1(self.backbone.conv_stem(x))
        fine = None
        stages = self.backbone.blocks[:-1] if self.tune_last_stage else self.backbone.blocks
        for i, stage in enumerate(stages):
            x = stage(x)
            if i == _STRIDE8_STAGE and self.stride == 8:
                fine = x
        return fine, x

    def upper(self, fine: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
        """Tag maps (B, A [+1 face], H', W') from `lower`'s output."""
        if self.tune_last_stage:
            x = self.backbone.blocks[-1](x)
        x = self.neck(fine, x) if self.stride == 8 else self.neck(x)
        return self.attribute_filters(self.dropout(x))

    def check_map(self, fine: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
        """The check map (B, H', W'), ReLU'd, from `lower`'s output (needs check=True)."""
        if self.tune_last_stage:
            x = self.backbone.blocks[-1](x)
        x = self.check_neck(fine, x) if self.stride == 8 else self.check_neck(x)
        return F.relu(self.check_filter(x)[:, 0])

    def attribute_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Per-tag response maps (B, A [+1 face], H', W'); their spatial mean is the logit."""
        return self.upper(*self.lower(x))

    def outputs(self, maps: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = maps.mean(dim=(2, 3))
        attributes = maps[:, : self.num_attributes]
        out = {"logits": logits[:, : self.num_attributes]}
        if self.face_tag:  # max pooling: only the most face-like cell answers, nothing to spread
            out["face"] = maps[:, -1].amax(dim=(1, 2)) if self.face_pool == "max" else logits[:, -1]
        out["response"] = F.relu(maps[:, -1]) if self.response == "face" else F.relu(attributes).mean(dim=1)
        return out

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """outputs() of x (B, 3, H, W), and with check=True also "check": check_map (B, H', W')."""
        if not self.check:
            return self.outputs(self.attribute_maps(x))
        lower = self.lower(x)
        return self.outputs(self.upper(*lower)) | {"check": self.check_map(*lower)}


class LNetUpper(nn.Module):
    """LNet's forward from cached `lower` maps, so the engine trains only the upper part."""

    def __init__(self, lnet: LNet):
        super().__init__()
        self.lnet = lnet

    def forward(self, x: torch.Tensor, fine: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        return self.lnet.outputs(self.lnet.upper(fine, x))


def lnet_loss(model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """Sigmoid BCE of the GAP logits against the image-level tags; never reads batch["box"].

    With a face tag ("face" in the output), the face logit learns batch["has_face"] and the
    attribute loss counts only the images that show a face (a face-free image has no attributes).
    batch["fine"], when present, is the cached stride-8 map for LNetUpper."""
    out = model(batch["image"], batch["fine"]) if "fine" in batch else model(batch["image"])
    logits = out["logits"]
    targets = batch["attributes"].to(logits.dtype)
    if targets.shape != logits.shape:
        raise ValueError(f"attributes {tuple(targets.shape)} do not match logits {tuple(logits.shape)}")
    if "face" not in out:
        loss = F.binary_cross_entropy_with_logits(logits, targets)
        return loss, {"bce": float(loss.detach())}
    has_face = batch["has_face"].to(logits.dtype)
    per_image = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(dim=1)
    attribute_loss = (per_image * has_face).sum() / has_face.sum().clamp(min=1)
    face_loss = F.binary_cross_entropy_with_logits(out["face"], has_face)
    with torch.no_grad():
        face_accuracy = ((out["face"] > 0) == (has_face > 0.5)).float().mean()
    loss = attribute_loss + face_loss
    return loss, {"bce": float(attribute_loss.detach()), "face_bce": float(face_loss.detach()),
                  "face_accuracy": float(face_accuracy)}  # fmt: skip


@register_model
def lnet_lite0(pretrained: str = "package", num_attributes: int = 40, **kwargs) -> LNet:
    """LNet on EfficientNet-Lite0 (ImageNet weights by default); kwargs: stride, neck_channels,
    drop_rate, face_tag, response, tune_last_stage, face_pool, check."""
    return LNet(pretrained=pretrained, num_attributes=num_attributes, **kwargs)


__all__ = ["LNet", "LNetUpper", "lnet_lite0", "lnet_loss"]
