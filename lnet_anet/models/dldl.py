"""DLDL-v2 models: ThinAgeNet / TinyAgeNet (VGG-16 layouts) and an EfficientNet-Lite0 variant.

ThinAgeNet and TinyAgeNet follow DLDL-v2 (Gao et al.) and its reference code (gaobb/DLDL-v2,
models/hp_scratch.lua): VGG-16's 13 3x3 convolutions at 1/2 or 1/4 of the widths, each followed
by BatchNorm and ReLU (no conv bias), the five 2x2 max pools, then "hybrid pooling": the last
max pool is followed by a global average pool (7x7 -> 1x1 at the paper's 224x224 input) and a
single linear layer onto the label bins. No fully connected layers, hence ~3.7M / ~0.9M params.

lite0_dldl: an ImageNet-initialised tf_efficientnet_lite0 (pooled 1280-d features) + DLDLHead,
the model we train on UTKFace on CPU, where 15k images are too few to train a VGG from scratch.

Every model: forward(x) -> {"logits": (B, K)}; `.bins` (LabelBins); `.predict(x)` ->
{"mean", "std", "probs"}. `dldl_loss_fn(model, batch, target=...)` is the engine's loss_fn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from lnet_anet.dldl.label_distribution import (
    DLDLHead,
    LabelBins,
    make_bins,
    mixture_logits,
)
from lnet_anet.models.backbones import PACKAGE_MODEL, create_backbone
from lnet_anet.models.registry import register_model

# VGG-16 ("D") widths at compression rate 1/2 (ThinAgeNet); "M" is a 2x2 max pool.
THIN_CFG: tuple[int | str, ...] = (
    32, 32, "M", 64, 64, "M", 128, 128, 128, "M", 256, 256, 256, "M", 256, 256, 256, "M",
)  # fmt: skip
TINY_CFG: tuple[int | str, ...] = tuple(v if v == "M" else v // 2 for v in THIN_CFG)


class DLDLModel(nn.Module):
    """Base: subclasses set self.head (a DLDLHead) and implement forward_features."""

    head: DLDLHead

    @property
    def bins(self) -> LabelBins:
        return self.head.bins

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"logits": self.head(self.forward_features(x))}

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.head.predict(self(x)["logits"])


class VGGAgeNet(DLDLModel):
    """VGG-style conv-BN-ReLU stack + hybrid pooling (last 2x2 max pool, then global average)."""

    def __init__(self, cfg: Sequence[int | str], bins: LabelBins, in_chans: int = 3):
        super().__init__()
        if not cfg or cfg[-1] != "M":
            raise ValueError(f"cfg must end with a max pool 'M' (hybrid pooling), got {cfg}")
        layers: list[nn.Module] = []
        channels = in_chans
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [
                    nn.Conv2d(channels, int(v), 3, padding=1, bias=False),  # BN supplies the bias
                    nn.BatchNorm2d(int(v)),
                    nn.ReLU(inplace=True),
                ]
                channels = int(v)
        self.features = nn.Sequential(*layers)
        self.global_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.num_features = channels
        self.head = DLDLHead(channels, bins)
        self._init_weights()

    def _init_weights(self) -> None:
        # As the reference code: He-normal over fan-out for convs, BN at identity, zero biases.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.global_pool(self.features(x))


class BackboneDLDL(DLDLModel):
    """A timm backbone returning pooled features (num_classes=0) + optional dropout + DLDLHead."""

    def __init__(self, backbone: nn.Module, bins: LabelBins, drop_rate: float = 0.0):
        super().__init__()
        self.backbone = backbone
        self.num_features = int(backbone.num_features)
        self.dropout = nn.Dropout(drop_rate)
        self.head = DLDLHead(self.num_features, bins)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.backbone(x))


class FeatureDLDL(DLDLModel):
    """A DLDL head on precomputed face features (e.g. ANet's patch-averaged FC feature), so one
    ANet pass over a face gives attributes, age and attractiveness together."""

    def __init__(self, in_features: int, bins: LabelBins, hidden: int = 256, drop_rate: float = 0.1):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.LayerNorm(in_features), nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(drop_rate)
        )  # fmt: skip
        self.head = DLDLHead(hidden, bins)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


PATCH_SETS = ("grid", "centre")  # ANetDLDL's `patches`


class ANetDLDL(DLDLModel):
    """The DLDL head on ANet's FC feature, ANet's layers trained for this target: one face crop
    (canonical_size, normalised) -> the patch-averaged label distribution.

    Training takes P x P patches (or, through forward_from_trunk, their cached trunk windows);
    in eval mode a larger crop goes through ANet's dense (interweaved) forward and the patches'
    distributions are averaged: logits = log(mean softmax), so `predict` and the metrics see one
    distribution per face, as the attribute SVMs see one score. mirror=True averages in the
    patches of the crop's mirror image too. patches="centre" scores the centre patch alone (its
    window of the trunk map through the per-patch layers: a ninth of C4 and FC's work on a 160 px
    crop; experiments/2026-12-01-attractiveness-cost, section 8); "grid" (default) every patch
    at `stride`.
    """

    def __init__(self, anet: nn.Module, bins: LabelBins, stride: int = 16, mirror: bool = False,
                 patches: str = "grid"):  # fmt: skip
        super().__init__()
        if getattr(anet, "attribute_head", None) is not None:
            raise ValueError("ANetDLDL takes an ANet built with num_attributes=0")
        if patches not in PATCH_SETS:
            raise ValueError(f"patches must be one of {PATCH_SETS}, not {patches!r}")
        self.anet, self.stride, self.mirror, self.patches = anet, int(stride), bool(mirror), patches
        self.head = DLDLHead(anet.feature_dim, bins)

    def _patch_logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.anet.drop(features))

    def forward_from_trunk(
        self, trunk_map: torch.Tensor, stage: int | None = None
    ) -> dict[str, torch.Tensor]:
        """Per-patch logits from the patches' trunk windows (see ANet.forward_from_trunk)."""
        return {
            "logits": self._patch_logits(self.anet.forward_from_trunk(trunk_map, stage)["features"])
        }

    def _dense_probs(self, trunk_map: torch.Tensor, stage: int | None) -> torch.Tensor:
        if self.patches == "centre":  # the centre window of the map (after `stage` stages; all when None)
            window = self.anet.trunk.output_size(self.anet.patch_size, stage)
            y, x = ((int(side) - window) // 2 for side in trunk_map.shape[-2:])
            centre = trunk_map[..., y:y + window, x:x + window]
            return self._patch_logits(self.anet.forward_from_trunk(centre, stage)["features"]).float().softmax(-1)
        feats = self.anet.dense_features_from_trunk(trunk_map, self.stride, stage=stage)  # (B, nY, nX, D)
        return self._patch_logits(feats.flatten(1, 2)).float().softmax(-1).mean(1)

    def dense_logits_from_trunk(
        self, trunk_map: torch.Tensor, stage: int | None = None, mirrored: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Face logits from the trunk maps of whole crops (and of their mirror images): log of
        the patch-averaged distribution."""
        probs = self._dense_probs(trunk_map, stage)
        if mirrored is not None:
            probs = (probs + self._dense_probs(mirrored, stage)) / 2
        return probs.clamp_min(1e-12).log()

    def dense_logits_from_pairs(self, trunk_map: torch.Tensor, stage: int | None = None) -> torch.Tensor:
        """dense_logits_from_trunk(trunk_map[0::2], stage, mirrored=trunk_map[1::2]) in ONE
        batched pass: the maps of (crop, mirror image) pairs, interleaved (the Predictor's)."""
        probs = self._dense_probs(trunk_map, stage)
        return ((probs[0::2] + probs[1::2]) / 2).clamp_min(1e-12).log()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.shape[-1] == self.anet.patch_size and x.shape[-2] == self.anet.patch_size:
            return {"logits": self._patch_logits(self.anet.forward_features(x))}
        if self.training:
            raise ValueError(
                f"ANetDLDL trains on {self.anet.patch_size} px patches, got {tuple(x.shape)}"
            )
        mirrored = self.anet.trunk(x.flip(-1)) if self.mirror else None
        return {"logits": self.dense_logits_from_trunk(self.anet.trunk(x), mirrored=mirrored)}


class DLDLEnsemble(DLDLModel):
    """Several DLDL models over the same bins, as one: logits = log of the mean of their
    predicted distributions, so the expectation is the mean of theirs."""

    def __init__(self, members: Sequence[DLDLModel]):
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
        first = members[0].bins
        for m in members[1:]:
            # compared by their numbers, not their value tensors: the bundle builder first builds
            # nets on the meta device, where tensors hold no values
            if (m.bins.num_bins, m.bins.low, m.bins.step) != (first.num_bins, first.low, first.step):
                raise ValueError("ensemble members must share their label bins")
        self.members = nn.ModuleList(members)

    @property
    def head(self) -> DLDLHead:
        """The first member's head: its bins and predict() (each member applies its own)."""
        return self.members[0].head

    @property
    def mirror(self) -> bool:
        """Whether the members score each face with its mirror image too (ANetDLDL members;
        mixed settings are refused)."""
        found = {bool(getattr(m, "mirror", False)) for m in self.members}
        if len(found) > 1:
            raise ValueError("ensemble members differ in their mirror setting")
        return found.pop()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self._mean([m(x)["logits"] for m in self.members])

    def dense_logits_from_trunk(self, trunk_map: torch.Tensor, stage: int | None = None,
                                mirrored: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """ANetDLDL.dense_logits_from_trunk of every member on the same maps, averaged as
        distributions (members that share ANet's frozen stages: inference.graphs.FaceGraph)."""
        return self._mean([m.dense_logits_from_trunk(trunk_map, stage, mirrored) for m in self.members])["logits"]

    def dense_logits_from_pairs(self, trunk_map: torch.Tensor, stage: int | None = None) -> torch.Tensor:
        return self._mean([m.dense_logits_from_pairs(trunk_map, stage) for m in self.members])["logits"]

    @staticmethod
    def _mean(logits: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"logits": mixture_logits(logits)}


def _load_own_weights(model: nn.Module, pretrained: str) -> None:
    """pretrained="none" or a state-dict file (.safetensors / torch.save) of this very model."""
    if pretrained == "none":
        return
    path = Path(pretrained)
    if not path.exists():
        raise FileNotFoundError(f"{path}: pretrained weights file not found")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ValueError(f"{path}: weights do not fit {type(model).__name__}: {e}") from e


def _vgg_age_net(layout, bins, pretrained: str) -> VGGAgeNet:
    model = VGGAgeNet(layout, bins)
    _load_own_weights(model, pretrained)
    return model


@register_model
def thin_age_net(
    num_bins: int | None = None,
    low: float = 0.0,
    high: float = 100.0,
    step: float | None = None,
    pretrained: str = "none",
) -> VGGAgeNet:
    """ThinAgeNet (DLDL-v2): VGG-16 at half width + BN + hybrid pooling (~3.7M params), on
    (B, 3, S, S) crops of S >= 32 px (five 2x2 max pools; the paper: 224; the shipped configs: 128).
    Label bins: ages low..high (default 0..100) in num_bins bins or bins of `step` (give either
    or both, agreeing; default 101 bins of 1 year). pretrained: "none", or a file of this net's
    weights. Returns {"logits": (B, num_bins)} from forward."""
    return _vgg_age_net(THIN_CFG, make_bins(num_bins, low, high, step), pretrained)


@register_model
def tiny_age_net(
    num_bins: int | None = None,
    low: float = 0.0,
    high: float = 100.0,
    step: float | None = None,
    pretrained: str = "none",
) -> VGGAgeNet:
    """TinyAgeNet (DLDL-v2): VGG-16 at quarter width + BN + hybrid pooling (< 1M params); its
    arguments and input size are thin_age_net's."""
    return _vgg_age_net(TINY_CFG, make_bins(num_bins, low, high, step), pretrained)


@register_model
def lite0_dldl(
    pretrained: str = "package",
    num_bins: int | None = None,
    low: float = 0.0,
    high: float = 100.0,
    step: float | None = None,
    drop_rate: float = 0.0,
) -> BackboneDLDL:
    """tf_efficientnet_lite0 (ImageNet weights, see lnet_anet.models.backbones) + DLDLHead."""
    backbone = create_backbone(PACKAGE_MODEL, pretrained=pretrained, num_classes=0)
    return BackboneDLDL(backbone, make_bins(num_bins, low, high, step), drop_rate)


@register_model
def anet_dldl(
    pretrained: str = "package",
    num_bins: int | None = None,
    low: float = 0.0,
    high: float = 100.0,
    step: float | None = None,
    stride: int = 16,
    mirror: bool = False,
    patches: str = "grid",
    **anet_kwargs,
) -> ANetDLDL:
    """ANet (anet_lite0: `pretrained` names its trunk's ImageNet weights; anet_kwargs: patch_size,
    grid, local, c3_channels, c4_channels, feature_dim, drop_rate, frozen_stages) + DLDLHead;
    patches: the patches a face is scored from (ANetDLDL)."""
    from lnet_anet.models.anet import anet_lite0

    anet = anet_lite0(pretrained=pretrained, num_attributes=0, **anet_kwargs)
    return ANetDLDL(anet, make_bins(num_bins, low, high, step), stride, mirror, patches)


@register_model
def dldl_ensemble(members: Sequence[dict], pretrained: str = "none") -> DLDLEnsemble:
    """An ensemble of registered DLDL models: members [{"model": name, "kwargs": {...}}, ...]
    (its state keys are "members.<i>.<member's key>"); pretrained: "none" only."""
    from lnet_anet.models.registry import create_model

    if pretrained != "none":
        raise ValueError("dldl_ensemble loads its members' weights from its own state dict: pretrained='none'")
    return DLDLEnsemble([create_model(m["model"], pretrained="none", **m.get("kwargs", {})) for m in members])


@register_model
def feature_dldl(
    in_features: int = 256,
    hidden: int = 256,
    num_bins: int | None = None,
    low: float = 0.0,
    high: float = 100.0,
    step: float | None = None,
    drop_rate: float = 0.1,
    pretrained: str = "none",
) -> FeatureDLDL:
    """The DLDL head on face features of size in_features (ANet: 256); pretrained: "none" or a
    weights file of this very model."""
    model = FeatureDLDL(in_features, make_bins(num_bins, low, high, step), hidden, drop_rate)
    _load_own_weights(model, pretrained)
    return model


__all__ = [
    "ANetDLDL",
    "BackboneDLDL",
    "DLDLModel",
    "FeatureDLDL",
    "anet_dldl",
    "feature_dldl",
    "VGGAgeNet",
    "lite0_dldl",
    "thin_age_net",
    "tiny_age_net",
]
