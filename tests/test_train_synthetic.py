"""End to end on the synthetic CelebA tree: a tiny model learns the drawn tags."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from lnet_anet.data.dataset import FaceDataset, collate_skip_bad
from lnet_anet.data.readers.celeba import read_celeba
from lnet_anet.data.synthetic import make_synthetic_celeba
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.metrics.attributes import attribute_metrics, collect_attribute_scores


class SmallCNN(nn.Module):
    def __init__(self, num_attributes: int = 40):
        super().__init__()
        layers, c_in = [], 3
        for c_out in (16, 32, 64):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(c_in, num_attributes)

    def forward(self, x):
        return {"attributes": self.head(self.features(x))}


def bce(model, batch):
    logits = model(batch["image"])["attributes"]
    return nn.functional.binary_cross_entropy_with_logits(logits, batch["attributes"]), {}


@pytest.mark.slow
def test_tiny_model_beats_the_majority_class_on_synthetic_tags(tmp_path):
    torch.manual_seed(0)
    root = make_synthetic_celeba(tmp_path / "synth", n_images=360, n_identities=60, seed=1)
    index = read_celeba(root, images="img_align_celeba")
    names = index.attrs["attributes"]
    train_index, test_index = index[index.split == "train"], index[index.split != "train"]
    train = FaceDataset(train_index, image_size=48, attributes=names, train=True)
    test = FaceDataset(test_index, image_size=48, attributes=names)
    cfg = TrainConfig(epochs=12, batch_size=32, lr=3e-3, num_workers=0, progress=False, warmup_steps=10)
    trainer = Trainer(SmallCNN(len(names)), bce, train, cfg, tmp_path / "run")
    trainer.fit()

    logits, labels = collect_attribute_scores(trainer.model, DataLoader(test, 64, collate_fn=collate_skip_bad),
                                              trainer.device)  # fmt: skip
    m = attribute_metrics(logits > 0, labels, names, train_labels=train_index[names].to_numpy())
    # The majority class is strong on rare tags: the model must beat it on average, and be
    # better than chance on the tags balanced between the classes.
    assert m["mean_accuracy"] > m["majority_mean_accuracy"] + 0.01, m["mean_accuracy"]
    assert m["mean_balanced_accuracy"] > 0.6


def test_the_majority_baseline_says_whose_labels_it_took():
    """Trial 65: train_anet's eval.md and evaluate_attributes gave one run two "majority class"
    figures (0.7704 and 0.7829), from two sets of train labels, both unnamed."""
    import numpy as np

    from lnet_anet.metrics.attributes import metrics_markdown

    labels = np.array([[1], [0], [0], [0]])
    own = attribute_metrics(labels, labels, ["A"])
    assert own["majority_mean_accuracy"] == 0.75 and own["majority_of"] == "the scored labels themselves (4)"
    given = attribute_metrics(labels, labels, ["A"], np.ones((3, 1)), "the fit part of train")
    assert given["majority_mean_accuracy"] == 0.25 and given["majority_of"] == "the fit part of train (3 labels)"
    assert "most frequent value in the fit part of train (3 labels)." in metrics_markdown(given)
