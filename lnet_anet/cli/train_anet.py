"""Train ANet: identity pre-training -> attribute fine-tuning -> per-attribute SVMs.

    make train-anet                                   # CelebA-HQ 128 (conf/train_anet.yaml)
    make train-anet ARGS="pretrain.epochs=0 name=anet-no-pretrain"     # ablation
    make train-anet ARGS="model=anet_plain name=anet-plain"            # ablation

The train partition is split (by identity) into "fit" (network and SVM training) and "tune"
(SVM C and Platt scaling); the evaluation split (val) is only ever evaluated. Each stage
writes into runs/<name>/<stage>/ and is skipped when its result exists, so re-running the
command resumes. Results: anet.safetensors, svm.safetensors, eval.json, eval.md.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig

from lnet_anet.anet.features import (
    FromTrunk,
    TrunkMapPatches,
    cached_trunk_maps,
    dataset_patch_features,
    features_from_maps,
    frozen_stage_cache,
    join_views,
)
from lnet_anet.anet.losses import attribute_bce_loss, identity_ce_loss
from lnet_anet.anet.training import (
    check_stage_settings,
    check_svm_settings,
    fit_and_report_svms,
    init_from_anet,
    record_recipe,
    train_stage,
    with_dense_identities,
)
from lnet_anet.data.from_config import attribute_splits, face_dataset, photometric_from_config
from lnet_anet.data.preprocess import ANetInput
from lnet_anet.data.scenes import TorchSeededPhotometric
from lnet_anet.data.transforms import CenterPatch, Chain, RandomPatch, mirror
from lnet_anet.engine.config import ConfigError
from lnet_anet.engine.runs import (
    save_weights,
    start_run,
    training_command,
    write_json,
    write_model_json,
    yaml_errors_named,
)
from lnet_anet.engine.trainer import check_full_batch
from lnet_anet.metrics.attributes import (
    evaluate_attribute_logits,
)

log = logging.getLogger("lnet_anet.train")


@yaml_errors_named
@hydra.main(config_path="../conf", config_name="train_anet", version_base="1.3")
@training_command
def main(cfg: DictConfig) -> dict:
    if any(o.split("=")[0].lstrip("+~") == "train.epochs" for o in HydraConfig.get().overrides.task):
        raise ConfigError("train_anet trains in stages and does not read train.epochs: set pretrain.epochs and "
                          "finetune.epochs (pretrain.epochs=0 skips identity pre-training)")  # fmt: skip
    check_svm_settings(cfg.svm)  # the last step's settings and each stage's: said before anything trains
    check_stage_settings(cfg, ("pretrain", "finetune"))
    out = start_run(cfg.train.get("seed", 0))  # locked, cleaned, seeded before the model
    names, fit, tune, evaluation = attribute_splits(cfg, out)
    record_recipe(out, cfg)  # a finished run refuses another network or patch layout (recipe.json)
    if "identity" in fit.columns:
        fit, n_identities = with_dense_identities(fit)
    elif cfg.pretrain.epochs > 0:
        raise ConfigError("identity pre-training (pretrain.epochs > 0) needs identity labels, and this copy of the "
                          "data has none (CelebA: identity_CelebA.txt beside list_attr_celeba.txt; Kaggle's copy "
                          "ships without it): add the file, or add pretrain.epochs=0")  # fmt: skip
    else:
        n_identities = 0
    log.info("fit %d faces (%d identities), tune %d, evaluate on %s: %d",
             len(fit), n_identities, len(tune), cfg.data.eval_split, len(evaluation))  # fmt: skip

    photometric = photometric_from_config(cfg.get("photometric"))  # a bad setting stops here, before any data is read
    if photometric is not None and cfg.cache_trunk:
        raise ConfigError("photometric= draws new pixels for every sample, which cached trunk maps cannot hold: "
                          "add cache_trunk=false")  # fmt: skip
    # a batch too large for the fit part stops here, not after minutes of trunk maps (one sample per fit face)
    for stage in [cfg.pretrain] * (cfg.pretrain.epochs > 0) + [cfg.finetune]:
        check_full_batch(len(fit), int(stage.get("batch_size") or cfg.train.batch_size))
    P, S, stride = cfg.model.patch_size, cfg.patches.canonical_size, cfg.patches.stride
    # A face's features: its crop's patches, and with patches.mirror its mirror image's too.
    views = {"": {}, **({"-mirror": {"transform": mirror}} if cfg.patches.mirror else {})}
    model = instantiate(cfg.model, num_attributes=len(names),
                        num_identities=n_identities if cfg.pretrain.epochs > 0 else 0)  # fmt: skip
    if cfg.get("init_from"):
        init_from_anet(model, cfg.init_from)
    whole = lambda part, **kw: face_dataset(cfg.data, part, train=False, image_size=S, attributes=names, **kw)  # noqa: E731

    # The maps of the frozen trunk stages are computed once; the layers above train on them.
    stage = None  # the number of cached stages (None: the whole trunk)
    if cfg.cache_trunk:
        stage, prefix = frozen_stage_cache(model)
        cache = Path(cfg.trunk_cache_dir or out)
        maps = {name: cached_trunk_maps(cache / f"{prefix}-{name}.npz", model, whole(part, **kw),
                                        cfg.train.batch_size, cfg.train.num_workers, stage)  # fmt: skip
                for name, part, kw in (("fit", fit, {}), ("fit-mirror", fit, {"transform": mirror}),
                                       *((f"{p}{v}", part, kw) for p, part in (("tune", tune), ("eval", evaluation))
                                         for v, kw in views.items()))}  # fmt: skip
        window = model.trunk.output_size(P, model.frozen_stages)  # a patch's window of the cached map
        labels = lambda m, *keys: {k: m[k] for k in keys if k in m}  # noqa: E731 - "identity" when the data has it
        train_set = TrunkMapPatches([maps["fit"]["maps"], maps["fit-mirror"]["maps"]],
                                    labels(maps["fit"], "attributes", "identity", "index"), window, train=True)  # fmt: skip
        tune_set = TrunkMapPatches([maps["tune"]["maps"]], labels(maps["tune"], "attributes", "index"), window, False)
        net, in_memory = FromTrunk(model, stage), {"num_workers": 0}
    else:
        patches = lambda part, train: face_dataset(  # noqa: E731
            cfg.data, part, train=train, image_size=S, attributes=names,
            transform=(Chain(TorchSeededPhotometric(photometric), RandomPatch(P)) if train and photometric
                       else RandomPatch(P) if train else CenterPatch(P)))  # fmt: skip
        train_set, tune_set, net, in_memory = patches(fit, True), patches(tune, False), model, {}

    if cfg.pretrain.epochs > 0:
        train_stage("pretrain", net, identity_ce_loss, train_set, None, None, cfg, {**cfg.pretrain, **in_memory}, out,
                    then="finetune")  # fmt: skip
    train_stage("finetune", net, attribute_bce_loss, train_set, tune_set, evaluate_attribute_logits, cfg,
                {**cfg.finetune, **in_memory}, out)  # fmt: skip
    # The inference net needs no identity head: drop it so the bundle stays small.
    model.identity_head = None
    save_weights(model, out / "anet.safetensors", {"attributes": ",".join(names)})
    write_model_json(out, cfg.model, num_attributes=len(names), num_identities=0)
    write_json(out / "patches.json", ANetInput(S, stride, cfg.patches.enlarge, bool(cfg.patches.mirror)).to_dict())

    # SVMs on the dense multi-patch features of whole canonical crops.
    model.eval()
    feats = {}
    for part_name, part in (("fit", fit.iloc[: cfg.svm.max_train_images]), ("tune", tune), ("eval", evaluation)):
        per_view = []
        for view, kw in views.items():
            if cfg.cache_trunk:
                per_view.append(features_from_maps(model, maps[part_name + view], stride, stage=stage))
            else:
                per_view.append(dataset_patch_features(model, whole(part, **kw), stride, cfg.train.batch_size,
                                                       cfg.train.num_workers, "cpu", desc=f"features {part_name}{view}"))  # fmt: skip
        feats[part_name] = join_views(per_view)
    return fit_and_report_svms(out, cfg, names, feats, fit[names].to_numpy())


if __name__ == "__main__":
    main()
