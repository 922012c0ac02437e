"""ANet's multi-patch features over a dataset: one dense ("interweaved") pass per face."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file as load_arrays
from safetensors.torch import load_file
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.heads.svm import LinearSVMHead
from lnet_anet.models.anet import ANet
from lnet_anet.models.registry import create_model


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
                        collate_fn=collate_skip_bad)  # fmt: skip
    parts: dict[str, list[np.ndarray]] = {}
    for batch in tqdm(loader, desc=desc, dynamic_ncols=True):
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
    return {k: np.concatenate(v) for k, v in parts.items()}


def load_anet_run(folder: Path):
    """(ANet in eval mode, LinearSVMHead, patches config) from a train_anet run folder."""
    for needed in ("model.json", "anet.safetensors", "svm.safetensors", "patches.json"):
        if not (folder / needed).exists():
            raise FileNotFoundError(f"{folder / needed}: not found; is {folder} a finished train_anet run?")
    spec = json.loads((folder / "model.json").read_text())
    model = create_model(spec["model"], pretrained="none", **spec["kwargs"])
    model.load_state_dict(load_file(str(folder / "anet.safetensors")))
    head = LinearSVMHead.from_arrays({k: v.astype(np.float64) for k, v in load_arrays(str(folder / "svm.safetensors")).items()})
    return model.eval(), head, json.loads((folder / "patches.json").read_text())
