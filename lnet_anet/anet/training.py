"""ANet's training stages (identity pre-training, attribute fine-tuning) and the SVMs on its features."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from safetensors.torch import load_file

from lnet_anet.anet.svm import LinearSVMHead, fit_linear_svms
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.checkpoint import save_safetensors_atomic
from lnet_anet.engine.config import ConfigError
from lnet_anet.engine.runs import (
    RunNotFoundError,
    RunRefusedError,
    is_done,
    keep_recipe,
    mark_done,
    read_run_record,
    reading,
    save_weights,
    write_json,
)
from lnet_anet.engine.trainer import changed_settings, refuse_unused_settings, trains_on
from lnet_anet.metrics.attributes import attribute_metrics, metrics_markdown

log = logging.getLogger("lnet_anet.train")
# What an init_from that names no ANet is told (train_anet's and train_anet_dldl's default is the run
# folder train_anet writes for the data). The bundle by the config resolver, not as
# lnet_anet/assets/...: that path holds only from the repository's root
INIT_FROM_HINT = ("; make train-anet writes runs/anet-<data> (python -m lnet_anet.cli.train_anet experiment=smoke "
                  "data=synthetic: runs/anet-synthetic), or give 'init_from=${lnet_anet.asset:default.lnetanet}' "
                  "(the embedded bundle's ANet, from any folder)")


def read_anet_weights(source: str | Path) -> tuple[Path, dict[str, torch.Tensor]]:
    """(the file read, the attribute ANet's float tensors by name) from a train_anet run folder
    (its anet.safetensors) or a model bundle file (*.lnetanet, its ANet). Raises
    RunNotFoundError naming the file when neither is there, or when a file is not a bundle."""
    source = Path(source)
    if source.is_file():  # a model bundle (.lnetanet): its attribute ANet
        from lnet_anet.inference.bundle import BundleError, load_bundle

        try:
            return source, {k: v.float() for k, v in load_bundle(source).anet.state_dict().items()}
        except BundleError as e:
            raise RunNotFoundError(f"{source}: init_from names a file that is not a model bundle ({e})") from None
    path = source / "anet.safetensors"
    if not path.exists():
        raise RunNotFoundError(f"{path}: init_from names no train_anet run (no anet.safetensors) and no model bundle"
                               f"{INIT_FROM_HINT}")
    with reading(path, f"the run folder {source} is damaged: train it again (python -m lnet_anet.cli.train_anet) or "
                       "name another run"):  # fmt: skip
        return path, load_file(str(path))


def init_from_anet(model: torch.nn.Module, source: str | Path) -> None:
    """Load an attribute ANet's weights (read_anet_weights) into `model`, all but its identity
    head (`model` keeps its own). Raises ConfigError naming the source when its tensors do not fit
    the model (the model= settings it was trained with differ)."""
    from lnet_anet.engine.config import ConfigError

    path, state = read_anet_weights(source)
    own = model.state_dict()
    state = {k: v for k, v in state.items() if not k.startswith("identity_head.")}
    wanted = {k for k in own if not k.startswith("identity_head.")}
    wrong = sorted(k for k in wanted & set(state) if state[k].shape != own[k].shape)
    if wrong or set(state) != wanted:
        differ = wrong or sorted(set(state) ^ wanted)
        raise ConfigError(f"init_from={source}: its ANet ({path.name}) does not fit this model ({len(differ)} tensors "
                          f"differ, e.g. {differ[0]}): use the model= settings it was trained with")  # fmt: skip
    model.load_state_dict({**{k: v for k, v in own.items() if k.startswith("identity_head.")}, **state})
    log.info("init_from %s: ANet weights loaded (not its identity head)", path)


def check_svm_settings(svm: DictConfig) -> None:
    """The svm group (conf/svm/linear.yaml) as fit_svms will read it, checked before any data is
    read or any stage trains: C and balance_weight are lists (grids chosen on the tune split), C of
    positive numbers, balance_weight of numbers >= 0, accuracy_tolerance >= 0, max_train_images
    >= 1. Raises ConfigError naming the setting and an example."""
    def numbers(key: str, ok, rule: str) -> None:
        value = svm.get(key)
        values = list(value) if isinstance(value, ListConfig | list | tuple) else None
        if not values or not all(isinstance(v, int | float) and not isinstance(v, bool) and ok(v) for v in values):
            example = f"'svm.{key}=[{value}]'" if isinstance(value, int | float) else "conf/svm/linear.yaml's grid"
            raise ConfigError(f"svm.{key} must be a list of {rule} (a grid chosen on the tune split), got "
                              f"{OmegaConf.to_container(value) if isinstance(value, ListConfig) else value!r}: e.g. "
                              f"{example}")  # fmt: skip

    numbers("C", lambda v: v > 0, "numbers > 0")
    numbers("balance_weight", lambda v: v >= 0, "numbers >= 0")
    for key, low in (("accuracy_tolerance", 0), ("max_train_images", 1)):
        value = svm.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            raise ConfigError(f"svm.{key} must be a number >= {low}, got {value!r}")


def check_stage_settings(cfg: DictConfig, stages: tuple[str, ...]) -> None:
    """Each stage's train settings (cfg.train overridden by cfg.<stage>, as train_stage merges
    them) checked before any stage trains, the error naming the stage's key (finetune.lr, not
    train.lr): a bad finetune setting was found only after pre-training. Raises ConfigError."""
    for name in stages:
        stage = OmegaConf.to_container(cfg[name], resolve=True)
        if stage.get("epochs") == 0:  # a stage left out (pretrain.epochs=0: the ablation) trains nothing
            continue
        try:
            TrainConfig.from_dict({**OmegaConf.to_container(cfg.train, resolve=True), **stage})
        except ConfigError as e:
            said = str(e)
            for key in stage:
                said = said.replace(f"train.{key} ", f"{name}.{key} ")
            raise ConfigError(said) from None


def record_recipe(folder: Path, cfg: DictConfig) -> dict:
    """<run>/recipe.json of a train_anet run: the network (model.*: frozen_stages, patch_size, ...),
    the patch layout (patches.*), photometric and init_from (resolved). A finished run rerun with
    another patches.canonical_size or model.frozen_stages would load its stages as they were and
    rewrite patches.json / model.json with values its weights never saw; a folder that has trained
    refuses it instead (RunRefusedError naming each change). A folder trained before the file
    existed is taken as it is. Returns the recipe."""
    source = cfg.get("init_from")
    return keep_recipe(folder, {"model": cfg.model, "patches": cfg.patches, "photometric": cfg.get("photometric"),
                                "init_from": str(Path(source).resolve()) if source else None},
                       None, "with another network, patch layout or start")  # fmt: skip


def with_dense_identities(index: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Identity labels renumbered 0..K-1 for the softmax. A negative label (-1: the face is
    missing from the identity file, see data.readers.celeba) is unknown, not one more person: it
    stays -1, which identity_ce_loss ignores."""
    out = index.copy()
    known = out["identity"].to_numpy() >= 0
    codes, uniques = pd.factorize(out["identity"][known], sort=True)
    dense = np.full(len(out), -1, np.int64)
    dense[known] = codes
    out["identity"] = dense
    out.attrs = dict(index.attrs)
    return out, len(uniques)


