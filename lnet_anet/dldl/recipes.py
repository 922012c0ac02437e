"""The recipes of one age / attractiveness training command (lnet_anet.cli.train_age), by input:

  image          a DLDL-v2 network on the face crop, trained end to end (ThinAgeNet, TinyAgeNet,
                 EfficientNet-Lite0: model=...)
  anet_layers    ANet's layers above its frozen trunk stages trained with the DLDL-v2 loss from an
                 attribute ANet (a train_anet run or a bundle); the frozen stages' maps are cached,
                 for the crops, their mirror images, any looser `framings` (ZoomOut views) and
                 any `augmented_views` (draws of the training augmentation)
  anet_features  a DLDL-v2 head on a fixed ANet's patch-averaged feature (shares ANet's pass)

Each writes the run folder through finish_dldl_run (weights, model.json, preprocess.json, report).
"""

from __future__ import annotations

import logging
import math
import numbers
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict
from torch.utils.data import DataLoader

from lnet_anet.anet.features import (
    TrunkMapPatches,
    cached_trunk_maps,
    frozen_stage_cache,
    load_anet_source,
    weights_digest,
)
from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.data.from_config import (
    attach_boxes,
    build_index,
    face_dataset,
    no_rows_error,
    split_fit_tune,
    split_of,
    tune_split_from_config,
)
from lnet_anet.data.preprocess import HeadInput
from lnet_anet.data.transforms import Chain, OneOf, Photometric, ZoomOut, mirror
from lnet_anet.dldl.label_distribution import band_weights
from lnet_anet.dldl.training import (
    DLDLEvaluation,
    FeatureSet,
    FromTrunkMaps,
    anet_source_shape,
    cached_features,
    check_cache_key,
    finish_dldl_run,
    index_cache_key,
    init_from_anet_run,
)
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.config import ConfigError
from lnet_anet.engine.runs import (
    keep_recipe,
    record_data,
    start_run,
)
from lnet_anet.engine.signals import ignore_sigterm
from lnet_anet.engine.trainer import check_full_batch

log = logging.getLogger("lnet_anet.train")

OUTSIDE_BINS_LIMIT = 0.01  # the share of training labels beyond the model's bins that a run tolerates


def label_model(cfg: DictConfig, index: pd.DataFrame):
    """instantiate(cfg.model), checked against the recipe (cfg.input) and the data: a DLDL model
    of the kind the recipe trains (anet_layers: model=anet_dldl; anet_features: feature_dldl;
    image: a net on the crop) whose bins hold the labels (check_labels_fit_bins). Raises
    ConfigError naming the model to pick otherwise, before anything is read or cached."""
    from lnet_anet.models.dldl import ANetDLDL, DLDLModel, FeatureDLDL

    name = _model_choice(cfg)
    try:
        model = instantiate(cfg.model)
    except Exception as e:  # noqa: BLE001 - Hydra wraps the builder's error (model.step=0.3: bins not whole)
        cause = e.__cause__ if isinstance(e.__cause__, (ValueError, TypeError)) else None
        if cause is None:
            raise
        raise ConfigError(f"model={name}: {cause}") from None
    wants = {"anet_layers": "model=anet_dldl", "anet_features": "model=feature_dldl",
             "image": "model=lite0_dldl, thin_age_net or tiny_age_net (attractiveness: lite0_attractiveness)"}  # fmt: skip
    kind = ("anet_layers" if isinstance(model, ANetDLDL) else "anet_features" if isinstance(model, FeatureDLDL)
            else "image" if isinstance(model, DLDLModel) else None)  # fmt: skip
    if kind is None:
        raise ConfigError(f"model {name} ({type(model).__name__}) is not an age / attractiveness (DLDL) model; "
                          f"input={cfg.input} trains {wants[cfg.input]}")  # fmt: skip
    if kind != cfg.input:
        raise ConfigError(f"model {name} trains with input={kind}, not input={cfg.input}: pick input={kind} "
                          f"(python -m lnet_anet.cli.train_age input={kind} ...) or {wants[cfg.input]}")  # fmt: skip
    if kind == "image":
        _check_input_size(model, name, int(cfg.data.image_size))
    check_labels_fit_bins(cfg, index, model.bins)
    return model


def _check_input_size(model, name: str, size: int) -> None:
    """A net on the crop run once on a blank (1, 3, size, size) crop, in eval mode: a crop too
    small for its pooling (data.image_size=16 on tiny_age_net: 5 max pools) stops here with a
    ConfigError, not in the first training step with torch's traceback (a contributor's trial)."""
    import torch

    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, size, size))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"model={name} cannot read {size} px crops (data.image_size={size}): {first}; its "
                          "builder's docstring gives the input size it needs") from None  # fmt: skip
    finally:
        model.train(was_training)


