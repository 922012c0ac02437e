"""DLDL-v2 training helpers shared by the age and attractiveness runs: inputs from cached
features or trunk maps, the loss, predictions, and finishing a run folder."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig
from torch import nn
from torch.utils.data import Dataset

from lnet_anet.anet.features import (
    cached_trunk_maps,
    dataset_patch_features,
    features_from_maps,
)
from lnet_anet.anet.training import INIT_FROM_HINT, read_anet_weights
from lnet_anet.data.from_config import face_dataset
from lnet_anet.data.preprocess import HeadInput
from lnet_anet.dldl.label_distribution import (
    DEFAULT_SIGMA,
    DLDLLoss,
)
from lnet_anet.engine.config import ConfigError
from lnet_anet.engine.distributed import is_main_process
from lnet_anet.engine.runs import (
    RunNotFoundError,
    load_npz,
    reading,
    save_weights,
    write_json,
    write_model_json,
    write_regression_report,
)
from lnet_anet.metrics.age import regression_metrics
from lnet_anet.models.dldl import ANetDLDL


class FeatureSet(Dataset):
    """Cached features as samples: "image" is the head's input (the feature vector)."""

    def __init__(self, features: np.ndarray, target: str, values: np.ndarray, index: np.ndarray):
        self.x = torch.from_numpy(features.astype(np.float32))
        self.y = torch.from_numpy(values.astype(np.float32))
        self.index, self.target = torch.from_numpy(index), target

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return {"image": self.x[i], self.target: self.y[i], "index": self.index[i]}


def cached_features(out: Path, name: str, cfg: DictConfig, part, anet, patches) -> dict[str, np.ndarray]:
    path = out / f"features-{name}.npz"
    if path.exists():
        return load_npz(path)
    if cfg.features_from:  # another run on the same ANet and data (the loss ablations)
        shared = Path(cfg.features_from) / path.name
        if not shared.exists():
            raise FileNotFoundError(f"{shared}: features_from has no cached features for {name}")
        return load_npz(shared, f"it is features_from={cfg.features_from}'s cache: delete it there (that run computes "
                                "it again), or leave features_from unset")
    from lnet_anet.data.transforms import mirror

    views = [("", {})] + ([("-mirror", {"transform": mirror})] if patches.get("mirror") else [])
    means, index = [], None
    for suffix, kw in views:  # with patches.mirror the predictor averages the mirror image's patches in
        dataset = face_dataset(cfg.data, part, train=False, image_size=patches["canonical_size"], **kw)
        if anet.frozen_stages == anet.trunk.num_stages:  # a fixed ImageNet trunk: its maps can be reused
            maps = cached_trunk_maps(out / f"trunk-{name}{suffix}.npz", anet, dataset, 64, 2)
            feats = features_from_maps(anet, maps, patches["stride"])
        else:
            feats = dataset_patch_features(anet, dataset, patches["stride"], 64, 2, "cpu",
                                           desc=f"ANet features {name}{suffix}")  # fmt: skip
        if index is not None and not np.array_equal(feats["index"], index):
            raise ValueError(f"{path}: the mirror view holds other faces")
        index = feats["index"]
        means.append(feats["features"].mean(1))
    cache = {"features": np.mean(means, axis=0), "index": index}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **cache)
    return cache


def index_cache_key(index: pd.DataFrame, data_cfg, **settings) -> dict:
    """What a cache of every face of an index depends on: its image files (and face boxes, when
    it has them), the crop settings and `settings`, as a small JSON-ready dict."""
    import hashlib

    h = hashlib.sha1("\n".join(map(str, index["path"])).encode())
    if all(c in index for c in ("x0", "y0", "x1", "y1")):
        h.update(np.round(index[["x0", "y0", "x1", "y1"]].to_numpy(np.float64), 2).tobytes())
    key = {"rows": len(index), "files_sha1": h.hexdigest(), "crop": str(data_cfg.get("crop")),
           "box_scale": float(data_cfg.get("box_scale", 1.0))}  # fmt: skip
    enlarge = float(data_cfg.get("enlarge", 1.0) or 1.0)
    if enlarge != 1.0:  # the crop's framing (a key without it is a cache of enlarge 1.0: old caches stay valid)
        key["enlarge"] = enlarge
    return {**key, **settings}


