"""Train LNet from image-level tags only, calibrate its face threshold, evaluate.

    make train-lnet                                        # composed CelebA-HQ scenes
    make train-lnet ARGS="model.pretrained=none name=lnet-scratch"      # the ImageNet ablation
    make train-lnet ARGS="data=celeba data.index.images=img_celeba scenes=wild"

With cache_scenes > 0 (the CPU recipe) a fixed set of that many training scenes is composed once,
the maps of LNet's fixed lower part are cached (runs/<name>/scenes-fit.npz), and only the upper
part (the neck and the tag filters, and the last backbone stage with model.tune_last_stage)
trains, for many epochs at little cost; with 0, every epoch composes new scenes and the whole net
trains.

Stages in runs/<name>/: train (the engine: resumable), then the threshold from the score
histograms of face and face-free tune scenes, then the val-scene figures (recall@IoU0.5, mean
IoU, false positives per image, face-free images with no box) and a PNG grid of maps and boxes.
With cascade.enabled, the LNet_o -> LNet_s cascade (lnet_anet.cascade) is fitted on the tune
scenes too and kept (cascade.json) when it gains there.
Writes lnet.safetensors, model.json, localizer.json, [cascade.json,] eval.json, eval.md, eval_grid.png.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging

import hydra
import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from safetensors.torch import load_file
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from lnet_anet.cascade import Cascade, evaluate_cascade, fit_refiner, region_responses
from lnet_anet.data.compose import BackgroundBank, ComposedScenes
from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.data.from_config import attribute_splits, face_dataset
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.localization import (
    Localizer,
    Responses,
    calibrate_threshold,
    collect_responses,
    fit_box_model,
    score_localization,
)
from lnet_anet.models.lnet import RESPONSES, LNet, LNetUpper, lnet_loss
from lnet_anet.runs import run_dir, save_weights, write_json, write_model_json
from lnet_anet.visualize_maps import response_grid

log = logging.getLogger("lnet_anet.train")


class RandomSubset(Subset):
    """A fixed-size random subset of a dataset of scenes (new scenes every epoch anyway)."""

    def __init__(self, dataset, fraction: float, seed: int):
        n = max(1, int(len(dataset) * fraction))
        super().__init__(dataset, np.random.default_rng(seed).permutation(len(dataset))[:n].tolist())


def scenes(cfg: DictConfig, part, names, train: bool, p_empty: float, seed: int, n: int | None = None):
    if cfg.scenes == "wild":
        dataset = face_dataset(cfg.data, part, train=train, image_size=cfg.canvas, crop="full", attributes=names)
    else:
        dataset = ComposedScenes(part, BackgroundBank(cfg.canvas), canvas=cfg.canvas, seed=seed, p_empty=p_empty,
                                 scale_range=tuple(cfg.scale_range), max_rotation_deg=cfg.max_rotation_deg,
                                 train=train, attributes=names)  # fmt: skip
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
    for batch in tqdm(loader, desc=f"caching {path.stem}", dynamic_ncols=True):
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
    np.savez(path.with_suffix(".tmp.npz"), **arrays)
    path.with_suffix(".tmp.npz").replace(path)
    return arrays


class CachedScenes(Dataset):
    """Training samples from cache_scenes' arrays, for LNetUpper."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = {k: torch.from_numpy(v) for k, v in arrays.items()}

    def __len__(self) -> int:
        return len(self.arrays["image"])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[i].float() for k, v in self.arrays.items()}


