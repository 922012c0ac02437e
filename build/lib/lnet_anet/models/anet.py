"""ANet: the attribute network of "Deep Learning Face Attributes in the Wild" (ICCV 2015).

Layout (for patch_size P = 128; sizes are the maps' side lengths):
  trunk  "C1, C2": stem + blocks 0-2 of tf_efficientnet_lite0 (ImageNet weights), every padding
         removed, skips centre-cropped -> 40 ch, stride 8, exactly translation-equivariant on
         offsets that are multiples of 8.            128 -> 63 -> 61 -> 30 -> 28 -> 12 -> 8
  C3     locally shared 3x3 valid conv, 40 -> 96, BN, ReLU     8 -> 6   (grid cells, e.g. 2x2)
  C4     locally shared 3x3 valid conv, 96 -> 128, BN, ReLU    6 -> 4
  FC     flatten (128*4*4) -> feature_dim, ReLU = "the feature" the attribute SVMs use
  heads  attribute_head (logits for a sigmoid) and optional identity_head (pre-training).
No pooling above the trunk, so dense strides are multiples of 8 (`ANet.stride`).

Dense ("interweaved") forward: features of every P x P patch of a larger image at offsets
(0, s, 2s, ...) in both axes come from ONE trunk pass over the whole image; C3 runs each cell's
filter as a global convolution over the trunk map and each patch's C3 output is gathered from the
responses of the cells its positions belong to; C4 and FC then run batched over the patches.
This equals `forward` on each crop (eval mode, BatchNorm running statistics).

Inputs are normalised with lnet_anet.data.preprocess.INCEPTION_MEAN / INCEPTION_STD.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lnet_anet.data.preprocess import INCEPTION_MEAN, INCEPTION_STD
from lnet_anet.models.backbones import PACKAGE_MODEL, create_backbone
from lnet_anet.models.layers import LocallySharedConv2d, gather_cell_responses
from lnet_anet.models.registry import register_model

TRUNK_BLOCKS = 3  # blocks 0..2 of EfficientNet-Lite0 end at stride 8 with 40 channels
TRUNK_STRIDE = 8
TRUNK_CHANNELS = 40
# Forward order of the children of timm's EfficientNet blocks (the ones Lite0 uses).
_BLOCK_ORDER = {
    "DepthwiseSeparableConv": ("conv_dw", "bn1", "aa", "se", "conv_pw", "bn2"),
    "InvertedResidual": ("conv_pw", "bn1", "conv_dw", "bn2", "aa", "se", "conv_pwl", "bn3"),
}


def _unpadded(module: nn.Module) -> nn.Module:
    """A plain, unpadded copy of a conv (timm's Conv2dSame pads in forward: replaced too)."""
    if not isinstance(module, nn.Conv2d):
        return module
    conv = nn.Conv2d(
        module.in_channels, module.out_channels, module.kernel_size, module.stride,
        padding=0, dilation=module.dilation, groups=module.groups, bias=module.bias is not None,
    )  # fmt: skip
    with torch.no_grad():
        conv.weight.copy_(module.weight)
        if module.bias is not None:
            conv.bias.copy_(module.bias)
    return conv


def center_crop(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    dy, dx = x.shape[-2] - size[0], x.shape[-1] - size[1]
    if dy < 0 or dx < 0 or dy % 2 or dx % 2:
        raise ValueError(f"cannot centre-crop {tuple(x.shape[-2:])} to {tuple(size)}")
    return x[..., dy // 2 : dy // 2 + size[0], dx // 2 : dx // 2 + size[1]]


class ValidBlock(nn.Module):
    """A timm EfficientNet block with unpadded convs; a residual skip is centre-cropped to the
    shrunken main path. Children keep the block's names, so timm's weight keys still apply."""

    def __init__(self, block: nn.Module):
        super().__init__()
        kind = type(block).__name__
        if kind not in _BLOCK_ORDER:
            raise TypeError(f"ValidBlock supports {sorted(_BLOCK_ORDER)}, not {kind}")
        if getattr(block, "conv_s2d", None) is not None:
            raise TypeError(f"{kind} with a space-to-depth stem is not supported")
        for name, child in block.named_children():
            self.add_module(name, _unpadded(child))
        self.order = _BLOCK_ORDER[kind]
        self.has_skip = bool(block.has_skip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for name in self.order:
            y = getattr(self, name)(y)
        if self.has_skip:
            y = self.drop_path(y) + center_crop(x, y.shape[-2:])
        return y


class ValidTrunk(nn.Module):
    """Stem and the first TRUNK_BLOCKS stages of a timm tf_efficientnet_lite0, all unpadded.

    State-dict keys equal timm's (conv_stem.*, bn1.*, blocks.i.j.*), a subset of the full model's.
    """

    stride = TRUNK_STRIDE
    out_channels = TRUNK_CHANNELS

    def __init__(self, efficientnet: nn.Module):
        super().__init__()
        self.conv_stem = _unpadded(efficientnet.conv_stem)
        self.bn1 = efficientnet.bn1
        self.blocks = nn.Sequential(
            *[nn.Sequential(*[ValidBlock(b) for b in stage])
              for stage in efficientnet.blocks[:TRUNK_BLOCKS]]
        )  # fmt: skip

    num_stages = 1 + TRUNK_BLOCKS  # stage 0: stem conv + BN; stage i: blocks[i - 1]

    def stage_modules(self, n: int) -> list[nn.Module]:
        """The modules of the first n stages, input side first."""
        if not 0 <= n <= self.num_stages:
            raise ValueError(f"the trunk has {self.num_stages} stages, cannot take {n}")
        stem = [self.conv_stem, self.bn1] if n >= 1 else []
        return stem + list(self.blocks[: max(n - 1, 0)])

    def output_size(self, n: int, stages: int | None = None) -> int:
        """Side of the map after the first `stages` stages (all by default) for an input side n
        (valid convs: n -> (n - k) // s + 1)."""
        for m in self.stage_modules(self.num_stages if stages is None else stages):
            for conv in m.modules():
                if isinstance(conv, nn.Conv2d):
                    n = (n - conv.kernel_size[0]) // conv.stride[0] + 1
        return n

    def forward_stages(
        self, x: torch.Tensor, start: int = 0, stop: int | None = None
    ) -> torch.Tensor:
        """Stages start..stop-1: e.g. (x, 0, 3) gives the map a cache can hold below a trainable
        block 2, and (that map, 3) finishes the trunk."""
        stop = self.num_stages if stop is None else stop
        if not 0 <= start <= stop <= self.num_stages:
            raise ValueError(
                f"the trunk has stages 0..{self.num_stages - 1}, cannot run {start}..{stop - 1}"
            )
        # oneDNN's depthwise and 1x1 convs run faster on CPU in channels-last layout (benchmarks/bench_predict.py).
        x = x.contiguous(memory_format=torch.channels_last)
        if start == 0 and stop > 0:
            x = self.bn1(self.conv_stem(x))
        for block in self.blocks[max(start - 1, 0) : max(stop - 1, 0)]:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_stages(x)


def build_valid_trunk(pretrained: str = "package") -> ValidTrunk:
    """The unpadded trunk with tf_efficientnet_lite0's ImageNet weights (see backbones)."""
    return ValidTrunk(create_backbone(PACKAGE_MODEL, pretrained=pretrained))


class ANet(nn.Module):
    """Attribute network on P x P face patches (see the module docstring for the layout).

    forward(x (B, 3, P, P) normalised) -> {"features" (B, feature_dim), "attributes"
    (B, num_attributes) logits, "identity" (B, num_identities) logits when that head exists}.
    local=False uses plain convs for C3/C4 (the ablation); `grid` is unused then. With the same
    seed both variants start with identical weights (the local layers copy the plain conv).
    frozen_stages=n fixes the first n of the trunk's 4 stages (stem, blocks 0, 1, 2): no
    gradients, BatchNorm always on its ImageNet statistics. The stem and blocks 0-1 run on the
    large 61x61 and 30x30 maps and dominate the CPU cost of a training step, so n=3 (only
    block 2 of the trunk trains) or n=4 (the whole trunk fixed) make training several times
    cheaper; see benchmarks/bench_anet_dense.py for measured figures.
    """

    stride = TRUNK_STRIDE

    def __init__(
        self,
        trunk: ValidTrunk,
        patch_size: int = 128,
        grid: tuple[int, int] = (2, 2),
        local: bool = True,
        c3_channels: int = 96,
        c4_channels: int = 128,
        feature_dim: int = 256,
        num_attributes: int = 40,
        num_identities: int = 0,
        drop_rate: float = 0.0,
        frozen_stages: int = 0,
    ):
        super().__init__()
        side = trunk.output_size(patch_size)
        if side < 5:
            raise ValueError(
                f"patch_size {patch_size} gives a {side}x{side} trunk map; C3 and C4 (two 3x3 "
                "valid convs) need at least 5x5: use patch_size >= 102 (128 is the default)"
            )
        self.trunk, self.patch_size, self.local = trunk, int(patch_size), bool(local)
        self.frozen_stages = int(frozen_stages)
        self._frozen = trunk.stage_modules(self.frozen_stages)  # validates the count
        for m in self._frozen:
            m.requires_grad_(False)
            m.eval()
        self.grid = tuple(grid) if local else (1, 1)
        self.feature_dim = feature_dim
        # BatchNorm follows each conv, so the convs carry no bias.
        c3 = nn.Conv2d(trunk.out_channels, c3_channels, 3, bias=False)
        c4 = nn.Conv2d(c3_channels, c4_channels, 3, bias=False)
        if local:
            c3 = LocallySharedConv2d.from_conv(c3, grid, (side, side))
            c4 = LocallySharedConv2d.from_conv(c4, grid, (side - 2, side - 2))
        self.c3, self.bn3 = c3, nn.BatchNorm2d(c3_channels)
        self.c4, self.bn4 = c4, nn.BatchNorm2d(c4_channels)
        self.c3_size = side - 2  # C3 output side per patch
        self.fc = nn.Linear(c4_channels * (side - 4) ** 2, feature_dim)
        self.drop = nn.Dropout(drop_rate)
        # num_attributes=0: no attribute head (a net whose feature feeds another head, e.g. age)
        self.attribute_head = nn.Linear(feature_dim, num_attributes) if num_attributes > 0 else None
        self.identity_head = nn.Linear(feature_dim, num_identities) if num_identities > 0 else None

    def train(self, mode: bool = True) -> ANet:
        super().train(mode)
        for m in self._frozen:  # frozen stages keep their ImageNet BatchNorm statistics
            m.eval()
        return self

    # -- per-patch forward -------------------------------------------------------------------
    def _above_c3(self, c3_out: torch.Tensor) -> torch.Tensor:
        """C3's raw output (N, c3, s, s) -> features (N, feature_dim); shared by both forwards."""
        x = F.relu(self.bn3(c3_out))
        x = F.relu(self.bn4(self.c4(x)))
        return F.relu(self.fc(x.flatten(1)))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        p = self.patch_size
        if x.dim() != 4 or tuple(x.shape[1:]) != (3, p, p):
            raise ValueError(f"ANet expects patches (B, 3, {p}, {p}), got {tuple(x.shape)}")
        return self._above_c3(self.c3(self.trunk(x)))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self._heads(self.forward_features(x))

    def forward_from_trunk(
        self, trunk_map: torch.Tensor, stage: int | None = None
    ) -> dict[str, torch.Tensor]:
        """`forward` from the patches' map after the trunk's first `stage` stages (default: the
        whole trunk, (B, 40, s, s)): the maps of the frozen stages are computed once and reused
        every epoch, and only the stages above them run in training."""
        return self._heads(self._above_c3(self.c3(self._finish_trunk(trunk_map, stage))))

    def _finish_trunk(self, stage_map: torch.Tensor, stage: int | None) -> torch.Tensor:
        return stage_map if stage is None else self.trunk.forward_stages(stage_map, stage)

    def _heads(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        dropped = self.drop(features)
        out = {"features": features}
        if self.attribute_head is not None:
            out["attributes"] = self.attribute_head(dropped)
        if self.identity_head is not None:
            out["identity"] = self.identity_head(dropped)
        return out

    # -- dense forward -----------------------------------------------------------------------
    def patch_grid(self, height: int, width: int, stride: int) -> tuple[int, int]:
        """(nY, nX): patches at offsets 0, stride, 2*stride, ... that fit in height x width."""
        p = self.patch_size
        if stride <= 0 or stride % self.stride:
            raise ValueError(
                f"dense stride must be a positive multiple of ANet's stride {self.stride}, "
                f"got {stride}"
            )
        if height < p or width < p:
            raise ValueError(f"image {height}x{width} is smaller than the {p}x{p} patch")
        return (height - p) // stride + 1, (width - p) // stride + 1

    def dense_features(self, image: torch.Tensor, stride: int) -> torch.Tensor:
        """Features of every P x P patch at offsets (0, stride, 2*stride, ...) in both axes.

        image (B, 3, H, W) normalised, H, W >= patch_size; stride a multiple of `ANet.stride`.
        Returns (B, nY, nX, feature_dim): [b, i, j] is forward_features of
        image[b, :, i*stride : i*stride + P, j*stride : j*stride + P]. Needs eval mode
        (BatchNorm on running statistics), else the two would differ.
        """
        if self.training:
            raise RuntimeError(
                "dense_features needs eval mode (call model.eval()): with batch statistics "
                "BatchNorm would make it differ from the per-patch forward"
            )
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"dense_features expects (B, 3, H, W), got {tuple(image.shape)}")
        ny, nx = self.patch_grid(image.shape[2], image.shape[3], stride)
        return self.dense_features_from_trunk(self.trunk(image), stride, (ny, nx))

    def dense_features_from_trunk(self, trunk_map: torch.Tensor, stride: int,
                                  grid: tuple[int, int] | None = None, stage: int | None = None) -> torch.Tensor:  # fmt: skip
        """dense_features given the trunk's output over the whole image (B, 40, h', w'), or the
        map after its first `stage` stages."""
        trunk_map = self._finish_trunk(trunk_map, stage)
        b = trunk_map.shape[0]
        if grid is None:  # patches whose trunk window fits in the map
            side = self.c3_size + 2
            step_ = stride // self.stride
            grid = ((trunk_map.shape[2] - side) // step_ + 1, (trunk_map.shape[3] - side) // step_ + 1)
        ny, nx = grid
        if isinstance(self.c3, LocallySharedConv2d):
            responses = self.c3.forward_all_cells(trunk_map)
            cell_map = self.c3.cell_index_map()
        else:
            responses = self.c3(trunk_map).unsqueeze(1)  # one cell: a plain conv
            cell_map = torch.zeros(self.c3_size, self.c3_size, dtype=torch.long)
        step = stride // self.stride  # patch offset in trunk-map pixels
        dev = trunk_map.device
        per_patch = gather_cell_responses(
            responses, cell_map,
            torch.arange(ny, device=dev) * step, torch.arange(nx, device=dev) * step,
        )  # fmt: skip
        features = self._above_c3(per_patch.flatten(0, 2))
        return features.view(b, ny, nx, self.feature_dim)

    @torch.no_grad()
    def patch_features(
        self,
        image: np.ndarray,
        box: tuple[float, float, float, float] | np.ndarray,
        enlarge: float = 1.2,
        size: int = 160,
        stride: int = 16,
        mirror: bool = False,
        mean: tuple[float, float, float] = INCEPTION_MEAN,
        std: tuple[float, float, float] = INCEPTION_STD,
    ) -> torch.Tensor:
        """Features of the patches of one face: (nPatches, feature_dim), on the model's device;
        mirror=True appends the patches of the crop's mirror image (2 * nPatches rows).

        image: uint8 RGB (H, W, 3) as read_image returns. box: (x0, y0, x1, y1) pixels,
        exclusive right/bottom. The box is made square (side = its longer side), enlarged
        `enlarge` times around its centre (black outside the image, as FaceDataset does) and
        resized to a canonical size x size crop, S >= patch_size. Patches are the P x P windows
        of that crop at offsets (0, stride, 2*stride, ...) in both axes, row-major: patch
        k = i * nX + j starts at (y, x) = (i * stride, j * stride); with the defaults
        (S=160, P=128, stride 16) that is a 3 x 3 grid of 9 patches. mean, std: the crop's
        normalisation (lnet_anet.data.preprocess.ANetInput: a bundle's stored values).
        Raises ValueError for a non-uint8-RGB image, a bad box or enlarge, or a bad patch grid.
        """
        from lnet_anet.data.preprocess import Normalize
        from lnet_anet.data.transforms import crop_face  # the training crop, for consistency

        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
                and image.shape[2] == 3):  # fmt: skip
            raise ValueError(
                "patch_features expects a uint8 RGB (H, W, 3) numpy image, got "
                f"{type(image).__name__} {getattr(image, 'dtype', '')} "
                f"{getattr(image, 'shape', '')}"
            )
        self.patch_grid(size, size, stride)  # validates size and stride before any work
        crop = crop_face(image, box, enlarge, size)
        x = torch.from_numpy(Normalize(mean, std)(crop))
        dev = next(self.parameters()).device
        views = torch.stack([x, x.flip(-1)]) if mirror else x[None]
        return self.dense_features(views.to(dev), stride).reshape(-1, self.feature_dim)


@register_model
def anet_lite0(
    pretrained: str = "package",
    num_attributes: int = 40,
    num_identities: int = 0,
    patch_size: int = 128,
    grid: tuple[int, int] = (2, 2),
    local: bool = True,
    feature_dim: int = 256,
    **kw,
) -> ANet:
    """ANet on an unpadded EfficientNet-Lite0 trunk; `pretrained` names the trunk's ImageNet
    weights (package | hub | none | <path>, see backbones). kw: c3_channels, c4_channels,
    drop_rate, frozen_stages."""
    return ANet(
        build_valid_trunk(pretrained), patch_size=patch_size, grid=tuple(grid), local=local,
        feature_dim=feature_dim, num_attributes=num_attributes, num_identities=num_identities,
        **kw,
    )  # fmt: skip


@register_model
def anet_lite0_plain(
    pretrained: str = "package",
    num_attributes: int = 40,
    num_identities: int = 0,
    patch_size: int = 128,
    grid: tuple[int, int] = (2, 2),
    feature_dim: int = 256,
    **kw,
) -> ANet:
    """anet_lite0 with plain, globally shared C3/C4 (the locally-shared ablation); grid unused."""
    return anet_lite0(
        pretrained, num_attributes, num_identities, patch_size, grid, local=False,
        feature_dim=feature_dim, **kw,
    )  # fmt: skip
