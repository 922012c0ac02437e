"""The offline ImageNet weights are real: a real photo is classified as what it shows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from lnet_anet.data.preprocess import INCEPTION_MEAN, INCEPTION_STD
from lnet_anet.models.backbones import (
    convert_package_state_dict,
    create_backbone,
    load_pretrained,
)

# ImageNet classes 281-285 are the domestic cats (tabby, tiger cat, Persian, Siamese, Egyptian).
CAT_CLASSES = range(281, 286)


def imagenet_input(rgb: np.ndarray, size: int = 224) -> torch.Tensor:
    x = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    x = (x - np.array(INCEPTION_MEAN, np.float32)) / np.array(INCEPTION_STD, np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1))[None]


@pytest.fixture(scope="module")
def lite0():
    return create_backbone(pretrained="package").eval()


def test_package_weights_classify_a_real_cat_photo_as_a_cat(lite0):
    from skimage import data

    with torch.no_grad():
        probs = lite0(imagenet_input(data.chelsea())).softmax(1)[0]
    assert int(probs.argmax()) in CAT_CLASSES
    assert float(probs[list(CAT_CLASSES)].sum()) > 0.5


def test_random_weights_do_not_know_cats():
    torch.manual_seed(0)
    from skimage import data

    model = create_backbone(pretrained="none").eval()
    with torch.no_grad():
        probs = model(imagenet_input(data.chelsea())).softmax(1)[0]
    assert float(probs[list(CAT_CLASSES)].sum()) < 0.2


def test_features_only_backbone_gets_the_same_weights(lite0):
    feats = create_backbone(pretrained="package", features_only=True, out_indices=(1, 2, 3, 4))
    full = lite0.state_dict()
    for k, v in feats.state_dict().items():
        assert torch.equal(v, full[k]), k
    shapes = [tuple(f.shape[1:]) for f in feats(torch.zeros(1, 3, 300, 300))]
    assert shapes == [(24, 75, 75), (40, 38, 38), (112, 19, 19), (320, 10, 10)]


def test_conversion_rejects_a_layout_that_does_not_fit(lite0):
    state = dict(lite0.state_dict())
    with pytest.raises(ValueError, match="tensors"):
        convert_package_state_dict(dict(list(state.items())[:-1]))
    first = next(iter(state))
    with pytest.raises(ValueError, match="cannot map"):
        convert_package_state_dict({**state, first: torch.zeros(1)})


def test_missing_weights_file_is_named(tmp_path):
    model = create_backbone(pretrained="none")
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_pretrained(model, str(tmp_path / "nope.pth"))
