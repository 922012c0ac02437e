"""Inference-only rewrites of a bundle's networks (the Predictor's copies; the bundle's own
networks, their state dicts and training are untouched).

fold_batchnorm: every BatchNorm that directly follows a convolution is folded into it (eval
mode: y = gamma (conv(x) - mean) / sqrt(var + eps) + beta is a convolution with scaled weights
and a bias), so it costs nothing at run time; the BatchNorm is replaced by what came after it
inside it (timm's BatchNormAct2d: its activation) or by Identity. Convolutions are stored
channels-last, the layout oneDNN runs depthwise and 1x1 convolutions fastest in on CPU. The
outputs equal the unfolded network's to float rounding (tests/test_speed_paths.py).

shared_trunk_stages: how many input-side trunk stages ANet and an ANet-based age /
attractiveness net (ANetDLDL) have in common (frozen ImageNet stages, identical weights), so
that the Predictor runs them once per face crop for both ("interweaved" as in the paper).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

# (conv, BatchNorm) child pairs inside EfficientNet blocks (timm's
# and ANet's unpadded ValidBlock, told apart by its forward order); elsewhere the stem of a
# backbone / trunk (conv_stem, bn1).
_BLOCKS = {"DepthwiseSeparableConv": (("conv_dw", "bn1"), ("conv_pw", "bn2")),
           "InvertedResidual": (("conv_pw", "bn1"), ("conv_dw", "bn2"), ("conv_pwl", "bn3"))}  # fmt: skip


def _after_bn(bn: nn.BatchNorm2d) -> nn.Module:
    """What a folded BatchNorm leaves behind: timm's BatchNormAct2d's dropout and activation."""
    drop, act = getattr(bn, "drop", None), getattr(bn, "act", None)
    parts = [m for m in (drop, act) if m is not None and not isinstance(m, nn.Identity)]
    if not parts:
        return nn.Identity()
    return parts[0] if len(parts) == 1 else nn.Sequential(*parts)


@torch.no_grad()
def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    weight = conv.weight * scale.view(-1, 1, 1, 1)
    bias = bn.bias - bn.running_mean * scale
    if conv.bias is not None:
        bias = bias + conv.bias * scale
    conv.weight = nn.Parameter(weight.contiguous(), requires_grad=False)
    conv.bias = nn.Parameter(bias.contiguous(), requires_grad=False)


def _foldable(conv, bn) -> bool:
    return (isinstance(conv, nn.Conv2d) and type(bn).__name__ in ("BatchNorm2d", "BatchNormAct2d")
            and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats and bn.running_var is not None
            and bn.num_features == conv.out_channels)  # fmt: skip


def fold_batchnorm(net: nn.Module, copy_first: bool = True) -> nn.Module:
    """An eval-mode copy of `net` (or `net` itself, copy_first=False) with BatchNorms folded
    into the convolutions before them and every Conv2d channels-last (module doc)."""
    net = copy.deepcopy(net) if copy_first else net
    net.eval()
    for module in list(net.modules()):
        kind = type(module).__name__
        if kind == "ValidBlock":
            kind = "DepthwiseSeparableConv" if module.order[0] == "conv_dw" else "InvertedResidual"
        pairs = _BLOCKS.get(kind, (("conv_stem", "bn1"),))
        for conv_name, bn_name in pairs:
            conv, bn = getattr(module, conv_name, None), getattr(module, bn_name, None)
            if _foldable(conv, bn):
                _fold(conv, bn)
                setattr(module, bn_name, _after_bn(bn))
        if isinstance(module, nn.Sequential):  # conv, BatchNorm, ... (LNet's neck)
            children = list(module._modules.items())
            for (_, conv), (bn_key, bn) in zip(children, children[1:], strict=False):
                if _foldable(conv, bn):
                    _fold(conv, bn)
                    module._modules[bn_key] = _after_bn(bn)
    for conv in net.modules():
        if isinstance(conv, nn.Conv2d):
            conv.weight.data = conv.weight.data.contiguous(memory_format=torch.channels_last)
    return net


def shared_trunk_stages(anet: nn.Module, anet_prep, head: nn.Module, head_prep) -> int:
    """The number of ANet trunk stages (stem, blocks 0, 1, ...) the head net computes exactly as
    ANet does on the same input, or 0: the head must be an ANet-based DLDL net (.anet, .stride,
    .mirror) reading the same crop (size, enlargement, normalisation, padding, and mirror image when it
    mirrors), and the shared stages must be frozen in both and hold identical tensors. For an
    ensemble (DLDLEnsemble) of such nets: the fewest any member shares."""
    if hasattr(head, "members"):
        return min(shared_trunk_stages(anet, anet_prep, m, head_prep) for m in head.members)
    inner = getattr(head, "anet", None)
    trunk, own = getattr(inner, "trunk", None), getattr(anet, "trunk", None)
    if trunk is None or own is None or getattr(head_prep, "reads_anet_features", True):
        return 0
    same_crop = (head_prep.image_size == anet_prep.canonical_size and head_prep.enlarge == anet_prep.enlarge
                 and tuple(head_prep.mean) == tuple(anet_prep.mean) and tuple(head_prep.std) == tuple(anet_prep.std)
                 and getattr(head_prep, "pad", "black") == getattr(anet_prep, "pad", "black"))  # fmt: skip
    if not same_crop or (getattr(head, "mirror", False) and not anet_prep.mirror):
        return 0
    n = min(getattr(anet, "frozen_stages", 0), getattr(inner, "frozen_stages", 0))
    while n > 0:
        a = nn.ModuleList(own.stage_modules(n)).state_dict()
        b = nn.ModuleList(trunk.stage_modules(n)).state_dict()
        if a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a):
            return n
        n -= 1
    return 0


__all__ = ["fold_batchnorm", "shared_trunk_stages"]
