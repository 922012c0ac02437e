"""Per-attribute accuracy, mean accuracy and mean balanced accuracy of a trained ANet run,
with the majority-class baseline beside them (markdown + JSON in the run's eval folder).

    python -m lnet_anet.cli.evaluate_attributes data=celeba_hq run=runs/anet-celeba_hq128
    python -m lnet_anet.cli.evaluate_attributes run=runs/anet-synthetic   # no data=: the data the run was trained on
    python -m lnet_anet.cli.evaluate_attributes data=lfwa data.index.root=/data/lfwa run=...
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from lnet_anet.anet.features import dataset_patch_features, join_views, load_anet_run
from lnet_anet.data.from_config import build_index, face_dataset, split_of
from lnet_anet.data.transforms import mirror
from lnet_anet.engine.config import ConfigError, check_at_least, check_device
from lnet_anet.engine.runs import (
    override_value,
    record_data,
    refuse_run_file,
    run_dir,
    training_command,
    with_run_data,
    write_json,
    yaml_errors_named,
)
from lnet_anet.inference.build import recorded_attributes
from lnet_anet.metrics.attributes import attribute_metrics, metrics_markdown

log = logging.getLogger("lnet_anet.evaluate")
FRAMING = ("crop", "boxes", "enlarge")  # how a face is cut from its image before ANet reads it
BOXES_OF_THESE = "CSV"  # framing_differences' placeholder: LNet's boxes of the images scored


def framing_differences(run: Path, data_cfg) -> list[str]:
    """The run's own data.crop / data.boxes / data.enlarge (its .hydra/config.yaml; boxes and
    enlarge only when it was trained with crop=box, the only crop that reads them) where they
    differ from `data_cfg`'s, as the overrides that would frame the faces as the run was
    trained on them; [] when they agree or the run has no recorded config. The run's boxes CSV
    is named only for the data it was trained on; for other data (another data.name) the value
    is BOXES_OF_THESE, a placeholder for that data's own boxes."""
    recorded = run / ".hydra" / "config.yaml"
    if not recorded.is_file():
        return []
    try:
        trained = OmegaConf.to_container(OmegaConf.load(recorded), resolve=True).get("data", {})
    except Exception:  # noqa: BLE001 - a config that no longer resolves (an old run): nothing to compare
        return []
    now = OmegaConf.to_container(data_cfg, resolve=True)
    differ = []
    # a run trained on whole images (crop full) read no boxes and no enlarge: only its crop counts (framing_of)
    for key in FRAMING if trained.get("crop") == "box" else ("crop",):
        if key in trained and trained[key] != now.get(key):
            # a boxes CSV names the images of the data the run trained on; other data needs its own
            other_data = key == "boxes" and trained[key] and trained.get("name") != now.get("name")
            differ.append(f"data.{key}={BOXES_OF_THESE if other_data else override_value(trained[key])}")
    return differ


def run_framing(run_cfg) -> dict:
    """The framing a run's composed config (.hydra/config.yaml) gives its faces, as with_run_data
    carries it: {"data.crop": ...}, and with crop=box "data.boxes" and "data.enlarge" (the
    others read neither). fit_svms sets crop=box in its own config, which no override names."""
    data = run_cfg.get("data")
    if data is None or data.get("crop") is None:
        return {}
    return {f"data.{k}": v for k, v in framing_of(data).items()}


def framing_of(data_cfg) -> dict:
    """How the scored faces were cut from their images: data.crop, and with crop=box the boxes
    CSV (null: the data's own boxes) and data.enlarge (the others read neither), so that two eval
    folders of one run and data, framed otherwise, can be told apart."""
    crop = data_cfg.get("crop", "full")
    if crop != "box":
        return {"crop": crop}
    return {"crop": crop, "boxes": data_cfg.get("boxes"), "enlarge": data_cfg.get("enlarge", 1.0)}


def write_report(out: Path, metrics: dict, title: str, framing: dict) -> dict:
    """attributes.json (the metrics and their "framing": framing_of) and attributes.md (the
    framing as overrides under its title); returns what attributes.json holds."""
    scored = {**metrics, "framing": framing}
    write_json(out / "attributes.json", scored)
    head, rest = metrics_markdown(metrics, title).split("\n", 1)
    said = " ".join(f"data.{k}={override_value(v)}" for k, v in framing.items())
    (out / "attributes.md").write_text(f"{head}\n\nFaces framed as {said}.\n{rest}")
    return scored


