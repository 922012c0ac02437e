"""Assemble a model bundle (see lnet_anet.inference.bundle) from training run folders.

    python -m lnet_anet.cli.build_bundle --lnet runs/lnet-celeba --anet runs/anet-celeba_hq \\
        [--age runs/age-utkface128] [--attractiveness runs/attractiveness-scut_fbp5500] \\
        [--out lnet_anet/assets/default.lnetanet]

Run folders: lnet_anet.inference.layout.RUN_LAYOUT (what each kind of run folder holds).

`random_bundle` writes a bundle of randomly initialised networks, for tests and benchmarks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lnet_anet.data.attributes import CELEBA_ATTRIBUTES
from lnet_anet.data.preprocess import (
    INCEPTION_MEAN,
    INCEPTION_STD,
    ANetInput,
    HeadInput,
    LNetInput,
    PreprocessError,
)
from lnet_anet.inference.bundle import SVM_KEYS, BundleError, build_net, save_bundle

# The DLDL target each optional head must have been trained on (model.safetensors metadata).
_TARGETS = {"age": "age", "attractiveness": "attractiveness"}


class RunFolderError(ValueError):
    """A run folder that does not follow the contract; the message names the file."""

    def __init__(self, path: str | Path, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


# -- reading run folders ---------------------------------------------------------------------




def _missing(path: Path) -> RunFolderError:
    """The error for a run file that is not there: no such folder at all, or a folder of
    another kind (python -m lnet_anet.cli.build_bundle --help lists what each kind holds)."""
    if not path.parent.is_dir():
        return RunFolderError(path.parent, "no such run folder")
    from lnet_anet.engine.runs import run_model  # only on this error path: it imports Hydra

    if kind := run_model(path.parent):
        return RunFolderError(path, f"missing: not a run folder of this kind ({path.parent} holds a run of model "
                                    f"{kind}, its model.json says; python -m lnet_anet.cli.build_bundle --help lists what "
                                    "each run folder holds)")  # fmt: skip
    return RunFolderError(path, "missing: not a run folder of this kind, or its training has not finished "
                                "(python -m lnet_anet.cli.build_bundle --help lists what each run folder holds)")  # fmt: skip


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise _missing(path)
    try:
        value = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunFolderError(path, f"not valid JSON ({e})") from None
    if not isinstance(value, dict):
        raise RunFolderError(path, f"must hold a JSON object, got {type(value).__name__}")
    return value


def _read_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    from safetensors import SafetensorError, safe_open

    if not path.is_file():
        raise _missing(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError) as e:
        raise RunFolderError(path, f"not a readable safetensors file ({e})") from None


def _net_spec(folder: Path) -> dict[str, Any]:
    path = folder / "model.json"
    spec = _read_json(path)
    if not isinstance(spec.get("model"), str) or not isinstance(spec.get("kwargs", {}), dict):
        raise RunFolderError(path, 'must be {"model": <registry name>, "kwargs": {...}}')
    kwargs = dict(spec.get("kwargs", {}))
    kwargs.pop("pretrained", None)  # the run's trained weights replace any ImageNet start
    return {"model": spec["model"], "kwargs": kwargs}


def _build(part: str, folder: Path, weights: str) -> tuple[torch.nn.Module, dict, dict[str, str]]:
    spec = _net_spec(folder)
    state, metadata = _read_tensors(folder / weights)
    try:
        net = build_net(part, spec, state, folder / weights)
    except BundleError as e:
        raise RunFolderError(folder / weights, e.message) from None
    return net, spec, metadata


def _provenance(folder: Path, spec: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"run": str(folder.resolve()), "model": spec}
    for name in ("eval.json", "data.json"):
        if (folder / name).is_file():
            out[name.removesuffix(".json")] = _read_json(folder / name)
    if isinstance(out.get("data", {}).get("skipped"), list):  # a bundle is shared: no dataset file names in it
        out["data"]["skipped"] = len(out["data"]["skipped"])
    overrides = folder / ".hydra" / "overrides.yaml"
    if overrides.is_file():
        out["overrides"] = overrides.read_text()
    return out


def _schema(schema, settings: dict, path: Path, **defaults):
    """A run file's preprocessing settings through the one schema (lnet_anet.data.preprocess);
    runs written before mean/std were recorded used Inception's normalisation."""
    try:
        return schema.from_dict({"mean": list(INCEPTION_MEAN), "std": list(INCEPTION_STD), **defaults, **settings},
                                path.name)  # fmt: skip
    except PreprocessError as e:
        raise RunFolderError(path, str(e)) from None