def _model_choice(cfg: DictConfig) -> str:
    """The model= option as the user gave it (Hydra's choice), else the model's factory name."""
    from hydra.core.hydra_config import HydraConfig

    try:
        return str(HydraConfig.get().runtime.choices["model"])
    except (ValueError, KeyError):  # outside @hydra.main, or no model group
        return str(cfg.model.get("_target_", "?")).rsplit(".", 1)[-1]


def check_labels_fit_bins(cfg: DictConfig, index: pd.DataFrame, bins) -> None:
    """Stop before training when the training labels do not fit the model's label bins (say
    model=lite0_attractiveness, bins 1-5, on UTKFace's ages 0-116): DLDL clamps a label to the
    nearest end bin, so such a run would train without an error and learn nothing of use.
    Raises ConfigError when more than OUTSIDE_BINS_LIMIT of the train split's cfg.target labels
    lie outside [bins.low, bins.high] by more than half a step."""
    if cfg.target not in index.columns:
        labels = [c for c in index.columns if c not in ("path", "split", "identity", "image", "name")]
        learnt = [c for c in ("age", "attractiveness") if c in labels]  # each has its config: train_<target>
        hint = f"; for its {learnt[0]} labels: --config-name train_{learnt[0]}" if learnt else ""
        raise ConfigError(f"the data ({cfg.data.name}) has no {cfg.target!r} labels, which this command learns "
                          f"(its label columns: {labels}){hint}")  # fmt: skip
    labels = pd.to_numeric(split_of(index, "train")[cfg.target], errors="coerce").dropna().to_numpy(np.float64)
    if not len(labels):
        return
    half = bins.step / 2
    outside = float(np.mean((labels < bins.low - half) | (labels > bins.high + half)))
    low, high = np.floor(labels.min()), np.ceil(labels.max())
    if outside > OUTSIDE_BINS_LIMIT:
        # a model for another target (its bins miss most labels), or bins a little short (UTKFace's ages to 116)
        other = ("; or pick a model for this target (age: model=lite0_dldl, thin_age_net, tiny_age_net; "
                 "attractiveness: --config-name train_attractiveness)" if outside > 0.5 else "")  # fmt: skip
        raise ConfigError(
            f"data {cfg.data.name}'s {cfg.target} labels run {labels.min():g}-{labels.max():g}, but the model's "
            f"bins cover {bins.low:g}-{bins.high:g}: {outside:.1%} of the training labels lie outside them (at most "
            f"{OUTSIDE_BINS_LIMIT:.0%} is trained as the nearest end bin). Set model.low={low:g} model.high={high:g} "
            f"to cover them{other}."
        )
    sigma = cfg.data.get("sigma")
    if high - low < 10 * bins.step and sigma is not None and sigma < bins.step:
        # SCUT's 1-5 scores on a net's default age bins 0-100, step 1: a trial trained it to MAE 47, unsaid
        step = 10.0 ** math.floor(math.log10(max(high - low, 1e-9) / 20))
        raise ConfigError(
            f"data {cfg.data.name}'s {cfg.target} labels run {labels.min():g}-{labels.max():g}, within "
            f"{(high - low) / bins.step:g} of the model's bins of {bins.step:g} ({bins.low:g}-{bins.high:g}), and "
            f"data.sigma={sigma:g} is under one bin: no distribution to learn. Set model.low={low:g} "
            f"model.high={high:g} model.step={step:g}."
        )
    if outside > 0:  # a few (UTKFace's 101-116 under bins to 100): trained at the end bin, said once
        log.warning("%d of %d training %s labels (%.2f%%) lie outside the model's bins %g-%g and are trained as the "
                    "nearest end bin; set model.low / model.high to cover them (UTKFace's ages run to 116)",
                    round(outside * len(labels)), len(labels), cfg.target, 100 * outside, bins.low, bins.high)  # fmt: skip


