"""Refit ANet's per-attribute SVMs on the faces as the predictor crops them, ANet unchanged:
the paper's LNet -> ANet cascade (Liu et al., ICCV 2015, Sec. 4), where the SVMs learn from
ANet's features of the faces LNet localized (data.crop=box, data.boxes = lnet_boxes' CSV).

    python -m lnet_anet.cli.lnet_boxes ../shared/datasets/celeba_hq128/img_celeba_hq \\
        --out "${LNET_ANET_RUNS:-runs}/celeba-hq128-lnet-boxes.csv"
    python -m lnet_anet.cli.fit_svms                       # conf/fit_svms.yaml
    python -m lnet_anet.cli.build_bundle --from-bundle lnet_anet/assets/default.lnetanet \\
        --anet runs/svms-celeba_hq128 --out runs/with-new-svms.lnetanet

The train partition is split by identity into fit (SVM training) and tune (C, Platt scaling,
decision thresholds), as train_anet does; the evaluation split is only scored. The features of
each part are cached in the run folder (features-<part>.npz), so a re-run resumes. Writes an
ANet run folder: anet.safetensors (the source's ANet, unchanged), model.json, patches.json,
svm.safetensors, eval.json, eval.md.
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import numpy as np
from omegaconf import DictConfig

from lnet_anet.anet.features import (
    dataset_patch_features,
    join_views,
    load_anet_source,
    weights_digest,
)
from lnet_anet.anet.training import check_svm_settings, fit_and_report_svms
from lnet_anet.data.from_config import attribute_splits, face_dataset
from lnet_anet.data.transforms import mirror
from lnet_anet.engine.checkpoint import save_npz_atomic
from lnet_anet.engine.config import ConfigError
from lnet_anet.engine.runs import (
    keep_recipe,
    load_npz,
    save_weights,
    start_run,
    training_command,
    write_json,
    yaml_errors_named,
)

log = logging.getLogger("lnet_anet.train")


def part_features(cfg: DictConfig, anet, patches: dict, part, names: list[str], path: Path) -> dict[str, np.ndarray]:
    """dataset_patch_features of `part`'s faces as the config crops them (with the mirror
    image's patches when patches["mirror"]), cached at `path`."""
    if path.exists():
        return load_npz(path)
    views = [{}, {"transform": mirror}] if patches["mirror"] else [{}]
    feats = join_views([dataset_patch_features(anet, face_dataset(cfg.data, part, train=False, attributes=names,
                                                                  image_size=patches["canonical_size"], **kw),
                                               patches["stride"], cfg.train.batch_size, cfg.train.num_workers,
                                               desc=f"features {path.stem}") for kw in views])  # fmt: skip
    save_npz_atomic(path, feats)
    return feats


@yaml_errors_named
@hydra.main(config_path="../conf", config_name="fit_svms", version_base="1.3")
@training_command
def main(cfg: DictConfig) -> dict:
    check_svm_settings(cfg.svm)
    out = start_run(cfg.train.get("seed", 0))
    anet, patches, spec = load_anet_source(Path(cfg.anet_from), "anet_from")
    # the cached features are this ANet's: another anet_from in the same folder is refused, not fitted on them
    keep_recipe(out, {"anet_sha1": weights_digest(anet), "patches": patches}, None, "from another ANet")
    if cfg.data.crop == "box" and float(cfg.data.enlarge) != float(patches["enlarge"]):
        raise ConfigError(f"data.enlarge {cfg.data.enlarge} differs from the ANet's patches enlarge "
                          f"{patches['enlarge']} ({cfg.anet_from}): the SVMs would learn another framing than the "
                          f"predictor's; pass data.enlarge={patches['enlarge']}")  # fmt: skip
    names, fit, tune, evaluation = attribute_splits(cfg, out)
    if anet.attribute_head is None or anet.attribute_head.out_features != len(names):
        raise ConfigError(f"{cfg.anet_from}: its ANet has no head for the {len(names)} attributes of {cfg.data.name}")
    log.info("fit %d faces, tune %d, evaluate on %s: %d (crop %s)", min(len(fit), cfg.svm.max_train_images),
             len(tune), cfg.data.eval_split, len(evaluation), cfg.data.crop)  # fmt: skip
    feats = {name: part_features(cfg, anet, patches, part, names, out / f"features-{name}.npz")
             for name, part in (("fit", fit.iloc[: cfg.svm.max_train_images]), ("tune", tune), ("eval", evaluation))}
    save_weights(anet, out / "anet.safetensors", {"attributes": ",".join(names)})
    write_json(out / "model.json", spec)
    write_json(out / "patches.json", patches)
    summary = fit_and_report_svms(out, cfg, names, feats, fit[names].to_numpy())
    write_json(out / "source.json", {"anet_from": str(cfg.anet_from), "crop": cfg.data.crop,
                                     "boxes": cfg.data.get("boxes"), "enlarge": cfg.data.enlarge})  # fmt: skip
    return summary


if __name__ == "__main__":
    main()
