"""Train a DLDL-v2 head (age or attractiveness) on the features of a trained ANet, so one
ANet pass over a face gives its attributes, age and attractiveness.

    python -m lnet_anet.cli.train_dldl_head anet_run=runs/anet-celeba_hq128            # UTKFace age
    python -m lnet_anet.cli.train_dldl_head data=scut_fbp5500 target=attractiveness model.low=1 model.high=5 model.step=0.1

ANet's patch-averaged features of every face are computed once (cached as features-*.npz in
the run folder, or once for every face of the index in `features_cache_dir`, shared by k-fold
runs); the head then trains in seconds per epoch. anet_run may be a model bundle file: its
ANet and its patch settings (mirror included), i.e. the features its predictor computes. Writes model.safetensors,
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
    check_cache_key,
    evaluate_dldl,
    finish_dldl_run,
    index_cache_key,
)
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.runs import (
    record_data,
    start_run,
)

log = logging.getLogger("lnet_anet.train")


def _weights_digest(net) -> str:
    """sha1 of a network's weights: a feature cache belongs to these weights, wherever they came from."""
    import hashlib

    h = hashlib.sha1()
    for key, value in sorted(net.state_dict().items()):
        h.update(key.encode())
        h.update(value.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _anet_source(path: Path):
    """(ANet, patches settings) of a train_anet run folder, or of a model bundle file (its ANet
    and preprocessing.anet: the features are then exactly those the bundle's predictor reads)."""
    if path.is_file():
        from lnet_anet.inference.bundle import load_bundle

        bundle = load_bundle(path)
        return bundle.anet, dict(bundle.preprocessing["anet"])
    anet, _, patches = load_anet_run(path)
    return anet, patches


@hydra.main(config_path="../conf", config_name="train_dldl_head", version_base="1.3")
def main(cfg: DictConfig) -> dict:
    out = start_run(cfg.train.get("seed", 0))  # locked, cleaned, seeded before the model
    anet, patches = _anet_source(Path(cfg.anet_run))
    index = build_index(cfg.data)
    record_data(out, cfg.data, index)
    sets = {}
    if cfg.get("features_cache_dir"):  # one cache of every face of the index (k-fold runs share it)
        whole = index.reset_index(drop=True)
        name = f"all-{patches['canonical_size']}"
        key = index_cache_key(whole, cfg.data, anet=_weights_digest(anet), patches=dict(patches))
        check_cache_key(Path(cfg.features_cache_dir) / f"features-{name}.npz", key)
        feats = cached_features(Path(cfg.features_cache_dir), name, cfg, whole, anet, patches)
        split = whole["split"].to_numpy()[feats["index"]]
        for name in ("train", cfg.data.eval_split):
            keep = split == name
            rows = feats["index"][keep]
            sets[name] = (FeatureSet(feats["features"][keep], cfg.target, whole[cfg.target].to_numpy()[rows], rows),
                          whole)  # fmt: skip
    else:
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