def train_stage(name: str, model: torch.nn.Module, loss_fn, train_set, val_set, evaluate_fn,
                cfg: DictConfig, overrides: DictConfig, out: Path, then: str | None = None) -> None:  # fmt: skip
    """One Trainer run in out/<name>, then its weights.safetensors written atomically and the
    stage marked done (weights.safetensors.done, written last). A done stage is loaded, not
    trained; one whose weights exist without the marker (a run killed while writing them, or
    before marking) is trained again, which resumes its finished checkpoint: no step repeated.
    A done stage given another length (epochs, max_steps) goes to its Trainer, as a finished
    train_age run does: a longer one trains on, a shorter one is refused; unless the stage it
    starts (`then`) is done too, which was trained from its weights as they were (refused)."""
    folder = out / name
    weights = folder / "weights.safetensors"
    plain = lambda c: OmegaConf.to_container(c, resolve=True) if isinstance(c, DictConfig) else dict(c)  # noqa: E731
    train, stage = plain(cfg.train), plain(overrides)
    for key in ("lr", "weight_decay"):  # the optimizer's spec read train.<key> (${..lr}): a stage's own value wins
        if key in stage and isinstance(train.get("optimizer"), dict) and key in train["optimizer"]:
            train["optimizer"] = {**train["optimizer"], key: stage[key]}
    train_cfg = TrainConfig.from_dict({**train, **stage})
    settings = json.loads(json.dumps(train_cfg.to_dict(), default=str))  # as settings.json reads back
    if is_done(weights) and not _trains_on(name, folder, settings, out / then if then else None):
        log.info("stage %s: done before, loading %s", name, weights)
        _refuse_unused_settings(name, folder / STAGE_SETTINGS, settings)
        with reading(weights, f"delete it and {weights.name}.done to train stage {name} again"):
            state = load_file(str(weights))
        model.load_state_dict(state)
        return
    result = Trainer(model, loss_fn, train_set, train_cfg, folder, val_set=val_set,
                     evaluate_fn=evaluate_fn).fit()  # fmt: skip
    save_weights(model, weights)
    write_json(folder / STAGE_SETTINGS, settings)
    mark_done(weights, step=result["step"])


