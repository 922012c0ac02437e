"""Train a DLDL-v2 head (age or attractiveness) on the features of a trained ANet, so one
ANet pass over a face gives its attributes, age and attractiveness.

    python -m lnet_anet.cli.train_dldl_head anet_run=runs/anet-celeba_hq128            # UTKFace age
    python -m lnet_anet.cli.train_dldl_head data=scut_fbp5500 target=attractiveness model.low=1 model.high=5 model.step=0.1

ANet's patch-averaged features of every face are computed once (cached as features-*.npz in
the run folder); the head then trains in seconds per epoch. Writes model.safetensors,
model.json, preprocess.json, eval.json and eval.md.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from lnet_anet.anet.features import (
    load_anet_run,
)
from lnet_anet.data.from_config import build_index, split_of
from lnet_anet.data.preprocess import HeadInput
from lnet_anet.dldl.training import (
    FeatureSet,
    cached_features,
    evaluate_dldl,
    finish_dldl_run,
)
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.runs import (
    record_data,
    start_run,
)

log = logging.getLogger("lnet_anet.train")


@hydra.main(config_path="../conf", config_name="train_dldl_head", version_base="1.3")
def main(cfg: DictConfig) -> dict:
    out = start_run(cfg.train.get("seed", 0))  # locked, cleaned, seeded before the model
    anet, _, patches = load_anet_run(Path(cfg.anet_run))
    index = build_index(cfg.data)
    record_data(out, cfg.data, index)
    sets = {}
    for name in ("train", cfg.data.eval_split):
        part = split_of(index, name).reset_index(drop=True)
        feats = cached_features(out, name, cfg, part, anet, patches)
        rows = feats["index"]
        sets[name] = (FeatureSet(feats["features"], cfg.target, part[cfg.target].to_numpy()[rows], rows), part)

    model = instantiate(cfg.model)
    loss_fn = instantiate(cfg.loss)  # conf/loss/dldl.yaml: dldl_loss_fn with its options bound
    evaluate_fn = functools.partial(evaluate_dldl, target=cfg.target)
    eval_set, eval_part = sets[cfg.data.eval_split]
    trainer = Trainer(model, loss_fn, sets["train"][0], TrainConfig.from_dict(cfg.train), out,
                      val_set=eval_set, evaluate_fn=evaluate_fn, collate_fn=None)  # fmt: skip
    trainer.fit()
    result = finish_dldl_run(out, cfg, model, HeadInput(input="anet_features"), model,
                             DataLoader(eval_set, batch_size=1024), eval_part, cfg.data.eval_split)
    log.info("%s on %s/%s: MAE %.3f", cfg.target, cfg.data.name, cfg.data.eval_split, result["mae"])
    return result


if __name__ == "__main__":
    main()
