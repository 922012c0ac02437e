"""Where a Predictor's graphs (lnet_anet.inference.graphs) run: torch, or ONNX Runtime on the CPU.

Both take numpy arrays (uint8 images, float32 boxes) and return float32 arrays, so the Predictor's code is the same for either:

    run = TorchGraph(graph, device)          # the module itself, under inference_mode
    run = OrtGraph.from_module(graph, examples, key)   # exported once, cached, then ORT
    outputs = run(array, ...)                # a list of arrays, in graph.output_names order

ONNX Runtime runs the same folded networks faster on a CPU (benchmarks/bench_speed.py; its
fused depthwise/pointwise kernels and the absence of per-op Python dispatch). A graph is exported
with torch.onnx's TorchScript exporter the first time a bundle is loaded with
backend="onnxruntime" (needs the `onnx` package; about 0.3 s per graph) and cached as
`<cache>/onnx/<key>.onnx`, where key hashes the bundle's tensors, the graph's settings and
the library versions (GRAPH_VERSION changes when the graphs' code does); later loads read the
file. cache: $LNET_ANET_CACHE, else $XDG_CACHE_HOME/lnet_anet, else ~/.cache/lnet_anet. A cache
that cannot be written is not an error: a RuntimeWarning says so (once per folder), and the graph
is exported at every load. The cache prunes itself when it stores a graph (prune_cache): graphs
unused for CACHE_MAX_AGE_DAYS go, then the least recently used ones while the folder holds more
than CACHE_MAX_BYTES (a read counts as a use).
tests/test_runtime.py checks the two backends' records agree (boxes to 0.01 px, probabilities
and ages to 1e-3).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

log = logging.getLogger("lnet_anet.inference")  # an export's note at INFO (the predict CLI shows it)
GRAPH_VERSION = "3"  # bump when graphs.py changes what a graph computes (3: own-crop heads mirror)
BACKENDS = ("auto", "torch", "onnxruntime")
OPSET = 17


CACHE_MAX_AGE_DAYS = 30
CACHE_MAX_BYTES = 2 << 30  # 2 GiB: a bundle's graphs take ~40 MB


def cache_dir() -> Path:
    """The folder holding exported graphs (module doc)."""
    root = os.environ.get("LNET_ANET_CACHE")
    if root:
        return Path(root) / "onnx"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "lnet_anet" / "onnx"


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


_blas = None  # threadpoolctl's controller of the BLAS libraries loaded, made at first use
_blas_modules = 0  # len(sys.modules) when it was made: an import since may have loaded another BLAS


@contextlib.contextmanager
def op_threads(count: int | None):
    """In the main thread, run torch's CPU ops and numpy's BLAS (OpenBLAS / MKL, through
    threadpoolctl) on `count` threads inside the block, then restore both counts; in other
    threads, and for None, leave them as they are. Both libraries keep part of their count
    process-wide (OpenBLAS takes it from the main thread only; a thread's first torch op takes
    torch's process-wide count), so changing it from worker threads would leave threads started
    meanwhile on `count`; a thread that makes its first torch op while the main thread is inside
    the block starts on `count` too. Why: the Predictor's own ops are small (box decoding, the
    SVMs, the descriptor heads' MLPs), and after each one torch's and OpenBLAS's idle threads
    spin, taking a core from ONNX Runtime and from the descriptor thread: OpenBLAS's alone burnt
    about 30 ms of CPU per image in `--attractiveness-descriptor` (experiments/2026-12-02-op-threads).
    Raises ValueError for a count under 1."""
    global _blas, _blas_modules
    if count is not None and count < 1:
        raise ValueError(f"op threads must be >= 1 or None, not {count}")
    if count is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    if _blas is None or len(sys.modules) != _blas_modules:  # scanning the libraries takes ~1 ms: not per call
        from threadpoolctl import ThreadpoolController

        _blas, _blas_modules = ThreadpoolController(), len(sys.modules)
    blas = _blas.limit(limits=count, user_api="blas")
    torch_count = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(torch_count)
        blas.restore_original_limits()


def resolve_backend(backend: str, device: torch.device) -> str:
    """"auto" -> "onnxruntime" on the CPU when it is installed, else "torch". Raises ValueError
    for an unknown name, or "onnxruntime" asked for on a GPU or without the package."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    if backend == "auto":
        return "onnxruntime" if device.type == "cpu" and onnxruntime_available() else "torch"
    if backend == "onnxruntime":
        if device.type != "cpu":
            raise ValueError(f"backend 'onnxruntime' runs on the CPU only, not on {device}")
        if not onnxruntime_available():
            raise ValueError("backend 'onnxruntime' was asked for but the onnxruntime package is not "
                             "installed (pip install onnxruntime), or use backend='torch'")  # fmt: skip
    return backend


def graph_key(settings: str, digest: str | None = None, module: nn.Module | None = None) -> str:
    """A cache key for a graph's export: its settings (graph name, the bundle's config) and the
    bundle's tensor digest (what the graph is built from), or, for a bundle not read from a
    file, the graph module's own tensors. Raises ValueError with neither."""
    import onnxruntime

    h = hashlib.sha256()
    h.update(f"{GRAPH_VERSION}|{OPSET}|{torch.__version__}|{onnxruntime.__version__}|{settings}|".encode())
    if digest is not None:
        h.update(digest.encode())
    elif module is None:
        raise ValueError("graph_key needs the bundle's digest or the graph module")
    else:
        for name, t in sorted(module.state_dict().items()):
            t = t.detach().cpu().contiguous()
            h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:32]