def read_lnet_run(folder: str | Path) -> dict[str, Any]:
    """{"net": LNet, "spec", "preprocessing": {"lnet", "localizer"}, "provenance"}."""
    from lnet_anet.lnet.localizer import Localizer

    folder = Path(folder)
    net, spec, _ = _build("lnet", folder, "lnet.safetensors")
    path = folder / "localizer.json"
    settings = _read_json(path)
    size = settings.pop("input_size", None)
    size = [size, size] if isinstance(size, int) else size
    if not (isinstance(size, list) and len(size) == 2
            and all(isinstance(v, int) and v >= 16 for v in size)):  # fmt: skip
        raise RunFolderError(path, f"needs input_size: an int or [H, W] >= 16, got {size!r}")
    lnet = {"input_size": size, "resize": settings.pop("resize", "letterbox")}
    lnet |= {key: settings.pop(key) for key in ("mean", "std") if key in settings}  # the rest: the Localizer's
    lnet = _schema(LNetInput, lnet, path).to_dict()
    try:
        Localizer(**settings)
    except (TypeError, ValueError) as e:
        raise RunFolderError(path, f"not valid Localizer settings: {e}") from None
    preprocessing = {"lnet": lnet, "localizer": settings}
    if (folder / "cascade.json").exists():  # train_lnet kept the second stage (LNet_s with LNet_o's weights)
        preprocessing["cascade"] = read_cascade(folder / "cascade.json")
    return {"net": net, "spec": spec, "preprocessing": preprocessing, "provenance": _provenance(folder, spec)}


def read_cascade(path: Path) -> dict[str, Any]:
    """A train_lnet run's cascade.json, checked: {context, input_size, localizer, weights}."""
    from lnet_anet.lnet.cascade import Cascade

    settings = _read_json(path)
    try:
        Cascade.from_json(settings)
    except (TypeError, ValueError) as e:
        raise RunFolderError(path, f"not valid cascade settings: {e}") from None
    return settings


def recorded_attributes(folder: str | Path) -> list[str] | None:
    """The attribute names a train_anet run recorded, in its SVMs' order (svm.safetensors'
    metadata, else anet.safetensors'), or None for a run that recorded none."""
    from safetensors import safe_open

    metadata = []
    for name in ("svm.safetensors", "anet.safetensors"):
        if (Path(folder) / name).is_file():
            with safe_open(str(Path(folder) / name), framework="pt") as f:
                metadata.append(f.metadata() or {})
    return _attribute_names(*metadata)


def _attribute_names(*metadata: dict[str, str]) -> list[str] | None:
    """The first "attributes" entry of these safetensors metadata, as a list; None if none has one."""
    text = next((m["attributes"] for m in metadata if m.get("attributes")), None)
    return text.split(",") if text else None


def read_anet_run(folder: str | Path) -> dict[str, Any]:
    """{"net": ANet, "svm": arrays, "attributes", "spec", "preprocessing": {"anet"},
    "provenance"}."""
    from lnet_anet.anet.svm import LinearSVMHead

    folder = Path(folder)
    net, spec, metadata = _build("anet", folder, "anet.safetensors")
    svm_path = folder / "svm.safetensors"
    tensors, svm_meta = _read_tensors(svm_path)
    arrays = {k: v.to(torch.float64).numpy() for k, v in tensors.items()}
    try:
        head = LinearSVMHead.from_arrays(arrays)
    except ValueError as e:
        raise RunFolderError(svm_path, f"not a LinearSVMHead: {e}") from None
    attributes = _attribute_names(svm_meta, metadata)
    if attributes is None:
        if head.num_attributes != len(CELEBA_ATTRIBUTES):
            raise RunFolderError(svm_path, f"no 'attributes' metadata for its {head.num_attributes} "
                                           "attributes")  # fmt: skip
        attributes = list(CELEBA_ATTRIBUTES)  # runs without the metadata are CelebA's 40
    if len(attributes) != head.num_attributes:
        raise RunFolderError(svm_path, f"{head.num_attributes} SVM rows, {len(attributes)} names")
    if head.feature_dim != net.feature_dim:
        raise RunFolderError(svm_path, f"SVMs take {head.feature_dim}-d features, ANet gives "
                                       f"{net.feature_dim}")  # fmt: skip
    path = folder / "patches.json"
    patches = _read_json(path)
    anet = _schema(ANetInput, patches, path).to_dict()
    try:
        net.patch_grid(anet["canonical_size"], anet["canonical_size"], anet["stride"])
    except ValueError as e:
        raise RunFolderError(path, str(e)) from None
    return {"net": net, "svm": {k: head.to_arrays()[k] for k in SVM_KEYS},
            "attributes": attributes, "spec": spec, "preprocessing": {"anet": anet},
            "provenance": _provenance(folder, spec)}  # fmt: skip