def attributes_to_score(run: Path, index, data_name: str, n_svms: int) -> list[str]:
    """The dataset's label columns in the order of the run's SVMs: a label file may list the
    attributes in another order (matched by name). Raises ConfigError when the data has no
    attribute labels or lacks some of the run's attributes."""
    names = [n for n in index.attrs.get("attributes", []) if n in index.columns]
    if not names:
        raise ConfigError(f"{data_name}: this copy of the data has no attribute labels (CelebA: list_attr_celeba.txt; "
                          "LFWA: its list_attr file), so there is nothing to score")  # fmt: skip
    trained = recorded_attributes(run)
    if trained is None:  # an old run: its SVMs are in the data's order, if the counts agree
        if len(names) != n_svms:
            raise ConfigError(f"{run} records no attribute names and has {n_svms} SVMs; {data_name} has "
                              f"{len(names)} attributes")  # fmt: skip
        return names
    missing = [n for n in trained if n not in names]
    if missing:
        raise ConfigError(f"{data_name} has no labels for {len(missing)} of the {len(trained)} attributes {run} "
                          f"was trained on: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")  # fmt: skip
    if trained != names:
        log.info("%s's attributes are matched by name (the label file lists them in another order%s)", data_name,
                 f", with {len(names) - len(trained)} more" if len(names) > len(trained) else "")  # fmt: skip
    return trained


@yaml_errors_named
@hydra.main(config_path="../conf", config_name="evaluate_attributes", version_base="1.3")
@training_command
def main(cfg: DictConfig) -> dict:
    check_at_least(cfg, {"batch_size": 1, "num_workers": 0})
    check_device(cfg.device)
    out = run_dir()
    model, head, patches = load_anet_run(Path(cfg.run))
    differ = framing_differences(Path(cfg.run), cfg.data)
    if differ:  # not silently: SVMs fitted on LNet's box crops score lower on full aligned images
        how = (f" ({BOXES_OF_THESE}: LNet's boxes of these images, from python -m lnet_anet.cli.lnet_boxes "
               f"IMAGE_FOLDER --out {BOXES_OF_THESE}; --recursive for a folder per person, as LFW's)") if f"data.boxes={BOXES_OF_THESE}" in differ else ""  # fmt: skip
        log.warning("%s was trained on faces framed otherwise; to score it on the faces it learnt from, add: %s%s",
                    cfg.run, " ".join(differ), how)  # fmt: skip
    index = build_index(cfg.data)
    record_data(out, cfg.data, index)
    part = split_of(index, cfg.split, override="split")
    names = attributes_to_score(Path(cfg.run), index, cfg.data.name, len(head.bias))
    train_labels = index.loc[index.split == "train", names].to_numpy() if (index.split == "train").any() else None
    dataset = face_dataset(cfg.data, part, train=False, image_size=patches["canonical_size"], attributes=names)
    feats = dataset_patch_features(model, dataset, patches["stride"], cfg.batch_size, cfg.num_workers, cfg.device)
    if patches.get("mirror"):  # the run's faces are seen with their mirror images too
        flipped = face_dataset(cfg.data, part, train=False, image_size=patches["canonical_size"], attributes=names,
                               transform=mirror)  # fmt: skip
        feats = join_views([feats, dataset_patch_features(model, flipped, patches["stride"], cfg.batch_size,
                                                          cfg.num_workers, cfg.device)])  # fmt: skip
    metrics = attribute_metrics(head.decide(head.average_over_patches(feats["features"])), feats["attributes"], names,
                                train_labels, f"{cfg.data.name}'s whole train split")  # fmt: skip
    framing = framing_of(cfg.data)
    scored = write_report(out, metrics, f"{cfg.run} on {cfg.data.name} {cfg.split}", framing)
    log.info("mean accuracy %.4f, mean balanced accuracy %.4f, majority %.4f (%d images, %s) -> %s",
             metrics["mean_accuracy"], metrics["mean_balanced_accuracy"], metrics["majority_mean_accuracy"],
             metrics["n_images"], ", ".join(f"{k} {v}" for k, v in framing.items()), out)  # fmt: skip
    return scored


if __name__ == "__main__":
    refuse_run_file(sys.argv[1:], "evaluate_attributes")
    sys.argv[1:] = with_run_data(sys.argv[1:], run_framing)  # no data=: the data the run was trained on, framed as it was
    main()