def train_on_image(cfg: DictConfig) -> dict:
    views = [view for _, view in framing_views(cfg.get("framings"))]  # each sample: the crop or one of these
    tune_split = tune_split_from_config(cfg.get("tune_split"))  # all three checked before any folder or data
    check_balance(cfg.get("balance"))
    out = start_run(cfg.train.get("seed", 0))  # locked, cleaned, seeded before the model
    record_recipe(out, cfg)
    index = build_index(cfg.data)
    record_data(out, cfg.data, index)
    train_part, eval_split = split_of(index, "train"), cfg.data.eval_split
    eval_index = split_of(index, eval_split)
    if tune_split:  # choosing settings: train on the fit part of the training faces, score their tune part
        train_part, eval_index = split_fit_tune(train_part, **tune_split)
        eval_split = "tune"
    if cfg.get("balance"):  # rare label bands weigh more in the loss (conf: balance: {edges, power})
        train_part = train_part.assign(**{f"{cfg.target}_weight": band_weights(train_part[cfg.target], **cfg.balance)})
    train_set = face_dataset(cfg.data, train_part, train=True, transform=OneOf(None, *views) if views else None)
    eval_set = face_dataset(cfg.data, eval_index, train=False)

    model = label_model(cfg, index)
    loss_fn = instantiate(cfg.loss)  # conf/loss/dldl.yaml: dldl_loss_fn with its options bound
    evaluation = DLDLEvaluation(cfg.target)  # its final predictions make the report: val is scored once
    trainer = Trainer(model, loss_fn, train_set, TrainConfig.from_dict(cfg.train), out,
                      val_set=eval_set, evaluate_fn=evaluation)  # fmt: skip
    trainer.fit()
    loader = DataLoader(eval_set, batch_size=cfg.train.batch_size, num_workers=cfg.train.num_workers,
                        collate_fn=collate_skip_bad, worker_init_fn=ignore_sigterm)  # fmt: skip
    result = finish_dldl_run(out, cfg, model, HeadInput(cfg.data.image_size, cfg.enlarge), model, loader,
                             eval_index.reset_index(drop=True), eval_split, trainer.device,
                             predictions=evaluation.last)  # fmt: skip
    log.info("%s on %s/%s: %s", cfg.target, cfg.data.name, eval_split,
             {k: round(v, 3) for k, v in result.items() if isinstance(v, float) and not k.startswith("cs_")})  # fmt: skip
    return result


def _trunk_view_maps(cfg: DictConfig, net, stage: int | None, path: Path, part, view: dict) -> dict:
    """The frozen stages' maps of one cached view of `part`'s crops (see augmented_views); an
    augmented view draws its random numbers from torch's generator seeded with view["seed"], so
    the same cache file always holds the same draws."""
    crops = face_dataset(cfg.data, part, train=view.get("train", False), image_size=cfg.canonical_size,
                         **({"transform": view["transform"]} if "transform" in view else {}))  # fmt: skip
    if "seed" not in view:
        return cached_trunk_maps(path, net.anet, crops, 64, cfg.train.num_workers, stage)
    with torch.random.fork_rng(devices=[]):  # the run's own random numbers do not depend on the cache
        torch.manual_seed(view["seed"])
        return cached_trunk_maps(path, net.anet, crops, 64, 0, stage)  # one process: the draws follow the seed


def augmented_views(n: int) -> list[tuple[str, dict]]:
    """(cache view suffix, view) of `n` extra training views of each crop drawn with FaceDataset's
    training augmentation (crop jitter, horizontal flip, colour jitter), view i seeded with 1000 + i."""
    return [(f"-aug{i}", {"train": True, "seed": 1000 + i}) for i in range(int(n or 0))]


def _cached_views(cfg: DictConfig, net, stage: int | None, stem: Path, index, views) -> dict[str, dict]:
    """{suffix: maps} of each (suffix, view) of `index`'s faces (rows: its positions), cached as
    <stem><suffix>.npz under one key (<stem>.key.json: the files, boxes, crop and stages); a
    cache made for other faces is refused."""
    check_cache_key(stem.with_name(stem.name + ".npz"), index_cache_key(index, cfg.data, size=cfg.canonical_size,
                                                                        stage=stage))  # fmt: skip
    found = {}
    for suffix, view in views:
        found[suffix] = _trunk_view_maps(cfg, net, stage, stem.with_name(stem.name + suffix + ".npz"), index, view)
        if len(found[suffix]["index"]) and int(found[suffix]["index"].max()) >= len(index):
            raise ConfigError(f"{stem}{suffix}.npz holds rows of another index; delete it")
    return found


