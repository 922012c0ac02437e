"""ANet: shapes, the unpadded trunk, dense (interweaved) features == per-patch forward, errors."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
from torch import nn

from lnet_anet.data.preprocess import INCEPTION_MEAN, INCEPTION_STD
from lnet_anet.models import create_model
from lnet_anet.models.anet import ANet, anet_lite0, anet_lite0_plain
from lnet_anet.models.backbones import create_backbone
from lnet_anet.models.layers import LocallySharedConv2d


def _scrambled(model: ANet, seed: int = 0) -> ANet:
    """Distinct filters per cell and non-trivial BatchNorm statistics, in eval mode: so that a
    wrong cell, a wrong offset or a skipped BatchNorm would show in the outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, LocallySharedConv2d):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * 0.05)
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model.eval()


@pytest.fixture(scope="module")
def local_net() -> ANet:
    torch.manual_seed(0)
    return _scrambled(anet_lite0(pretrained="none", num_identities=7))


def _per_patch(model: ANet, image: torch.Tensor, stride: int, rows=None, cols=None) -> torch.Tensor:
    """forward on each crop separately: (B, len(rows), len(cols), D); all patches by default."""
    p = model.patch_size
    _, _, h, w = image.shape
    rows = range((h - p) // stride + 1) if rows is None else rows
    cols = range((w - p) // stride + 1) if cols is None else cols
    crops = [image[:, :, i * stride : i * stride + p, j * stride : j * stride + p]
             for i in rows for j in cols]  # fmt: skip
    with torch.no_grad():
        feats = model(torch.stack(crops, dim=1).flatten(0, 1))["features"]
    return feats.view(image.shape[0], len(rows), len(cols), -1)


def _corners_and_middle(n: int) -> list[int]:
    return sorted({0, n // 2, n - 1})


def test_forward_outputs(local_net):
    x = torch.randn(3, 3, 128, 128)
    with torch.no_grad():
        out = local_net(x)
    assert out["features"].shape == (3, 256)
    assert out["attributes"].shape == (3, 40)
    assert out["identity"].shape == (3, 7)
    assert (out["features"] >= 0).all()  # the FC feature is post-ReLU
    assert "identity" not in anet_lite0(pretrained="none").eval()(x[:1])


def test_trunk_is_unpadded_and_stride_8(local_net):
    trunk = local_net.trunk
    for m in trunk.modules():
        if isinstance(m, nn.Conv2d):
            assert type(m) is nn.Conv2d and m.padding == (0, 0)
    assert trunk.output_size(128) == 8
    x = torch.randn(1, 3, 160, 152)
    with torch.no_grad():
        full = trunk(x)
        shifted = trunk(x[:, :, 16:144, 8:136])  # a 128 crop at offset (16, 8)
    assert full.shape[1] == 40
    torch.testing.assert_close(shifted, full[:, :, 2:10, 1:9], atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("size", "stride"),
    [
        ((128, 128), 8),
        ((160, 160), 8),
        ((200, 176), 16),
        ((300, 300), 16),
        ((213, 150), 24),
    ],  # fmt: skip
)
def test_dense_features_equal_per_patch_forward(local_net, size, stride):
    image = torch.randn(2 if size[0] == 128 else 1, 3, *size)
    with torch.no_grad():
        dense = local_net.dense_features(image, stride)
    grid = ((size[0] - 128) // stride + 1, (size[1] - 128) // stride + 1)
    assert dense.shape == (image.shape[0], *grid, 256)
    # First, middle and last patch rows x columns: every border and an interior offset.
    rows, cols = _corners_and_middle(grid[0]), _corners_and_middle(grid[1])
    expected = _per_patch(local_net, image, stride, rows, cols)
    assert expected.abs().max() > 0.01  # a meaningful comparison, not zeros against zeros
    torch.testing.assert_close(dense[:, rows][:, :, cols], expected, atol=1e-4, rtol=0)


def test_dense_features_of_the_plain_ablation():
    torch.manual_seed(0)
    net = _scrambled(anet_lite0_plain(pretrained="none"))
    assert isinstance(net.c3, nn.Conv2d) and isinstance(net.c4, nn.Conv2d)
    image = torch.randn(1, 3, 176, 160)
    with torch.no_grad():
        dense = net.dense_features(image, 16)
    torch.testing.assert_close(dense, _per_patch(net, image, 16), atol=1e-4, rtol=0)


def test_local_and_plain_start_identical_and_local_cells_then_diverge():
    torch.manual_seed(3)
    local = anet_lite0(pretrained="none").eval()
    torch.manual_seed(3)
    plain = anet_lite0_plain(pretrained="none").eval()
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        torch.testing.assert_close(local(x)["features"], plain(x)["features"], atol=1e-5, rtol=0)
        local.c3.weight[0] += 0.1  # only the local net can change one region's filter
        assert (local(x)["features"] - plain(x)["features"]).abs().max() > 1e-4


def test_dense_features_errors(local_net):
    image = torch.randn(1, 3, 160, 160)
    with pytest.raises(ValueError, match="multiple of ANet's stride 8"):
        local_net.dense_features(image, 12)
    with pytest.raises(ValueError, match="smaller than the 128x128 patch"):
        local_net.dense_features(torch.randn(1, 3, 120, 200), 8)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        local_net.dense_features(torch.randn(3, 160, 160), 8)
    with pytest.raises(ValueError, match=r"\(B, 3, 128, 128\)"):
        local_net(image)
    local_net.train()
    try:
        with pytest.raises(RuntimeError, match="eval"):
            local_net.dense_features(image, 8)
    finally:
        local_net.eval()


def test_patch_features_layout(local_net):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)
    # The whole 160 image as the box, not enlarged: the canonical crop is the image itself.
    feats = local_net.patch_features(image, (0, 0, 160, 160), enlarge=1.0, size=160, stride=16)
    assert feats.shape == (9, 256)  # 3 x 3 patches
    x = (image.astype(np.float32) / 255 - np.float32(INCEPTION_MEAN)) / np.float32(INCEPTION_STD)
    x = torch.from_numpy(x.transpose(2, 0, 1).copy())[None]
    expected = _per_patch(local_net, x, 16).reshape(9, 256)  # row-major: k = i * nX + j
    torch.testing.assert_close(feats, expected, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="uint8 RGB"):
        local_net.patch_features(image.astype(np.float32), (0, 0, 10, 10))
    with pytest.raises(ValueError, match="bad box"):
        local_net.patch_features(image, (50, 50, 40, 60))


def test_frozen_stages_get_no_gradients_and_keep_eval_mode():
    torch.manual_seed(0)
    for frozen in (0, 3):
        net = anet_lite0(pretrained="none", frozen_stages=frozen).train()
        stem_bn, block1_bn, block2_bn = (
            net.trunk.bn1,
            net.trunk.blocks[1][0].bn1,
            net.trunk.blocks[2][0].bn1,
        )
        assert stem_bn.training is block1_bn.training is (frozen == 0)
        assert block2_bn.training  # stage 3 (blocks[2]) trains in both cases
        net(torch.randn(2, 3, 128, 128))["attributes"].sum().backward()
        assert (net.trunk.conv_stem.weight.grad is None) is (frozen == 3)
        assert (net.trunk.blocks[1][1].conv_pw.weight.grad is None) is (frozen == 3)
        assert net.trunk.blocks[2][1].conv_pw.weight.grad.abs().sum() > 0
        assert net.c3.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="4 stages"):
        anet_lite0(pretrained="none", frozen_stages=5)


def test_registry_builds_both_variants():
    local = create_model("anet_lite0", pretrained="none", num_attributes=5, grid=(3, 3))
    plain = create_model("anet_lite0_plain", pretrained="none", feature_dim=64)
    assert isinstance(local.c3, LocallySharedConv2d) and local.c3.grid == (3, 3)
    assert local.attribute_head.out_features == 5
    assert isinstance(plain.c3, nn.Conv2d) and plain.fc.out_features == 64
    with pytest.raises(ValueError, match="patch_size"):
        anet_lite0(pretrained="none", patch_size=64)


def test_package_weights_reach_the_trunk():
    net = anet_lite0(pretrained="package")
    reference = create_backbone(pretrained="package").state_dict()
    own = net.trunk.state_dict()
    assert set(own) <= set(reference)
    assert {k.split(".")[0] for k in own} == {"conv_stem", "bn1", "blocks"}
    for key, value in own.items():
        assert torch.equal(value, reference[key]), key
    random = timm.create_model("tf_efficientnet_lite0").state_dict()["conv_stem.weight"]
    assert not torch.equal(own["conv_stem.weight"], random)


def test_forward_from_a_partial_trunk_equals_the_whole_forward(local_net):
    """Maps cached below a trainable block 2 (stage 3) give the same features as the image."""
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        stage3 = local_net.trunk.forward_stages(x, 0, 3)
        assert stage3.shape[1] == 24 and stage3.shape[-1] == local_net.trunk.output_size(160, 3)
        torch.testing.assert_close(local_net.trunk.forward_stages(stage3, 3), local_net.trunk(x))
        dense = local_net.dense_features(x, 16)
        torch.testing.assert_close(local_net.dense_features_from_trunk(stage3, 16, stage=3), dense,
                                   atol=1e-5, rtol=0)  # fmt: skip
        window = local_net.trunk.output_size(128, 3)
        patch = local_net.forward_from_trunk(stage3[:, :, 4 : 4 + window, 8 : 8 + window], stage=3)
        torch.testing.assert_close(patch["features"], _per_patch(local_net, x, 16, [1], [2])[:, 0, 0],
                                   atol=1e-5, rtol=0)  # fmt: skip
    with pytest.raises(ValueError, match="stages"):
        local_net.trunk.forward_stages(x, 3, 2)


def test_patch_features_with_the_mirror_view(local_net):
    image = np.random.default_rng(3).integers(0, 255, (120, 100, 3), dtype=np.uint8)
    box = (10, 20, 80, 100)
    plain = local_net.patch_features(image, box, 1.0, 144, 16)
    both = local_net.patch_features(image, box, 1.0, 144, 16, mirror=True)
    assert both.shape == (2 * len(plain), plain.shape[1])
    torch.testing.assert_close(both[: len(plain)], plain)
    # The mirror view's patches are the plain patches of the mirrored image and box.
    flipped = local_net.patch_features(np.ascontiguousarray(image[:, ::-1]), (100 - 80, 20, 100 - 10, 100), 1.0, 144, 16)
    torch.testing.assert_close(both[len(plain):], flipped, atol=1e-4, rtol=0)


def test_unknown_identities_stay_unknown_and_add_nothing_to_the_loss():
    """-1 (a face missing from the identity file) is not one more person: it stays -1 after the
    renumbering, and the softmax loss ignores it."""
    import pandas as pd

    from lnet_anet.anet.losses import identity_ce_loss
    from lnet_anet.anet.training import with_dense_identities

    index = pd.DataFrame({"identity": [7, -1, 3, 7, -1, 12]})
    dense, n = with_dense_identities(index)
    assert n == 3
    assert dense["identity"].tolist() == [1, -1, 0, 1, -1, 2]

    class Logits(nn.Module):
        def __init__(self, logits):
            super().__init__()
            self.logits = nn.Parameter(logits)

        def forward(self, image):
            return {"identity": self.logits}

    torch.manual_seed(0)
    logits = torch.randn(4, 3)
    target = torch.tensor([2, -1, 0, -1])
    loss, parts = identity_ce_loss(Logits(logits), {"image": None, "identity": target})
    known = target >= 0
    assert torch.allclose(loss, nn.functional.cross_entropy(logits[known], target[known]))
    assert parts["accuracy"] == float((logits.argmax(1)[known] == target[known]).float().mean())
    model = Logits(logits.clone())
    loss, parts = identity_ce_loss(model, {"image": None, "identity": torch.tensor([-1, -1, -1, -1])})
    loss.backward()
    assert loss.item() == 0.0 and parts == {} and float(model.logits.grad.abs().sum()) == 0.0
