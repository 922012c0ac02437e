"""The model bundle: ONE safetensors file with every network, the SVM head and their settings.

Layout of a `.lnetanet` file (safetensors, so loading it never unpickles or runs code):

  tensors     "lnet.<state key>", "anet.<state key>", "svm.<array>" and, optionally,
              "age.<state key>", "attractiveness.<state key>" and "heads.<head>.<array>" (a
              head on ANet's feature embedded by build_bundle --box-head / --face-head / ...)
  metadata    {"format": "lnet_anet.bundle", "format_version": "3", "config": <JSON string>,
               "tensors_sha256": <checksum of the tensors, see tensors_digest>}

The config (see `check_config` for the exact keys):

  nets           {"lnet" | "anet" | "age" | "attractiveness": {"model": <registry name>, "kwargs": {...}}}
                 -- the loader builds each with lnet_anet.models.registry.create_model(model,
                 pretrained="none", **kwargs) and nothing else, then loads the tensors into it;
                 an age / attractiveness head may add "prior_correction": {"strength": s,
                 "prior": [one positive value per label bin], ...}: its predictions divide
                 prior ** s out (lnet_anet.dldl.label_distribution.prior_corrected); and
                 "std_scale": a number > 0 that multiplies its std (DLDLHead.set_std_scale)
  preprocessing  lnet {input_size [H, W], resize, mean, std}, localizer {Localizer kwargs},
                 optionally cascade {context, input_size, localizer {...}, weights: "lnet_o"},
                 optionally check_localizer {Localizer kwargs, scales [...]}: the localizer fitted
                 on LNet's check map, for lnet.find_on_check (fit_localizer --check-map),
                 anet {enlarge, canonical_size, stride, mean, std}, age / attractiveness {image_size,
                 enlarge, mean, std} or {input: "anet_features"} for a head on ANet features
  heads          optionally {HEAD_PARTS name: the head's file metadata (FeatureHead.meta)}, one
                 per embedded head: Predictor uses it in place of the shipped head of its kind
  attributes     the attribute names, in the SVM head's row order
  versions       torch, timm, lnet_anet at save time (written by save_bundle)
  provenance     free-form: data, commands, run folders, metrics

Storage: floating tensors with two or more dimensions (conv and linear weights) are stored as
float16, which halves the file; vectors (biases, BatchNorm affine parameters and running
statistics) and the SVM arrays stay float32: they are a few KB, and BatchNorm's running variance
can leave float16's range. Everything is restored to float32 on load.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lnet_anet.data.preprocess import ANetInput, HeadInput, LNetInput, PreprocessError

FORMAT = "lnet_anet.bundle"
# Bundles written for a while during the package split said "lnet_anet.inference.bundle".
READABLE_FORMATS = (FORMAT, "lnet_anet.inference.bundle")
FORMAT_VERSION = "3"
# Version 2 added the SVM decision thresholds (svm.threshold), version 3 the localizer's box_model.
READABLE_VERSIONS = ("1", "2", "3")
SUFFIX = ".lnetanet"
NET_PARTS = ("lnet", "anet", "age", "attractiveness")
REQUIRED_PARTS = ("lnet", "anet", "svm")
OPTIONAL_PARTS = ("age", "attractiveness")
# Heads on ANet's feature a bundle may embed: name -> (module, class). They read this bundle's
# ANet (FeatureHead.fits), which is why they may live in it; the Predictor takes the bundle's
# head of a kind before the shipped one.
HEAD_PARTS = {"face_head": ("lnet_anet.inference.face_head", "FaceHead"),
              "box_head": ("lnet_anet.inference.box_head", "BoxHead"),
              "crowd_box_head": ("lnet_anet.inference.box_head", "BoxHead"),
              "upright_head": ("lnet_anet.inference.upright", "UprightHead")}  # fmt: skip
SVM_KEYS = ("weight", "bias", "platt_a", "platt_b", "feature_mean", "feature_std", "threshold")
_FP16_MAX = float(torch.finfo(torch.float16).max)
# Bytes of safetensors' header-length prefix and a sanity bound on the JSON header it announces.
_PREFIX = 8
_MAX_HEADER = 100 * 1024 * 1024


class BundleError(ValueError):
    """A bundle file that cannot be used; `str(err)` starts with the file's path."""

    def __init__(self, path: str | Path | None, message: str):
        self.path = None if path is None else str(path)
        self.message = message
        super().__init__(message if path is None else f"{path}: {message}")


