"""ANet's training stages (identity pre-training, attribute fine-tuning) and the SVMs on its features."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig
from safetensors.torch import load_file

from lnet_anet.anet.svm import LinearSVMHead, fit_linear_svms
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.runs import is_done, mark_done, save_weights
from lnet_anet.metrics.attributes import (
    attribute_metrics,
)

log = logging.getLogger("lnet_anet.train")


def with_dense_identities(index: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Identity labels renumbered 0..K-1 for the softmax."""
    out = index.copy()
    out["identity"], uniques = pd.factorize(out["identity"], sort=True)
    out.attrs = dict(index.attrs)
    return out, len(uniques)


def train_stage(name: str, model: torch.nn.Module, loss_fn, train_set, val_set, evaluate_fn,
                cfg: DictConfig, overrides: DictConfig, out: Path) -> None:  # fmt: skip
    """One Trainer run in out/<name>, then its weights.safetensors written atomically and the
    stage marked done (weights.safetensors.done, written last). A done stage is loaded, not
    trained; one whose weights exist without the marker (a run killed while writing them, or
    before marking) is trained again, which resumes its finished checkpoint: no step repeated."""
    folder = out / name
    weights = folder / "weights.safetensors"
    if is_done(weights):
        log.info("stage %s: done before, loading %s", name, weights)
        model.load_state_dict(load_file(str(weights)))
        return
    train_cfg = TrainConfig.from_dict({**cfg.train, **overrides})
    result = Trainer(model, loss_fn, train_set, train_cfg, folder, val_set=val_set,
                     evaluate_fn=evaluate_fn).fit()  # fmt: skip
    save_weights(model, weights)
    mark_done(weights, step=result["step"])


def fit_svms(train_feats: dict, tune_feats: dict, Cs: list[float], class_weight, balance_weights: list[float],
             accuracy_tolerance: float) -> tuple[LinearSVMHead, list[float], dict]:  # fmt: skip
    """SVMs on patch features, the per-attribute C that is most accurate on the tune split,
    then Platt scaling and the decision thresholds (LinearSVMHead.choose_thresholds) on the tune
    split: of the balance weights, the one with the best tune balanced accuracy among those
    whose tune accuracy is within accuracy_tolerance of the most accurate one's. Linear SVM
    scores averaged over patches equal the score of the averaged feature, so each face is one
    row: its mean patch feature. Returns the head, the chosen Cs and the weights' tune figures."""
    x, y = train_feats["features"].mean(1), train_feats["attributes"]
    xt, yt = tune_feats["features"].mean(1), tune_feats["attributes"]
    heads = [fit_linear_svms(x, y, C=c, class_weight=class_weight) for c in Cs]
    tune_acc = np.stack([((h.scores(xt) > 0) == (yt > 0.5)).mean(0) for h in heads])  # (C, A)
    best = tune_acc.argmax(0)
    pick = lambda key: np.stack([heads[b].to_arrays()[key][a] for a, b in enumerate(best)])  # noqa: E731
    head = LinearSVMHead(pick("weight"), pick("bias"), np.ones(len(best)), np.zeros(len(best)),
                         heads[0].feature_mean, heads[0].feature_std)  # fmt: skip
    head.calibrate(xt, yt)
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