@hydra.main(config_path="../conf", config_name="train_lnet", version_base="1.3")
def main(cfg: DictConfig) -> dict:
    out = run_dir()
    names, fit, tune, evaluation = attribute_splits(cfg, out)
    model = instantiate(cfg.model, num_attributes=len(names))

    weights = out / "lnet.safetensors"
    if weights.exists():
        log.info("trained before: loading %s", weights)
        model.load_state_dict(load_file(str(weights)))
    else:
        if cfg.cache_scenes > 0:
            fixed = scenes(cfg, fit, names, False, cfg.train_p_empty, cfg.train.seed + 100, cfg.cache_scenes)
            cached = cache_scenes(model, fixed, out / "scenes-fit.npz", cfg.train.num_workers)
            train_cfg = TrainConfig.from_dict({**cfg.train, "num_workers": 0})
            Trainer(LNetUpper(model), lnet_loss, CachedScenes(cached), train_cfg, out).fit()
        else:
            train_set = scenes(cfg, fit, names, True, cfg.train_p_empty, cfg.train.seed)
            train_set = RandomSubset(train_set, cfg.train_fraction, cfg.train.seed)
            Trainer(model, lnet_loss, train_set, TrainConfig.from_dict(cfg.train), out).fit()
        save_weights(model, weights)

    # Localizer settings from the tune scenes; the recorded figures from fixed val scenes, never
    # used for any choice. With a face tag, both response maps of the same weights are scored
    # (the response ablation); the configured one is the run's localizer.
    loader = lambda ds: DataLoader(ds, batch_size=cfg.train.batch_size, num_workers=cfg.train.num_workers,  # noqa: E731
                                   collate_fn=collate_skip_bad)  # fmt: skip
    tune_scenes = loader(scenes(cfg, tune, names, False, 0.5, 1, cfg.calibration_images))
    val_scenes = scenes(cfg, evaluation, names, False, 0.5, 2, cfg.eval_images)
    results = {}
    for response in dict.fromkeys([model.response, *(RESPONSES if model.face_tag else ())]):
        model.response = response
        localizer, tuned = fit_localizer(collect_responses(model, tune_scenes), cfg.localizer)
        results[response] = {"localizer": localizer, "tune": tuned,
                             "val": score_localization(collect_responses(model, loader(val_scenes)), localizer)}  # fmt: skip
    model.response = cfg.model.response
    if cfg.choose_response:  # on the tune scenes, like every other localizer setting
        model.response = max(results, key=lambda r: results[r]["tune"]["recall"] - results[r]["tune"]["false_positives_per_image"])
    write_model_json(out, cfg.model, num_attributes=len(names), response=model.response)
    localizer, metrics = results[model.response]["localizer"], results[model.response]["val"]
    write_json(out / "localizer.json", {**dataclasses.asdict(localizer), "input_size": cfg.canvas})
    one_stage, tuned, second = metrics, results[model.response]["tune"], {}
    (out / "cascade.json").unlink(missing_ok=True)
    if cfg.cascade.enabled:
        cascade, second = second_stage(cfg, model, localizer, tuned, tune_scenes, loader(val_scenes))
        if second["kept"]:
            write_json(out / "cascade.json", {**dataclasses.asdict(cascade), "weights": "lnet_o"})
            metrics, tuned = second["val"], second["tune"]
    write_json(out / "eval.json", {"split": cfg.data.eval_split, "tune": tuned, **metrics, "stages": 1 + bool(second.get("kept")),
                                   "one_stage": one_stage, "cascade": second,
                                   "by_response": {k: v["val"] for k, v in results.items()},
                                   "tune_by_response": {k: v["tune"] for k, v in results.items()}})  # fmt: skip
    lines = [f"# LNet on {cfg.data.name} {cfg.data.eval_split} scenes ({cfg.canvas}px, half face-free)", "",
             f"Response map: {model.response}; stages: {1 + bool(second.get('kept'))}", ""]
    lines += [f"- {k}: {v:.4f}" for k, v in metrics.items()]
    if second:
        lines += ["", "One stage (LNet_o) against the cascade (LNet_o -> LNet_s, LNet_o's weights), "
                  "kept when better on the tune scenes:", "", "| | scenes | recall | mean_iou | FP per image |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for name, tune_m, val_m in (("one stage", results[model.response]["tune"], one_stage),
                                    ("cascade", second["tune"], second["val"])):  # fmt: skip
            for split, m in (("tune", tune_m), ("val", val_m)):
                lines.append(f"| {name} | {split} | {m['recall']:.4f} | {m['mean_iou']:.4f} | "
                             f"{m['false_positives_per_image']:.4f} |")  # fmt: skip
    if len(results) > 1:
        keys = ("recall", "mean_iou", "false_positives_per_image", "empty_image_rate", "peak_in_box")
        lines += ["", "Same weights, each response map with its own tuned threshold and box level:", "",
                  "| response | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]  # fmt: skip
        lines += [f"| {r} | " + " | ".join(f"{v['val'][k]:.4f}" for k in keys) + " |" for r, v in results.items()]
    (out / "eval.md").write_text("\n".join(lines) + "\n")
    response_grid(model, val_scenes, localizer, out / "eval_grid.png")
    log.info("recall@0.5 %.3f, mean IoU %.3f, FP/image %.3f, face-free empty %.3f (threshold %.4f)",
             metrics["recall"], metrics["mean_iou"], metrics["false_positives_per_image"],
             metrics["empty_image_rate"], localizer.threshold)  # fmt: skip
    return metrics


def second_stage(cfg: DictConfig, model: LNet, first: Localizer, one: dict, tune_scenes, val_scenes
                 ) -> tuple[Cascade, dict]:  # fmt: skip
    """The LNet_o -> LNet_s cascade with LNet_o's weights for both: LNet_s's localizer fitted on
    the regions of the tune scenes' faces, then both stages scored on the tune and val scenes.
    "kept" when its recall - false positives per image on the tune scenes beats one stage's (`one`)
    by cascade.min_gain at least (it costs a second LNet pass per face)."""
    cascade = Cascade(localizer=first, context=cfg.cascade.context, input_size=cfg.cascade.input_size)
    try:
        refiner, levels = fit_refiner(region_responses(cascade, model, tune_scenes, first), first,
                                      list(cfg.cascade.box_level))  # fmt: skip
    except ValueError as e:
        raise ValueError(f"LNet_s: {e}: compose more tune scenes (calibration_images) or set cascade.enabled=false") from e
    cascade = dataclasses.replace(cascade, localizer=refiner)
    tune = evaluate_cascade(model, cascade, first, tune_scenes)
    gain = (tune["recall"] - tune["false_positives_per_image"]) - (one["recall"] - one["false_positives_per_image"])
    kept = gain >= cfg.cascade.min_gain
    log.info("cascade on the tune scenes: recall %.3f, FP/image %.3f (one stage %.3f, %.3f): %s", tune["recall"],
             tune["false_positives_per_image"], one["recall"], one["false_positives_per_image"],
             "kept" if kept else "one stage kept")  # fmt: skip
    val = evaluate_cascade(model, cascade, first, val_scenes)
    return cascade, {"kept": kept, "context": cascade.context, "tune": tune, "val": val, "box_levels": levels}


def fit_localizer(tune: Responses, localizer_cfg) -> tuple[Localizer, dict]:
    """Localizer settings from the tune scenes. Keys of localizer_cfg given as lists (box_level,
    min_relative_score, peak_kernel, ...) are searched over their combinations: for each, the
    threshold from the score histograms of face and face-free scenes under those settings (and,
    with `fit_box`, a box_model fitted to the tune faces' boxes: `fit_box_model`), then its
    recall - false positives per image; the best combination is kept. The network never sees a
    box: they set these few numbers only, on scenes apart from the training and val ones."""
    settings = OmegaConf.to_container(localizer_cfg)
    fit_box = settings.pop("fit_box", False)
    if fit_box and any(isinstance(settings.get(k), list) for k in ("box_scale", "box_offset")):
        raise ValueError("localizer.fit_box fits the box from the map: box_scale and box_offset are not used, "
                         "give them no list to search")  # fmt: skip
    grid = {k: v for k, v in settings.items() if isinstance(v, list) and k != "aspect_range"}
    fixed = {k: v for k, v in settings.items() if k not in grid}
    trials, thresholds = [], {}
    face = tune.has_face.numpy()
    for values in itertools.product(*grid.values()):
        candidate = Localizer(threshold=0.0, **fixed, **dict(zip(grid, values, strict=True)))
        # An image's score depends on these settings only, so one threshold serves the others.
        key = (candidate.min_size, tuple(candidate.aspect_range), candidate.peak_kernel, candidate.max_peaks,
               candidate.stride)  # fmt: skip
        if key not in thresholds:
            scores = np.array([candidate.score(m, s) for m, s in zip(tune.maps, tune.sizes, strict=True)])
            thresholds[key] = calibrate_threshold(scores[face], scores[~face])
        candidate = dataclasses.replace(candidate, threshold=thresholds[key])
        if fit_box:  # the box's centre and size from the map's blob, fitted to the tune boxes
            try:
                candidate = fit_box_model(tune, candidate)
            except ValueError as e:
                raise ValueError(f"{e}: compose more tune scenes (calibration_images) or set localizer.fit_box=false") from e
        trials.append((candidate, score_localization(tune, candidate)))
    best, scores = max(trials, key=lambda t: t[1]["recall"] - t[1]["false_positives_per_image"])
    tried = [{**dict(zip(grid, (getattr(c, k) for k in grid), strict=True)), "recall": m["recall"],
              "false_positives_per_image": m["false_positives_per_image"]} for c, m in trials]  # fmt: skip
    return best, {**scores, "trials": tried}


if __name__ == "__main__":
    main()