@dataclass
class Bundle:
    """A loaded bundle: the SVM head, the config and eval-mode networks on `device`.

    The networks are `lnet`, `anet`, `age` and `attractiveness` (None when the bundle has no
    such part). A bundle loaded with build_nets=False builds each network from its tensors the
    first time it is asked for (a Predictor whose ONNX Runtime graphs are cached needs none)."""

    config: dict[str, Any]
    svm: Any  # LinearSVMHead (imported lazily: sklearn is slow to import)
    nets: dict[str, nn.Module] = field(default_factory=dict)  # the networks built so far
    path: Path | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    digest: str | None = None  # the file's tensors_sha256 (None: not loaded from a file)
    unbuilt: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)  # part -> its tensors
    part_digests: dict[str, str] = field(default_factory=dict)  # part -> its digest, once asked for (part_digest)
    identity: str | None = None  # the file's tensors and config as loaded (bundle_identity; None: not from a file)
    head_arrays: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # embedded head -> its arrays

    def net(self, name: str) -> nn.Module | None:
        """The network `name` (one of NET_PARTS), built now if it was not; None if absent.
        Raises BundleError when its tensors do not fit its config."""
        if name not in self.nets and name in self.unbuilt:
            state = self.unbuilt.pop(name)
            self.nets[name] = build_net(name, self.config["nets"][name], state, self.path).to(self.device)
        return self.nets.get(name)

    lnet = property(lambda self: self.net("lnet"))
    anet = property(lambda self: self.net("anet"))
    age = property(lambda self: self.net("age"))
    attractiveness = property(lambda self: self.net("attractiveness"))

    def part_digest(self, name: str) -> str:
        """tensors_digest of network `name`'s tensors as a bundle file stores them: the same for
        the same weights in any bundle (e.g. ANet's, whatever heads sit beside it). Computed when
        first asked for, from the bundle's file (a Predictor may fuse its built networks in
        place), or for a bundle made in memory from the network's tensors. Raises KeyError when
        the bundle has no such network."""
        if name not in self.part_digests:
            if not self.has(name):
                raise KeyError(f"the bundle has no {name!r} network")
            if self.path is not None:
                from safetensors import safe_open

                with safe_open(str(self.path), "pt") as f:
                    tensors = {k.partition(".")[2]: f.get_tensor(k) for k in f.keys() if k.startswith(f"{name}.")}
            else:
                tensors = {k: stored_tensor(v) for k, v in self.net(name).state_dict().items()}
            self.part_digests[name] = tensors_digest(tensors)
        return self.part_digests[name]

    def head(self, name: str):
        """The embedded head `name` (a HEAD_PARTS name: FaceHead, BoxHead or UprightHead), built
        from the bundle's arrays and config.heads; None when the bundle embeds none of that name.
        Raises BundleError when its arrays do not make that kind of head."""
        if name not in self.head_arrays:
            return None
        try:
            return head_class(name).from_file(self.head_arrays[name], self.config["heads"][name])
        except (KeyError, ValueError) as e:
            raise BundleError(self.path, f"embedded {name}: {e}") from None

    @property
    def head_names(self) -> list[str]:
        """The embedded heads' names (HEAD_PARTS), sorted."""
        return sorted(self.head_arrays)

    def has(self, name: str) -> bool:
        """Whether the bundle holds network `name` (built or not)."""
        return name in self.nets or name in self.unbuilt

    @property
    def attributes(self) -> list[str]:
        return list(self.config["attributes"])

    @property
    def preprocessing(self) -> dict[str, Any]:
        return self.config["preprocessing"]

    def localizer(self):
        """A fresh Localizer with the bundle's settings (callers may change its threshold)."""
        from lnet_anet.lnet.localizer import Localizer

        return Localizer(**_localizer_kwargs(self.preprocessing["localizer"]))

    def check_localizer(self):
        """(Localizer, scales) fitted on LNet's check map (preprocessing.check_localizer: the scales
        whose check-map readings it reads), or None when the bundle has none."""
        from lnet_anet.lnet.localizer import Localizer

        settings = self.preprocessing.get("check_localizer")
        if settings is None:
            return None
        return Localizer(**_localizer_kwargs(settings)), tuple(float(s) for s in settings["scales"])

    def cascade(self):
        """The second stage (LNet_s, LNet_o's weights) when the bundle has one, else None."""
        from lnet_anet.lnet.cascade import Cascade

        settings = self.preprocessing.get("cascade")
        return None if settings is None else Cascade.from_json(settings)

    def to(self, device: torch.device | str) -> Bundle:
        self.device = torch.device(device)
        for net in self.nets.values():
            net.to(self.device)
        return self