STAGE_SETTINGS = "settings.json"  # a done stage's train settings, beside its weights


def _trains_on(name: str, folder: Path, settings: dict, then: Path | None) -> bool:
    """Whether done stage `name` (in `folder`) goes on training with `settings`: another length
    only, its checkpoint kept (engine.trainer.trains_on). RunRefusedError when the stage `then`
    trained from it is done: that stage would be loaded over the longer one's weights."""
    recorded = folder / STAGE_SETTINGS
    try:
        before = read_run_record(recorded) if recorded.exists() else None
    except RunRefusedError:  # unreadable: _refuse_unused_settings says so
        return False
    if before is None or not trains_on(before, settings, folder / "checkpoints" / "last.pt"):
        return False
    if then is not None and is_done(then / "weights.safetensors"):
        raise RunRefusedError(f"{folder}: stage {name} is done with other train settings "
                              f"({changed_settings(before, settings)}), and stage {then.name} was trained from it: "
                              f"a longer {name} would not reach it; give the run another name= to train with them, "
                              "or rerun with the run's own")  # fmt: skip
    log.info("stage %s: done before; another length (%s): its Trainer goes on from its checkpoint", name,
             changed_settings(before, settings))  # fmt: skip
    return True


def _refuse_unused_settings(name: str, recorded: Path, settings: dict) -> None:
    """A done stage is loaded as it was: this launch's train settings for it must be those it was
    trained with (recorded by train_stage; stages done before it was kept are not compared), or
    RunRefusedError naming the changes (engine.trainer.refuse_unused_settings)."""
    if not recorded.exists():
        return
    try:
        before = read_run_record(recorded)
    except RunRefusedError as e:  # the settings cannot be compared: say so, go on with the stage as it is
        log.warning("stage %s: %s is not readable (%s): its settings are not compared", name, recorded, e)
        return
    refuse_unused_settings(recorded.parent, f"stage {name} is done (it is loaded as it was)", before, settings)


def fit_svms(train_feats: dict, tune_feats: dict, Cs: list[float], class_weight, balance_weights: list[float],
             accuracy_tolerance: float, names: list[str] | None = None) -> tuple[LinearSVMHead, list[float], dict]:  # fmt: skip
    """SVMs on patch features, the per-attribute C that is most accurate on the tune split,
    then Platt scaling and the decision thresholds (LinearSVMHead.choose_thresholds) on the tune
    split: of the balance weights, the one with the best tune balanced accuracy among those
    whose tune accuracy is within accuracy_tolerance of the most accurate one's. Linear SVM
    scores averaged over patches equal the score of the averaged feature, so each face is one
    row: its mean patch feature. Returns the head, the chosen Cs and the weights' tune figures.
    names: the attributes' names, for the warnings."""
    heads = svms_per_C(train_feats["features"].mean(1), train_feats["attributes"], Cs, class_weight, names)
    return choose_svms(heads, Cs, tune_feats, balance_weights, accuracy_tolerance, names)


def svms_per_C(x: np.ndarray, y: np.ndarray, Cs: list[float], class_weight,
               names: list[str] | None = None) -> list[LinearSVMHead]:  # fmt: skip
    """fit_linear_svms on faces' mean features x (N, D) and labels y (N, A), one head per C."""
    with warnings.catch_warnings(record=True) as caught:  # the same data warns alike for every C: said once
        warnings.simplefilter("always")
        heads = [fit_linear_svms(x, y, C=c, class_weight=class_weight, names=names) for c in Cs]
    for category, message in dict.fromkeys((w.category, str(w.message)) for w in caught):
        warnings.warn(message, category, stacklevel=3)
    return heads


