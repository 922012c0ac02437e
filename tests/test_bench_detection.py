"""benchmarks/bench_detection.py end to end on a generated WIDER-format tree (Haar peer only)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_detection", ROOT / "benchmarks" / "bench_detection.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_detection_writes_a_record(tmp_path):
    images = tmp_path / "WIDER_train" / "images" / "0--Parade"
    images.mkdir(parents=True)
    split = tmp_path / "wider_face_split"
    split.mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(4):
        cv2.imwrite(str(images / f"p_{i}.jpg"), rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
        rows += [f"0--Parade/p_{i}.jpg", "2", "10 10 30 40 0 0 0 0 0 0 ", "100 100 10 12 0 0 0 0 0 0 "]
    (split / "wider_face_train_bbx_gt.txt").write_text("\n".join(rows) + "\n")
    out, work = tmp_path / "out", tmp_path / "work"
    bench = _bench()
    rc = bench.main(["--wider", str(tmp_path), "--part", "all", "--detectors", "haar", "--threads", "1",
                     "--face-free", "--work", str(work), "--out", str(out)])  # fmt: skip
    assert rc == 0
    record = json.loads((out / "results.json").read_text())
    assert record["data"]["n_images"] == 4
    assert record["data"]["n_faces"] == 4 and record["data"]["n_dont_care"] == 4  # 12 px < 24 px
    haar = record["results"]["haar"]
    assert set(haar) >= {"ap", "recall_at_0.1_fppi", "recall_at_1_fppi", "by_size", "median_ms", "face_free"}
    assert haar["face_free"]["n_images"] == 4  # a 64+ px crop away from both boxes fits every image
    assert "| haar |" in (out / "results.md").read_text()
    # The face-free crops overlap no (grown) box.
    for crop in (work / "face_free").iterdir():
        x0, y0, side = (int(v) for v in crop.stem.rsplit("__", 1)[1].split("_"))
        for b in ([10, 10, 40, 50], [100, 100, 110, 112]):
            w, h = b[2] - b[0], b[3] - b[1]
            grown = [b[0] - w / 2, b[1] - h / 2, b[2] + w / 2, b[3] + h / 2]
            assert not (grown[0] < x0 + side and grown[2] > x0 and grown[1] < y0 + side and grown[3] > y0)


def test_bench_detection_reads_a_csv_benchmark(tmp_path):
    """Its default first detector, lnet_anet (with its response-map diagnosis), beside Haar."""
    from lnet_anet.inference.build import random_bundle

    rng = np.random.default_rng(1)
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    (tmp_path / "boxes.csv").write_text("path,x0,y0,x1,y1\n0.png,10,10,40,50\n1.png,,,,\n2.png,5,5,50,60\n")
    out = tmp_path / "out"
    bundle = random_bundle(tmp_path / "tiny.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    rc = _bench().main(["--format", "csv", "--labels", str(tmp_path / "boxes.csv"), "--detectors", "lnet_anet,haar",
                        "--bundle", str(bundle), "--threads", "1", "--work", str(tmp_path / "work"),
                        "--out", str(out)])  # fmt: skip
    assert rc == 0
    record = json.loads((out / "results.json").read_text())
    assert record["data"]["format"] == "csv" and record["data"]["part"] == "all"
    assert record["data"]["n_images"] == 3 and record["data"]["n_faces"] == 2
    assert record["data"]["split_rule"].startswith("none")
    assert set(record["results"]) == {"lnet_anet", "haar"} and "ap" in record["results"]["lnet_anet"]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_face_grids_are_scored_for_a_bundle_beside_a_baseline(tmp_path):
    from lnet_anet.data.synthetic import make_synthetic_celeba
    from lnet_anet.inference.build import random_bundle

    tree = make_synthetic_celeba(tmp_path / "celeba", n_images=80, n_identities=16, seed=2)
    grids = tmp_path / "grids"
    assert _script("make_face_grids").main(["--celeba-hq", str(tree), "--images", "img_align_celeba", "--part", "tune",
                                            "--sizes", "2,3", "--per-size", "2", "--out", str(grids)]) == 0  # fmt: skip
    rows = (grids / "boxes.csv").read_text().splitlines()
    assert rows[0] == "path,x0,y0,x1,y1" and len(rows) == 1 + 2 * 4 + 2 * 9
    first = rows[1].split(",")
    side = int(first[0].rsplit("_", 1)[1].removesuffix("px.jpg"))
    assert 48 <= side <= 128 and first[1:] == ["0", "0", str(side), str(side)]
    assert cv2.imread(str(grids / first[0])).shape[:2] == (2 * side, 2 * side)
    new = random_bundle(tmp_path / "new.lnetanet", threshold=0.0, preset="tiny", max_faces=4)
    old = random_bundle(tmp_path / "old.lnetanet", threshold=0.0, preset="tiny", max_faces=4, seed=1)
    out = tmp_path / "out"
    rc = _bench().main(["--format", "csv", "--labels", str(grids / "boxes.csv"), "--bundle", str(new), "--baseline",
                        str(old), "--detectors", "lnet_anet_localize,baseline_localize", "--threads", "1",
                        "--work", str(tmp_path / "work"), "--out", str(out)])  # fmt: skip
    assert rc == 0
    results = json.loads((out / "results.json").read_text())["results"]
    assert results["lnet_anet_localize"]["settings"]["bundle"] == str(new)
    assert results["baseline_localize"]["settings"]["bundle"] == str(old)
    assert 0 <= results["baseline_localize"]["share_boxes_over_two_faces"] <= 1


def test_head_cost_times_two_bundles_face_graphs():
    """benchmarks/bench_head_cost.py (and bench_attractiveness, which imports it) builds the face
    graph's inputs as the Predictor does."""
    import tempfile

    from lnet_anet.inference.build import random_bundle

    with tempfile.TemporaryDirectory() as tmp:
        base = random_bundle(Path(tmp) / "base.lnetanet", threshold=0.0, preset="tiny", max_faces=1)
        faces = [(np.random.default_rng(i).integers(0, 255, (96, 96, 3), dtype=np.uint8),
                  np.array([10, 10, 80, 80], np.float32)) for i in range(2)]  # fmt: skip
        got = _script("bench_head_cost").head_cost(base, base, faces, batches=(1,), threads=(1,), rounds=1)
    assert got["threads_1_batch_1"]["base"]["ms_per_face"] > 0