def check_cache_key(npz: Path, key: dict) -> None:
    """Refuse a cache made for other faces or settings (<npz>.key.json beside it); write the key
    for a new cache."""
    import json

    path = npz.with_name(npz.name.removesuffix(".npz") + ".key.json")
    if path.exists():
        found = json.loads(path.read_text())
        if found != key:
            raise ConfigError(f"{npz}: cached for other faces or settings ({path}: {found} != {key}); "
                             "delete the cache or use another cache folder")  # fmt: skip
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key))


class FromTrunkMaps(nn.Module):
    """An ANetDLDL fed cached maps of its frozen trunk stages (`stage`: None for the whole
    trunk): patch windows (training) or whole crops (dense=True)."""

    def __init__(self, net: ANetDLDL, stage: int | None, dense: bool = False):
        super().__init__()
        self.net, self.stage, self.dense = net, stage, dense

    @property
    def head(self):
        return self.net.head

    @property
    def bins(self):
        return self.net.bins

    def forward(self, maps: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.dense and maps.dim() == 5:  # (B, 2, C, h, w): each crop's maps and its mirror image's
            return {"logits": self.net.dense_logits_from_trunk(maps[:, 0], self.stage, mirrored=maps[:, 1])}
        if self.dense:
            return {"logits": self.net.dense_logits_from_trunk(maps, self.stage)}
        return self.net.forward_from_trunk(maps, self.stage)


# The ANet sizes an init_from source fixes: its layers only load into a net of the same shape.
ANET_SHAPE_KEYS = ("patch_size", "grid", "local", "c3_channels", "c4_channels", "feature_dim")


def anet_source_shape(source: Path) -> dict:
    """The ANET_SHAPE_KEYS of the attribute ANet in a train_anet run folder (model.json) or a
    model bundle file (its header: nets.anet; anet_lite0's defaults for those it leaves out),
    without loading any weights. Raises
    FileNotFoundError naming the file when neither is there."""
    import json

    source = Path(source)
    if source.is_file():
        from lnet_anet.engine.config import ConfigError
        from lnet_anet.inference.bundle import BundleError, read_header

        try:
            kwargs = read_header(source)[1]["nets"]["anet"]["kwargs"]
        except (BundleError, KeyError, TypeError) as e:
            why = e.message if isinstance(e, BundleError) else "its header names no ANet (nets.anet.kwargs)"
            raise ConfigError(f"init_from={source}: cannot be read: {why}; give a model bundle (*.lnetanet) or a "
                              f"train_anet run folder{INIT_FROM_HINT}") from None  # fmt: skip
    else:
        spec = source / "model.json"
        if not spec.exists():
            raise RunNotFoundError(f"{spec}: init_from names no train_anet run (no model.json) and no model bundle"
                                   f"{INIT_FROM_HINT}")
        with reading(spec, f"the run folder {source} is damaged: train it again (python -m lnet_anet.cli.train_anet) or "
                           "name another run"):  # fmt: skip
            kwargs = json.loads(spec.read_text()).get("kwargs", {})
    import inspect

    from lnet_anet.models.anet import ANet, anet_lite0

    defaults = {k: p.default for f in (ANet.__init__, anet_lite0)  # what a spec leaves out
                for k, p in inspect.signature(f).parameters.items() if p.default is not inspect.Parameter.empty}
    return {k: kwargs.get(k, defaults.get(k)) for k in ANET_SHAPE_KEYS if k in kwargs or k in defaults}


def init_from_anet_run(net: ANetDLDL, folder: Path) -> None:
    """Copy an attribute ANet's layers above the frozen trunk stages (C3, C4, FC and any trunk
    stage that trains) into `net`, from a train_anet run folder or a model bundle file (its
    ANet). Not its heads, and not the frozen stages: they stay the
    ImageNet ones the cached maps come from (the attribute ANet may have tuned block 2)."""
    path, source = read_anet_weights(folder)
    frozen = net.anet.frozen_stages
    skip = ("attribute_head.", "identity_head.", *(("trunk.conv_stem.", "trunk.bn1.") if frozen else ()),
            *(f"trunk.blocks.{i}." for i in range(frozen - 1)))  # fmt: skip
    state = {k: v for k, v in source.items() if not k.startswith(skip)}
    wanted = {k for k in net.anet.state_dict() if not k.startswith(skip)}
    if set(state) != wanted:
        raise ValueError(f"{path}: its layers do not fit this model: missing {sorted(wanted - set(state))}, "
                         f"unexpected {sorted(set(state) - wanted)}")  # fmt: skip
    try:
        net.anet.load_state_dict(state, strict=False)
    except RuntimeError as e:  # same names, other shapes
        wrong = sorted({line.split("size mismatch for ")[1].split(":")[0] for line in str(e).splitlines()
                        if "size mismatch for " in line})  # fmt: skip
        raise ValueError(f"{path}: its layers do not fit this model (other sizes for {wrong or 'some layers'}); "
                         f"set the model's {', '.join(ANET_SHAPE_KEYS)} as the source's") from None


def _unwrap(model: nn.Module) -> nn.Module:
    """The model inside DistributedDataParallel (the engine hands loss_fn the DDP wrapper)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def dldl_loss_fn(
    model: nn.Module,
    batch: dict[str, torch.Tensor],
    target: str = "age",
    sigma: float | None = None,
    lambda_l1: float = 1.0,
    use_kl: bool = True,
    use_l1: bool = True,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The engine's loss_fn for any DLDL model: DLDLLoss on batch[target].

    Per-sample spreads come from batch[f"{target}_sigma"] (e.g. ChaLearn's "age_sigma") where
    finite; otherwise `sigma`, default DEFAULT_SIGMA[target]; per-sample loss weights from
    batch[f"{target}_weight"] when present (band_weights). Bind options with functools.partial.
    Reports "kl", "l1" and "mae" (of the expectation against the unclamped label).
    """
    if target not in batch:
        raise KeyError(f"batch has no {target!r} labels (keys: {sorted(batch)})")
    if sigma is None:
        if target not in DEFAULT_SIGMA:
            raise ValueError(f"no default sigma for target {target!r}; pass sigma=")
        sigma = DEFAULT_SIGMA[target]
    bins = _unwrap(model).bins
    logits = model(batch["image"])["logits"]
    y = batch[target]
    criterion = DLDLLoss(bins, lambda_l1=lambda_l1, use_kl=use_kl, use_l1=use_l1, sigma=sigma)
    loss, parts = criterion(logits, y, batch.get(f"{target}_sigma"), batch.get(f"{target}_weight"))
    with torch.no_grad():
        mean = logits.float().softmax(dim=1) @ bins.values_like(logits.float())
        parts["mae"] = float((mean - y.to(mean)).abs().mean())
    return loss, parts


@torch.no_grad()
def collect_predictions(
    model: nn.Module, loader: Iterable, device: torch.device | str, target: str = "age"
) -> pd.DataFrame:
    """Run a DLDL model over a loader: one row per sample with index (the dataset row, when
    the batches carry "index"), pred (expectation), pred_std, true and, when the batches have
    it, true_sigma (f"{target}_sigma"). Batches that are None (all images unreadable) are
    skipped. Join on "index" to the dataset's index DataFrame for gender / race breakdowns."""
    model = _unwrap(model)
    was_training = model.training
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    try:
        for batch in loader:
            if batch is None:
                continue
            if target not in batch:
                raise KeyError(f"batch has no {target!r} labels (keys: {sorted(batch)})")
            out = model.head.predict(model(batch["image"].to(device))["logits"])
            columns = {"pred": out["mean"], "pred_std": out["std"], "true": batch[target]}
            if "index" in batch:
                columns["index"] = batch["index"]
            if f"{target}_sigma" in batch:
                columns["true_sigma"] = batch[f"{target}_sigma"]
            for k, v in columns.items():
                parts.setdefault(k, []).append(v.detach().cpu().numpy())
    finally:
        model.train(was_training)
    if not parts:
        raise ValueError("collect_predictions: the loader gave no readable batch")
    return pd.DataFrame({k: np.concatenate(v) for k, v in parts.items()})


def evaluate_dldl(
    model: nn.Module, loader: Iterable, device: torch.device | str, target: str = "age"
) -> dict[str, float]:
    """The engine's evaluate_fn: regression_metrics of the expectation (mae, rmse, pearson_r,
    cs_<theta> at CS_THRESHOLDS[target], pred_std_mean, within_pred_std; eps_error when every
    sample has a finite positive true sigma). Bind target with functools.partial."""
    return prediction_metrics(collect_predictions(model, loader, device, target), target)


class DLDLEvaluation:
    """evaluate_dldl as an object that keeps the predictions of its last call (`last`, a
    collect_predictions frame; None before any): a recipe hands its trainer's final evaluation to
    finish_dldl_run, which then writes the run's report without scoring the split again."""

    def __init__(self, target: str = "age"):
        self.target = target
        self.last: pd.DataFrame | None = None

    def __call__(self, model: nn.Module, loader: Iterable, device: torch.device | str) -> dict[str, float]:
        self.last = collect_predictions(model, loader, device, self.target)
        return prediction_metrics(self.last, self.target)


# CS(theta) thresholds on each target's scale: ages 1..10 years; attractiveness 0.1..1.0 on 1-5.
CS_THRESHOLDS = {"age": tuple(range(1, 11)), "attractiveness": tuple(k / 10 for k in range(1, 11))}


def prediction_metrics(df: pd.DataFrame, target: str = "age") -> dict[str, float]:
    """regression_metrics of collect_predictions' rows (with the label spreads when all known),
    CS(theta) at the target's thresholds (CS_THRESHOLDS; age's for another target)."""
    sigma = df["true_sigma"].to_numpy() if "true_sigma" in df else None
    use_sigma = sigma is not None and bool(np.all(np.isfinite(sigma) & (sigma > 0)))
    return regression_metrics(df["pred"], df["true"], pred_sigma=df["pred_std"],
                              true_sigma=sigma if use_sigma else None,
                              cs_thresholds=CS_THRESHOLDS.get(target, CS_THRESHOLDS["age"]))  # fmt: skip


def finish_dldl_run(out: Path, cfg: DictConfig, net: nn.Module, prep: HeadInput, scored: nn.Module,
                    loader: Iterable, part: pd.DataFrame, split: str, device: torch.device | str = "cpu",
                    reads_anet: dict[str, str] | None = None,
                    predictions: pd.DataFrame | None = None) -> dict[str, float]:  # fmt: skip
    """Write what the bundle builder and the records take from a finished age or attractiveness
    run, the same for every input (images, ANet's layers, ANet's features): model.safetensors
    (metadata: target, model), model.json, preprocess.json (`prep`; with `reads_anet`, a head on
    ANet's features, also its anet_run and anet_sha1, which the bundle builder checks against
    the bundle's ANet), and the report of `scored`
    (the model as it reads `loader`'s batches) on `part`'s faces, the `split` ones: eval.json,
    eval.md, predictions.csv; `predictions`, when given, are `scored`'s on `loader` already (the
    trainer's final evaluation, DLDLEvaluation.last), and the split is not scored again. Returns the
    metrics (regression_metrics). Under torchrun only rank 0 evaluates and writes (the others
    return {}): every process holds the same trained weights."""
    if not is_main_process():
        return {}
    save_weights(net, out / "model.safetensors", {"target": cfg.target, "model": cfg.model._target_})
    write_model_json(out, cfg.model)
    write_json(out / "preprocess.json", {**prep.to_dict(), **(reads_anet or {})})
    preds = predictions if predictions is not None else collect_predictions(scored, loader, device, cfg.target)
    result = prediction_metrics(preds, cfg.target)
    write_regression_report(out, preds, part, split, cfg.target, result)
    return result