def read_dldl_run(folder: str | Path, part: str, mirror: bool | None = None) -> dict[str, Any]:
    """An age ("age") or attractiveness ("attractiveness") run: {"net", "spec", "preprocessing",
    "provenance"}. mirror=False: a net trained with the mirror view (an anet_dldl with mirror)
    predicts from the crop alone (half of its own layers' work at prediction; same weights)."""
    folder = Path(folder)
    net, spec, metadata = _build(part, folder, "model.safetensors")
    if mirror is not None:
        if "mirror" not in spec.get("kwargs", {}) or not hasattr(net, "mirror"):
            raise RunFolderError(folder / "model.json", f"{spec.get('model')!r} has no mirror view to turn off")
        spec = {**spec, "kwargs": {**spec["kwargs"], "mirror": bool(mirror)}}
        net.mirror = bool(mirror)
    target = metadata.get("target")
    if target is not None and target != _TARGETS[part]:
        raise RunFolderError(folder / "model.safetensors",
                             f"was trained on {target!r}, not {_TARGETS[part]!r}: "
                             f"is it the right run for --{part}?")  # fmt: skip
    path = folder / "preprocess.json"
    settings = _read_json(path)
    reads_anet = {k: settings.pop(k) for k in ("anet_run", "anet_sha1") if k in settings}  # which ANet, not preprocessing
    prep = (_schema(HeadInput, settings, path, input="image") if settings.get("input") != "anet_features"
            else HeadInput(input="anet_features")).to_dict()  # fmt: skip
    provenance = _provenance(folder, spec)
    if mirror is not None:
        provenance["mirror_at_prediction"] = bool(mirror)
    return {"net": net, "spec": spec, "preprocessing": {part: prep}, "provenance": provenance,
            "reads_anet": {**reads_anet, "file": str(path)} if "anet_sha1" in reads_anet else None}  # fmt: skip


def check_head_reads_anet(head: dict, anet: torch.nn.Module, part: str) -> None:
    """A head on ANet's features (read_dldl_run's "reads_anet": the anet_sha1 its run recorded)
    reads the features of the ANet it was trained on, or its outputs mean nothing: RunFolderError
    naming its preprocess.json when the bundle's `anet` has other weights (weights_digest as a
    bundle stores them). A head whose run predates the record is not checked."""
    from lnet_anet.anet.features import weights_digest

    reads = head.get("reads_anet")
    if reads is None:
        return
    have = weights_digest(anet, as_stored=True)
    if have != reads["anet_sha1"]:
        raise RunFolderError(reads["file"], f"this {part} head was trained on the features of another ANet "
                                            f"({reads.get('anet_run')}, weights sha1 {reads['anet_sha1'][:12]}; this "
                                            f"bundle's ANet: {have[:12]}): bundle it with the ANet it was trained on, "
                                            "or train it again with anet_run= this ANet")  # fmt: skip


# -- assembling ------------------------------------------------------------------------------