def _whole_index_maps(cfg: DictConfig, index, net, stage: int | None, stem: Path,
                      augmented: list[tuple[str, dict]]) -> dict:  # fmt: skip
    """cache_whole_index: the frozen stages' maps of every face of the index, of its mirror
    image and of any `augmented_views`, cached once as <stem>.npz / <stem>-mirror.npz /
    <stem>-aug<i>.npz, then cut into the train and evaluation views. parts: "train" and the
    evaluation split both map to the whole index (rows are its positions), plus "maps" {view
    name: {"maps", "index"}}; the augmented views are "train-aug<i>" only."""
    whole = index.reset_index(drop=True)
    found = _cached_views(cfg, net, stage, stem, whole, (("", {}), ("-mirror", {"transform": mirror}), *augmented))
    split = whole["split"].to_numpy()
    ev = cfg.data.eval_split
    maps = {}
    for name, part in (("train", "train"), (ev, ev)):
        for suffix in ("", "-mirror", *(s for s, _ in augmented if part == "train")):
            rows = found[suffix]["index"]
            keep = split[rows] == part
            maps[name + suffix] = {"maps": found[suffix]["maps"][keep], "index": rows[keep]}
        if not len(maps[name]["index"]):
            raise no_rows_error(part, split)
    return {"train": whole, ev: whole, "maps": maps}


def say_unread_sigma(cfg: DictConfig, index: pd.DataFrame) -> None:
    """The recipes on cached ANet maps carry one label per face, not its spread: a per-face sigma
    the data gives (ChaLearn's age_sigma, SCUT's rater spread) is said to go unread."""
    column = f"{cfg.target}_sigma"
    if column in index and np.isfinite(pd.to_numeric(index[column], errors="coerce")).any():
        log.warning("the data gives each face its own %s, which input=%s does not read: every face takes data.sigma=%s "
                    "(input=image reads it)", column, cfg.input, cfg.data.get("sigma"))  # fmt: skip


def check_batch_before_caching(cfg: DictConfig, index, tune_split: dict | None) -> None:
    """engine.trainer.check_full_batch on the training faces (the fit part with a tune_split),
    before their trunk maps or features are cached: a batch larger than the training set stops the
    command then, not after minutes of caching. Soft labels add faces it cannot count yet."""
    if cfg.get("soft_labels"):
        return
    train = split_of(index, "train")
    if tune_split:
        train, _ = split_fit_tune(train, **tune_split)
    check_full_batch(len(train), int(cfg.train.batch_size))


