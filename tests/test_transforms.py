from __future__ import annotations

import numpy as np
import pytest
import torch

from lnet_anet.data.transforms import CenterPatch, RandomPatch


def test_patches_are_windows_of_the_image():
    img = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
    np.testing.assert_array_equal(CenterPatch(6)(img), img[2:8, 3:9])
    torch.manual_seed(0)
    seen = set()
    for _ in range(200):
        patch = RandomPatch(6)(img)
        y, x = np.argwhere(img[:, :, 0] == patch[0, 0, 0])[0]
        np.testing.assert_array_equal(patch, img[y:y + 6, x:x + 6])
        seen.add((int(y), int(x)))
    assert {(0, 0), (4, 6)} <= seen  # the extreme offsets are reachable


def test_image_smaller_than_the_patch_is_named():
    with pytest.raises(ValueError, match="smaller than the 8px patch"):
        RandomPatch(8)(np.zeros((6, 20, 3), np.uint8))