def head_class(name: str) -> type:
    """The class of embedded head `name` (HEAD_PARTS; KeyError for another name)."""
    import importlib

    module, cls = HEAD_PARTS[name]
    return getattr(importlib.import_module(module), cls)


# -- config ----------------------------------------------------------------------------------


def library_versions() -> dict[str, str]:
    import timm

    import lnet_anet

    return {
        "torch": torch.__version__,
        "timm": timm.__version__,
        "lnet_anet": lnet_anet.__version__,
    }


def _need(mapping: Any, key: str, kind: Any, where: str, path: Any) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise BundleError(path, f"config lacks {where}.{key}")
    value = mapping[key]
    # JSON true/false are Python bools, which are ints too: never accept them as numbers.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise BundleError(path, f"config {where}.{key} must be {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: Any) -> str:
    return {str: "a string", dict: "an object", list: "a list", int: "an integer"}.get(
        kind, "a number"
    )


def check_config(config: Any, nets: set[str], path: str | Path | None = None) -> None:
    """Raise BundleError unless `config` describes exactly the networks `nets` (a subset of
    NET_PARTS containing lnet and anet) with every preprocessing setting they need."""
    if not isinstance(config, dict):
        raise BundleError(path, f"config must be a JSON object, got {type(config).__name__}")
    missing = [p for p in ("lnet", "anet") if p not in nets]
    if missing:
        raise BundleError(path, f"missing parts {missing}: a bundle needs lnet, anet and svm")
    described = _need(config, "nets", dict, "config", path)
    if set(described) != nets:
        raise BundleError(
            path,
            f"config.nets describes {sorted(described)} but the weights hold {sorted(nets)}",
        )
    for name, spec in described.items():
        model = _need(spec, "model", str, f"nets.{name}", path)
        kwargs = _need(spec, "kwargs", dict, f"nets.{name}", path)
        if "pretrained" in kwargs:  # the bundle's own tensors are the weights; no other file
            raise BundleError(path, f"config nets.{name}.kwargs must not set 'pretrained'")
        if not model.isidentifier():
            raise BundleError(path, f"config nets.{name}.model {model!r} is not a registry name")
        if spec.get("prior_correction") is not None:
            _check_prior_correction(name, spec["prior_correction"], path)
        if spec.get("std_scale") is not None:
            scale = spec["std_scale"]
            if name not in OPTIONAL_PARTS or not isinstance(scale, int | float) or not (np.isfinite(scale) and scale > 0):
                raise BundleError(path, f"config nets.{name}.std_scale must be a number > 0 of a label head "
                                        f"({', '.join(OPTIONAL_PARTS)}), got {scale!r}")  # fmt: skip
    prep = _need(config, "preprocessing", dict, "config", path)
    localizer = _need(prep, "localizer", dict, "preprocessing", path)
    _need(localizer, "threshold", int | float, "preprocessing.localizer", path)
    _check_localizer(prep, path)
    schemas = {"lnet": LNetInput, "anet": ANetInput, **{name: HeadInput for name in OPTIONAL_PARTS if name in nets}}
    for name, schema in schemas.items():
        try:
            schema.from_dict(_need(prep, name, dict, "preprocessing", path), f"preprocessing.{name}")
        except PreprocessError as e:
            raise BundleError(path, f"config {e}") from None
    if prep["lnet"].get("find_on_check") and "check_localizer" not in prep:
        raise BundleError(path, "config preprocessing.lnet.find_on_check is set, but the bundle has no "
                                "preprocessing.check_localizer (fit one: fit_localizer --check-map)")  # fmt: skip
    if prep["lnet"].get("check_faces") is not None and not (described["lnet"].get("kwargs") or {}).get("check"):
        raise BundleError(path, "config preprocessing.lnet.check_faces is set, but its LNet has no check map "
                                "(nets.lnet.kwargs.check is not true)")  # fmt: skip
    attributes = _need(config, "attributes", list, "config", path)
    if not attributes or not all(isinstance(a, str) for a in attributes):
        raise BundleError(path, "config.attributes must be a non-empty list of names")
    if len(set(attributes)) != len(attributes):
        raise BundleError(path, "config.attributes has duplicate names")
    _need(config, "provenance", dict, "config", path)


