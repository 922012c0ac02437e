"""dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1) as a torch module.

dlib runs this network on its own CPU code, about 50 ms per face on 2 cores; the same weights in
torch, exported to ONNX Runtime, take about 3 ms. The weights are read from dlib's own file
(the `face_recognition_models` package, CC0), so nothing is copied into this project.

The network (dlib's examples/dnn_face_recognition_ex.cpp, "anet_type"): a 150x150 RGB chip,
(x - channel mean) / 256 -> conv 7x7/2 (32) -> affine -> ReLU -> max pool 3x3/2 -> residual
stages of 3x32, 4x64, 3x128, 3x256 and 1x256 channels (the first block of each but the first
downsamples: its 3x3 conv has stride 2 and no padding, and its shortcut is a 2x2/2 average
pool) -> global average -> fc 256 -> 128, no bias. dlib adds tensors of different shapes by
zero-extending the smaller one (add_prev), which this port reproduces. dlib's "affine" layers
(batch norm as a per-channel scale and shift) are folded into the convolutions before them.

File format (dlib/serialize.h, dlib/cuda/tensor.h): layers from the input to the loss, each a
name string then its fields; integers are a control byte (byte count | 0x80 when negative) and
that many little-endian bytes; tensors are version 2, four dimensions, then little-endian
float32 values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CHIP_SIZE = 150  # pixels, the chip dlib's get_face_chip cuts (padding 0.25)
STAGES = ((32, 3), (64, 4), (128, 3), (256, 3), (256, 1))  # (channels, blocks), input to output


class _Reader:
    """Sequential reader of dlib's serialization: raises ValueError naming the file and offset."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def fail(self, what: str):
        raise ValueError(f"{self.path}: not dlib's face-recognition ResNet ({what} at byte {self.pos})")

    def int(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            self.fail("a tensor of an unknown version")
        dims = [self.int() for _ in range(4)]
        count = int(np.prod(dims))
        if self.pos + 4 * count > len(self.data):
            self.fail("a cut tensor")
        values = np.frombuffer(self.data, "<f4", count, self.pos).astype(np.float32)
        self.pos += 4 * count
        return values

    def seek(self, name: bytes) -> None:
        """Move past the next layer named `name` (its length-prefixed string)."""
        key = bytes([1, len(name)]) + name
        at = self.data.find(key, self.pos)
        if at < 0:
            self.fail(f"no {name.decode()} layer")
        self.pos = at + len(key)


def read_dlib_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The network's weights from dlib's .dat file, as this module's state dict.

    Returns conv{i}.weight (out, in, k, k) and conv{i}.bias for the 29 convolutions in
    input-to-output order, each with its affine layer folded in (scale * conv + shift), and
    fc.weight (128, 256). Raises
    FileNotFoundError, or ValueError when the file is not this network."""
    path = Path(path)
    reader = _Reader(path.read_bytes(), path)
    reader.seek(b"input_rgb_image_sized")
    state: dict[str, torch.Tensor] = {}
    for i, (cin, cout, k, stride) in enumerate(_convs()):
        reader.seek(b"con_4")
        params = reader.tensor()
        fields = [reader.int() for _ in range(7)]  # filters, rows, cols, stride y/x, padding y/x
        if fields[:5] != [cout, k, k, stride, stride] or params.size != cout * cin * k * k + cout:
            reader.fail(f"conv {i} is {fields[:5]}, {params.size} values, not {cout}x{cin}x{k}x{k}/{stride}")
        weight, bias = params[: cout * cin * k * k].reshape(cout, cin, k, k), params[cout * cin * k * k :]
        reader.seek(b"affine_")
        params = reader.tensor()
        if params.size != 2 * cout:
            reader.fail(f"affine {i} has {params.size} values, not {2 * cout}")
        scale, shift = params[:cout], params[cout:]
        state[f"conv{i}.weight"] = torch.from_numpy(weight * scale[:, None, None, None])
        state[f"conv{i}.bias"] = torch.from_numpy(bias * scale + shift)
    reader.seek(b"fc_2")
    outputs, inputs = reader.int(), reader.int()
    params = reader.tensor()
    if (outputs, inputs) != (128, 256) or params.size != 128 * 256:
        reader.fail(f"fc is {inputs} -> {outputs}, {params.size} values")
    state["fc.weight"] = torch.from_numpy(params.reshape(256, 128).T.copy())  # dlib stores inputs x outputs
    return state


def _convs() -> list[tuple[int, int, int, int]]:
    """(in, out, kernel, stride) of the 29 convolutions, input to output."""
    convs, cin = [(3, 32, 7, 2)], 32
    for stage, (cout, blocks) in enumerate(STAGES):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            convs += [(cin, cout, 3, stride), (cout, cout, 3, 1)]
            cin = cout
    return convs


def _normalized(chips: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """(chips - mean) / 256 per channel, (N, H, W, 3) float, computed on each chip flattened
    against the means tiled to its size: the same numbers, but an exported graph then holds one
    elementwise Sub, where broadcasting over a 3-wide innermost axis cost ONNX Runtime 0.3 ms of
    the int8 network's 2.5 (experiments/2026-12-01-attractiveness-cost, section 7). The sizes are
    read as Python ints, as in _add_zero_extended."""
    h, w = int(chips.shape[1]), int(chips.shape[2])
    tiled = mean.view(1, 1, 1, 3).expand(1, h, w, 3).reshape(1, h * w * 3)
    return ((chips.flatten(1).float() - tiled) / 256.0).reshape(-1, h, w, 3)


def _add_zero_extended(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's add_prev: the sum over the larger shape, each input zero-extended to it.

    The sizes are read as Python ints, so an exported graph holds the pads as constants (and no
    pad where the shapes agree): traced sizes would keep ~500 shape operations in the graph, which
    cost ONNX Runtime a third of the int8 network's time."""
    c, h, w = (max(int(a.shape[i]), int(b.shape[i])) for i in (1, 2, 3))

    def extend(t):
        pads = (0, w - int(t.shape[3]), 0, h - int(t.shape[2]), 0, c - int(t.shape[1]))
        return F.pad(t, pads) if any(pads) else t

    return extend(a) + extend(b)


class DlibFaceResNet(nn.Module):
    """(N, 150, 150, 3) uint8 RGB chips -> (N, 128) float descriptors and the last stage's map,
    (N, 256, 2, 2) float, whose global mean the descriptor's linear layer reads (module doc).

    Chips are dlib.get_face_chip(image, landmarks, 150, 0.25); the descriptors equal
    dlib.face_recognition_model_v1.compute_face_descriptor's to float rounding (tested). The
    map keeps where on the face each of the 256 features fired, which the descriptor averages
    away; the attractiveness head reads it (experiments/2026-12-01-attractiveness-cost, section 9)."""

    input_names, output_names = ("chips",), ("descriptors", "map")
    VERSION = "4"  # bump when forward changes what the network computes or its exported graph (the cache key)
    MEAN = (122.782, 117.001, 104.298)  # dlib's input_rgb_image: per-channel means, then / 256

    def __init__(self):
        super().__init__()
        self.specs = _convs()
        for i, (cin, cout, k, stride) in enumerate(self.specs):
            self.add_module(f"conv{i}", nn.Conv2d(cin, cout, k, stride, padding=1 if stride == 1 else 0))
        self.fc = nn.Linear(256, 128, bias=False)
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1), persistent=False)

    def _layer(self, i: int, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, f"conv{i}")(x)  # the affine layer is folded into the conv

    def forward_features(self, chips: torch.Tensor) -> torch.Tensor:
        """(N, 150, 150, 3) uint8 chips -> the last stage's map, (N, 256, 2, 2) float (timm's name)."""
        x = _normalized(chips, self.mean).permute(0, 3, 1, 2)
        x = F.max_pool2d(F.relu(self._layer(0, x)), 3, 2)
        i = 1
        for stage, (_, blocks) in enumerate(STAGES):
            for block in range(blocks):
                down = stage > 0 and block == 0
                y = self._layer(i + 1, F.relu(self._layer(i, x)))
                x = F.relu(_add_zero_extended(F.avg_pool2d(x, 2, 2) if down else x, y))
                i += 2
        return x

    def forward(self, chips: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.forward_features(chips)
        return self.fc(x.mean(dim=(2, 3))), x

    @classmethod
    def from_dlib(cls, path: str | Path) -> DlibFaceResNet:
        """The network with the weights of dlib's .dat file (read_dlib_weights)."""
        net = cls()
        net.load_state_dict(read_dlib_weights(path))
        return net.eval()


__all__ = ["CHIP_SIZE", "DlibFaceResNet", "read_dlib_weights"]
