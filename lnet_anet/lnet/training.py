"""Training LNet from image-level tags: scenes, the cached lower part's maps, the upper part's samples."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.data.from_config import face_dataset
from lnet_anet.data.readers._tables import BOX_COLUMNS
from lnet_anet.data.scenes import BackgroundBank, ComposedScenes, ScenePhotometric
from lnet_anet.engine.checkpoint import save_npz_atomic
from lnet_anet.engine.config import ConfigError
from lnet_anet.engine.runs import load_run_net
from lnet_anet.lnet.localizer import (
    Localizer,
)
from lnet_anet.models.lnet import LNet


class RandomSubset(Subset):
    """A fixed-size random subset of a dataset of scenes (new scenes every epoch anyway)."""

    def __init__(self, dataset, fraction: float, seed: int):
        n = max(1, int(len(dataset) * fraction))
        super().__init__(dataset, np.random.default_rng(seed).permutation(len(dataset))[:n].tolist())


def with_listed_boxes(part):
    """The rows of an index whose face box is listed (x0..y1 finite): a wild photo missing from
    list_bbox_celeba.txt has no ground truth to score. The others are left out with a warning
    naming how many and one of them; an index without boxes is returned as it is."""
    if not set(BOX_COLUMNS) <= set(part.columns):
        return part
    unboxed = ~np.isfinite(part[list(BOX_COLUMNS)].to_numpy(np.float64)).all(axis=1)
    if unboxed.any():
        warnings.warn(f"{int(unboxed.sum())} image(s) without a listed face box left out, "
                      f"e.g. {part['path'].iloc[int(np.argmax(unboxed))]}", stacklevel=3)  # fmt: skip
    return part[~unboxed].reset_index(drop=True)


def check_scorable(cfg: DictConfig, part) -> None:
    """Raise ValueError (naming the dataset and the fix) when cfg.scenes is "wild" and the index
    part lists no face boxes to fit or score: checked before a run trains."""
    if cfg.scenes == "wild" and not set(BOX_COLUMNS) <= set(part.columns):
        raise ConfigError(f"scenes=wild scores the photos' listed face boxes, and {cfg.data.name} lists none: "
                         "for CelebA, data.index.images=img_celeba with Anno/list_bbox_celeba.txt; "
                         "or scenes=composed")  # fmt: skip


def scenes(cfg: DictConfig, part, names, train: bool, p_empty: float, seed: int, n: int | None = None,
           scored: bool = False, augment: bool = False):  # fmt: skip
    """LNet's scenes of an index part: the photos as they are (cfg.scenes "wild") or faces composed
    on backgrounds. scored: their boxes will be fitted or scored, so wild photos need listed face
    boxes (ValueError naming the dataset and the fix when it lists none). augment: the training
    scenes, changed by cfg.photometric (ScenePhotometric's settings; null: none) when composed."""
    if scored:
        check_scorable(cfg, part)
    if cfg.scenes == "wild":  # the photos as they are; their listed boxes are the ground truth
        dataset = face_dataset(cfg.data, with_listed_boxes(part), train=train, image_size=cfg.canvas, crop="full",
                               attributes=names)  # fmt: skip
    else:
        settings = cfg.get("photometric") if augment else None
        photometric = ScenePhotometric(**settings) if settings else None
        dataset = ComposedScenes(part, BackgroundBank(cfg.canvas), canvas=cfg.canvas, seed=seed, p_empty=p_empty,
                                 scale_range=tuple(cfg.scale_range), max_rotation_deg=cfg.max_rotation_deg,
                                 train=train, attributes=names, photometric=photometric)  # fmt: skip
    return dataset if n is None else Subset(dataset, list(range(min(n, len(dataset)))))


@torch.no_grad()
def cache_scenes(model: LNet, dataset, path, num_workers: int) -> dict[str, np.ndarray]:
    """The fixed lower part's maps of every scene (float16) with its tags: computed once.
    One image per forward: on CPU that is the fastest per image (large activations thrash the
    caches)."""
    if path.exists():
        return dict(np.load(path))
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    loader = DataLoader(dataset, batch_size=16, num_workers=num_workers, collate_fn=collate_skip_bad)
    for batch in tqdm(loader, desc=f"caching {path.stem}", dynamic_ncols=True, disable=None):
        if batch is None:
            continue
        for image in batch["image"]:
            fine, coarse = model.lower(image[None])
            maps = {"image": coarse} | ({} if fine is None else {"fine": fine})
            for key, value in maps.items():
                parts.setdefault(key, []).append(value.to(torch.float16).numpy())
        for key in ("attributes", "has_face"):  # copies: a worker's shared tensors hold open files
            parts.setdefault(key, []).append(batch[key].numpy().copy())
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    save_npz_atomic(path, arrays)
    return arrays


class CachedScenes(Dataset):
    """Training samples from cache_scenes' arrays, for LNetUpper."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = {k: torch.from_numpy(v) for k, v in arrays.items()}

    def __len__(self) -> int:
        return len(self.arrays["image"])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[i].float() for k, v in self.arrays.items()}


def init_weights(source: str | Path) -> dict[str, torch.Tensor]:
    """The LNet weights to start training from (train_lnet's init_from): a model bundle's LNet
    (*.lnetanet) or a train_lnet run folder's lnet.safetensors. Raises ConfigError naming the
    path when it is neither."""
    path = Path(source)
    if path.is_file() and path.suffix == ".lnetanet":
        from lnet_anet.inference.bundle import load_bundle

        return load_bundle(path).lnet.state_dict()
    if (path / "lnet.safetensors").is_file():
        from safetensors.torch import load_file

        return load_file(str(path / "lnet.safetensors"))
    raise ConfigError(f"init_from={source}: neither a model bundle (*.lnetanet) nor an LNet run folder "
                      "(with lnet.safetensors)")  # fmt: skip


def load_lnet_run(folder: Path):
    """(LNet in eval mode, Localizer, input size) from a train_lnet run folder."""
    model = load_run_net(folder, "lnet.safetensors", "train_lnet", also=("localizer.json",))
    settings = json.loads((folder / "localizer.json").read_text())
    size = settings.pop("input_size")
    return model, Localizer(**settings), size
