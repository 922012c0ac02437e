"""Layers of ANet: the locally shared convolution of "Deep Learning Face Attributes in the Wild".

A locally shared convolution is a valid (unpadded, stride 1) convolution whose output map is cut
into a grid of cells; every cell has its own filters, so a face patch learns different filters
for, say, the eyes and the mouth, while filters stay shared (translation-equivariant) inside a
cell. With one cell it is a plain convolution.

Cell rule: an output of n rows split into g bands has band edges `(i * n) // g` for i = 0..g, so
band sizes differ by at most one and the larger bands come last (n=7, g=2 -> rows 0-2 | 3-6).
Columns are split the same way.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def band_edges(n: int, bands: int) -> list[int]:
    """Edges of `bands` near-equal bands of range(n): [0, ..., n] (see the module's cell rule)."""
    return [(i * n) // bands for i in range(bands + 1)]


class LocallySharedConv2d(nn.Module):
    """Valid k x k convolution (stride 1) with separate filters in each of grid=(gh, gw) cells.

    input_size (H, W) is fixed: the output (H-k+1, W-k+1) is split into gh x gw cells by the
    module's cell rule, and cell (i, j) (id i*gw + j) uses weight[i*gw + j] (out, in, k, k).
    forward runs each cell's filter on the input slice its outputs see (one small convolution
    per cell, no loop over pixels). `forward_all_cells` + `gather_patches` give the same numbers
    for many patches of a larger map at once (ANet's dense "interweaved" forward).
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int,
        grid: tuple[int, int] = (2, 2),
        input_size: tuple[int, int] = (8, 8),
        bias: bool = True,
    ):
        super().__init__()
        gh, gw = (int(g) for g in grid)
        h, w = (int(s) for s in input_size)
        k = int(kernel_size)
        out_h, out_w = h - k + 1, w - k + 1
        if k < 1 or gh < 1 or gw < 1:
            raise ValueError(f"kernel_size and grid must be >= 1, got {kernel_size}, {grid}")
        if out_h < gh or out_w < gw:
            raise ValueError(
                f"a {k}x{k} valid conv on a {h}x{w} input gives {out_h}x{out_w} outputs, "
                f"too few for a {gh}x{gw} grid of cells (every cell needs at least one output)"
            )
        self.in_channels, self.out_channels, self.kernel_size = in_ch, out_ch, k
        self.grid, self.input_size, self.output_size = (gh, gw), (h, w), (out_h, out_w)
        self.row_edges, self.col_edges = band_edges(out_h, gh), band_edges(out_w, gw)
        self.weight = nn.Parameter(torch.empty(gh * gw, out_ch, in_ch, k, k))
        self.bias = nn.Parameter(torch.empty(gh * gw, out_ch)) if bias else None
        self.reset_parameters()

    @property
    def num_cells(self) -> int:
        return self.grid[0] * self.grid[1]

    def reset_parameters(self) -> None:
        # nn.Conv2d's default initialisation, drawn independently for every cell.
        for c in range(self.num_cells):
            nn.init.kaiming_uniform_(self.weight[c], a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_channels * self.kernel_size**2)
            nn.init.uniform_(self.bias, -bound, bound)

    @classmethod
    def from_conv(
        cls, conv: nn.Conv2d, grid: tuple[int, int], input_size: tuple[int, int]
    ) -> LocallySharedConv2d:
        """Copy a valid, stride-1, square nn.Conv2d into every cell (output == conv(x) then)."""
        kh, kw = conv.kernel_size
        if kh != kw or conv.stride != (1, 1) or conv.dilation != (1, 1) or conv.groups != 1:
            raise ValueError(
                "from_conv needs a square, stride-1, undilated, ungrouped conv; got "
                f"kernel {conv.kernel_size}, stride {conv.stride}, dilation {conv.dilation}, "
                f"groups {conv.groups}"
            )
        if conv.padding not in ((0, 0), "valid"):
            raise ValueError(f"from_conv needs a valid (unpadded) conv, got padding {conv.padding}")
        # fork_rng: the throw-away random init must not consume the global RNG, so a net built
        # with from_conv draws the same later weights as the same net with the plain conv.
        with torch.random.fork_rng(devices=[]):
            layer = cls(
                conv.in_channels, conv.out_channels, kh, grid, input_size, conv.bias is not None
            )
        with torch.no_grad():
            layer.weight.copy_(conv.weight.detach().unsqueeze(0).expand_as(layer.weight))
            if conv.bias is not None:
                layer.bias.copy_(conv.bias.detach().unsqueeze(0).expand_as(layer.bias))
        return layer.to(conv.weight.device)

    def cells(self) -> list[tuple[int, int, int, int]]:
        """(row0, row1, col0, col1) output ranges of the cells, in cell-id order."""
        r, c = self.row_edges, self.col_edges
        return [
            (r[i], r[i + 1], c[j], c[j + 1])
            for i in range(self.grid[0])
            for j in range(self.grid[1])
        ]

    def cell_index_map(self) -> torch.Tensor:
        """(out_h, out_w) long tensor: the id of the cell each output position belongs to."""
        ids = torch.empty(self.output_size, dtype=torch.long)
        for cell, (r0, r1, c0, c1) in enumerate(self.cells()):
            ids[r0:r1, c0:c1] = cell
        return ids

    def _bias(self, cell: int) -> torch.Tensor | None:
        return None if self.bias is None else self.bias[cell]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.in_channels, *self.input_size):
            raise ValueError(
                f"LocallySharedConv2d expects (B, {self.in_channels}, {self.input_size[0]}, "
                f"{self.input_size[1]}) inputs, got {tuple(x.shape)}"
            )
        k1 = self.kernel_size - 1
        rows = []
        for i in range(self.grid[0]):
            r0, r1 = self.row_edges[i], self.row_edges[i + 1]
            row = []
            for j in range(self.grid[1]):
                c0, c1 = self.col_edges[j], self.col_edges[j + 1]
                cell = i * self.grid[1] + j
                # Output (r, c) of a valid conv sees input rows r..r+k-1, so the cell's
                # outputs r0..r1-1 need input rows r0..r1+k-2.
                piece = x[:, :, r0 : r1 + k1, c0 : c1 + k1]
                row.append(F.conv2d(piece, self.weight[cell], self._bias(cell)))
            rows.append(torch.cat(row, dim=3))
        return torch.cat(rows, dim=2)

    def forward_all_cells(self, x: torch.Tensor) -> torch.Tensor:
        """Every cell's filter run as a global valid convolution over a map of any size.

        (B, in, H, W) -> (B, num_cells, out, H-k+1, W-k+1), as one convolution whose output
        channels are all cells' filters side by side.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        w = self.weight.flatten(0, 1)
        b = None if self.bias is None else self.bias.flatten()
        y = F.conv2d(x, w, b)
        return y.unflatten(1, (self.num_cells, self.out_channels))

    def gather_patches(
        self, responses: torch.Tensor, offsets_y: torch.Tensor, offsets_x: torch.Tensor
    ) -> torch.Tensor:
        """This layer's output for every patch whose input starts at (offsets_y[a], offsets_x[b]).

        responses: `forward_all_cells` of a large map (B, cells, out, h, w). Output position
        (r, c) of the patch at (oy, ox) is responses[:, cell(r, c), :, oy + r, ox + c], which is
        exactly `forward` on that patch's input crop. Returns (B, nY, nX, out, out_h, out_w).
        """
        return gather_cell_responses(responses, self.cell_index_map(), offsets_y, offsets_x)


def gather_cell_responses(
    responses: torch.Tensor,
    cell_map: torch.Tensor,
    offsets_y: torch.Tensor,
    offsets_x: torch.Tensor,
) -> torch.Tensor:
    """Assemble per-patch outputs from per-cell global responses (see gather_patches).

    responses (B, cells, C, h, w); cell_map (oh, ow) long; offsets 1-D long tensors.
    Returns (B, nY, nX, C, oh, ow).
    """
    if responses.dim() != 5:
        raise ValueError(f"responses must be (B, cells, C, h, w), got {tuple(responses.shape)}")
    oh, ow = cell_map.shape
    h, w = responses.shape[-2:]
    if len(offsets_y) == 0 or len(offsets_x) == 0:
        raise ValueError("need at least one patch offset in each axis")
    if int(offsets_y.min()) < 0 or int(offsets_x.min()) < 0:
        raise ValueError("patch offsets must be >= 0")
    if int(offsets_y.max()) + oh > h or int(offsets_x.max()) + ow > w:
        raise ValueError(
            f"patches of {oh}x{ow} outputs at offsets up to ({int(offsets_y.max())}, "
            f"{int(offsets_x.max())}) do not fit in a {h}x{w} response map"
        )
    dev = responses.device
    cell_map = cell_map.to(dev)
    ys = offsets_y.to(dev)[:, None, None, None] + torch.arange(oh, device=dev)[None, None, :, None]
    xs = offsets_x.to(dev)[None, :, None, None] + torch.arange(ow, device=dev)[None, None, None, :]
    # Channels last so one advanced index picks (cell, y, x) per output: (B, nY, nX, oh, ow, C).
    picked = responses.permute(0, 3, 4, 1, 2)[:, ys, xs, cell_map[None, None]]
    return picked.permute(0, 1, 2, 5, 3, 4)
