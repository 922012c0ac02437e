"""timm's tf_efficientnet_lite0 up to its last block, in plain torch, for loading saved weights.

The inference path (a bundle's networks, whose every tensor is loaded from the bundle) needs the
architecture, not timm: importing timm pulls in torchvision and torch._dynamo (seconds of start-up
on a loaded 2-core machine), and timm's builder initialises every weight only for the bundle to
overwrite it. `build_lite0()` gives the same modules timm builds (stem conv_stem + bn1 and
`blocks`, no head): the same state-dict keys and shapes, the same class names for the blocks
(lnet_anet.models.anet.ValidBlock reads them), TF "same" padding, BatchNorm + ReLU6 with eps 1e-3,
and the same forward. Its conv weights are left UNINITIALISED (torch.empty): it is only for
callers that load every tensor next (lnet_anet.models.backbones.weights_follow). tests/test_lite0.py
checks it against timm, key by key and output by output.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# (block kind, repeats, kernel, stride, expansion, out channels) per stage: timm's arch_def
# for EfficientNet-Lite0 (ds_r1_k3_s1_e1_c16, ir_r2_k3_s2_e6_c24, ...), fixed stem of 32.
LITE0_STAGES = (("ds", 1, 3, 1, 1, 16), ("ir", 2, 3, 2, 6, 24), ("ir", 2, 5, 2, 6, 40), ("ir", 3, 3, 2, 6, 80),
                ("ir", 3, 5, 1, 6, 112), ("ir", 4, 5, 2, 6, 192), ("ir", 1, 3, 1, 6, 320))  # fmt: skip
STEM_CHANNELS = 32
BN_EPS = 1e-3


class EmptyConv2d(nn.Conv2d):
    """nn.Conv2d whose weights are left as allocated (torch.empty): no init cost."""

    def reset_parameters(self) -> None:
        pass


class Conv2dSame(EmptyConv2d):
    """TF "SAME" padding computed from the input size (timm.layers.Conv2dSame)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        pads = []
        for i, k, s, d in zip((iw, ih), self.kernel_size[::-1], self.stride[::-1], self.dilation[::-1], strict=True):
            pad = max((math.ceil(i / s) - 1) * s + (k - 1) * d + 1 - i, 0)
            pads += [pad // 2, pad - pad // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class BatchNormAct2d(nn.BatchNorm2d):
    """BatchNorm then an activation (timm.layers.BatchNormAct2d: same state-dict keys)."""

    def __init__(self, channels: int, act: bool = True):
        super().__init__(channels, eps=BN_EPS)
        self.drop = nn.Identity()
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop(super().forward(x)))


def _conv(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    if stride == 1:  # static same padding (odd kernels)
        return EmptyConv2d(cin, cout, k, stride, padding=k // 2, groups=groups, bias=False)
    return Conv2dSame(cin, cout, k, stride, padding=0, groups=groups, bias=False)


class DepthwiseSeparableConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int):
        super().__init__()
        self.has_skip = stride == 1 and cin == cout
        self.conv_s2d = None
        self.conv_dw = _conv(cin, cin, k, stride, groups=cin)
        self.bn1 = BatchNormAct2d(cin)
        self.aa = nn.Identity()
        self.se = nn.Identity()
        self.conv_pw = _conv(cin, cout, 1)
        self.bn2 = BatchNormAct2d(cout, act=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv_pw(self.se(self.aa(self.bn1(self.conv_dw(x))))))
        return self.drop_path(y) + x if self.has_skip else y


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int, expansion: int):
        super().__init__()
        mid = cin * expansion
        self.has_skip = stride == 1 and cin == cout
        self.conv_pw = _conv(cin, mid, 1)
        self.bn1 = BatchNormAct2d(mid)
        self.conv_dw = _conv(mid, mid, k, stride, groups=mid)
        self.bn2 = BatchNormAct2d(mid)
        self.aa = nn.Identity()
        self.se = nn.Identity()
        self.conv_pwl = _conv(mid, cout, 1)
        self.bn3 = BatchNormAct2d(cout, act=False)
        self.drop_path = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv_dw(self.bn1(self.conv_pw(x))))
        y = self.bn3(self.conv_pwl(self.se(self.aa(y))))
        return self.drop_path(y) + x if self.has_skip else y


class Lite0Body(nn.Module):
    """conv_stem, bn1 and blocks of tf_efficientnet_lite0; forward returns the last block's map."""

    def __init__(self):
        super().__init__()
        self.conv_stem = Conv2dSame(3, STEM_CHANNELS, 3, 2, padding=0, bias=False)
        self.bn1 = BatchNormAct2d(STEM_CHANNELS)
        stages, cin = [], STEM_CHANNELS
        for kind, repeats, k, stride, expansion, cout in LITE0_STAGES:
            blocks = []
            for r in range(repeats):
                s = stride if r == 0 else 1
                blocks.append(DepthwiseSeparableConv(cin, cout, k, s) if kind == "ds"
                              else InvertedResidual(cin, cout, k, s, expansion))  # fmt: skip
                cin = cout
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.bn1(self.conv_stem(x)))


def build_lite0() -> Lite0Body:
    """The body with UNINITIALISED conv weights (torch.empty; BatchNorm at its defaults): load a
    state dict into it next. (The meta device would do as well, but it imports sympy: slower.)"""
    return Lite0Body()


__all__ = ["BatchNormAct2d", "Conv2dSame", "DepthwiseSeparableConv", "InvertedResidual", "Lite0Body", "build_lite0"]
