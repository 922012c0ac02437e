"""Training LNet from image-level tags: scenes, the cached lower part's maps, the upper part's samples."""

from __future__ import annotations

import json
import logging
import math
import warnings
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.data.from_config import face_dataset, photometric_from_config
from lnet_anet.data.readers._tables import BOX_COLUMNS
from lnet_anet.data.scenes import BackgroundBank, ComposedScenes, ScenePhotometric
from lnet_anet.engine.checkpoint import save_npz_atomic
from lnet_anet.engine.config import ConfigError
from lnet_anet.engine.runs import load_npz, load_run_net
from lnet_anet.engine.signals import ignore_sigterm
from lnet_anet.lnet.localizer import (
    Localizer,
)
from lnet_anet.models.lnet import LNet

log = logging.getLogger("lnet_anet.train")


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


def check_training_scenes(cfg: DictConfig) -> None:
    """train_lnet learns from composed scenes only: ConfigError for any other cfg.scenes, before any
    data is read. In-the-wild photos (scenes=wild, e.g. CelebA's img_celeba) all hold a face, so
    neither the face tag nor the threshold (fitted on tune scenes with and without a face) can be
    learnt from them; evaluate_localization scores a run on them."""
    if cfg.scenes == "wild":
        raise ConfigError("train_lnet trains on composed scenes (scenes=composed): the photos of scenes=wild all "
                          "hold a face, so neither the face tag nor the face threshold (fitted on tune scenes with "
                          "and without a face) can be learnt from them. Train on composed scenes of the dataset's "
                          "aligned faces (e.g. data=celeba, img_align_celeba), then score the run on the wild photos: "
                          "python -m lnet_anet.cli.evaluate_localization data=celeba data.index.images=img_celeba "
                          "scenes=wild run=runs/<name>")  # fmt: skip
    if cfg.scenes != "composed":
        raise ConfigError(f"scenes must be composed (train_lnet) or wild (evaluate_localization), got {cfg.scenes!r}")
    check_scene_settings(cfg, "train_p_empty")


def check_scene_settings(cfg: DictConfig, p_empty: str) -> None:
    """The scene settings as the composer will read them, before any data is read: scenes composed
    or wild, canvas a whole number of pixels >= 16, scale_range [low, high] with 0 < low <= high <= 1,
    max_rotation_deg a number >= 0, and `p_empty` (the key of the share of face-free scenes:
    train_p_empty, evaluate_localization's p_empty) in [0, 1]. ConfigError naming the key, the
    allowed values and what was given (a trial: canvas=abc said "too many values to unpack";
    scale_range=[2,1] was refused only once training composed its first batch). A key the config
    does not have is left to the code that reads it (a partial config in a test)."""
    if cfg.get("scenes") not in ("composed", "wild"):
        raise ConfigError(f"scenes must be composed (faces pasted on backgrounds) or wild (the photos as they are, "
                          f"with their listed boxes), got {cfg.get('scenes')!r}")  # fmt: skip
    canvas = cfg.get("canvas")
    if "canvas" in cfg and (isinstance(canvas, bool) or not isinstance(canvas, int) or canvas < 16):
        raise ConfigError(f"canvas must be a whole number of pixels >= 16 (the scenes' side, e.g. canvas=224), "
                          f"got {canvas!r}")  # fmt: skip
    scale = cfg.get("scale_range")
    low_high = list(scale) if isinstance(scale, (list, tuple, ListConfig)) else None
    if "scale_range" in cfg and (low_high is None or len(low_high) != 2 or not all(_number(v) for v in low_high)
                                 or not 0 < low_high[0] <= low_high[1] <= 1):  # fmt: skip
        raise ConfigError("scale_range must be [low, high] with 0 < low <= high <= 1 (the face's side as a share of "
                          f"the scene's, e.g. 'scale_range=[0.15,0.7]'), got {_plain(scale)!r}")  # fmt: skip
    rotation = cfg.get("max_rotation_deg")
    if "max_rotation_deg" in cfg and (not _number(rotation) or rotation < 0):
        raise ConfigError(f"max_rotation_deg must be a number of degrees >= 0, got {rotation!r}")
    share = cfg.get(p_empty)
    if p_empty in cfg and (not _number(share) or not 0 <= share <= 1):
        raise ConfigError(f"{p_empty} must be a share in [0, 1] (of face-free scenes), got {share!r}")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _plain(value):
    return OmegaConf.to_container(value) if isinstance(value, ListConfig | DictConfig) else value


def scene_photometric(cfg: DictConfig) -> ScenePhotometric | None:
    """cfg.photometric (null: none) as a ScenePhotometric, checked before any data is read.
    Raises ConfigError naming the setting (photometric_from_config), or for any setting with
    scenes=wild (photos are read as they are)."""
    if cfg.get("photometric") is not None and cfg.scenes == "wild":
        raise ConfigError("photometric= changes composed scenes (scenes=composed); scenes=wild reads the photos as "
                          "they are: drop photometric=")  # fmt: skip
    return photometric_from_config(cfg.get("photometric"))


SCENE_SETTINGS = ("scenes", "canvas", "scale_range", "max_rotation_deg", "train_fraction", "train_p_empty", "cache_scenes")


