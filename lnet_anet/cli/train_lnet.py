"""Train LNet from image-level tags only, calibrate its face threshold, evaluate.

    make train-lnet                                        # composed CelebA-HQ scenes
    make train-lnet ARGS="model.pretrained=none name=lnet-scratch"      # the ImageNet ablation

Training scenes are composed from the dataset's aligned faces on face-free backgrounds; LNet
never sees a box. In-the-wild photos (CelebA's img_celeba, scenes=wild) are for scoring a run:
python -m lnet_anet.cli.evaluate_localization data=celeba data.index.images=img_celeba scenes=wild run=...

With cache_scenes > 0 (the CPU recipe) a fixed set of that many training scenes is composed once,
the maps of LNet's fixed lower part are cached (runs/<name>/scenes-fit.npz), and only the upper
part (the neck and the tag filters, and the last backbone stage with model.tune_last_stage)
trains, for many epochs at little cost; with 0, every epoch composes new scenes and the whole net
trains.

Stages in runs/<name>/: train (the engine: resumable), then the threshold from the score
histograms of face and face-free tune scenes, then the val-scene figures (recall@IoU0.5, mean
IoU, false positives per image, face-free images with no box) and a PNG grid of maps and boxes.
With cascade.enabled, the LNet_o -> LNet_s cascade (lnet_anet.lnet.cascade) is fitted on the tune
scenes too and kept (cascade.json) when it gains there.
Writes lnet.safetensors, model.json, localizer.json, [cascade.json,] eval.json, eval.md, eval_grid.png.
"""

from __future__ import annotations

import dataclasses
import json
import logging

import hydra
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from safetensors.torch import load_file
from torch.utils.data import DataLoader

from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.data.from_config import attribute_splits
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.runs import (
    is_done,
    mark_done,
    read_run_record,
    save_weights,
    start_run,
    training_command,
    write_json,
    write_model_json,
    yaml_errors_named,
)
from lnet_anet.engine.signals import ignore_sigterm
from lnet_anet.engine.trainer import (
    changed_settings,
    check_full_batch,
    refuse_unused_settings,
    trains_on,
)
from lnet_anet.lnet.fitting import fit_localizer, second_stage
from lnet_anet.lnet.localizer import (
    collect_responses,
    score_localization,
)
from lnet_anet.lnet.maps import response_grid
from lnet_anet.lnet.training import (
    CachedScenes,
    RandomSubset,
    cache_scenes,
    check_scorable,
    check_training_scenes,
    init_weights,
    record_recipe,
    scene_photometric,
    scenes,
)
from lnet_anet.models.lnet import RESPONSES, LNetUpper, lnet_loss

log = logging.getLogger("lnet_anet.train")


def tune_localization(model: torch.nn.Module, localizer_cfg):
    """The Trainer's evaluate_fn for `tune_curve`: the whole LNet `model` (the Trainer may train its
    upper part only, LNetUpper, which shares its weights) over the tune scenes' loader, the localizer
    fitted on them as after training (fit_localizer), and its figures there: recall at IoU 0.5, mean
    IoU, false positives per image. Tune scenes, not val: a user may choose the epochs on them (trial
    83: a longer run on few cached scenes ended with a far worse localizer, and nothing showed when)."""

    def evaluate(_trained, loader, device) -> dict[str, float]:
        _, tuned = fit_localizer(collect_responses(model, loader, device), localizer_cfg)
        return {f"tune_{k}": float(tuned[k]) for k in ("recall", "mean_iou", "false_positives_per_image")}

    return evaluate


@yaml_errors_named
@hydra.main(config_path="../conf", config_name="train_lnet", version_base="1.3")
@training_command
def main(cfg: DictConfig) -> dict:
    check_training_scenes(cfg)  # composed scenes only: said before a run folder is made
    out = start_run(cfg.train.get("seed", 0))  # locked, cleaned, seeded before the model
    photometric = scene_photometric(cfg)  # a bad photometric= stops here, before any data is read
    names, fit, tune, evaluation = attribute_splits(cfg, out)
    log.info("faces for scenes: fit %d, tune %d (the localizer's fit), evaluate on %s: %d", len(fit), len(tune),
             cfg.data.eval_split, len(evaluation))  # fmt: skip
    recipe = record_recipe(out, cfg)  # a folder trained with another init_from / photometric refuses this one
    check_scorable(cfg, tune)  # before training: the localizer is fitted on the tune part's boxes
    model = instantiate(cfg.model, num_attributes=len(names))

    weights = out / "lnet.safetensors"
    done = is_done(weights)  # the marker is written after the weights (atomically) are whole
    if done and (out / "train_config.json").exists():  # the Trainer's record of the settings it trained with
        now = json.loads(json.dumps(TrainConfig.from_dict(cfg.train).to_dict()))
        before = read_run_record(out / "train_config.json")
        if trains_on(before, now, out / "checkpoints" / "last.pt"):  # a longer run goes on, as train_age's does
            log.info("trained before; another length (%s): the Trainer goes on from its checkpoint",
                     changed_settings(before, now))  # fmt: skip
            done = False
        else:
            refuse_unused_settings(out, "LNet finished training", before, now)
    if done:
        log.info("trained before: loading %s", weights)
        model.load_state_dict(load_file(str(weights)))
    else:
        if recipe["init_from"] or recipe["photometric"]:
            log.info("init_from: %s; photometric: %s", recipe["init_from"], recipe["photometric"])
        if cfg.get("init_from"):
            init_weights(cfg.init_from, model)
        # tune_curve: the localizer fitted on the tune scenes at each evaluation, its figures in the curves
        curve = ({"val_set": scenes(cfg, tune, names, False, 0.5, 1, cfg.calibration_images, scored=True),
                  "evaluate_fn": tune_localization(model, cfg.localizer)} if cfg.tune_curve else {})  # fmt: skip
        if cfg.cache_scenes > 0:
            check_full_batch(cfg.cache_scenes, cfg.train.batch_size)  # before the scenes are composed and cached
            fixed = scenes(cfg, fit, names, False, cfg.train_p_empty, cfg.train.seed + 100, cfg.cache_scenes,
                           photometric=photometric)  # fmt: skip
            cached = cache_scenes(model, fixed, out / "scenes-fit.npz", cfg.train.num_workers)
            train_cfg = TrainConfig.from_dict({**cfg.train, "num_workers": 0})
            Trainer(LNetUpper(model), lnet_loss, CachedScenes(cached), train_cfg, out, **curve).fit()
        else:
            train_set = scenes(cfg, fit, names, True, cfg.train_p_empty, cfg.train.seed, photometric=photometric)
            train_set = RandomSubset(train_set, cfg.train_fraction, cfg.train.seed)
            Trainer(model, lnet_loss, train_set, TrainConfig.from_dict(cfg.train), out, **curve).fit()
        save_weights(model, weights)
        mark_done(weights)

    # Localizer settings from the tune scenes; the recorded figures from fixed val scenes, never
    # used for any choice. With a face tag, both response maps of the same weights are scored
    # (the response ablation); the configured one is the run's localizer.
    loader = lambda ds: DataLoader(ds, batch_size=cfg.train.batch_size, num_workers=cfg.train.num_workers,  # noqa: E731
                                   collate_fn=collate_skip_bad, worker_init_fn=ignore_sigterm)  # fmt: skip
    tune_scenes = loader(scenes(cfg, tune, names, False, 0.5, 1, cfg.calibration_images, scored=True))
    val_scenes = scenes(cfg, evaluation, names, False, 0.5, 2, cfg.eval_images, scored=True)
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


if __name__ == "__main__":
    main()