def _check_prior_correction(name: str, correction: Any, path) -> None:
    """nets.<head>.prior_correction: a label head's {"strength": number >= 0, "prior": [numbers
    > 0]} (the prior's length is checked against the head's bins when it is built)."""
    where = f"nets.{name}.prior_correction"
    if name not in OPTIONAL_PARTS:
        raise BundleError(path, f"config {where}: only a label head ({', '.join(OPTIONAL_PARTS)}) has one")
    if not isinstance(correction, dict):
        raise BundleError(path, f"config {where} must be a JSON object, got {type(correction).__name__}")
    strength = _need(correction, "strength", int | float, where, path)
    prior = _need(correction, "prior", list, where, path)
    if not (np.isfinite(strength) and strength >= 0):
        raise BundleError(path, f"config {where}.strength must be finite and >= 0, got {strength}")
    if not prior or not all(isinstance(p, int | float) and np.isfinite(p) and p > 0 for p in prior):
        raise BundleError(path, f"config {where}.prior must be a non-empty list of positive numbers")


def _localizer_kwargs(settings: dict) -> dict:
    """Localizer kwargs of a bundle's localizer settings (JSON lists made tuples; a check
    localizer's scales left out)."""
    kwargs = {k: v for k, v in settings.items() if k != "scales"}
    if isinstance(kwargs.get("aspect_range"), list):
        kwargs["aspect_range"] = tuple(kwargs["aspect_range"])
    return kwargs


def _check_localizer(prep: dict, path) -> None:
    """The localizers' and the cascade's settings build (unknown keys, wrong types and values
    out of range are refused there) before any network is."""
    from lnet_anet.lnet.cascade import Cascade
    from lnet_anet.lnet.localizer import Localizer

    known = {f.name for f in fields(Localizer)}
    for name in ("localizer", "check_localizer"):
        settings = prep.get(name)
        if settings is None:
            continue
        if not isinstance(settings, dict):
            raise BundleError(path, f"config preprocessing.{name} must be a JSON object, got {type(settings).__name__}")
        extra = {"scales"} if name == "check_localizer" else set()
        _need(settings, "threshold", int | float, f"preprocessing.{name}", path)
        if unknown := sorted(set(settings) - known - extra):  # a misspelt key: say which keys there are
            raise BundleError(path, f"config preprocessing.{name}: unknown settings {unknown}; "
                                    f"known: {sorted(known | extra)}")  # fmt: skip
        scales = settings.get("scales")
        if extra and not (isinstance(scales, list) and scales
                          and all(isinstance(s, int | float) and np.isfinite(s) and s > 0 for s in scales)):  # fmt: skip
            raise BundleError(path, f"config preprocessing.{name}.scales must be a non-empty list of numbers > 0, "
                                    f"got {scales!r}")  # fmt: skip
        try:
            Localizer(**_localizer_kwargs(settings))
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            raise BundleError(path, f"config preprocessing.{name}: {e}") from None
    try:
        Cascade.from_json(prep["cascade"]) if "cascade" in prep else None
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise BundleError(path, f"config preprocessing.cascade: {e}") from None


# -- saving ----------------------------------------------------------------------------------


def stored_tensor(t: torch.Tensor) -> torch.Tensor:
    """The tensor as stored: float16 for finite weight matrices / kernels inside its range,
    float32 for every other floating tensor, integers unchanged (see the module doc)."""
    t = t.detach().cpu()
    if not t.is_floating_point():
        return t.contiguous().clone()
    t32 = t.to(torch.float32)
    if t.ndim >= 2 and bool(torch.isfinite(t32).all()) and float(t32.abs().max()) <= _FP16_MAX:
        return t32.to(torch.float16).contiguous()
    return t32.contiguous().clone()


