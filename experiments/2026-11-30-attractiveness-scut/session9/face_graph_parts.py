"""Per-part ms of the shipped bundle's graphs under ONNX Runtime, 2 threads, batch 1 (issue 17, session 9; from the repository root of branch attr17c or later: PYTHONPATH=. python experiments/2026-11-30-attractiveness-scut/session9/face_graph_parts.py)."""

import time

import numpy as np
import torch

from lnet_anet.inference.fuse import fold_batchnorm
from lnet_anet.inference.graphs import FaceGraph, LNetGraph
from lnet_anet.inference.predictor import Predictor
from lnet_anet.inference.runtime import OrtGraph, export

torch.set_num_threads(2)
p = Predictor.load(backend="torch")
b = p.bundle


def ort(graph, examples, dyn):
    return OrtGraph(export(graph, examples, dyn), threads=2)


def bench(run, arrays, n=200):
    for _ in range(20):
        run(*arrays)
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        run(*arrays)
        ts.append(time.perf_counter() - t)
    return np.median(ts) * 1000


crop = np.random.default_rng(0).integers(0, 255, (1, 160, 160, 3), dtype=np.uint8)
heads_all = {n: (fold_batchnorm(b.net(n), True), h) for n, h in p._heads.items()}
variants = {"anet only": {}, "anet+age": {"age": heads_all["age"]}, "anet+age+attr": heads_all}
for name, heads in variants.items():
    g = FaceGraph(fold_batchnorm(b.anet, True), p._anet, heads, {n: 3 for n in heads})
    dyn = {io: {0: "n"} for io in (*g.input_names, *g.output_names)}
    r = ort(g, [torch.zeros(2, 160, 160, 3, dtype=torch.uint8)], dyn)
    print(f"face graph {name}: {bench(r, [crop]):.2f} ms")
lg = LNetGraph(fold_batchnorm(b.lnet, True), p._lnet.normalize)
r = ort(
    lg,
    [torch.zeros(2, 224, 224, 3, dtype=torch.uint8)],
    {"canvases": {0: "n", 1: "h", 2: "w"}, "response": {0: "n", 1: "y", 2: "x"}},
)
for s in (224, 160, 112):
    c = np.random.default_rng(0).integers(0, 255, (1, s, s, 3), dtype=np.uint8)
    print(f"lnet {s}: {bench(r, [c]):.2f} ms")