def train_on_anet_layers(cfg: DictConfig) -> dict:
    extra_views = framing_views(cfg.get("framings"))  # (name, transform) of the looser framings
    tune_split = tune_split_from_config(cfg.get("tune_split"))  # both checked before any folder or data
    out = start_run(cfg.train.get("seed", 0))  # locked, cleaned, seeded before the model
    record_recipe(out, cfg)
    index = build_index(cfg.data)
    record_data(out, cfg.data, index)
    say_unread_sigma(cfg, index)
    check_batch_before_caching(cfg, index, tune_split)
    if cfg.init_from:  # its layers fit only a net of its own sizes: take them from the source
        shape = anet_source_shape(Path(cfg.init_from))
        differ = {k: (cfg.model[k], v) for k, v in shape.items() if k in cfg.model and cfg.model[k] != v}
        if differ:
            log.info("init_from %s: model %s, as the source's", cfg.init_from,
                     ", ".join(f"{k}={v} (config: {c})" for k, (c, v) in differ.items()))  # fmt: skip
            with open_dict(cfg):  # model.json (the bundle builder's spec) records what was built
                for k, (_, v) in differ.items():
                    cfg.model[k] = v
    net = label_model(cfg, index)
    stage, prefix = frozen_stage_cache(net.anet)
    if cfg.init_from:
        init_from_anet_run(net, Path(cfg.init_from))

    # The frozen stages' maps of every crop (and of the mirrored training crops), computed once.
    cache = Path(cfg.trunk_cache_dir or out)
    ev = cfg.data.eval_split
    augmented = augmented_views(cfg.get("augmented_views"))  # (cache suffix, view) of the augmented draws
    if cfg.get("cache_whole_index") and extra_views:
        raise ConfigError("framings need the per-split cache: set cache_whole_index=false (or framings=[])")
    if cfg.get("cache_whole_index"):  # one cache of every face, whatever the split (k-fold runs share it)
        parts = _whole_index_maps(cfg, index, net, stage, cache / f"{prefix}-all-{cfg.canonical_size}", augmented)
        maps = parts.pop("maps")
    else:
        parts = {s: split_of(index, s).reset_index(drop=True) for s in ("train", ev)}
        maps = {}
        views = [("train", "train", {}), ("train-mirror", "train", {"transform": mirror}), (ev, ev, {})]
        if net.mirror:  # faces are scored with their mirror images too
            views.append((f"{ev}-mirror", ev, {"transform": mirror}))
        views += [(name, "train", {"transform": view}) for name, view in extra_views]
        views += [(f"train{suffix}", "train", view) for suffix, view in augmented]
        for name, split, view in views:
            maps[name] = _trunk_view_maps(cfg, net, stage, cache / f"{prefix}-{name}.npz", parts[split], view)
    for name in ("train", ev):
        if f"{name}-mirror" in maps and not np.array_equal(maps[name]["index"], maps[f"{name}-mirror"]["index"]):
            raise ConfigError(f"{cache}: {prefix}-{name}.npz and {prefix}-{name}-mirror.npz hold different faces; "
                             "delete both")  # fmt: skip
    rows, train_maps = maps["train"]["index"], [maps["train"]["maps"], maps["train-mirror"]["maps"]]
    extra_names = [name for name, _ in extra_views] + [f"train{suffix}" for suffix, _ in augmented]
    for name in extra_names:  # looser framings and augmented draws: more views of the same faces
        if not np.array_equal(maps[name]["index"], rows):
            raise ConfigError(f"{cache}: {prefix}-{name}.npz and {prefix}-train.npz hold different faces; delete both")
        train_maps.append(maps[name]["maps"])
    scored = {"split": ev, "part": parts[ev], "index": maps[ev]["index"],
              "maps": [maps[ev]["maps"], *([maps[f"{ev}-mirror"]["maps"]] if net.mirror else [])]}  # fmt: skip
    if tune_split:  # choosing settings: train on the fit part of the training faces, score their tune part
        _, tune = split_fit_tune(parts["train"], **tune_split)
        held = np.isin(rows, tune.index.to_numpy())
        scored = {"split": "tune", "part": parts["train"], "index": rows[held],
                  "maps": [m[held] for m in train_maps[: 1 + net.mirror]]}  # fmt: skip
        rows, train_maps = rows[~held], [m[~held] for m in train_maps]
    labels = {cfg.target: parts["train"][cfg.target].to_numpy(np.float32)[rows], "index": rows}
    if cfg.get("soft_labels"):  # distillation: faces outside the dataset, each with a teacher's target
        if len(train_maps) != 2:
            raise ConfigError("soft_labels takes the crop and mirror views only: set framings=[] and augmented_views=0")
        soft = soft_label_maps(cfg, net, stage, cache / f"{prefix}-soft-{cfg.canonical_size}")
        train_maps = [np.concatenate([mine, theirs]) for mine, theirs in zip(train_maps, soft["maps"], strict=True)]
        labels = {cfg.target: np.concatenate([labels[cfg.target], soft["targets"]]),
                  "index": np.concatenate([rows, np.full(len(soft["targets"]), -1, rows.dtype)])}  # fmt: skip
        log.info("soft labels: %d more faces from %s", len(soft["targets"]), cfg.soft_labels.faces)
    if cfg.get("balance"):  # rare bands weigh more in the loss (conf: balance: {edges, power})
        labels[f"{cfg.target}_weight"] = band_weights(labels[cfg.target], **cfg.balance)
    window = net.anet.trunk.output_size(net.anet.patch_size, net.anet.frozen_stages)  # a patch's window of the cached map
    train_set = TrunkMapPatches(train_maps, labels, window, train=True, jitter=cfg.get("patch_jitter"))

    loss_fn = instantiate(cfg.loss)  # conf/loss/dldl.yaml: dldl_loss_fn with its options bound
    train_cfg = TrainConfig.from_dict({**cfg.train, "num_workers": 0})  # the maps are in memory
    Trainer(FromTrunkMaps(net, stage), loss_fn, train_set, train_cfg, out).fit()  # the eval split: scored below
    part, eval_rows = scored["part"], scored["index"]
    crops = np.stack(scored["maps"], axis=1) if net.mirror else scored["maps"][0]
    faces = FeatureSet(crops, cfg.target, part[cfg.target].to_numpy()[eval_rows], eval_rows)
    result = finish_dldl_run(out, cfg, net, HeadInput(cfg.canonical_size, cfg.enlarge), FromTrunkMaps(net, stage, dense=True),
                             DataLoader(faces, batch_size=256), part, scored["split"])  # fmt: skip
    log.info("%s on %s/%s (whole crops): MAE %.3f", cfg.target, cfg.data.name, scored["split"], result["mae"])
    return result