def choose_svms(heads: list[LinearSVMHead], Cs: list[float], tune_feats: dict, balance_weights: list[float],
                accuracy_tolerance: float, names: list[str] | None = None) -> tuple[LinearSVMHead, list[float], dict]:  # fmt: skip
    """fit_svms' choices on the tune split, from svms_per_C's heads (one per C in Cs): per
    attribute the most accurate C, Platt scaling, then the thresholds by the balance-weight rule."""
    xt, yt = tune_feats["features"].mean(1), tune_feats["attributes"]
    tune_acc = np.stack([((h.scores(xt) > 0) == (yt > 0.5)).mean(0) for h in heads])  # (C, A)
    best = tune_acc.argmax(0)
    pick = lambda key: np.stack([heads[b].to_arrays()[key][a] for a, b in enumerate(best)])  # noqa: E731
    head = LinearSVMHead(pick("weight"), pick("bias"), np.ones(len(best)), np.zeros(len(best)),
                         heads[0].feature_mean, heads[0].feature_std)  # fmt: skip
    head.calibrate(xt, yt, names)
    pt, names = head.probabilities(xt), [str(i) for i in range(yt.shape[1])]
    trials = {}
    for w in balance_weights:
        head.choose_thresholds(pt, yt, w)
        m = attribute_metrics(head.decide(pt), yt, names)
        trials[w] = {"mean_accuracy": m["mean_accuracy"], "mean_balanced_accuracy": m["mean_balanced_accuracy"]}
    most = max(t["mean_accuracy"] for t in trials.values())
    chosen = max((w for w, t in trials.items() if t["mean_accuracy"] >= most - accuracy_tolerance),
                 key=lambda w: trials[w]["mean_balanced_accuracy"])  # fmt: skip
    head.choose_thresholds(pt, yt, chosen)
    return head, [Cs[b] for b in best], {"chosen": chosen, "tune": trials}


def fit_and_report_svms(out: Path, cfg: DictConfig, names: list[str], feats: dict[str, dict],
                        train_labels: np.ndarray) -> dict:  # fmt: skip
    """fit_svms on feats["fit"] / feats["tune"] (dataset_patch_features dicts) with cfg.svm,
    svm.safetensors written into `out`, then the evaluation split (feats["eval"]) scored at the
    tuned decisions, at p >= 0.5 and by the network's own sigmoid head: eval.json, eval.md.
    train_labels (N, A) give the majority-class baseline. Returns the summary (eval.json)."""
    head, chosen_C, balance = fit_svms(feats["fit"], feats["tune"], list(cfg.svm.C), cfg.svm.class_weight,
                                       list(cfg.svm.balance_weight), cfg.svm.accuracy_tolerance, names)  # fmt: skip
    save_safetensors_atomic({k: torch.from_numpy(v.astype(np.float32)) for k, v in head.to_arrays().items()},
                            out / "svm.safetensors", metadata={"attributes": ",".join(names)})  # fmt: skip

    # Evaluation split: SVM on patch features vs the network's own sigmoid head (both averaged).
    ev = feats["eval"]
    probs = head.average_over_patches(ev["features"])
    fit_part = "the fit part of train (train less the tune part the SVMs' settings were chosen on)"
    svm_m = attribute_metrics(head.decide(probs), ev["attributes"], names, train_labels, fit_part)
    half_m = attribute_metrics(probs >= 0.5, ev["attributes"], names, train_labels, fit_part)
    net_m = attribute_metrics(ev["attribute_logits"].mean(1) > 0, ev["attributes"], names, train_labels, fit_part)
    summary = {
        "split": cfg.data.eval_split,
        "svm": {k: svm_m[k] for k in ("mean_accuracy", "mean_balanced_accuracy", "majority_mean_accuracy", "n_images")},
        "svm_threshold_0.5": {k: half_m[k] for k in ("mean_accuracy", "mean_balanced_accuracy")},
        "sigmoid_head": {k: net_m[k] for k in ("mean_accuracy", "mean_balanced_accuracy")},
        "svm_threshold": dict(zip(names, head.threshold.round(2).tolist(), strict=True)),
        "svm_balance_weight": balance,
        "svm_C": dict(zip(names, chosen_C, strict=True)),
        "svm_per_attribute": svm_m["per_attribute"],
    }
    write_json(out / "eval.json", summary)
    (out / "eval.md").write_text(
        metrics_markdown(svm_m, f"ANet + SVMs on {cfg.data.name} {cfg.data.eval_split}")
        + f"\nThresholds chosen on the tune split (balance weight {balance['chosen']}); at p >= 0.5 "
        f"instead: mean accuracy {half_m['mean_accuracy']:.4f}, balanced {half_m['mean_balanced_accuracy']:.4f}.\n"
        f"\nThe network's own sigmoid head (patch-averaged): mean accuracy {net_m['mean_accuracy']:.4f}, "
        f"mean balanced accuracy {net_m['mean_balanced_accuracy']:.4f}.\n"
    )
    log.info("SVM: mean accuracy %.4f, balanced %.4f (majority %.4f); sigmoid head %.4f / %.4f",
             svm_m["mean_accuracy"], svm_m["mean_balanced_accuracy"], svm_m["majority_mean_accuracy"],
             net_m["mean_accuracy"], net_m["mean_balanced_accuracy"])  # fmt: skip
    log.info("-> %s (svm.safetensors, eval.md, eval.json)", out)  # where the results went, last (trial 65)
    return summary
