"""benchmarks/bench_predict.py (the speed step of `make bench`) runs against the current Predictor:
its one-thread stage split times every stage of a tiny random bundle."""

from __future__ import annotations

import numpy as np

from tests._bench import load_benchmark


def test_the_stage_split_times_each_stage(tmp_path):
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.predictor import Predictor

    bench = load_benchmark("bench_predict")
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, max_faces=1))
    image = np.random.default_rng(0).integers(0, 255, (160, 160, 3), np.uint8)
    split = bench.stage_split(predictor, image, runs=1)
    assert {"lnet", "localizer", "anet_svm", "age", "attractiveness"} <= set(split)
    assert all(v >= 0 for v in split.values())
    assert abs(split["sum"] - sum(v for k, v in split.items() if k != "sum")) < 0.05