def soft_label_maps(cfg: DictConfig, net, stage: int | None, stem: Path) -> dict:
    """The training views of cfg.soft_labels' faces, for knowledge distillation (Hinton et al.,
    "Distilling the knowledge in a neural network", 2015): {faces: CSV with `path` and a
    `<target>` column (a teacher's prediction for each image file), boxes: CSV of LNet's face
    boxes (lnet_anet.cli.lnet_boxes; needed when data.crop is "box")}, cropped as cfg.data
    crops the dataset's faces.

    Returns {"maps": [crops, mirror images] (N, C, h, w) float16 (face_list_maps), "targets":
    (N,) float32}. Raises ValueError naming the CSV (and line) of a missing column or a
    non-finite target, or when boxes are needed and not given."""
    spec = cfg.soft_labels
    faces = pd.read_csv(spec.faces)
    for column in ("path", cfg.target):
        if column not in faces:
            raise ConfigError(f"{spec.faces}: lacks the column {column!r}")
    targets = pd.to_numeric(faces[cfg.target], errors="coerce").to_numpy(np.float64)
    if not np.isfinite(targets).all():
        raise ConfigError(f"{spec.faces}, line {int(np.flatnonzero(~np.isfinite(targets))[0]) + 2}: "
                         f"{cfg.target!r} is not a number")  # fmt: skip
    index = faces[["path"]]
    if spec.get("boxes"):
        index = attach_boxes(index, spec.boxes)
    elif cfg.data.crop == "box":
        raise ConfigError("soft_labels: data.crop is 'box' but soft_labels.boxes names no CSV of face boxes")
    found = face_list_maps(cfg, net, stage, stem, index)
    return {"maps": found["maps"], "targets": targets[found["index"]].astype(np.float32)}


def face_list_maps(cfg: DictConfig, net, stage: int | None, stem: Path, index: pd.DataFrame) -> dict:
    """The frozen stages' maps of the crops of `index`'s faces (column path; x0..y1 for crop:
    box) and of their mirror images, cropped as cfg.data crops, cached once per list of files
    and boxes (<stem>-<sha1>.npz, -mirror.npz). Unreadable images are skipped (reported by the dataset).
    Returns {"maps": [crops, mirror images] (N, C, h, w) float16, "index": (N,) rows of `index`}."""
    index = index.reset_index(drop=True).assign(split="train")
    sha = index_cache_key(index, cfg.data)["files_sha1"]
    stem = stem.with_name(f"{stem.name}-{sha[:12]}")
    found = _cached_views(cfg, net, stage, stem, index, (("", {}), ("-mirror", {"transform": mirror})))
    if not np.array_equal(found[""]["index"], found["-mirror"]["index"]):
        raise ConfigError(f"{stem}.npz and {stem}-mirror.npz hold different faces; delete both")
    return {"maps": [found[""]["maps"], found["-mirror"]["maps"]], "index": found[""]["index"]}


def check_balance(balance) -> None:
    """A `balance=` setting (null, or band_weights' {edges, power}) that band_weights takes; else
    ConfigError naming the setting."""
    if balance is None:
        return
    try:
        band_weights([0.0], **balance)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"balance must be {{edges: [increasing band boundaries], power: p >= 0}} "
                          f"(e.g. 'balance={{edges: [0, 13, 60, 117], power: 0.5}}'): {e}") from None


RECIPE_KEYS = ("tune_split", "framings", "balance")  # what a rerun in the same folder must not change
INPUT_KEYS = ("image_size", "crop", "enlarge", "sigma")  # data.*: how each face is read and labelled


def record_recipe(out: Path, cfg: DictConfig, anet: dict | None = None) -> None:
    """<run>/recipe.json (engine.runs.keep_recipe): tune_split, framings, balance, how faces are
    read and labelled (data.image_size, crop, enlarge, sigma), the loss, the model (model.*, as
    configured), init_from (resolved) and, for a head on ANet's features, `anet` (the ANet's
    weights_sha1 and patch settings: another anet_run would leave the cached features of the first
    in use), which a rerun in the same folder must keep; a folder trained before the file existed
    counts as the defaults, and one whose recipe.json predates the input, loss, model, anet and
    init_from keys takes them as they are now."""
    recipe = {k: cfg.get(k) for k in RECIPE_KEYS}
    # another model (model=tiny_age_net over a lite0_dldl run) is named key by key here, before its
    # checkpoint fails to load into the new net with a list of the state dict's missing keys
    recipe["model"] = cfg.get("model")
    recipe["input"] = {k: cfg.data.get(k) for k in INPUT_KEYS}
    recipe["loss"] = {k: v for k, v in OmegaConf.to_container(cfg.loss, resolve=True).items() if not k.startswith("_")} \
        if cfg.get("loss") is not None else None  # fmt: skip
    if anet is not None:
        recipe["anet"] = anet
    source = cfg.get("init_from")  # the layers it started from (anet_layers): another start trains nothing new
    recipe["init_from"] = str(Path(source).resolve()) if source else None
    keep_recipe(out, recipe, {"tune_split": None, "framings": [], "balance": None}, "with other training settings",
                unrecorded=("input", "loss", "model", "anet", "init_from"))  # fmt: skip


