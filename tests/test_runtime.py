"""The ONNX Runtime backend runs what the torch backend runs (lnet_anet.inference.runtime,
issue 18): the same records to a stated tolerance, graphs exported once and cached, no torch
network built when the cache has them, and clear errors for a backend that cannot run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lnet_anet.inference import runtime
from lnet_anet.inference.build import rebundle
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor

pytestmark = pytest.mark.usefixtures("one_thread")
BOX_PX, PROB, UNITS = 0.11, 2e-3, 2e-2  # records round boxes to 0.1 px, probabilities to 1e-4


def _assert_same_records(a: list[dict], b: list[dict]) -> int:
    faces = 0
    for x, y in zip(a, b, strict=True):
        assert (x["width"], x["height"], x["error"]) == (y["width"], y["height"], y["error"])
        assert len(x["faces"]) == len(y["faces"]), x["image"]
        for f, g in zip(x["faces"], y["faces"], strict=True):
            faces += 1
            assert np.abs(np.subtract(f["box"], g["box"])).max() <= BOX_PX
            assert max(abs(f["attributes"][n] - g["attributes"][n]) for n in f["attributes"]) <= PROB
            for head in ("age", "attractiveness"):
                if f[head] is not None:
                    assert abs(f[head]["mean"] - g[head]["mean"]) <= UNITS
                    assert abs(f[head]["std"] - g[head]["std"]) <= UNITS
    return faces


def _images(n: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 255, (90 + 30 * i, 160 - 10 * i, 3), dtype=np.uint8) for i in range(n)]


def _two_stage_two_scale(src, dst):
    """The tiny bundle with the LNet_s cascade and scales 1 and 2 (a larger canvas)."""
    def update(config):
        config = json.loads(json.dumps(config))
        prep = config["preprocessing"]
        prep["lnet"]["scales"] = [1.0, 2.0]
        prep["cascade"] = {"weights": "lnet_o", "context": 2.0, "input_size": 64,
                           "localizer": {"threshold": 0.0, "max_faces": 2}}
        return config
    return rebundle(src, dst, update)


def _fitted_zoom_out(src, dst):
    """The tiny bundle read at scales 1 and 0.5, the latter on a smaller (fitted) canvas."""
    def update(config):
        config = json.loads(json.dumps(config))
        config["preprocessing"]["lnet"].update(scales=[1.0, 0.5], zoom_out_canvas="fit")
        return config
    return rebundle(src, dst, update)


@pytest.mark.parametrize("variant", ["plain", "cascade_and_scales", "fitted_zoom_out"])
def test_onnxruntime_records_equal_torch(bundle_path, tmp_path, variant):
    build = {"cascade_and_scales": _two_stage_two_scale, "fitted_zoom_out": _fitted_zoom_out}.get(variant)
    path = bundle_path if build is None else build(bundle_path, tmp_path / f"{variant}.lnetanet")
    torch_p = Predictor.load(path, backend="torch")
    ort_p = Predictor.load(path, backend="onnxruntime")
    assert isinstance(ort_p._run["faces"], runtime.OrtGraph)
    assert set(ort_p._run) == ({"lnet", "faces", "regions"} if variant == "cascade_and_scales" else {"lnet", "faces"})
    images = _images()
    faces = _assert_same_records(list(torch_p.predict_many(images, batch_size=3)),
                                 list(ort_p.predict_many(images, batch_size=3)))
    assert faces >= 4  # threshold 0: the random nets find faces in each image


@pytest.mark.skipif(not DEFAULT_BUNDLE.is_file(), reason="no embedded bundle")
def test_default_bundle_backends_agree(scene):
    """The embedded bundle (shared trunk stages, a head on ANet's feature) on both backends."""
    images = [scene, _images(1)[0], np.ascontiguousarray(scene[::-1])]
    shipped = Predictor.load(backend="torch")
    a = list(shipped.predict_many(images))
    b = list(Predictor.load(backend="onnxruntime").predict_many(images))
    assert _assert_same_records(a, b) >= 1
    # the shipped face and box heads: the records name no head of one's own
    assert shipped.custom_heads == {} and not any("face_head" in r or "box_head" in r for r in a)


def test_graphs_are_exported_once_and_then_need_no_network(bundle_path, graph_cache, monkeypatch):
    Predictor.load(bundle_path, backend="onnxruntime")  # exports, or finds them cached
    files = sorted(runtime.cache_dir().glob("*.onnx"))
    assert files and all(f.is_relative_to(graph_cache) for f in files)

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(runtime, "export", no_export)
    p = Predictor.load(bundle_path, backend="onnxruntime")
    assert p.bundle.nets == {}  # no torch network was built: the graphs came from the cache
    assert p.predict(_images(1)[0])["error"] is None


def test_a_damaged_cache_file_is_exported_again(bundle_path, tmp_path, monkeypatch):
    monkeypatch.setenv("LNET_ANET_CACHE", str(tmp_path))
    reference = Predictor.load(bundle_path, backend="onnxruntime").predict(_images(1)[0])
    for f in runtime.cache_dir().glob("*.onnx"):
        f.write_bytes(b"not a model")
    assert Predictor.load(bundle_path, backend="onnxruntime").predict(_images(1)[0]) == reference
    assert all(f.stat().st_size > 1000 for f in runtime.cache_dir().glob("*.onnx"))


def test_an_unwritable_cache_is_not_an_error(bundle_path, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("LNET_ANET_CACHE", str(blocker))
    with pytest.warns(RuntimeWarning, match="cannot write the ONNX graph cache") as caught:
        predictor = Predictor.load(bundle_path, backend="onnxruntime")
    assert predictor.predict(_images(1)[0])["error"] is None
    assert sum("graph cache" in str(w.message) for w in caught) == 1  # once per folder, not once per graph


def test_backend_errors(bundle_path, monkeypatch):
    with pytest.raises(ValueError, match="backend must be one of"):
        Predictor.load(bundle_path, backend="tensorrt")
    with pytest.raises(ValueError, match="CPU only"):
        runtime.resolve_backend("onnxruntime", torch.device("cuda"))
    assert runtime.resolve_backend("auto", torch.device("cuda")) == "torch"
    monkeypatch.setattr(runtime, "onnxruntime_available", lambda: False)
    assert runtime.resolve_backend("auto", torch.device("cpu")) == "torch"
    with pytest.raises(ValueError, match="pip install onnxruntime"):
        runtime.resolve_backend("onnxruntime", torch.device("cpu"))


def test_cli_backend_flag(bundle_path, tmp_path, capsys, monkeypatch):
    import cv2

    from lnet_anet.cli.predict import main

    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), _images(1)[0])
    lines = {}
    for backend in ("torch", "onnxruntime"):
        assert main([str(photo), "--json", "--bundle", str(bundle_path), "--backend", backend]) == 0
        lines[backend] = json.loads(capsys.readouterr().out.splitlines()[0])
    _assert_same_records([lines["torch"]], [lines["onnxruntime"]])
    monkeypatch.setattr(runtime, "onnxruntime_available", lambda: False)
    assert main([str(photo), "--json", "--bundle", str(bundle_path), "--backend", "onnxruntime"]) == 1
    assert "pip install onnxruntime" in capsys.readouterr().err