def save_bundle(
    path: str | Path, parts: dict[str, nn.Module | dict[str, np.ndarray]], config: dict
) -> Path:
    """Write a bundle. parts: "lnet", "anet" (modules), "svm" (LinearSVMHead.to_arrays()) and
    optionally "age", "attractiveness" (modules) and "heads" ({HEAD_PARTS name: a FeatureHead},
    its metadata written into config["heads"]). config: see the module doc; "versions" is filled
    in here. The config is validated first, and the networks are checked to rebuild from it."""
    from lnet_anet.engine.checkpoint import save_safetensors_atomic

    path = Path(path)
    unknown = sorted(set(parts) - set(REQUIRED_PARTS) - set(OPTIONAL_PARTS) - {"heads"})
    missing = [p for p in REQUIRED_PARTS if p not in parts]
    if unknown or missing:
        raise BundleError(path, f"parts: missing {missing}, unknown {unknown}")
    heads = parts.get("heads") or {}
    strange = sorted(set(heads) - set(HEAD_PARTS))
    if strange:
        raise BundleError(path, f"heads: unknown {strange} (a bundle embeds {', '.join(HEAD_PARTS)})")
    config = {k: v for k, v in config.items() if k != "heads"} | ({"heads": {n: h.meta() for n, h in sorted(heads.items())}}
                                                                  if heads else {})  # fmt: skip
    config = {**config, "versions": library_versions()}
    nets = {p for p in NET_PARTS if p in parts}
    check_config(config, nets, path)
    tensors: dict[str, torch.Tensor] = {}
    for name in sorted(nets):
        module = parts[name]
        if not isinstance(module, nn.Module):
            raise BundleError(path, f"part {name!r} must be an nn.Module, got {type(module)}")
        for key, value in module.state_dict().items():
            tensors[f"{name}.{key}"] = stored_tensor(value)
    svm = parts["svm"]
    if not isinstance(svm, dict) or sorted(svm) != sorted(SVM_KEYS):
        got = sorted(svm) if isinstance(svm, dict) else type(svm).__name__
        raise BundleError(path, f"part 'svm' must be a dict with keys {SVM_KEYS}, got {got}")
    for key in SVM_KEYS:
        tensors[f"svm.{key}"] = torch.from_numpy(np.asarray(svm[key], dtype=np.float32).copy())
    for name, head in heads.items():  # float32, as a head's own file keeps them
        for key, value in head.arrays().items():
            tensors[f"heads.{name}.{key}"] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    rows = tensors["svm.weight"].shape[0]
    if rows != len(config["attributes"]):
        raise BundleError(
            path,
            f"the SVM head has {rows} attributes, config.attributes {len(config['attributes'])}",
        )
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": json.dumps(config, sort_keys=True),
        "tensors_sha256": tensors_digest(tensors),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_safetensors_atomic(tensors, path, metadata)  # a reader never sees half a bundle
    return path


# -- loading ---------------------------------------------------------------------------------


def tensors_digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order: the bundle's
    checksum (bit rot in the tensor data would otherwise load as silently wrong weights)."""
    h = hashlib.sha256()
    for key in sorted(tensors):
        t = tensors[key].detach().cpu().contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def read_header(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(tensor table, config) of a bundle, from its JSON header alone: checks that the file is
    a complete safetensors file of this format and version before any tensor is read."""
    header, config, _ = _read_header(Path(path))
    return header, config


