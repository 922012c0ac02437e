"""A timm-style model registry: `@register_model` on a builder, `create_model(name, **kw)`."""

from __future__ import annotations

import importlib
from collections.abc import Callable

_REGISTRY: dict[str, Callable] = {}
# Modules whose import registers their builders; imported lazily on first lookup.
_FAMILIES = ("lnet_anet.models.lnet", "lnet_anet.models.anet", "lnet_anet.models.dldl")


def register_model(fn: Callable) -> Callable:
    if fn.__name__ in _REGISTRY and _REGISTRY[fn.__name__] is not fn:
        raise ValueError(f"model {fn.__name__!r} is registered twice")
    _REGISTRY[fn.__name__] = fn
    return fn


def _load_families() -> None:
    for mod in _FAMILIES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:  # a family not written yet must not hide the others
            if e.name != mod:
                raise


def list_models() -> list[str]:
    _load_families()
    return sorted(_REGISTRY)


def create_model(name: str, **kwargs):
    """The registered model `name` built with `kwargs` (its builder's docstring lists them).
    `pretrained` names weights ("package", "none", a file; as each builder says), not True/False:
    TypeError for a bool. KeyError for an unknown name."""
    _load_families()
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    if isinstance(kwargs.get("pretrained"), bool):
        raise TypeError(f"pretrained names the weights to load (e.g. 'package' for the shipped ImageNet ones, "
                        f"'none', or a file), not {kwargs['pretrained']}: see {name}'s docstring")  # fmt: skip
    return _REGISTRY[name](**kwargs)