FRAMING_KEYS, PHOTOMETRIC_KEYS = ("zoom", "fill", "jitter", "flip", "photometric"), ("gain", "gamma", "gray")


def framing_views(framings) -> list[tuple[str, ZoomOut | Chain]]:
    """(cache view name, transform) of each extra training view (the anet_layers recipe caches
    each; the image recipe draws one per sample), from
    cfg.framings: a list of {zoom, fill, jitter, flip} (ZoomOut's arguments), each optionally
    with photometric: {gain, gamma, gray} (Photometric's, applied after the framing); the name
    holds them all, so that a cached view is never read for another one. Raises ConfigError
    naming the item (framings[i]) for anything else: not a list, a missing zoom, an unknown key,
    a value ZoomOut or Photometric refuses."""
    if isinstance(framings, DictConfig | ListConfig):
        framings = OmegaConf.to_container(framings, resolve=True)
    example = "e.g. 'framings=[{zoom: 1.4, fill: blur, photometric: {gray: true}}]'"
    if framings is not None and not isinstance(framings, list):
        raise ConfigError(f"framings must be a list of {{{', '.join(FRAMING_KEYS)}}} mappings ({example}), "
                          f"got {framings!r}")  # fmt: skip
    views = []
    for i, f in enumerate(framings or []):
        where = f"framings[{i}]"
        if not isinstance(f, dict) or "zoom" not in f:
            raise ConfigError(f"{where} must be a mapping with a zoom >= 1 ({example}), got {f!r}")
        f = dict(f)
        photo = f.pop("photometric", None)
        unknown = sorted(set(f) - set(FRAMING_KEYS))
        if photo is not None and not isinstance(photo, dict):
            raise ConfigError(f"{where}.photometric must be a mapping of {', '.join(PHOTOMETRIC_KEYS)}, got {photo!r}")
        unknown += [f"photometric.{k}" for k in sorted(set(photo or {}) - set(PHOTOMETRIC_KEYS))]
        if unknown:
            raise ConfigError(f"{where} has unknown keys {unknown} (known: {', '.join(FRAMING_KEYS)}; photometric: "
                              f"{', '.join(PHOTOMETRIC_KEYS)})")  # fmt: skip
        try:
            zoom, p = ZoomOut(**f), Photometric(**photo) if photo else None
        except (TypeError, ValueError) as e:  # a value of the wrong kind or out of range
            raise ConfigError(f"{where}: {e}") from None
        name = f"train-zoom{zoom.zoom:g}-{zoom.fill}-j{zoom.jitter:g}{'-flip' if zoom.flip else ''}"
        if p is not None:
            name += f"-g{p.gain:g}-y{p.gamma:g}{'-gray' if p.gray else ''}"
            views.append((name, Chain(zoom, p)))
        else:
            views.append((name, zoom))
    return views


