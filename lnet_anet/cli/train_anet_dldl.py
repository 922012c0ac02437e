"""Train ANet's upper layers for age (or attractiveness) with the DLDL-v2 loss: `make train-age-anet`.

    python -m lnet_anet.cli.train_anet_dldl                                   # UTKFace age
    python -m lnet_anet.cli.train_anet_dldl init_from=null name=age-anetdldl-scratch   # ablation

ANet's frozen trunk stages (model.frozen_stages; all four by default) keep their ImageNet
weights, so their maps of every face crop and of its mirror image are computed once
(trunk-*.npz, or stage<n>-*.npz; `trunk_cache_dir` shares them between runs; with
`cache_whole_index` one cache of every face of the index serves any split of it, e.g. the
k-fold runs of data.fold). The layers above
(C3, C4, FC, the DLDL head, and trunk block 2 when frozen_stages=3) then train on random patch
windows of them, starting from an attribute ANet's layers (`init_from`, a train_anet run):
attributes such as Young, Gray_Hair or Bald make them a head start for age. The evaluation split is scored once, after training, on whole crops: the
patch-averaged distribution, as the predictor computes it. With `tune_split` ({frac, seed}) it
trains on the rest of the training faces and scores that tune part instead (eval.json's split:
"tune"), for choosing settings without looking at the evaluation split.

Writes into runs/<name>/: .hydra/, data.json, train.log, metrics.jsonl, checkpoints/,
model.safetensors, model.json, preprocess.json, eval.json and eval.md. Re-running resumes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from lnet_anet.anet.features import TrunkMapPatches, cached_trunk_maps, frozen_stage_cache
from lnet_anet.data.from_config import build_index, face_dataset, split_fit_tune, split_of
from lnet_anet.data.preprocess import HeadInput
from lnet_anet.data.transforms import mirror
from lnet_anet.dldl.training import (
    FeatureSet,
    FromTrunkMaps,
    check_cache_key,
    finish_dldl_run,
    index_cache_key,
    init_from_anet_run,
)
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.runs import (
    record_data,
    start_run,
)

log = logging.getLogger("lnet_anet.train")


def _whole_index_maps(cfg: DictConfig, index, net, stage: int | None, stem: Path) -> dict:
    """cache_whole_index: the frozen stages' maps of every face of the index and of its mirror
    image, cached once as <stem>.npz / <stem>-mirror.npz, then cut into the train and evaluation
    views. parts: "train" and the evaluation split both map to the whole index (rows are its
    positions), plus "maps" {view name: {"maps", "index"}}."""
    whole = index.reset_index(drop=True)
    check_cache_key(stem.with_name(stem.name + ".npz"), index_cache_key(whole, cfg.data, size=cfg.canonical_size,
                                                                        stage=stage))  # fmt: skip
    found = {}
    for suffix, kw in (("", {}), ("-mirror", {"transform": mirror})):
        crops = face_dataset(cfg.data, whole, train=False, image_size=cfg.canonical_size, **kw)
        found[suffix] = cached_trunk_maps(stem.with_name(stem.name + suffix + ".npz"), net.anet, crops, 64,
                                          cfg.train.num_workers, stage)  # fmt: skip
        if len(found[suffix]["index"]) and int(found[suffix]["index"].max()) >= len(whole):
            raise ValueError(f"{stem}{suffix}.npz holds rows of another index; delete it")
    split = whole["split"].to_numpy()
    ev = cfg.data.eval_split
    maps = {}
    for name, part in (("train", "train"), (ev, ev)):
        for suffix in ("", "-mirror"):
            rows = found[suffix]["index"]
            keep = split[rows] == part
            maps[name + suffix] = {"maps": found[suffix]["maps"][keep], "index": rows[keep]}
        if not len(maps[name]["index"]):
            raise ValueError(f"the dataset has no {part!r} rows (its splits: {sorted(set(split))})")
    return {"train": whole, ev: whole, "maps": maps}


@hydra.main(config_path="../conf", config_name="train_anet_dldl", version_base="1.3")
def main(cfg: DictConfig) -> dict:
    out = start_run(cfg.train.get("seed", 0))  # locked, cleaned, seeded before the model
    index = build_index(cfg.data)
    record_data(out, cfg.data, index)
    net = instantiate(cfg.model)
    stage, prefix = frozen_stage_cache(net.anet)
    if cfg.init_from:
        init_from_anet_run(net, Path(cfg.init_from))

    # The frozen stages' maps of every crop (and of the mirrored training crops), computed once.
    cache = Path(cfg.trunk_cache_dir or out)
    ev = cfg.data.eval_split
    if cfg.get("cache_whole_index"):  # one cache of every face, whatever the split (k-fold runs share it)
        parts = _whole_index_maps(cfg, index, net, stage, cache / f"{prefix}-all-{cfg.canonical_size}")
        maps = parts.pop("maps")
    else:
        parts = {s: split_of(index, s).reset_index(drop=True) for s in ("train", ev)}
        maps = {}
        views = [("train", "train", {}), ("train-mirror", "train", {"transform": mirror}), (ev, ev, {})]
        if net.mirror:  # faces are scored with their mirror images too
            views.append((f"{ev}-mirror", ev, {"transform": mirror}))
        for name, split, kw in views:
            crops = face_dataset(cfg.data, parts[split], train=False, image_size=cfg.canonical_size, **kw)
            maps[name] = cached_trunk_maps(cache / f"{prefix}-{name}.npz", net.anet, crops, 64, cfg.train.num_workers,
                                           stage)  # fmt: skip
    for name in ("train", ev):
        if f"{name}-mirror" in maps and not np.array_equal(maps[name]["index"], maps[f"{name}-mirror"]["index"]):
            raise ValueError(f"{cache}: {prefix}-{name}.npz and {prefix}-{name}-mirror.npz hold different faces; "
                             "delete both")  # fmt: skip
    rows, train_maps = maps["train"]["index"], [maps["train"]["maps"], maps["train-mirror"]["maps"]]
    scored = {"split": ev, "part": parts[ev], "index": maps[ev]["index"],
              "maps": [maps[ev]["maps"], *([maps[f"{ev}-mirror"]["maps"]] if net.mirror else [])]}  # fmt: skip
    if cfg.tune_split:  # choosing settings: train on the fit part of the training faces, score their tune part
        _, tune = split_fit_tune(parts["train"], **cfg.tune_split)
        held = np.isin(rows, tune.index.to_numpy())
        scored = {"split": "tune", "part": parts["train"], "index": rows[held],
                  "maps": [m[held] for m in train_maps[: 1 + net.mirror]]}  # fmt: skip
        rows, train_maps = rows[~held], [m[~held] for m in train_maps]
    labels = {cfg.target: parts["train"][cfg.target].to_numpy(np.float32)[rows], "index": rows}
    window = net.anet.trunk.output_size(net.anet.patch_size, net.anet.frozen_stages)  # a patch's window of the cached map
    train_set = TrunkMapPatches(train_maps, labels, window, train=True)

    loss_fn = instantiate(cfg.loss)  # conf/loss/dldl.yaml: dldl_loss_fn with its options bound
    train_cfg = TrainConfig.from_dict({**cfg.train, "num_workers": 0})  # the maps are in memory
    Trainer(FromTrunkMaps(net, stage), loss_fn, train_set, train_cfg, out).fit()  # the eval split: scored below
    part, eval_rows = scored["part"], scored["index"]
    crops = np.stack(scored["maps"], axis=1) if net.mirror else scored["maps"][0]
    faces = FeatureSet(crops, cfg.target, part[cfg.target].to_numpy()[eval_rows], eval_rows)
    result = finish_dldl_run(out, cfg, net, HeadInput(cfg.canonical_size, cfg.enlarge), FromTrunkMaps(net, stage, dense=True),
                             DataLoader(faces, batch_size=256), part, scored["split"])  # fmt: skip
    log.info("%s on %s/%s (whole crops): MAE %.3f", cfg.target, cfg.data.name, scored["split"], result["mae"])
    return result


if __name__ == "__main__":
    main()
