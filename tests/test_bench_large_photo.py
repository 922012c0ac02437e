"""benchmarks/bench_large_photo.py: one setting timed through locate_many or predict (generated photos)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lnet_anet.inference.build import random_bundle
from tests._bench import load_benchmark

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("call", ["locate", "predict"])
def test_a_setting_reports_found_false_alarms_time_and_memory(tmp_path, call):
    bench = load_benchmark("bench_large_photo")
    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=3)
    rng = np.random.default_rng(0)
    photos = []
    for k in range(2):
        path = tmp_path / f"p{k}.jpg"
        cv2.imwrite(str(path), rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
        photos.append({"path": str(path), "face": [100.0, 100.0, 150.0, 160.0], "background_faces": []})
    result = bench.run_setting(photos, "none", str(bundle), call)
    assert result["setting"] == "none" and result["photos"] == 2
    assert 0.0 <= result["found"] <= 1.0 and result["false_alarms_per_photo"] >= 0
    assert 0 < result["median_s"] <= result["max_s"] and result["peak_rss_mb"] > 0