def _read_header(path: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    if not path.is_file():
        what = "a folder, not a model bundle file" if path.is_dir() else "no such model bundle file"
        raise FileNotFoundError(f"{path}: {what}")
    size = path.stat().st_size
    with path.open("rb") as f:
        prefix = f.read(_PREFIX)
        if len(prefix) < _PREFIX:
            raise BundleError(path, f"not a model bundle: only {size} bytes")
        (n,) = struct.unpack("<Q", prefix)
        if n < 2 or n > _MAX_HEADER or n > size - _PREFIX:
            raise BundleError(path, "not a model bundle (not a safetensors file, or truncated)")
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError(path, "not a model bundle (its safetensors header is not JSON)") from None
    if not isinstance(header, dict):
        raise BundleError(path, "not a model bundle (bad safetensors header)")
    meta = header.pop("__metadata__", None) or {}
    if meta.get("format") not in READABLE_FORMATS:
        raise BundleError(
            path, f"not a model bundle: format {meta.get('format')!r}, expected {FORMAT!r}"
        )
    if meta.get("format_version") not in READABLE_VERSIONS:
        raise BundleError(
            path,
            f"unsupported bundle format_version {meta.get('format_version')!r}; this version of "
            f"lnet_anet reads versions {', '.join(READABLE_VERSIONS)}",
        )
    try:
        ends = [int(info["data_offsets"][1]) for info in header.values()]
    except (TypeError, KeyError, IndexError, ValueError):
        raise BundleError(path, "corrupt bundle: bad tensor table in the header") from None
    expected = _PREFIX + n + max(ends, default=0)
    if size < expected:
        raise BundleError(path, f"truncated bundle: {size} bytes, its header needs {expected}")
    try:
        config = json.loads(meta.get("config", ""))
    except json.JSONDecodeError as e:
        raise BundleError(path, f"corrupt bundle: config is not valid JSON ({e})") from None
    digest = meta.get("tensors_sha256")
    if not isinstance(digest, str):
        raise BundleError(path, "corrupt bundle: no tensors_sha256 checksum in its metadata")
    return header, config, digest


def _group(tensors: dict[str, torch.Tensor], path: Path) -> dict[str, dict[str, torch.Tensor]]:
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        part, _, name = key.partition(".")
        if part == "heads" and name.partition(".")[0] in HEAD_PARTS and name.partition(".")[2]:
            head, _, array = name.partition(".")
            groups.setdefault("heads", {}).setdefault(head, {})[array] = value
            continue
        if part not in REQUIRED_PARTS + OPTIONAL_PARTS or not name:
            raise BundleError(
                path, f"unexpected tensor {key!r} (not lnet./anet./svm./age./attractiveness./heads.)"
            )
        groups.setdefault(part, {})[name] = value
    missing = [p for p in REQUIRED_PARTS if p not in groups]
    if missing:
        raise BundleError(path, f"missing parts {missing}: the file has {sorted(groups)}")
    return groups


_EXPECTED_TYPES = {
    "lnet": ("lnet_anet.models.lnet", "LNet"),
    "anet": ("lnet_anet.models.anet", "ANet"),
    "age": ("lnet_anet.models.dldl", "DLDLModel"),
    "attractiveness": ("lnet_anet.models.dldl", "DLDLModel"),
}


def build_net(
    name: str, spec: dict, state: dict[str, torch.Tensor], path: Path | None
) -> nn.Module:
    """Build a registered model (pretrained="none"), load `state` strictly, eval mode."""
    import importlib

    from lnet_anet.models.registry import create_model

    try:
        # First on the meta device (no memory): kwargs that ask for a huge network (a million
        # identities, say) are refused by their shapes before anything is allocated.
        with torch.device("meta"):
            shapes = {k: tuple(v.shape) for k, v in create_model(spec["model"], pretrained="none",
                                                                  **spec["kwargs"]).state_dict().items()}  # fmt: skip
    except (KeyError, TypeError, ValueError) as e:
        raise BundleError(path, f"cannot build {name} {spec['model']!r}: {e}") from None
    wrong = sorted(k for k in set(shapes) | set(state) if k not in shapes or k not in state
                   or tuple(state[k].shape) != shapes[k])  # fmt: skip
    if wrong:
        raise BundleError(path, f"{name} weights do not fit {spec['model']!r} {spec['kwargs']}: "
                                f"{len(wrong)} tensors differ, e.g. {wrong[:3]}")  # fmt: skip
    net = create_model(spec["model"], pretrained="none", **spec["kwargs"])
    module, cls = _EXPECTED_TYPES[name]
    expected = getattr(importlib.import_module(module), cls)
    if not isinstance(net, expected):
        raise BundleError(path, f"{name}: {spec['model']!r} builds a {type(net).__name__}, "
                                f"not a {cls}")  # fmt: skip
    own = net.state_dict()
    state = {k: v.to(own[k].dtype) if k in own else v for k, v in state.items()}
    try:  # assign: the loaded tensors become the parameters (no second copy)
        net.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as e:
        raise BundleError(path, f"{name} weights do not fit {spec['model']!r}: {e}") from None
    correction = spec.get("prior_correction")
    if correction is not None:  # checked by check_config but for the number of bins
        try:
            net.head.set_prior_correction(correction["prior"], correction["strength"])
        except ValueError as e:
            raise BundleError(path, f"config nets.{name}.prior_correction: {e}") from None
    if spec.get("std_scale") is not None:
        net.head.set_std_scale(float(spec["std_scale"]))
    return net.eval()


def load_bundle(path: str | Path, device: torch.device | str = "cpu", build_nets: bool = True) -> Bundle:
    """Load a bundle written by save_bundle. Raises FileNotFoundError for a missing file and
    BundleError (naming the file) for anything else that is wrong with it. build_nets=False:
    the networks are built when first asked for (Bundle.net); the file's checksum, config and
    SVM head are still checked here."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from lnet_anet.anet.svm import LinearSVMHead

    path = Path(path)
    _, config, digest = _read_header(path)  # FileNotFoundError for a missing file or a folder
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise BundleError(path, f"corrupt bundle: {e}") from None
    if tensors_digest(tensors) != digest:  # safetensors has no checksum of its own
        raise BundleError(path, "corrupt bundle: the tensors do not match their sha256 checksum")
    groups = _group(tensors, path)
    nets = {p for p in NET_PARTS if p in groups}
    check_config(config, nets, path)
    built = {name: build_net(name, config["nets"][name], groups[name], path) for name in nets if build_nets}
    svm_arrays = {k: v.to(torch.float64).numpy() for k, v in groups["svm"].items()}
    try:
        svm = LinearSVMHead.from_arrays(svm_arrays)
    except ValueError as e:
        raise BundleError(path, f"bad SVM head: {e}") from None
    if svm.num_attributes != len(config["attributes"]):
        raise BundleError(path, f"the SVM head has {svm.num_attributes} attributes, "
                                f"config.attributes {len(config['attributes'])}")  # fmt: skip
    # ANet's feature is its fc layer's output (models/anet.py), read from the tensors: the nets may be unbuilt
    fc = groups["anet"].get("fc.weight")
    anet_dim = int(fc.shape[0]) if fc is not None and fc.ndim == 2 else svm.feature_dim
    if svm.feature_dim != anet_dim:
        raise BundleError(path, f"the SVM head takes {svm.feature_dim}-d features, ANet gives "
                                f"{anet_dim}")  # fmt: skip
    unbuilt = {name: groups[name] for name in nets if name not in built}
    heads = {name: {k: v.numpy() for k, v in arrays.items()} for name, arrays in groups.get("heads", {}).items()}
    if set(heads) != set(config.get("heads") or {}):
        raise BundleError(path, f"config.heads describes {sorted(config.get('heads') or {})} but the tensors hold "
                                f"{sorted(heads)}")  # fmt: skip
    bundle = Bundle(config=config, svm=svm, nets=built, path=path, digest=digest, unbuilt=unbuilt,
                    identity=bundle_identity(config, digest), head_arrays=heads)  # fmt: skip
    return bundle.to(device)


def bundle_identity(config: dict[str, Any], digest: str) -> str:
    """12 hex digits naming a bundle file: sha256 of its tensors' checksum and its config as
    stored (before a Predictor changes any setting in memory). Records carry it ("bundle"), so
    that predict --resume never mixes the records of two bundles in one output."""
    return hashlib.sha256((digest + json.dumps(config, sort_keys=True)).encode()).hexdigest()[:12]


def describe(path: str | Path) -> str:
    """A short human-readable summary of a bundle file (header only: cheap)."""
    path = Path(path)
    header, config = read_header(path)
    parts: dict[str, int] = {}
    for key in header:
        parts[key.split(".", 1)[0]] = parts.get(key.split(".", 1)[0], 0) + 1
    def net(name: str) -> str:
        spec = config["nets"][name]
        correction = spec.get("prior_correction")
        notes = ([f"label prior ** {correction['strength']:g} divided out"] if correction else []) + (
            [f"std x {spec['std_scale']:g}"] if spec.get("std_scale") is not None else [])
        if name == "lnet" and (spec.get("kwargs") or {}).get("check"):
            check = config["preprocessing"]["lnet"].get("check_faces")
            notes.append(f"check map, check_faces {check:g}" if check is not None else "check map, off")
        return spec["model"] + (f" ({'; '.join(notes)})" if notes else "")

    nets = ", ".join(f"{n}={net(n)}" for n in NET_PARTS if n in config["nets"])
    lnet = (config.get("preprocessing") or {}).get("lnet") or {}
    steps = []  # what the Predictor does with the faces LNet finds, beyond the localizer
    if lnet.get("wide_canvas"):  # first: it decides the canvases every later step reads
        steps.append("photos of aspect {:g} or more read on canvases up to {:g} times as long".format(*lnet["wide_canvas"]))
    weak = ((config.get("preprocessing") or {}).get("localizer") or {}).get("weak_threshold")
    if weak is not None:  # the localizer's own step that a user may miss: weak faces apart from stronger ones
        crowd = lnet.get("zoom_in_weak")
        steps.append(f"weak faces apart over {weak:g}" + (f", {crowd} or more ask for the zoom-in" if crowd else ""))
    crowd = ((config.get("preprocessing") or {}).get("localizer") or {}).get("crowd")
    if crowd is not None:  # likewise: further faces at a lower bar in a photo of small faces
        steps.append("further faces over {1:g} when the best is clear and at most {0:g} of the picture".format(*crowd)
                     + ("" if lnet.get("zoom_in_crowd", True) else ", its weak ones asking no zoom-in"))
    if lnet.get("refine_boxes"):
        crowd_steps = int(lnet.get("crowd_box_steps", 1))  # 2.0 in a JSON setting is 2 steps
        steps.append("box head" + (f", the crowd box head with {lnet['crowd_box_head']} or more faces"
                                   + (f", {crowd_steps} steps" if crowd_steps != 1 else "")
                                   + (f", and for faces at most {lnet['crowd_box_small']:g} of the picture"
                                      if lnet.get("crowd_box_small") is not None else "")
                                   if lnet.get("crowd_box_head") else ""))
    found_on_check = (config.get("preprocessing") or {}).get("check_localizer")
    if lnet.get("find_on_check") and found_on_check:
        steps.append(f"faces found on the check map over {found_on_check['threshold']:g} added")
    if lnet.get("verify_faces"):
        luma = " on mean luma {:g}-{:g}".format(*lnet["verify_luma"]) if lnet.get("verify_luma") else ""
        steps.append("verify P(face) > {1:g} below score {0:g}".format(*lnet["verify_faces"]) + luma)
    if lnet.get("zoom_in_refused"):
        bar = lnet.get("zoom_in_refused_p")
        which = ", or with a face the filter refused," if lnet.get("zoom_in_refused_any") else ""
        steps.append(f"a picture left with no face{which} read at the zoom-in scales"
                     + (f", its faces verified at P(face) > {bar:g}" if bar is not None else ""))
    if lnet.get("zoom_in_lone_p") is not None:
        skip = lnet.get("zoom_in_lone_skip_share")
        steps.append(f"a picture left with one face read at the zoom-in scales, faces apart added at P(face) > "
                     f"{lnet['zoom_in_lone_p']:g}"
                     + (f", unless the face spans {skip:g} of its width and height" if skip is not None else ""))
    if lnet.get("rescue_faces"):
        steps.append(f"rescue P(face) > {lnet['rescue_faces'][1]:g}")
    if lnet.get("rescue_frame") is not None:
        steps.append(f"frame P(face) > {lnet['rescue_frame']:g}" + (", read from the picture" if lnet.get("frame_read") == "picture" else ""))
    if lnet.get("arbitrate_nested") is not None:
        steps.append(f"nested faces judged (regions over {lnet['arbitrate_nested']:g} of the picture"
                     + (", a lone part against the whole picture)" if lnet.get("arbitrate_picture") else ")"))
    mb = path.stat().st_size / 1e6
    heads = sorted(config.get("heads") or {})
    return (f"{path} ({mb:.1f} MB): {nets}; {len(config.get('attributes', []))} attributes; "
            + (f"faces: {', '.join(steps)}; " if steps else "")
            + (f"embedded heads: {', '.join(heads)}; " if heads else "") + f"versions {config.get('versions')}")  # fmt: skip


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "SUFFIX",
    "Bundle",
    "BundleError",
    "build_net",
    "check_config",
    "describe",
    "library_versions",
    "load_bundle",
    "read_header",
    "save_bundle",
]