class TorchGraph:
    """A graph module run by torch on `device`: numpy arrays in, numpy float32 arrays out."""

    def __init__(self, module: nn.Module, device: torch.device):
        self.module, self.device = module.eval(), device
        self.input_names = tuple(module.input_names)

    @torch.inference_mode()
    def __call__(self, *arrays: np.ndarray) -> list[np.ndarray]:
        out = self.module(*(torch.as_tensor(a).to(self.device) for a in arrays))
        out = out if isinstance(out, tuple) else (out,)
        return [o.float().cpu().numpy() for o in out]


class OrtGraph:
    """A graph in an ONNX Runtime CPU session with torch's thread count: numpy in and out."""

    def __init__(self, model: bytes, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def __call__(self, *arrays: np.ndarray) -> list[np.ndarray]:
        feeds = {n: np.ascontiguousarray(a if a.dtype == np.uint8 else a.astype(np.float32, copy=False))
                 for n, a in zip(self.input_names, arrays, strict=True)}  # fmt: skip
        return self.session.run(None, feeds)

    @classmethod
    def cached(cls, key: str, threads: int | None = None) -> OrtGraph | None:
        """The graph cached under `key` (on `threads` threads; default torch's), or None (none
        yet, or a file ORT cannot read)."""
        path = cache_dir() / f"{key}.onnx"
        try:
            graph = cls(path.read_bytes(), threads)
        except Exception:  # noqa: BLE001 - a missing or damaged cache file: export again
            return None
        with contextlib.suppress(OSError):  # a use: prune_cache keeps recently used graphs
            os.utime(path)
        return graph

    @classmethod
    def from_module(cls, module: nn.Module, examples: Sequence[torch.Tensor], key: str,
                    dynamic: dict[str, dict[int, str]], transform=None, threads: int | None = None,
                    label: str | None = None) -> OrtGraph:  # fmt: skip
        """The module exported (or read from the cache under `key`; module doc). examples: one
        input per module.input_names, of the shapes it will see except the `dynamic` axes.
        transform: ONNX bytes -> ONNX bytes applied before caching (e.g. quantize_int8).
        threads: the session's (default torch's). label: the graph's name in the export note
        (default: the module's class; two graphs of one class read alike)."""
        graph = cls.cached(key, threads)
        if graph is None:
            log.info("first use of this graph: exporting %s to ONNX once (a few seconds), cached in %s",
                     label or type(module).__name__, cache_dir())  # fmt: skip
            model = export(module, examples, dynamic)
            model = transform(model) if transform is not None else model
            _store(cache_dir() / f"{key}.onnx", model)
            graph = cls(model, threads)
        return graph


def export(module: nn.Module, examples: Sequence[torch.Tensor], dynamic: dict[str, dict[int, str]]) -> bytes:
    """The module as an ONNX model (bytes): input and output names from module.input_names /
    output_names, the `dynamic` axes left free. Raises ImportError without the onnx package."""
    try:
        import onnx  # noqa: F401 - torch.onnx's exporter needs it
    except ImportError:
        raise ImportError("exporting a graph for ONNX Runtime needs the onnx package (pip install onnx); "
                          "or load the Predictor with backend='torch'") from None  # fmt: skip
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about shape checks frozen as constants
        torch.onnx.export(module.eval(), tuple(examples), buffer, dynamo=False, opset_version=OPSET,
                          input_names=list(module.input_names), output_names=list(module.output_names),
                          dynamic_axes=dynamic)  # fmt: skip
    return buffer.getvalue()


@contextlib.contextmanager
def _quiet_quantizer():
    """ONNX Runtime's quantizer logs advice at WARNING on the root logger, which Python would
    print to stderr; what matters is raised. Its `logging.warning` also gives the root logger a
    handler (basicConfig) that then printed every lnet_anet note twice (a trial): taken off."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def _quantize_options() -> dict:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType

    # Activations uint8 per tensor, weights int8 per output channel, as QDQ pairs that ONNX
    # Runtime fuses into integer convolutions (VNNI where the CPU has it).
    return {"quant_format": QuantFormat.QDQ, "activation_type": QuantType.QUInt8, "weight_type": QuantType.QInt8,
            "per_channel": True, "calibrate_method": CalibrationMethod.MinMax}


def calibrate_int8(model: bytes, feeds: Sequence[dict[str, np.ndarray]], out: Path) -> None:
    """Record the activation ranges of `model` (ONNX bytes) over `feeds` (input name -> array,
    one dict per run; ONNX Runtime's MinMax calibration) as a JSON file at `out`, which
    quantize_int8 reads."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter(feeds)

        def get_next(self):
            return next(self.feeds, None)

    out = Path(out)
    out.unlink(missing_ok=True)  # ONNX Runtime would reuse it instead of calibrating
    _quantize_static(model, Reader(), out)


def quantize_int8(model: bytes, ranges: Path) -> bytes:
    """`model` (ONNX bytes) with int8 weights and activations at the ranges recorded by
    calibrate_int8 in `ranges`. Raises FileNotFoundError, or ValueError when the ranges are of
    another graph (tensor names the model lacks)."""
    import json

    import onnx

    ranges = Path(ranges)
    if not ranges.is_file():
        raise FileNotFoundError(f"{ranges}: no int8 activation ranges")
    named = set(json.loads(ranges.read_text()).get("data", {}))
    graph = onnx.load_from_string(model).graph
    produced = {o for node in graph.node for o in node.output} | {i.name for i in graph.input}
    if not named or not named <= produced:
        raise ValueError(f"{ranges}: its ranges are of another graph ({len(named - produced)} of {len(named)} "
                         "tensors are not in this one); calibrate again with this torch version")  # fmt: skip
    return _quantize_static(model, None, ranges)


def _quantize_static(model: bytes, reader, ranges: Path) -> bytes:
    """ONNX Runtime's quantize_static on ONNX bytes (it reads and writes files): calibrating with
    `reader` into `ranges`, or (reader None) reading them from it; the int8 model's bytes."""
    import tempfile

    from onnxruntime.quantization import quantize_static

    with tempfile.TemporaryDirectory() as tmp, _quiet_quantizer():
        (Path(tmp) / "float.onnx").write_bytes(model)
        quantize_static(str(Path(tmp) / "float.onnx"), str(Path(tmp) / "int8.onnx"), reader,
                        calibration_cache_path=ranges, **_quantize_options())  # fmt: skip
        return (Path(tmp) / "int8.onnx").read_bytes()


_UNWRITABLE: set[Path] = set()  # cache folders already warned about: one warning each per process


def _store(path: Path, model: bytes) -> None:
    """Write the cache file atomically; a cache that cannot be written is skipped (module doc),
    with one RuntimeWarning per folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(model)
        tmp.replace(path)
        prune_cache(path.parent, keep=path)
    except OSError as e:
        if path.parent in _UNWRITABLE:
            return
        _UNWRITABLE.add(path.parent)
        where = f" (now {os.environ['LNET_ANET_CACHE']})" if os.environ.get("LNET_ANET_CACHE") else ""
        warnings.warn(f"lnet_anet: cannot write the ONNX graph cache {path.parent} ({e.strerror or e}); the graphs "
                      f"are exported again at every load (~3 s). Set LNET_ANET_CACHE{where} to a writable folder.",
                      RuntimeWarning, stacklevel=3)  # fmt: skip


def prune_cache(folder: Path, keep: Path | None = None, max_age_days: float = CACHE_MAX_AGE_DAYS,
                max_bytes: int = CACHE_MAX_BYTES, now: float | None = None) -> list[Path]:
    """Remove the cached graphs (*.onnx, and *.tmp files a killed export left) of `folder` last
    used (modified or read: OrtGraph.cached touches them) more than max_age_days ago, then the
    least recently used ones while the rest exceed max_bytes; never `keep`. Files another
    process removes meanwhile are skipped. Returns the removed paths."""
    import time

    now = time.time() if now is None else now
    files = []
    for path in list(folder.glob("*.onnx")) + list(folder.glob("*.tmp")):
        with contextlib.suppress(OSError):
            stat = path.stat()
            files.append((stat.st_mtime, stat.st_size, path))
    files.sort()  # least recently used first
    removed, total = [], sum(size for _, size, _ in files)
    for used, size, path in files:
        if path == keep:
            continue
        if now - used > max_age_days * 86400 or total > max_bytes:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
                total -= size
    if removed:
        log.info("pruned %d cached graph file(s) from %s", len(removed), folder)
    return removed


__all__ = ["BACKENDS", "CACHE_MAX_AGE_DAYS", "CACHE_MAX_BYTES", "GRAPH_VERSION", "OrtGraph", "TorchGraph", "cache_dir", "calibrate_int8", "export", "op_threads", "prune_cache",
           "graph_key", "onnxruntime_available", "quantize_int8", "resolve_backend"]  # fmt: skip
