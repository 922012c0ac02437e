"""Recall at IoU >= 0.5, mean IoU, false positives per image and the face-free images left
empty, for a trained LNet run (both stages when it kept the LNet_s cascade: cascade.json),
plus a PNG grid of the first stage's response maps and boxes.

    python -m lnet_anet.cli.evaluate_localization run=runs/lnet-celeba_hq128   # on the data the run was trained on
    python -m lnet_anet.cli.evaluate_localization data=celeba data.index.images=img_celeba scenes=wild run=...
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.data.from_config import build_index, split_of
from lnet_anet.engine.config import ConfigError, check_at_least
from lnet_anet.engine.runs import (
    record_data,
    refuse_run_file,
    run_dir,
    training_command,
    with_run_data,
    write_json,
    yaml_errors_named,
)
from lnet_anet.engine.signals import ignore_sigterm
from lnet_anet.lnet.cascade import Cascade, evaluate_stages
from lnet_anet.lnet.maps import response_grid
from lnet_anet.lnet.training import check_scene_settings, load_lnet_run, scenes

log = logging.getLogger("lnet_anet.evaluate")


@yaml_errors_named
@hydra.main(config_path="../conf", config_name="evaluate_localization", version_base="1.3")
@training_command
def main(cfg: DictConfig) -> dict:
    check_at_least(cfg, {"images": 1, "seed": 0})  # its train.* settings are checked as train_lnet's
    check_scene_settings(cfg, "p_empty")  # scenes=wildd scored composed scenes (a trial)
    out = run_dir()
    model, localizer, size = load_lnet_run(Path(cfg.run))
    use_run_canvas(cfg, size)
    index = build_index(cfg.data)
    record_data(out, cfg.data, index)
    part = split_of(index, cfg.split, override="split")
    dataset = scenes(cfg, part, list(index.attrs["attributes"]), False, cfg.p_empty, cfg.seed, cfg.images, scored=True)
    loader = DataLoader(dataset, batch_size=32, num_workers=cfg.train.num_workers, collate_fn=collate_skip_bad,
                        worker_init_fn=ignore_sigterm)
    kept = Path(cfg.run) / "cascade.json"  # the run kept LNet_s: both stages, as the predictor runs them
    cascade = Cascade.from_json(json.loads(kept.read_text())) if kept.exists() else None
    metrics = evaluate_stages(model, localizer, cascade, loader)
    write_json(out / "localization.json", metrics)
    response_grid(model, dataset, localizer, out / "grid.png")
    log.info("%s; written to %s (localization.json, grid.png)", {k: round(v, 4) for k, v in metrics.items()}, out)
    return metrics


def use_run_canvas(cfg: DictConfig, size: int) -> None:
    """Score at the side the run's localizer was fitted at (localizer.json's input_size): composed
    scenes are made at cfg.canvas, and train_lnet's default canvas need not be the run's. A canvas=
    given on the command line that differs raises ConfigError: the thresholds were fitted at `size`."""
    if cfg.canvas == size:
        return
    try:
        given = any(o.split("=", 1)[0].lstrip("+~") == "canvas" for o in HydraConfig.get().overrides.task)
    except ValueError:  # not under Hydra
        given = False
    if given:
        raise ConfigError(f"canvas={cfg.canvas}: {cfg.run} was trained and its localizer fitted at {size} px "
                          f"(localizer.json's input_size): drop canvas= or pass canvas={size}")  # fmt: skip
    log.info("scenes made at %d px, the run's input size (localizer.json)", size)
    cfg.canvas = size


if __name__ == "__main__":
    refuse_run_file(sys.argv[1:], "evaluate_localization",
                    "benchmarks/bench_detection.py scores a bundle's localization on WIDER FACE, FDDB, CSV or VOC boxes")
    sys.argv[1:] = with_run_data(sys.argv[1:])  # no data=: the data the run was trained on
    main()
