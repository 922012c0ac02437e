"""LNet of "Deep Learning Face Attributes in the Wild" (Liu et al., ICCV 2015): a face localizer
learned from image-level attribute tags only.

An ImageNet backbone (EfficientNet-Lite0) gives a stride-16 (or 32) feature map; a 1x1 conv of
`num_attributes` "attribute filters" turns it into one response map per attribute; global average
pooling of each map is that attribute's logit, trained with sigmoid BCE against the image's tags.
Nothing in the loss sees a box: faces are where the attribute evidence is, so the average of the
ReLU'd attribute maps (the paper's averaged response map) lights up on faces, and
`lnet_anet.localization` turns it into boxes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from lnet_anet.models.backbones import create_backbone
from lnet_anet.models.registry import register_model

# features_only out_index of tf_efficientnet_lite0 for each output stride, its channels and the
# number of `blocks` stages that feed it (the later stages are cut: timm runs them all otherwise).
_LITE0_STAGES = {16: (3, 112, 5), 32: (4, 320, 7)}


class LNet(nn.Module):
    """Backbone -> [1x1 conv neck] -> 1x1 attribute filters -> GAP logits.

    forward(x (B,3,H,W)) -> {"logits": (B, A), "response": (B, H', W')} where H' = ceil(H/stride);
    "response" is the mean over the A attribute maps of their ReLU'd values.
    """

    def __init__(
        self,
        pretrained: str = "package",
        num_attributes: int = 40,
        stride: int = 16,
        neck_channels: int = 256,
        drop_rate: float = 0.1,
    ):
        super().__init__()
        if stride not in _LITE0_STAGES:
            raise ValueError(f"stride must be one of {sorted(_LITE0_STAGES)}, got {stride}")
        if num_attributes < 1:
            raise ValueError(f"num_attributes must be >= 1, got {num_attributes}")
        out_index, channels, n_blocks = _LITE0_STAGES[stride]
        self.stride = stride
        self.num_attributes = num_attributes
        self.backbone = create_backbone(
            pretrained=pretrained, features_only=True, out_indices=(out_index,)
        )
        self.backbone.blocks = self.backbone.blocks[:n_blocks]
        # The backbone's last feature is a linear bottleneck; a small neck adds a non-linearity
        # so the attribute filters are not a purely linear read-out of it.
        if neck_channels > 0:
            self.neck = nn.Sequential(
                nn.Conv2d(channels, neck_channels, 1, bias=False),
                nn.BatchNorm2d(neck_channels),
                nn.ReLU6(inplace=True),
            )
            channels = neck_channels
        else:
            self.neck = nn.Identity()
        self.dropout = nn.Dropout2d(drop_rate)
        self.attribute_filters = nn.Conv2d(channels, num_attributes, 1)

    def attribute_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Per-attribute response maps (B, A, H', W'); their spatial mean is the logit."""
        features = self.backbone(x)[-1]
        return self.attribute_filters(self.dropout(self.neck(features)))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        maps = self.attribute_maps(x)
        return {"logits": maps.mean(dim=(2, 3)), "response": F.relu(maps).mean(dim=1)}


def lnet_loss(model: nn.Module, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """Sigmoid BCE of the GAP logits against the image-level tags; never reads batch["box"]."""
    logits = model(batch["image"])["logits"]
    targets = batch["attributes"].to(logits.dtype)
    if targets.shape != logits.shape:
        raise ValueError(
            f"attributes {tuple(targets.shape)} do not match logits {tuple(logits.shape)}"
        )
    loss = F.binary_cross_entropy_with_logits(logits, targets)
    return loss, {"bce": float(loss.detach())}


@register_model
def lnet_lite0(pretrained: str = "package", num_attributes: int = 40, **kwargs) -> LNet:
    """LNet on EfficientNet-Lite0 (ImageNet weights by default); kwargs: stride, neck_channels,
    drop_rate."""
    return LNet(pretrained=pretrained, num_attributes=num_attributes, **kwargs)


__all__ = ["LNet", "lnet_lite0", "lnet_loss"]
