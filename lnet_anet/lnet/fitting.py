"""Fitting the localizer's few numbers (threshold, box model, LNet_s cascade) on tune scenes: the network never sees a box."""

from __future__ import annotations

import dataclasses
import itertools
import logging

import numpy as np
from omegaconf import DictConfig, OmegaConf

from lnet_anet.engine.config import ConfigError
from lnet_anet.lnet.cascade import Cascade, evaluate_cascade, fit_refiner, region_responses
from lnet_anet.lnet.localizer import (
    Localizer,
    Responses,
    calibrate_threshold,
    fit_box_model,
    score_localization,
)
from lnet_anet.models.lnet import LNet

log = logging.getLogger("lnet_anet.train")


# What a fit on too few tune scenes says to do (a fresh-user trial raised calibration_images, which a small tune part caps)
SMALL_TUNE = ("compose more tune scenes: calibration_images, up to the faces of the tune part, so a small data.limit "
              "caps them (raise data.limit or tune_split.frac); a small trial run needs both localizer.fit_box=false "
              "and cascade.enabled=false, as experiment=smoke_lnet sets")


def second_stage(cfg: DictConfig, model: LNet, first: Localizer, one: dict, tune_scenes, val_scenes
                 ) -> tuple[Cascade, dict]:  # fmt: skip
    """The LNet_o -> LNet_s cascade with LNet_o's weights for both: LNet_s's localizer fitted on
    the regions of the tune scenes' faces, then both stages scored on the tune and val scenes.
    "kept" when its recall - false positives per image on the tune scenes beats one stage's (`one`)
    by cascade.min_gain at least (it costs a second LNet pass per face)."""
    cascade = Cascade(localizer=first, context=cfg.cascade.context, input_size=cfg.cascade.input_size)
    try:
        refiner, levels = fit_refiner(region_responses(cascade, model, tune_scenes, first), first,
                                      list(cfg.cascade.search.box_level))  # fmt: skip
    except ValueError as e:
        raise ConfigError(f"LNet_s: {e}: {SMALL_TUNE}, or set cascade.enabled=false") from e
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
    """Localizer settings from the tune scenes. localizer_cfg holds Localizer settings, `fit_box`,
    and `search`: {setting: [values]} (box_level, min_relative_score, peak_kernel, ...), whose
    combinations are searched (each value overrides the fixed setting): for each, the
    threshold from the score histograms of face and face-free scenes under those settings (and,
    with `fit_box`, a box_model fitted to the tune faces' boxes: `fit_box_model`), then its
    recall - false positives per image; the best combination is kept. The network never sees a
    box: they set these few numbers only, on scenes apart from the training and val ones."""
    settings = OmegaConf.to_container(localizer_cfg)
    fit_box = settings.pop("fit_box", False)
    grid = settings.pop("search", None) or {}
    bad = {k: v for k, v in grid.items() if not (isinstance(v, list) and v)}
    if bad:
        raise ConfigError(f"localizer.search: each setting takes a non-empty list of values to try, got {bad}")
    if fit_box and {"box_scale", "box_offset"} & set(grid):
        raise ConfigError("localizer.fit_box fits the box from the map: box_scale and box_offset are not used, "
                         "do not search them")  # fmt: skip
    fixed = {k: v for k, v in settings.items() if k not in grid}
    listed = [k for k, v in fixed.items() if isinstance(v, list) and k != "aspect_range"]
    if listed:
        raise ConfigError(f"localizer.{listed[0]} is a list: put the values to try under localizer.search.{listed[0]}")
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
                raise ConfigError(f"{e}: {SMALL_TUNE}, or set localizer.fit_box=false") from e
        trials.append((candidate, score_localization(tune, candidate)))
    best, scores = max(trials, key=lambda t: t[1]["recall"] - t[1]["false_positives_per_image"])
    tried = [{**dict(zip(grid, (getattr(c, k) for k in grid), strict=True)), "recall": m["recall"],
              "false_positives_per_image": m["false_positives_per_image"]} for c, m in trials]  # fmt: skip
    return best, {**scores, "trials": tried}