def record_recipe(folder: Path, cfg: DictConfig) -> dict:
    """<run>/recipe.json: what a train_lnet run started from and trained on beyond its data and
    model (init_from, resolved to an absolute path; photometric; the training scenes' settings,
    SCENE_SETTINGS). A folder that has trained refuses another recipe (RunRefusedError naming what
    differs), so that a changed setting is never silently left unused by a resumed or finished
    run; a folder trained before the file existed counts as init_from and photometric null, and
    one whose recipe predates the scene settings as trained with this launch's. Returns the recipe."""
    from lnet_anet.engine.runs import keep_recipe

    source = cfg.get("init_from")
    recipe = {"init_from": str(Path(source).resolve()) if source else None, "photometric": cfg.get("photometric"),
              **{k: cfg.get(k) for k in SCENE_SETTINGS}}  # fmt: skip
    return keep_recipe(folder, recipe, {"init_from": None, "photometric": None}, "with another recipe",
                       unrecorded=SCENE_SETTINGS)  # fmt: skip


def scenes(cfg: DictConfig, part, names, train: bool, p_empty: float, seed: int, n: int | None = None,
           scored: bool = False, photometric: ScenePhotometric | None = None):  # fmt: skip
    """LNet's scenes of an index part: the photos as they are (cfg.scenes "wild") or faces composed
    on backgrounds (photos that list face boxes, in-the-wild CelebA: each cut to its box first). scored: their boxes will be fitted or scored, so wild photos need listed face
    boxes (ValueError naming the dataset and the fix when it lists none). photometric: the
    training scenes' ScenePhotometric (scene_photometric(cfg); composed scenes only)."""
    if scored:
        check_scorable(cfg, part)
    if cfg.scenes == "wild":  # the photos as they are; their listed boxes are the ground truth
        dataset = face_dataset(cfg.data, with_listed_boxes(part), train=train, image_size=cfg.canvas, crop="full",
                               attributes=names)  # fmt: skip
    else:  # in-the-wild photos with listed boxes: their faces are cut to the boxes and composed
        part = with_listed_boxes(part)
        dataset = ComposedScenes(part, BackgroundBank(cfg.canvas), canvas=cfg.canvas, seed=seed, p_empty=p_empty,
                                 scale_range=tuple(cfg.scale_range), max_rotation_deg=cfg.max_rotation_deg,
                                 train=train, attributes=names, photometric=photometric)  # fmt: skip
    if n is not None and n > len(dataset):
        log.warning("%d scenes asked for, and the %d images of this part make only %d: all %d are used",
                    n, len(part), len(dataset), len(dataset))  # fmt: skip
    return dataset if n is None else Subset(dataset, list(range(min(n, len(dataset)))))


@torch.no_grad()
def cache_scenes(model: LNet, dataset, path, num_workers: int) -> dict[str, np.ndarray]:
    """The fixed lower part's maps of every scene (float16) with its tags: computed once.
    One image per forward: on CPU that is the fastest per image (large activations thrash the
    caches)."""
    if path.exists():
        log.info("scene maps %s: reusing %s", path.stem, path)
        return load_npz(path)
    # said in the log too: the bar below shows on a terminal only, and this takes minutes on the CPU recipe
    log.info("scene maps %s: computing them for %d scenes once (cached in %s)", path.stem, len(dataset), path)
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    loader = DataLoader(dataset, batch_size=16, num_workers=num_workers, collate_fn=collate_skip_bad,
                        worker_init_fn=ignore_sigterm)  # a stop to the process group: one clean line (trial 83)
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


def init_weights(source: str | Path, model: torch.nn.Module | None = None) -> dict[str, torch.Tensor]:
    """The LNet weights to start training from (train_lnet's init_from): a model bundle's LNet
    (*.lnetanet), a train_lnet run folder's lnet.safetensors, or that file itself; loaded into
    `model` when given. Raises ConfigError naming the path when it is none of these, cannot be
    read, or holds weights of other shapes than `model`'s (naming one and the model settings)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from lnet_anet.inference.bundle import BundleError, load_bundle

    path = Path(source)
    weights = path / "lnet.safetensors" if path.is_dir() else path
    try:
        if path.is_file() and path.suffix == ".lnetanet":
            state = load_bundle(path, build_nets=False).lnet.state_dict()  # LNet alone is built
        elif weights.is_file() and weights.suffix == ".safetensors":
            state = load_file(str(weights))
        else:
            raise ConfigError(f"init_from={source}: neither a model bundle (*.lnetanet) nor an LNet run folder "
                              "(with lnet.safetensors) nor such a file")  # fmt: skip
    except (BundleError, SafetensorError, OSError) as e:
        raise ConfigError(f"init_from={source}: cannot be read: {e}") from None
    if model is not None:
        own = model.state_dict()
        wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
        missing = sorted(set(own) ^ set(state))
        if wrong or missing:
            example = (f"{wrong[0]} is {tuple(state[wrong[0]].shape)} there, {tuple(own[wrong[0]].shape)} here" if wrong
                       else f"{missing[0]} is in one only")  # fmt: skip
            raise ConfigError(f"init_from={source}: its LNet does not fit this model ({len(wrong) + len(missing)} "
                              f"tensors differ, e.g. {example}): use the model= settings it was trained with "
                              "(model.neck_channels, model.stride, model.face_tag, model.tune_last_stage)")  # fmt: skip
        model.load_state_dict(state)
    return state


def load_lnet_run(folder: Path):
    """(LNet in eval mode, Localizer, input size) from a train_lnet run folder."""
    model = load_run_net(folder, "lnet.safetensors", "train_lnet", also=("localizer.json",))
    settings = json.loads((folder / "localizer.json").read_text())
    size = settings.pop("input_size")
    return model, Localizer(**settings), size