def test_a_bundle_that_changes_only_what_acts_on_the_graphs_outputs_reuses_them(bundle_path, graph_cache, tmp_path):
    """Every derived bundle exported its graphs again (~55 MB each for the embedded one; a fresh-user
    trial): now a graph's cache key holds only the networks and settings it is built from."""
    from lnet_anet.cli.build_bundle import main as build_main

    Predictor.load(bundle_path, backend="onnxruntime")  # exports, or finds them cached
    first = set(runtime.cache_dir().glob("*.onnx"))
    same = tmp_path / "same.lnetanet"  # the localizer and the detection steps act on the graphs' outputs
    assert build_main(["--from-bundle", str(bundle_path), "--localizer", '{"max_faces": 3}', "--lnet-input",
                       '{"zoom_in_scales": [2.0], "zoom_in_below": 96}', "--out", str(same)]) == 0  # fmt: skip
    assert Predictor.load(same, backend="onnxruntime").bundle.nets == {}  # every graph from the cache
    assert set(runtime.cache_dir().glob("*.onnx")) == first
    other = tmp_path / "other.lnetanet"  # LNet's input normalised otherwise: its graphs are new, ANet's face graph is not
    assert build_main(["--from-bundle", str(bundle_path), "--lnet-input", '{"mean": [0.4, 0.4, 0.4]}', "--out", str(other)]) == 0
    Predictor.load(other, backend="onnxruntime")
    assert 0 < len(set(runtime.cache_dir().glob("*.onnx")) - first) < len(first)


