"""LocallySharedConv2d: cells, equivalence to a plain conv, per-cell filters, dense gathering."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lnet_anet.models.layers import LocallySharedConv2d, band_edges


def _randomised(layer: LocallySharedConv2d) -> LocallySharedConv2d:
    torch.manual_seed(1)
    layer.reset_parameters()  # independent filters per cell
    return layer


def test_band_edges_are_near_equal_and_cover_the_range():
    for n in range(1, 20):
        for g in range(1, n + 1):
            edges = band_edges(n, g)
            sizes = [b - a for a, b in zip(edges, edges[1:], strict=False)]
            assert edges[0] == 0 and edges[-1] == n and len(sizes) == g
            assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def test_cell_index_map_layout():
    layer = LocallySharedConv2d(2, 3, 3, grid=(2, 3), input_size=(9, 10))  # output 7 x 8
    ids = layer.cell_index_map()
    assert ids.shape == (7, 8) == layer.output_size
    assert torch.equal(torch.unique(ids), torch.arange(6))
    # Rows 0-2 | 3-6 (edges 0, 3, 7), columns 0-1 | 2-4 | 5-7 (edges 0, 2, 5, 8).
    assert ids[2, 1] == 0 and ids[3, 1] == 3 and ids[0, 2] == 1 and ids[6, 7] == 5
    counts = torch.bincount(ids.flatten())
    assert counts.tolist() == [6, 9, 9, 8, 12, 12]


def test_from_conv_equals_the_plain_valid_conv():
    torch.manual_seed(0)
    conv = nn.Conv2d(5, 7, 3)
    layer = LocallySharedConv2d.from_conv(conv, grid=(2, 2), input_size=(11, 9))
    x = torch.randn(4, 5, 11, 9)
    torch.testing.assert_close(layer(x), conv(x), rtol=0, atol=1e-6)
    assert layer.weight.shape == (4, 7, 5, 3, 3)


def test_each_cell_filter_only_changes_its_cell():
    layer = _randomised(LocallySharedConv2d(3, 4, 3, grid=(2, 2), input_size=(10, 10)))
    x = torch.randn(2, 3, 10, 10)
    before = layer(x)
    with torch.no_grad():
        layer.weight[3] += 1.0  # bottom-right cell
    changed = (layer(x) - before).abs().amax(dim=(0, 1)) > 0
    assert torch.equal(changed, layer.cell_index_map() == 3)


def test_each_cell_is_its_own_conv_on_its_slice():
    layer = _randomised(LocallySharedConv2d(3, 4, 3, grid=(2, 3), input_size=(12, 13)))
    x = torch.randn(2, 3, 12, 13)
    out = layer(x)
    for cell, (r0, r1, c0, c1) in enumerate(layer.cells()):
        full = F.conv2d(x, layer.weight[cell], layer.bias[cell])  # the cell's filter everywhere
        torch.testing.assert_close(out[..., r0:r1, c0:c1], full[..., r0:r1, c0:c1])


def test_gather_patches_equals_forward_on_each_crop():
    layer = _randomised(LocallySharedConv2d(3, 4, 3, grid=(2, 2), input_size=(8, 8)))
    big = torch.randn(2, 3, 19, 23)
    offsets_y, offsets_x = torch.tensor([0, 5, 11]), torch.tensor([0, 2, 15])
    dense = layer.gather_patches(layer.forward_all_cells(big), offsets_y, offsets_x)
    assert dense.shape == (2, 3, 3, 4, 6, 6)
    for a, oy in enumerate(offsets_y.tolist()):
        for b, ox in enumerate(offsets_x.tolist()):
            crop = big[:, :, oy : oy + 8, ox : ox + 8]
            torch.testing.assert_close(dense[:, a, b], layer(crop), atol=1e-5, rtol=0)


def test_gradients_reach_every_cell():
    layer = LocallySharedConv2d(2, 3, 3, grid=(3, 2), input_size=(9, 8))
    layer(torch.randn(2, 2, 9, 8)).square().sum().backward()
    assert (layer.weight.grad.flatten(1).abs().sum(1) > 0).all()
    assert (layer.bias.grad.abs().sum(1) > 0).all()


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="too few"):
        LocallySharedConv2d(2, 3, 3, grid=(4, 4), input_size=(5, 5))  # 3x3 outputs, 4x4 cells
    layer = LocallySharedConv2d(2, 3, 3, grid=(2, 2), input_size=(8, 8))
    with pytest.raises(ValueError, match=r"\(B, 2, 8, 8\)"):
        layer(torch.randn(1, 2, 9, 8))
    with pytest.raises(ValueError, match="padded|valid"):
        LocallySharedConv2d.from_conv(nn.Conv2d(2, 3, 3, padding=1), (2, 2), (8, 8))
    with pytest.raises(ValueError, match="stride-1"):
        LocallySharedConv2d.from_conv(nn.Conv2d(2, 3, 3, stride=2), (2, 2), (8, 8))
    responses = layer.forward_all_cells(torch.randn(1, 2, 10, 10))  # 8x8 responses
    with pytest.raises(ValueError, match="do not fit"):
        layer.gather_patches(responses, torch.tensor([0, 3]), torch.tensor([0]))
