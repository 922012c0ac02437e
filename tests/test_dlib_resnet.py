"""dlib's face-recognition ResNet ported to torch (lnet_anet.models.dlib_resnet): its file reader on
a generated file in dlib's format, the network's shapes and dlib's zero-extending add. Its
equality with dlib's own descriptor, where dlib is installed: tests/test_descriptor_head.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lnet_anet.models.dlib_resnet import (
    DlibFaceResNet,
    _add_zero_extended,
    _convs,
    read_dlib_weights,
)


def _int(v: int) -> bytes:
    """dlib's integer: a control byte (byte count | 0x80 when negative), then little-endian bytes."""
    body = abs(v).to_bytes(max(1, (abs(v).bit_length() + 7) // 8), "little")
    return bytes([len(body) | (0x80 if v < 0 else 0)]) + body


def _name(s: str) -> bytes:
    return _int(len(s)) + s.encode()


def _tensor(values: np.ndarray) -> bytes:
    return _int(2) + b"".join(_int(d) for d in (values.size, 1, 1, 1)) + values.astype("<f4").tobytes()


def _dlib_file(path, rng):
    """A file laid out as dlib serializes the network (layers from the input to the loss), with
    random weights; returns the weights it holds."""
    parts, held = [_name("loss_metric_2"), _int(3), _name("input_rgb_image_sized")], []
    for cin, cout, k, stride in _convs():
        w, b = rng.normal(size=(cout, cin, k, k)), rng.normal(size=cout)
        scale, shift = rng.uniform(0.5, 2, cout), rng.normal(size=cout)
        parts += [_name("con_4"), _tensor(np.concatenate([w.ravel(), b])),
                  *(_int(v) for v in (cout, k, k, stride, stride, 0 if stride > 1 else 1, 0 if stride > 1 else 1)),
                  _name("affine_"), _tensor(np.concatenate([scale, shift])), _int(0), _name("relu_110")]  # fmt: skip
        held.append((w, b, scale, shift))
    fc = rng.normal(size=(256, 128))  # dlib: inputs x outputs
    parts += [_name("avg_pool_2"), _name("fc_2"), _int(128), _int(256), _tensor(fc)]
    path.write_bytes(b"".join(parts))
    return held, fc


def test_the_reader_folds_each_affine_into_its_conv_and_refuses_other_files(tmp_path):
    held, fc = _dlib_file(tmp_path / "net.dat", np.random.default_rng(0))
    state = read_dlib_weights(tmp_path / "net.dat")
    assert len([k for k in state if k.endswith(".weight") and k.startswith("conv")]) == 29
    for i in (0, 5, 28):
        w, b, scale, shift = held[i]
        np.testing.assert_allclose(state[f"conv{i}.weight"].numpy(), w * scale[:, None, None, None], rtol=1e-5)
        np.testing.assert_allclose(state[f"conv{i}.bias"].numpy(), b * scale + shift, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(state["fc.weight"].numpy(), fc.T, rtol=1e-6)
    net = DlibFaceResNet()
    net.load_state_dict(state)  # every tensor has the module's shape

    data = (tmp_path / "net.dat").read_bytes()
    (tmp_path / "cut.dat").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.dat"):
        read_dlib_weights(tmp_path / "cut.dat")
    (tmp_path / "short.dat").write_bytes(data[:400])  # inside the first conv's weights
    with pytest.raises(ValueError, match="short.dat: not dlib's face-recognition ResNet .a cut tensor"):
        read_dlib_weights(tmp_path / "short.dat")
    (tmp_path / "other.dat").write_bytes(b"a shape predictor, say")
    with pytest.raises(ValueError, match="other.dat: not dlib's face-recognition ResNet .no input_rgb"):
        read_dlib_weights(tmp_path / "other.dat")
    with pytest.raises(FileNotFoundError):
        read_dlib_weights(tmp_path / "missing.dat")


def test_the_network_maps_chips_to_descriptors_and_adds_as_dlib_does():
    torch.manual_seed(0)
    net = DlibFaceResNet().eval()
    chips = torch.randint(0, 256, (3, 150, 150, 3), dtype=torch.uint8)
    with torch.no_grad():
        out, grid = net(chips)
        assert out.shape == (3, 128) and torch.isfinite(out).all() and grid.shape == (3, 256, 2, 2)
        np.testing.assert_allclose(net(chips[1:2])[0].numpy(), out[1:2].numpy(), atol=1e-5)  # faces independent
        np.testing.assert_allclose(net.fc(grid.mean((2, 3))).numpy(), out.numpy(), atol=1e-6)  # the descriptor reads the map's mean
    # dlib's add_prev of a (2, 3, 3) map and a (1, 4, 4) map: the (2, 4, 4) sum of both zero-extended.
    a, b = torch.ones(1, 2, 3, 3), 2 * torch.ones(1, 1, 4, 4)
    s = _add_zero_extended(a, b)
    assert s.shape == (1, 2, 4, 4)
    assert s[0, 0, 0, 0] == 3 and s[0, 0, 3, 3] == 2 and s[0, 1, 0, 0] == 1 and s[0, 1, 3, 3] == 0


def test_the_exported_graph_pads_by_constants_and_keeps_a_free_batch():
    """Sizes read as ints: no Shape arithmetic in the graph (it cost ONNX Runtime a third of the
    int8 network's time), pads only where dlib's add extends, and still any number of faces."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from lnet_anet.dldl.descriptor import _EXPORT
    from lnet_anet.inference.runtime import export

    torch.manual_seed(0)
    net = DlibFaceResNet().eval()
    model = export(net, *_EXPORT)
    ops = [n.op_type for n in onnx.load_from_string(model).graph.node]
    assert "Shape" not in ops and "Gather" not in ops
    assert ops.count("Pad") == 5  # the 5 downsampling blocks' zero-extensions; 28 when traced
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    chips = torch.randint(0, 256, (3, 150, 150, 3), dtype=torch.uint8)
    with torch.no_grad():
        expected = [t.numpy() for t in net(chips)]
    for got, want in zip(session.run(None, {"chips": chips.numpy()}), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
