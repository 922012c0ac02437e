"""Cached trunk maps give exactly the features and patches of the image path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from lnet_anet.anet.features import (
    TrunkMapPatches,
    dataset_patch_features,
    dataset_trunk_maps,
    features_from_maps,
)
from lnet_anet.data.dataset import FaceDataset
from lnet_anet.models.anet import anet_lite0


def faces(tmp_path, n=3):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = tmp_path / f"{i}.png"
        Image.fromarray(rng.integers(0, 255, (150, 140, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    index = pd.DataFrame({"path": paths, "split": "train", "Smiling": [0, 1, 0]})
    index.attrs["attributes"] = ["Smiling"]
    return FaceDataset(index, image_size=160)


def test_features_from_cached_maps_equal_the_dense_forward(tmp_path):
    torch.manual_seed(0)
    model = anet_lite0(pretrained="none", num_attributes=1, frozen_stages=4).eval()
    dataset = faces(tmp_path)
    direct = dataset_patch_features(model, dataset, stride=16, num_workers=0)
    maps = dataset_trunk_maps(model, dataset, num_workers=0)
    assert maps["maps"].dtype == np.float16 and maps["maps"].shape == (3, 40, 12, 12)
    cached = features_from_maps(model, maps, stride=16)
    assert cached["features"].shape == direct["features"].shape == (3, 9, 256)
    # float16 storage of the maps is the only difference
    np.testing.assert_allclose(cached["features"], direct["features"], atol=2e-2, rtol=2e-2)
    np.testing.assert_array_equal(cached["attributes"], direct["attributes"])


def test_unreadable_images_are_counted_in_the_training_log(tmp_path, caplog):
    model = anet_lite0(pretrained="none", num_attributes=1, frozen_stages=4).eval()
    dataset = faces(tmp_path)
    Path(dataset.paths[1]).write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="skipping unreadable image"), caplog.at_level("WARNING", "lnet_anet.train"):
        maps = dataset_trunk_maps(model, dataset, num_workers=0, desc="trunk maps")
        features = dataset_patch_features(model, dataset, stride=16, num_workers=0)
    assert len(maps["maps"]) == len(features["features"]) == 2
    said = [r.getMessage() for r in caplog.records if r.name == "lnet_anet.train"]
    assert said == ["trunk maps: 1 unreadable images were skipped (named in the warnings above)",
                    "features: 1 unreadable images were skipped (named in the warnings above)"]  # fmt: skip


def test_trunk_map_windows_are_the_patches_forward(tmp_path):
    torch.manual_seed(0)
    model = anet_lite0(pretrained="none", num_attributes=1, frozen_stages=4).eval()
    image = faces(tmp_path)[0]["image"]
    trunk = model.trunk(image[None])[0]
    windows = TrunkMapPatches([trunk[None].numpy()], {"attributes": np.zeros((1, 1))}, window=8, train=False)
    centre = windows[0]["image"]
    with torch.no_grad():
        from_map = model.forward_from_trunk(centre[None])["features"]
        from_patch = model(image[None, :, 16:144, 16:144])["features"]
    torch.testing.assert_close(from_map, from_patch, atol=1e-4, rtol=1e-4)
    train = TrunkMapPatches([trunk[None].numpy()] * 2, {"attributes": np.zeros((1, 1))}, window=8, train=True)
    assert train[0]["image"].shape == (40, 8, 8)


def test_training_windows_stay_near_the_centre_when_jittered():
    """jitter=j: training windows within j map pixels of the centre window; None: anywhere (the
    same draws as before the option: one randint over the whole span)."""
    maps = np.arange(2 * 3 * 12 * 12, dtype=np.float32).reshape(2, 3, 12, 12)  # the window's corner names its offset
    labels = {"age": np.zeros(2, np.float32)}

    def offsets(dataset, n=200):
        seen = set()
        for i in range(n):
            corner = float(dataset[i % 2]["image"][0, 0, 0]) - (i % 2) * 3 * 144
            seen.add(divmod(int(corner), 12))
        return seen

    torch.manual_seed(0)
    near = offsets(TrunkMapPatches([maps], labels, window=8, train=True, jitter=1))
    assert near <= {(y, x) for y in (1, 2, 3) for x in (1, 2, 3)} and len(near) > 4  # centre offset 2, +-1
    torch.manual_seed(0)
    anywhere = offsets(TrunkMapPatches([maps], labels, window=8, train=True))
    assert {0, 4} <= {y for y, _ in anywhere}  # the whole span, 0..4
    torch.manual_seed(0)
    dataset = TrunkMapPatches([maps], labels, window=8, train=True)
    got = [divmod(int(dataset[0]["image"][0, 0, 0]), 12) for _ in range(3)]
    torch.manual_seed(0)
    want = []
    for _ in range(3):  # the draws the recipe made before `jitter`: the view, then both offsets over 0..span
        torch.randint(1, ())
        want.append(tuple(int(v) for v in torch.randint(0, 5, (2,))))
    assert got == want
