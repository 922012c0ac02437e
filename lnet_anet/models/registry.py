"""A timm-style model registry: `@register_model` on a builder, `create_model(name, **kw)`.

Adding a model family: write its builders in a module of its own, each decorated with
@register_model, and name one in a config's `_target_` (conf/model/<name>.yaml). A run folder's
model.json (and a bundle's nets) name a builder of the shipped families (_FAMILIES) by its name
alone, and any other by its module path, `my_package.models.my_net` (registered_name), so that
create_model finds it again in a new process by importing that module (CONTRIBUTING.md)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

_REGISTRY: dict[str, Callable] = {}
# Modules whose import registers their builders; imported lazily on first lookup.
_FAMILIES = ("lnet_anet.models.lnet", "lnet_anet.models.anet", "lnet_anet.models.dldl")


def register_model(fn: Callable) -> Callable:
    """Registers a model builder under its function name (`fn` returned unchanged, so this is a
    decorator). The builder takes keyword arguments only (its docstring lists them, with the
    input size it needs) and `pretrained` (what weights to start from: "package", "none", a
    file), and returns an nn.Module. Raises ValueError when another function has that name."""
    if fn.__name__ in _REGISTRY and _REGISTRY[fn.__name__] is not fn:
        raise ValueError(f"model {fn.__name__!r} is registered twice")
    _REGISTRY[fn.__name__] = fn
    return fn


def _load_families() -> None:
    for mod in _FAMILIES:
        importlib.import_module(mod)


def registered_name(target: str) -> str:
    """The name model.json records for a builder given as a config's `_target_` (a dotted path):
    its function name for a builder of the shipped families, else the whole path, which
    create_model imports (a family added outside lnet_anet.models)."""
    module, _, name = target.rpartition(".")
    return name if module in _FAMILIES or not module else target


def list_models() -> list[str]:
    _load_families()
    return sorted(_REGISTRY)


def create_model(name: str, **kwargs):
    """The registered model `name` built with `kwargs` (its builder's docstring lists them).
    `pretrained` names weights ("package", "none", a file; as each builder says), not True/False:
    TypeError for a bool. A dotted name (registered_name: `my_package.models.my_net`) imports its
    module first. KeyError for an unknown name (or a module that does not register it)."""
    _load_families()
    if "." in name:  # a builder outside the shipped families, named by its module path
        module, _, short = name.rpartition(".")
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise KeyError(f"unknown model {name!r}: its module {module} cannot be imported ({e})") from None
        if short not in _REGISTRY or _REGISTRY[short].__module__ != module:
            raise KeyError(f"unknown model {name!r}: {module} registers no {short} (@register_model)")
        name = short
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    if isinstance(kwargs.get("pretrained"), bool):
        raise TypeError(f"pretrained names the weights to load (e.g. 'package' for the shipped ImageNet ones, "
                        f"'none', or a file), not {kwargs['pretrained']}: see {name}'s docstring")  # fmt: skip
    return _REGISTRY[name](**kwargs)