def test_a_bundle_changed_in_memory_is_not_served_a_stale_graph(bundle_path):
    from lnet_anet.inference.bundle import load_bundle

    image = _images(1)[0]
    before = Predictor.load(bundle_path, backend="onnxruntime").predict(image)  # caches the file's graphs
    bundle = load_bundle(bundle_path)
    with torch.no_grad():
        for p in bundle.anet.parameters():
            p.mul_(0.5)
    changed = Predictor(bundle, backend="onnxruntime").predict(image)
    reference = Predictor(bundle, backend="torch").predict(image)
    _assert_same_records([changed], [reference])
    assert changed["faces"][0]["attributes"] != before["faces"][0]["attributes"]


def test_int8_quantization_follows_recorded_ranges_and_refuses_another_graphs(tmp_path):
    """calibrate_int8 records activation ranges; quantize_int8 builds an int8 graph from them that
    tracks the float one, and refuses ranges recorded on a different graph."""
    import onnxruntime

    class Small(torch.nn.Module):
        input_names, output_names = ("x",), ("y",)

        def __init__(self, width):
            super().__init__()
            self.a, self.b = torch.nn.Conv2d(3, width, 3, padding=1), torch.nn.Conv2d(width, 4, 3, padding=1)

        def forward(self, x):
            return self.b(torch.relu(self.a(x))).mean(dim=(2, 3))

    torch.manual_seed(0)
    net, example = Small(8).eval(), [torch.zeros(1, 3, 16, 16)]
    model = runtime.export(net, example, {"x": {0: "n"}})
    rng = np.random.default_rng(0)
    feeds = [{"x": rng.normal(size=(1, 3, 16, 16)).astype(np.float32)} for _ in range(20)]
    import logging

    root, kept = logging.getLogger(), list(logging.getLogger().handlers)
    root.handlers[:] = []  # as in a command, where no handler sits on the root logger (pytest puts its own)
    try:
        runtime.calibrate_int8(model, feeds, tmp_path / "ranges.json")
        quantized = runtime.quantize_int8(model, tmp_path / "ranges.json")
        # the quantizer's root logging.warning left a root handler that printed every note twice (trial 68)
        assert root.handlers == []
    finally:
        root.handlers[:] = kept
    ops = {n.op_type for n in __import__("onnx").load_from_string(quantized).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    x = rng.normal(size=(5, 3, 16, 16)).astype(np.float32)
    run = [onnxruntime.InferenceSession(m, providers=["CPUExecutionProvider"]) for m in (model, quantized)]
    exact, approx = (s.run(None, {"x": x})[0] for s in run)
    assert np.abs(approx - exact).max() < 0.05 * np.abs(exact).max()  # close, not equal
    assert not np.array_equal(approx, exact)

    class Other(torch.nn.Module):
        input_names, output_names = ("x",), ("y",)

        def forward(self, x):
            return torch.sigmoid(x).mean(dim=(2, 3))

    other = runtime.export(Other(), example, {})
    with pytest.raises(ValueError, match="ranges.json: its ranges are of another graph"):
        runtime.quantize_int8(other, tmp_path / "ranges.json")
    with pytest.raises(FileNotFoundError, match="no int8 activation ranges"):
        runtime.quantize_int8(model, tmp_path / "none.json")


def _blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_op_threads_sets_torch_and_blas_and_restores_them():
    import threading

    before, blas_before = torch.get_num_threads(), _blas_threads()
    torch.set_num_threads(2)
    try:
        with runtime.op_threads(None):
            assert torch.get_num_threads() == 2  # None leaves them
        with runtime.op_threads(1):
            assert torch.get_num_threads() == 1 and _blas_threads() <= {1}
            with runtime.op_threads(1):  # nested: the outer block restores
                pass
            assert torch.get_num_threads() == 1 and _blas_threads() <= {1}
        assert torch.get_num_threads() == 2 and _blas_threads() == blas_before
        seen = []

        def in_a_thread():  # other threads leave the counts: part of each is process-wide
            seen.append(torch.get_num_threads())
            with runtime.op_threads(1):
                seen.append(torch.get_num_threads())
                seen.append(_blas_threads())
            seen.append(torch.get_num_threads())

        worker = threading.Thread(target=in_a_thread)
        worker.start()
        worker.join(10)
        assert seen == [2, 2, blas_before, 2] and _blas_threads() == blas_before
        later = []
        with runtime.op_threads(1):  # a thread started inside the block but first using torch after it
            started = threading.Event()
            worker = threading.Thread(target=lambda: (started.wait(10), later.append(torch.get_num_threads())))
            worker.start()
        started.set()
        worker.join(10)
        assert later == [2]
        with pytest.raises(ValueError, match=">= 1"):
            with runtime.op_threads(0):
                pass
    finally:
        torch.set_num_threads(before)


def test_predictor_runs_its_own_ops_on_op_threads(bundle_path, monkeypatch):
    p = Predictor.load(bundle_path, backend="onnxruntime")
    assert p.op_threads == 1 and Predictor.load(bundle_path, backend="torch").op_threads is None
    seen = []
    face_features = p._face_features
    monkeypatch.setattr(p, "_face_features", lambda faces: seen.append(torch.get_num_threads()) or face_features(faces))
    before = torch.get_num_threads()
    image = _images(1)[0]
    assert p.predict(image)["faces"] and seen and set(seen) == {1}
    assert torch.get_num_threads() == before
    if before > 1:  # None: the Predictor leaves torch's count
        seen.clear()
        p.op_threads = None
        p.predict(image)
        assert set(seen) == {before}


def test_the_graph_cache_prunes_old_and_least_recently_used_graphs(tmp_path):
    import os

    from lnet_anet.inference.runtime import prune_cache

    now = 1_000_000_000.0
    ages = {"old.onnx": 40, "used.onnx": 1, "recent.onnx": 2, "killed.onnx.123.tmp": 45, "keep.onnx": 90}
    for name, days in ages.items():
        path = tmp_path / name
        path.write_bytes(b"x" * 100)
        os.utime(path, (now - days * 86400, now - days * 86400))
    (tmp_path / "notes.txt").write_text("not a graph")
    removed = prune_cache(tmp_path, keep=tmp_path / "keep.onnx", max_age_days=30, now=now)
    assert sorted(p.name for p in removed) == ["killed.onnx.123.tmp", "old.onnx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.onnx", "notes.txt", "recent.onnx", "used.onnx"]
    # over the size cap: the least recently used go first, the kept one never
    removed = prune_cache(tmp_path, keep=tmp_path / "keep.onnx", max_age_days=1e9, max_bytes=250, now=now)
    assert [p.name for p in removed] == ["recent.onnx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.onnx", "notes.txt", "used.onnx"]


def test_reading_a_cached_graph_marks_it_used_and_storing_one_prunes(tmp_path, monkeypatch):
    import os

    from lnet_anet.inference import runtime

    monkeypatch.setenv("LNET_ANET_CACHE", str(tmp_path))
    folder = runtime.cache_dir()
    folder.mkdir(parents=True)
    stale = folder / "stale.onnx"
    stale.write_bytes(b"x")
    os.utime(stale, (1.0, 1.0))  # last used in 1970
    graph = runtime.OrtGraph.from_module(_Double(), [torch.zeros(2, 3)], "double-key", {"x": {0: "n"}})
    assert not stale.exists() and (folder / "double-key.onnx").exists()  # storing pruned the stale graph
    os.utime(folder / "double-key.onnx", (1.0, 1.0))
    assert runtime.OrtGraph.cached("double-key") is not None
    assert (folder / "double-key.onnx").stat().st_mtime > 1e9  # the read marked it used
    np.testing.assert_allclose(graph(np.ones((2, 3), np.float32))[0], 2 * np.ones((2, 3)))


class _Double(torch.nn.Module):
    input_names, output_names = ("x",), ("y",)

    def forward(self, x):
        return 2 * x


def test_a_warm_cache_predicts_without_building_a_torch_network(tmp_path):
    """Trial 68: the CLI's first JSON line took 4.5 s where README said 2: with every graph cached,
    the face filter's ANet-only graph still built ANet in torch (timm, torchvision and
    torch._dynamo imported: ~2 s). A second process on a warm cache imports none of them."""
    import subprocess
    import sys

    script = ("import sys\n"
              "from skimage import data\n"
              "from lnet_anet.inference.predictor import Predictor\n"
              "record = Predictor.load().predict(data.astronaut())\n"
              "print(len(record['faces']), ' '.join(m for m in ('timm', 'torchvision') if m in sys.modules) or '-')\n")  # fmt: skip
    env = {**__import__("os").environ, "LNET_ANET_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
            for _ in range(2)]  # the first exports the graphs, the second reads them
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr[-2000:]
    assert runs[1].stdout.split() == ["1", "-"], runs[1].stdout