def assemble(
    lnet: dict, anet: dict, age: dict | None = None, attractiveness: dict | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(parts, config) for save_bundle from the read_*_run results."""
    runs = {"lnet": lnet, "anet": anet, "age": age, "attractiveness": attractiveness}
    runs = {k: v for k, v in runs.items() if v is not None}
    for part in ("age", "attractiveness"):
        if part in runs:
            check_head_reads_anet(runs[part], anet["net"], part)
    parts: dict[str, Any] = {name: run["net"] for name, run in runs.items()}
    parts["svm"] = anet["svm"]
    config = {
        "nets": {name: run["spec"] for name, run in runs.items()},
        "preprocessing": {k: v for run in runs.values() for k, v in run["preprocessing"].items()},
        "attributes": list(anet["attributes"]),
        "provenance": {name: run["provenance"] for name, run in runs.items()},
    }
    return parts, config


def build_from_runs(
    out: str | Path,
    lnet: str | Path,
    anet: str | Path,
    age: str | Path | None = None,
    attractiveness: str | Path | None = None,
    command: str | None = None,
    no_mirror: Sequence[str] = (),
) -> Path:
    """Read the run folders and write the bundle to `out`. no_mirror: heads ("age",
    "attractiveness") that predict from the crop alone (read_dldl_run mirror=False)."""
    _check_no_mirror(no_mirror, {"age": age, "attractiveness": attractiveness})
    mirror = {name: False if name in no_mirror else None for name in ("age", "attractiveness")}
    parts, config = assemble(
        read_lnet_run(lnet),
        read_anet_run(anet),
        read_dldl_run(age, "age", mirror["age"]) if age is not None else None,
        read_dldl_run(attractiveness, "attractiveness", mirror["attractiveness"]) if attractiveness is not None else None,
    )
    config["provenance"]["built"] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "command": command,
    }
    return save_bundle(out, parts, config)


def _editable(source: str | Path) -> tuple[dict, dict[str, Any]]:
    """(a deep copy of the bundle's config without its versions, its parts as save_bundle takes
    them) of the bundle at `source`, for a step that replaces some of them."""
    from lnet_anet.inference.bundle import NET_PARTS, load_bundle

    bundle = load_bundle(source)
    config = json.loads(json.dumps(bundle.config))  # a deep copy
    config.pop("versions", None)
    parts: dict[str, Any] = {name: getattr(bundle, name) for name in NET_PARTS if getattr(bundle, name) is not None}
    parts["svm"] = {k: bundle.svm.to_arrays()[k] for k in SVM_KEYS}
    parts["heads"] = {name: bundle.head(name) for name in bundle.head_names}
    return config, parts


def replace_heads(
    source: str | Path,
    out: str | Path,
    age: str | Path | None = None,
    attractiveness: str | Path | None = None,
    command: str | None = None,
    no_mirror: Sequence[str] = (),
    note: str | None = None,
    anet: str | Path | None = None,
) -> Path:
    """Write `out`: the bundle `source` with its age and/or attractiveness head added or
    replaced from run folders, and/or its ANet and SVMs replaced from an ANet run folder
    (`anet`: a train_anet or fit_svms run). Every other part keeps its tensors (the float16
    weights round-trip exactly), settings and provenance; a replaced part's provenance is the
    new run's, and provenance.built lists this step after the source's own. no_mirror: given
    heads that predict from the crop alone (read_dldl_run mirror=False). note: why, in
    provenance.built."""
    heads = {"age": age, "attractiveness": attractiveness}
    _check_no_mirror(no_mirror, heads)
    heads = {k: v for k, v in heads.items() if v is not None}
    if not heads and anet is None:
        raise ValueError("replace_heads: give an age, attractiveness or ANet run")
    config, parts = _editable(source)
    if anet is not None:
        run = read_anet_run(anet)
        parts["anet"], parts["svm"] = run["net"], run["svm"]
        parts["heads"] = {}  # fitted on the old ANet's feature (build_bundle turns their steps off and says so)
        config["nets"]["anet"], config["attributes"] = run["spec"], list(run["attributes"])
        config["preprocessing"]["anet"] = run["preprocessing"]["anet"]
        config["provenance"]["anet"] = run["provenance"]
    for name, folder in heads.items():
        run = read_dldl_run(folder, name, False if name in no_mirror else None)
        check_head_reads_anet(run, parts["anet"], name)
        parts[name] = run["net"]
        config["nets"][name] = run["spec"]
        config["preprocessing"][name] = run["preprocessing"][name]
        config["provenance"][name] = run["provenance"]
    _record_build(config, source, command, note, replaced=sorted([*heads, *(["anet"] if anet is not None else [])]))
    return save_bundle(out, parts, config)


def embed_heads(source: str | Path, out: str | Path, heads: dict[str, Any], command: str | None = None,
                note: str | None = None) -> Path:  # fmt: skip
    """Write `out`: the bundle `source` with `heads` ({HEAD_PARTS name: a FeatureHead, or None to
    take that name's embedded head out}) embedded, every other part and setting unchanged;
    provenance.built records each head's digest. Raises ValueError (nothing written) for a name
    not in HEAD_PARTS, a head of the wrong kind, or one fitted on another ANet's feature."""
    from lnet_anet.inference.bundle import HEAD_PARTS, head_class, load_bundle

    bundle = load_bundle(source, build_nets=False)
    for name, head in heads.items():
        if name not in HEAD_PARTS:
            raise ValueError(f"embed_heads: unknown head {name!r} (a bundle embeds {', '.join(HEAD_PARTS)})")
        if head is None:
            continue
        if not isinstance(head, head_class(name)):
            raise ValueError(f"embed_heads: {name} must be a {head_class(name).__name__}, got {type(head).__name__}")
        if not head.fits(bundle):
            raise ValueError(f"embed_heads: the {name.replace('_', ' ')} was fitted on the feature of another ANet than "
                             f"{source}'s; fit it on this bundle ({head.FIT_COMMAND} --bundle {source} ...)")  # fmt: skip
    config, parts = _editable(source)
    parts["heads"] = {n: h for n, h in {**parts["heads"], **heads}.items() if h is not None}
    _record_build(config, source, command, note,
                  heads={n: (h.digest if h is not None else None) for n, h in sorted(heads.items())})  # fmt: skip
    return save_bundle(out, parts, config)


def add_check_map(source: str | Path, out: str | Path, lnet: torch.nn.Module, check_faces: float,
                  command: str | None = None, note: str | None = None) -> Path:  # fmt: skip
    """Write `out`: the bundle `source` with its LNet replaced by `lnet`, the same LNet with a
    check map (LNet(check=True); lnet_anet.lnet.check_map.with_check_map), nets.lnet.kwargs.check
    true and preprocessing.lnet.check_faces set; every other part, setting and provenance
    unchanged; provenance.built records the step."""
    if not getattr(lnet, "check", False):
        raise ValueError("add_check_map: the LNet has no check map (build it with check=True)")
    config, parts = _editable(source)
    parts["lnet"] = lnet
    config["nets"]["lnet"]["kwargs"] = {**config["nets"]["lnet"].get("kwargs", {}), "check": True}
    config["preprocessing"]["lnet"]["check_faces"] = float(check_faces)
    _record_build(config, source, command, note, replaced=["lnet"])
    return save_bundle(out, parts, config)


def override_settings(source: str | Path, out: str | Path, localizer: dict | None = None, lnet: dict | None = None,
                      command: str | None = None, note: str | None = None, crop_pad: str | None = None,
                      age_input: dict | None = None) -> Path:  # fmt: skip
    """Write `out`: the bundle `source` with some of its localizer settings (Localizer fields)
    and/or LNet input settings (LNetInput fields, e.g. zoom_in_scales) and/or the age head's
    input settings (HeadInput fields, e.g. soften) replaced, and/or its face crops filled outside
    the picture as `crop_pad` says (preprocessing.anet.pad and the pad of each head that reads a
    crop, so that they keep sharing ANet's stages: PADS); networks, SVMs and every other setting
    unchanged. provenance.built records the step. Raises BundleError (via the loader's checks)
    for a field or value that does not build, ValueError (nothing written) for age_input on a
    bundle whose age head reads no crop of its own (ANet's feature, or ANet's shared stages)."""
    if not localizer and not lnet and crop_pad is None and not age_input:
        raise ValueError("override_settings: give localizer, lnet, crop_pad and/or age_input settings")

    def update(config: dict) -> dict:
        config = json.loads(json.dumps(config))
        prep = config["preprocessing"]
        prep["localizer"] = {**prep["localizer"], **(localizer or {})}
        prep["lnet"] = {**prep["lnet"], **(lnet or {})}
        if crop_pad is not None:  # black, the default, is written as no key: a bundle made black again is as before
            for name in ("anet", "age", "attractiveness"):
                if name in prep and prep[name].get("input", "image") == "image":
                    prep[name] = {**{k: v for k, v in prep[name].items() if k != "pad"},
                                  **({"pad": crop_pad} if crop_pad != "black" else {})}  # fmt: skip
        if age_input:
            if "age" not in prep or prep["age"].get("input", "image") != "image":
                raise ValueError(f"{source}: age input settings need an age head that reads a face crop")
            prep["age"] = {**prep["age"], **age_input}
        _record_build(config, source, command, note, settings={"localizer": localizer or {}, "lnet": lnet or {},
                                                               **({"crop_pad": crop_pad} if crop_pad else {}),
                                                               **({"age_input": age_input} if age_input else {})})  # fmt: skip
        return config

    path = rebundle(source, out, update)
    if age_input:  # whether the age head reads a crop of its own shows only once its graph is built
        from lnet_anet.inference.predictor import Predictor

        try:
            Predictor.load(path, backend="torch")
        except ValueError:
            Path(path).unlink(missing_ok=True)
            raise
    return path


def calibrate_label_head(source: str | Path, out: str | Path, head: str, strength: float | None = None,
                         labels=None, std_scale: float | None = None, command: str | None = None,
                         note: str | None = None, floor: float = 0.1) -> Path:  # fmt: skip
    """Write `out`: the bundle `source` whose `head` ("age" or "attractiveness") is calibrated:
    `strength` (None: as it is) divides its training labels' prior ** strength out of every
    prediction (dldl.label_distribution: label_prior of `labels`, the labels the head learnt
    from, at the head's sigma and `floor`; prior_corrected), 0 removes a correction; `std_scale`
    (None: as it is) multiplies its std (1: as predicted). Networks and every other setting are
    unchanged; provenance.built records the step. Raises ValueError for a head the bundle lacks,
    nothing to change, no labels for a strength, or a bad strength / scale / floor."""
    from lnet_anet.dldl.label_distribution import DEFAULT_SIGMA, LabelBins, label_prior
    from lnet_anet.inference.bundle import read_header
    from lnet_anet.models.registry import create_model

    if strength is None and std_scale is None:
        raise ValueError("calibrate_label_head: give a prior strength and/or a std scale")
    if strength is not None and not (np.isfinite(strength) and strength >= 0):
        raise ValueError(f"the prior correction's strength must be finite and >= 0, got {strength}")
    if std_scale is not None and not (np.isfinite(std_scale) and std_scale > 0):
        raise ValueError(f"the std scale must be finite and > 0, got {std_scale}")
    spec = read_header(source)[1]["nets"].get(head) if head in ("age", "attractiveness") else None
    if spec is None:
        raise ValueError(f"{source} has no {head!r} head to calibrate (heads: age, attractiveness)")
    prior = None
    if strength:
        with torch.device("meta"):  # only the head's bins are needed: no weights (rebundle loads the bundle)
            meta = create_model(spec["model"], pretrained="none", **spec["kwargs"]).bins
        labels = np.asarray(labels, np.float64)
        prior = label_prior(labels, LabelBins(meta.low, meta.high, meta.step), DEFAULT_SIGMA[head], floor)

    def update(config: dict) -> dict:
        config = json.loads(json.dumps(config))
        spec = config["nets"][head]
        if strength is not None:
            spec.pop("prior_correction", None)
        if prior is not None:
            spec["prior_correction"] = {"strength": float(strength), "floor": float(floor),
                                        "sigma": DEFAULT_SIGMA[head], "labels": int(len(labels)),
                                        "prior": [float(f"{p:.6g}") for p in prior.tolist()]}  # fmt: skip
        if std_scale is not None:
            spec.pop("std_scale", None)
            if std_scale != 1:
                spec["std_scale"] = float(std_scale)
        changed = {"prior_correction": strength, "std_scale": std_scale}
        _record_build(config, source, command, note, calibrated={head: {k: v for k, v in changed.items() if v is not None}})
        return config

    return rebundle(source, out, update)


def _record_build(config: dict, source: str | Path, command: str | None, note: str | None, **what: Any) -> None:
    """provenance.built for a bundle made from `source`: the source's own build moves into
    provenance.history; `what` says what changed (replaced parts, settings)."""
    built = config["provenance"].get("built")
    config["provenance"]["history"] = list(config["provenance"].get("history", [])) + ([built] if built else [])
    config["provenance"]["built"] = {"date": dt.datetime.now().isoformat(timespec="seconds"), "command": command,
                                     "from_bundle": str(source), **what, **({"note": note} if note else {})}  # fmt: skip


def _check_no_mirror(no_mirror: Sequence[str], heads: dict[str, Any]) -> None:
    for name in no_mirror:
        if heads.get(name) is None:
            raise ValueError(f"no_mirror names {name!r}, but no {name} run is given")


# -- random bundles (tests, benchmarks) ------------------------------------------------------

# name: (lnet input, anet (canonical size, stride), dldl model, dldl image size)
PRESETS: dict[str, tuple[int, tuple[int, int], str, int]] = {
    "tiny": (128, (144, 16), "tiny_age_net", 32),  # light enough for unit tests
    "default": (300, (160, 16), "lite0_dldl", 128),  # the production architectures
}


def random_bundle(
    path: str | Path,
    preset: str = "tiny",
    threshold: float = 0.0,
    max_faces: int = 2,
    heads: Sequence[str] = ("age", "attractiveness"),
    seed: int = 0,
    feature_heads: bool = False,
) -> Path:
    """A bundle of randomly initialised networks (pretrained="none") and a random SVM head.

    Its predictions mean nothing; it exercises the file format and the pipeline at the real
    (preset "default") or a small ("tiny") size. threshold 0 with random weights makes every
    positive peak of the response map a face, up to max_faces. feature_heads: the age and
    attractiveness heads read ANet's feature (feature_dldl) instead of a face crop.
    """
    from lnet_anet.models.registry import create_model

    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    unknown = set(heads) - set(_TARGETS)
    if unknown:
        raise ValueError(f"heads must be among {sorted(_TARGETS)}, got {sorted(unknown)}")
    lnet_size, (canonical, stride), dldl_model, dldl_size = PRESETS[preset]
    specs = {"lnet": {"model": "lnet_lite0", "kwargs": {}},
             "anet": {"model": "anet_lite0", "kwargs": {"num_attributes": 40}}}  # fmt: skip
    bins = {"age": {"low": 0, "high": 100, "step": 1}, "attractiveness": {"low": 1, "high": 5, "step": 0.1}}
    for head in heads:
        specs[head] = ({"model": "feature_dldl", "kwargs": {"in_features": 256, **bins[head]}} if feature_heads
                       else {"model": dldl_model, "kwargs": bins[head]})  # fmt: skip
    with torch.random.fork_rng(devices=[]):  # seeded, without touching the caller's RNG
        torch.manual_seed(seed)
        parts: dict[str, Any] = {
            name: create_model(spec["model"], pretrained="none", **spec["kwargs"]).eval()
            for name, spec in specs.items()
        }
    rng = np.random.default_rng(seed)
    dim = parts["anet"].feature_dim
    parts["svm"] = {"weight": rng.normal(0, 0.1, (40, dim)), "bias": rng.normal(0, 0.5, 40),
                    "platt_a": np.ones(40), "platt_b": np.zeros(40), "threshold": np.full(40, 0.5),
                    "feature_mean": np.zeros(dim), "feature_std": np.ones(dim)}  # fmt: skip
    preprocessing: dict[str, Any] = {
        "lnet": LNetInput((lnet_size, lnet_size)).to_dict(),
        "localizer": {"threshold": threshold, "max_faces": max_faces},
        "anet": ANetInput(canonical, stride, enlarge=1.0).to_dict(),
    }
    for head in heads:
        preprocessing[head] = (HeadInput(input="anet_features") if feature_heads
                               else HeadInput(dldl_size, enlarge=1.3)).to_dict()  # fmt: skip
    config = {
        "nets": specs,
        "preprocessing": preprocessing,
        "attributes": list(CELEBA_ATTRIBUTES),
        "provenance": {"random_weights": True, "preset": preset, "seed": seed,
                       "note": "randomly initialised networks: for tests and benchmarks only"},
    }  # fmt: skip
    return save_bundle(path, parts, config)


def rebundle(src: str | Path, dst: str | Path, update) -> Path:
    """A copy of bundle `src` at `dst` whose config is `update(config)` (a function returning
    the new config dict); every network and the SVM head are carried over unchanged (float16
    weights round-trip exactly). The new config is checked like any other (BundleError)."""
    from lnet_anet.inference.bundle import load_bundle

    b = load_bundle(src)
    parts = {"lnet": b.lnet, "anet": b.anet, "svm": b.svm.to_arrays(), "age": b.age, "attractiveness": b.attractiveness,
             "heads": {name: b.head(name) for name in b.head_names}}  # fmt: skip
    config = update({k: v for k, v in b.config.items() if k != "versions"})
    return save_bundle(dst, {k: v for k, v in parts.items() if v is not None}, config)