def train_on_anet_features(cfg: DictConfig) -> dict:
    out = start_run(cfg.train.get("seed", 0))  # locked, cleaned, seeded before the model
    anet, patches, _ = load_anet_source(Path(cfg.anet_run), "anet_run")
    anet_digest = weights_digest(anet, as_stored=True)  # the head reads this ANet's features: recipe, preprocess.json
    record_recipe(out, cfg, anet={"weights_sha1": anet_digest, "patches": dict(patches)})
    index = build_index(cfg.data)
    record_data(out, cfg.data, index)
    say_unread_sigma(cfg, index)
    check_batch_before_caching(cfg, index, None)
    sets = {}
    if cfg.get("features_cache_dir"):  # one cache of every face of the index (k-fold runs share it)
        whole = index.reset_index(drop=True)
        name = f"all-{patches['canonical_size']}"
        key = index_cache_key(whole, cfg.data, anet=weights_digest(anet), patches=dict(patches))
        check_cache_key(Path(cfg.features_cache_dir) / f"features-{name}.npz", key)
        feats = cached_features(Path(cfg.features_cache_dir), name, cfg, whole, anet, patches)
        split = whole["split"].to_numpy()[feats["index"]]
        for name in ("train", cfg.data.eval_split):
            keep = split == name
            rows = feats["index"][keep]
            sets[name] = (FeatureSet(feats["features"][keep], cfg.target, whole[cfg.target].to_numpy()[rows], rows),
                          whole)  # fmt: skip
    else:
        for name in ("train", cfg.data.eval_split):
            part = split_of(index, name).reset_index(drop=True)
            feats = cached_features(out, name, cfg, part, anet, patches)
            rows = feats["index"]
            sets[name] = (FeatureSet(feats["features"], cfg.target, part[cfg.target].to_numpy()[rows], rows), part)

    model = label_model(cfg, index)
    loss_fn = instantiate(cfg.loss)  # conf/loss/dldl.yaml: dldl_loss_fn with its options bound
    evaluation = DLDLEvaluation(cfg.target)  # its final predictions make the report: val is scored once
    eval_set, eval_part = sets[cfg.data.eval_split]
    trainer = Trainer(model, loss_fn, sets["train"][0], TrainConfig.from_dict(cfg.train), out,
                      val_set=eval_set, evaluate_fn=evaluation, collate_fn=None)  # fmt: skip
    trainer.fit()
    result = finish_dldl_run(out, cfg, model, HeadInput(input="anet_features"), model,
                             DataLoader(eval_set, batch_size=1024), eval_part, cfg.data.eval_split,
                             reads_anet={"anet_run": str(Path(cfg.anet_run).resolve()), "anet_sha1": anet_digest},
                             predictions=evaluation.last)  # fmt: skip
    log.info("%s on %s/%s: MAE %.3f", cfg.target, cfg.data.name, cfg.data.eval_split, result["mae"])
    return result


RECIPES = {"image": train_on_image, "anet_layers": train_on_anet_layers, "anet_features": train_on_anet_features}


# conf/data/*.yaml's tasks: where each is, and which command learns it (train()'s error)
DATA_OF_TASK = {"age": "data=utkface (or morph, fgnet, chalearn)", "attractiveness": "data=scut_fbp5500",
                "attributes": "data=celeba_hq (or celeba, lfwa)"}  # fmt: skip
COMMAND_OF_TASK = {"age": "python -m lnet_anet.cli.train_age", "attributes": "python -m lnet_anet.cli.train_anet",
                   "attractiveness": "python -m lnet_anet.cli.train_age --config-name train_attractiveness"}  # fmt: skip


def check_dldl_settings(cfg: DictConfig) -> None:
    """The label-distribution settings a run cannot train with, said before any data is read (a
    trial: data.sigma=abc started training and ended in a traceback): the target, data.sigma (the
    distribution's spread, in the label's units) and the loss's. Raises ConfigError naming them."""
    if cfg.target not in ("age", "attractiveness"):
        raise ConfigError(f"target must be age or attractiveness, got {cfg.target!r}")

    def number(value) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value >= 0

    sigma = cfg.data.get("sigma")
    if sigma is not None and not number(sigma):
        raise ConfigError(f"data.sigma must be a number >= 0 (the label distribution's spread, in {cfg.target}'s "
                          f"units), got {sigma!r}")  # fmt: skip
    loss = cfg.get("loss") or {}
    if not number(loss.get("lambda_l1", 1.0)):
        raise ConfigError(f"loss.lambda_l1 must be a number >= 0, got {loss.get('lambda_l1')!r}")
    for key in ("use_kl", "use_l1"):
        if not isinstance(loss.get(key, True), bool):
            raise ConfigError(f"loss.{key} must be true or false, got {loss.get(key)!r}")
    if not (loss.get("use_kl", True) or loss.get("use_l1", True)):
        raise ConfigError("loss.use_kl and loss.use_l1 are both false: nothing to train")


def train(cfg: DictConfig) -> dict:
    """Run the recipe of cfg.input (image | anet_layers | anet_features); returns its metrics."""
    if cfg.input not in RECIPES:
        raise ConfigError(f"input must be one of {sorted(RECIPES)}, got {cfg.input!r}")
    check_dldl_settings(cfg)
    task = cfg.data.get("task")  # conf/data/*.yaml: what the dataset labels; said before its settings are resolved
    if task is not None and task != cfg.target:
        raise ConfigError(f"the data ({cfg.data.name}) has no {cfg.target!r} labels, which this command learns "
                          f"(it is {task} data): {cfg.target} data is {DATA_OF_TASK[cfg.target]}; {task} data trains "
                          f"with {COMMAND_OF_TASK[task]}")  # fmt: skip
    return RECIPES[cfg.input](cfg)
