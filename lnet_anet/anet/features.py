"""ANet's multi-patch features over a dataset: one dense ("interweaved") pass per face."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file as load_arrays
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from lnet_anet.anet.svm import LinearSVMHead
from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.engine.checkpoint import save_npz_atomic
from lnet_anet.engine.runs import load_npz, load_run_net, reading
from lnet_anet.engine.signals import ignore_sigterm
from lnet_anet.models.anet import ANet


@torch.no_grad()
def dataset_patch_features(
    model: ANet,
    dataset: Dataset,
    stride: int,
    batch_size: int = 64,
    num_workers: int = 2,
    device: torch.device | str = "cpu",
    desc: str = "features",
) -> dict[str, np.ndarray]:
    """For every readable face of `dataset` (images at the canonical size S >= patch size):
    "features" (N, nPatches, D) float32 of the P x P patches at offsets 0, stride, ...;
    "attribute_logits" (N, nPatches, A) of the network's own head on each patch;
    "index" (N,) dataset rows; "attributes" (N, A) labels when the dataset has them.
    Unreadable images are left out (and warned about by the dataset)."""
    model.eval().to(device)
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers,
                        collate_fn=collate_skip_bad, worker_init_fn=ignore_sigterm)  # fmt: skip
    parts: dict[str, list[np.ndarray]] = {}
    for batch in tqdm(loader, desc=desc, dynamic_ncols=True, disable=None):
        if batch is None:
            continue
        dense = model.dense_features(batch["image"].to(device), stride)  # (B, nY, nX, D)
        feats = dense.flatten(1, 2)
        columns = {
            "features": feats,
            "attribute_logits": model.attribute_head(feats),
            "index": batch["index"],
        }
        if "attributes" in batch:
            columns["attributes"] = batch["attributes"]
        for k, v in columns.items():
            parts.setdefault(k, []).append(v.cpu().numpy())
    if not parts:
        raise ValueError("no readable image in the dataset")
    _log_skipped(dataset, parts["index"], desc)
    return {k: np.concatenate(v) for k, v in parts.items()}


def _log_skipped(dataset: Dataset, read: list[np.ndarray], desc: str) -> None:
    """Say in the training log (train.log), not only in the dataset's warnings on stderr, how
    many images were unreadable: they drop out of the split for good."""
    skipped = len(dataset) - sum(len(r) for r in read)
    if skipped:
        logging.getLogger("lnet_anet.train").warning("%s: %d unreadable images were skipped (named in the warnings "
                                                     "above)", desc, skipped)  # fmt: skip


def load_anet_run(folder: Path):
    """(ANet in eval mode, LinearSVMHead, patches config) from a train_anet run folder."""
    model = load_run_net(folder, "anet.safetensors", "train_anet", also=("svm.safetensors", "patches.json"))
    fix = f"the run folder {folder} is damaged: train it again (python -m lnet_anet.cli.train_anet) or name another run"
    with reading(folder / "svm.safetensors", fix):
        arrays = load_arrays(str(folder / "svm.safetensors"))
    head = LinearSVMHead.from_arrays({k: v.astype(np.float64) for k, v in arrays.items()})
    with reading(folder / "patches.json", fix):
        patches = json.loads((folder / "patches.json").read_text())
    return model, head, patches


def load_anet_source(path: Path, key: str = "anet_from") -> tuple[ANet, dict, dict]:
    """(ANet, its patches settings, its model spec {"model", "kwargs"}) of a train_anet run folder
    or of a model bundle file (its ANet and preprocessing.anet: features are then exactly those
    the bundle's predictor reads). Raises FileNotFoundError when the path or a file is missing,
    ConfigError naming the setting `key` (anet_from, anet_run) for a file that is not a readable
    bundle, RunFileError for a run's file that cannot be read."""
    path = Path(path)
    if path.is_file():
        from lnet_anet.engine.config import ConfigError
        from lnet_anet.inference.bundle import BundleError, load_bundle

        try:
            bundle = load_bundle(path)
        except BundleError as e:
            raise ConfigError(f"{key}={path}: cannot be read: {e.message}; give a model bundle (*.lnetanet) or a "
                              "train_anet run folder") from None  # fmt: skip
        return bundle.anet, dict(bundle.preprocessing["anet"]), dict(bundle.config["nets"]["anet"])
    anet, _, patches = load_anet_run(path)
    return anet, patches, json.loads((path / "model.json").read_text())


def weights_digest(net: torch.nn.Module, as_stored: bool = False) -> str:
    """sha1 (hex) of a network's weights, its state_dict in key order as float32 (a feature
    cache's key: the cache belongs to these weights). as_stored: each tensor as a bundle stores it
    (inference.bundle.stored_tensor: weight matrices in float16), so that a run folder's ANet and
    the same ANet in a bundle give one digest (a head trained on ANet's features records it)."""
    from lnet_anet.inference.bundle import stored_tensor

    h = hashlib.sha1()
    for key, value in sorted(net.state_dict().items()):
        h.update(key.encode())
        value = stored_tensor(value) if as_stored else value.detach()
        h.update(value.float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


@torch.no_grad()
def dataset_trunk_maps(
    model: ANet,
    dataset: Dataset,
    batch_size: int = 64,
    num_workers: int = 2,
    desc: str = "trunk maps",
    stage: int | None = None,
) -> dict[str, np.ndarray]:
    """The fixed trunk's output maps of every readable face (float16, (N, C, h, w)), or its
    maps after the first `stage` stages, with the batch labels ("attributes", "identity",
    "index"): computed once, reused every epoch."""
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers, collate_fn=collate_skip_bad)
    parts: dict[str, list[np.ndarray]] = {}
    for batch in tqdm(loader, desc=desc, dynamic_ncols=True, disable=None):
        if batch is None:
            continue
        maps = model.trunk.forward_stages(batch["image"], 0, stage)
        parts.setdefault("maps", []).append(maps.to(torch.float16).contiguous().numpy())
        for key in ("attributes", "identity", "index"):
            if key in batch:
                parts.setdefault(key, []).append(batch[key].numpy())
    if not parts:
        raise ValueError("no readable image in the dataset")
    _log_skipped(dataset, parts["maps"], desc)
    return {k: np.concatenate(v) for k, v in parts.items()}


def join_views(views: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Patch features of the same faces seen several ways (e.g. the crop and its mirror image)
    as one set: each face's patches of every view side by side, (N, nViews * nPatches, ...)."""
    for other in views[1:]:
        if not np.array_equal(other["index"], views[0]["index"]):
            raise ValueError("the views hold different faces (an image unreadable in only one of them?)")
    joined = dict(views[0])
    for key in ("features", "attribute_logits"):
        joined[key] = np.concatenate([v[key] for v in views], axis=1)
    return joined


class TrunkMapPatches(Dataset):
    """Patches as windows of cached trunk maps. A P x P patch at pixel offset (8i, 8j) of the
    canonical crop is exactly the s x s window at (i, j) of the crop's trunk map (the trunk is
    unpadded, stride 8), so training on random windows = training on random patches.

    maps: one (N, C, h, w) array per view (e.g. the crops and their mirror images); train picks
    a random view and window (jitter: within that many map pixels of the centre window in each
    axis; None: anywhere), otherwise the unflipped centre window."""

    def __init__(self, views: list[np.ndarray], labels: dict[str, np.ndarray], window: int, train: bool,
                 jitter: int | None = None):  # fmt: skip
        self.views = [torch.from_numpy(v) for v in views]
        self.labels = {k: torch.from_numpy(np.asarray(v)) for k, v in labels.items()}
        self.window, self.train = window, train
        self.span = self.views[0].shape[-1] - window  # largest offset
        centre = self.span // 2
        self.low, self.high = (0, self.span) if jitter is None else (max(0, centre - jitter), min(self.span, centre + jitter))

    def __len__(self) -> int:
        return len(self.views[0])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if self.train:
            view = self.views[int(torch.randint(len(self.views), ()))]
            y, x = (int(v) for v in torch.randint(self.low, self.high + 1, (2,)))
        else:
            view, y, x = self.views[0], self.span // 2, self.span // 2
        window = view[i, :, y:y + self.window, x:x + self.window].float()
        return {"image": window, **{k: v[i] for k, v in self.labels.items()}}


class FromTrunk(torch.nn.Module):
    """ANet's forward from cached maps (after the trunk's first `stage` stages; default the whole
    trunk): lets the engine train the layers above the fixed ones."""

    def __init__(self, anet: ANet, stage: int | None = None):
        super().__init__()
        self.anet, self.stage = anet, stage

    def forward(self, trunk_map: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.anet.forward_from_trunk(trunk_map, self.stage)


def frozen_stage_cache(model: ANet) -> tuple[int | None, str]:
    """(stage, file prefix) of the maps to cache below an ANet's trainable layers: (None,
    "trunk") when the whole trunk is frozen, else (frozen_stages, "stage<n>")."""
    frozen = model.frozen_stages
    if frozen < 1:
        raise ValueError("caching the trunk's maps needs frozen stages to cache: set model.frozen_stages >= 1")
    return (None, "trunk") if frozen == model.trunk.num_stages else (frozen, f"stage{frozen}")


def cached_trunk_maps(path: Path, model, dataset, batch_size: int, num_workers: int,
                      stage: int | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    if path.exists():
        logging.getLogger(__name__).info("trunk maps %s: reusing %s", path.stem, path)
        return load_npz(path)
    # said in the log too: the progress bar is hidden when the output goes to a file, and this can take minutes
    logging.getLogger(__name__).info("trunk maps %s: computing them for %d faces once (cached in %s)",
                                     path.stem, len(dataset), path.parent)  # fmt: skip
    maps = dataset_trunk_maps(model, dataset, batch_size, num_workers, desc=f"trunk maps {path.stem}", stage=stage)
    save_npz_atomic(path, maps)  # a shared cache folder may not exist yet
    return maps


@torch.no_grad()
def features_from_maps(model, maps: dict[str, np.ndarray], stride: int, batch: int = 256,
                       stage: int | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """dataset_patch_features from cached maps of the whole trunk, or of its first `stage`
    stages (same output, no pass through the cached stages)."""
    feats = [model.dense_features_from_trunk(torch.from_numpy(maps["maps"][i:i + batch]).float(), stride,
                                             stage=stage).flatten(1, 2)  # fmt: skip
             for i in range(0, len(maps["maps"]), batch)]  # fmt: skip
    features = torch.cat(feats)
    out = {"features": features.numpy(), "attribute_logits": model.attribute_head(features).numpy(),
           "index": maps["index"]}  # fmt: skip
    if "attributes" in maps:
        out["attributes"] = maps["attributes"]
    return out
