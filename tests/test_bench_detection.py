"""benchmarks/bench_detection.py end to end on a generated WIDER-format tree (Haar peer only)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests._bench import load_benchmark

REPO = Path(__file__).resolve().parents[1]


def _bench():
    return load_benchmark("bench_detection")


def _wider_tree(root: Path) -> None:
    """4 noise photos of 320 x 240 under a WIDER-format tree at root, each with a 20 x 30 face and
    a 10 x 12 one (don't-care: under 24 px)."""
    images = root / "WIDER_train" / "images" / "0--Parade"
    images.mkdir(parents=True)
    split = root / "wider_face_split"
    split.mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(4):
        cv2.imwrite(str(images / f"p_{i}.jpg"), rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
        rows += [f"0--Parade/p_{i}.jpg", "2", "10 10 30 40 0 0 0 0 0 0 ", "100 100 10 12 0 0 0 0 0 0 "]
    (split / "wider_face_train_bbx_gt.txt").write_text("\n".join(rows) + "\n")


def test_bench_detection_writes_a_record(tmp_path, capsys):
    _wider_tree(tmp_path)
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
    # the part read named (it said "one per val photo" for --part all), and where the cut is said: the docstring
    assert record["data"]["face_free"] == ("4 crops (one per photo of --part all where one fits; how they are cut: "
                                           "benchmarks/bench_detection.py's docstring)")  # fmt: skip
    assert "| haar |" in (out / "results.md").read_text()
    assert f"wrote {out / 'results.md'} and {out / 'results.json'}" in capsys.readouterr().out  # where to look: said
    # trial 85: enough to reproduce the figure: the code's commit, the packages, the CPU and its load
    machine = record["machine"]
    assert machine["threads"] == 1 and len(machine["load_average"]) == 3 and machine["cpu_model"]
    assert {"numpy", "lnet_anet"} <= set(machine["packages"])
    assert re.fullmatch(r"[0-9a-f]{12}(\+dirty)?", machine["revision"] or "") or not (REPO / ".git").exists()
    # The face-free crops overlap no (grown) box.
    for crop in (work / "face_free").iterdir():
        x0, y0, side = (int(v) for v in crop.stem.rsplit("__", 1)[1].split("_"))
        for b in ([10, 10, 40, 50], [100, 100, 110, 112]):
            w, h = b[2] - b[0], b[3] - b[1]
            grown = [b[0] - w / 2, b[1] - h / 2, b[2] + w / 2, b[3] + h / 2]
            assert not (grown[0] < x0 + side and grown[2] > x0 and grown[1] < y0 + side and grown[3] > y0)


def test_without_out_the_record_goes_under_lnet_anet_runs(tmp_path, monkeypatch, capsys):
    """Trial 83: with LNET_ANET_RUNS set, the benchmarks still wrote under ./runs (here: the clone)."""
    _wider_tree(tmp_path / "wider")
    monkeypatch.setenv("LNET_ANET_RUNS", str(tmp_path / "my-runs"))
    monkeypatch.chdir(tmp_path)
    assert _bench().main(["--wider", str(tmp_path / "wider"), "--part", "all", "--detectors", "haar", "--threads", "1"]) == 0
    (record,) = (tmp_path / "my-runs" / "bench_detection").glob("wider-*/results.json")
    assert json.loads(record.read_text())["data"]["n_images"] == 4
    assert (tmp_path / "my-runs" / "bench_detection" / "work" / record.parent.name).is_dir()  # --work's default too
    assert not (tmp_path / "runs").exists()


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
    assert record["data"]["dont_care_rule"] == "the CSV's dont_care column = 1, or face height < 24 px"  # not WIDER's
    assert set(record["results"]) == {"lnet_anet", "haar"} and "ap" in record["results"]["lnet_anet"]
    assert record["results"]["lnet_anet"]["settings"]["bundle"] == str(bundle)  # the row's name says "lnet_anet" only
    settings = record["results"]["lnet_anet"]["settings"]  # which model, as predict's records name it (trial 85)
    assert re.fullmatch(r"[0-9a-f]{12}", settings["identity"]) and re.fullmatch(r"[0-9a-f]{12}", settings["model"])
    assert (f"Bundles read: lnet_anet: `{bundle}` (bundle {settings['identity']}, model {settings['model']})."
            in (out / "results.md").read_text())  # fmt: skip


def test_face_grids_are_scored_for_a_bundle_beside_a_baseline(tmp_path):
    from lnet_anet.data.synthetic import make_synthetic_celeba
    from lnet_anet.inference.build import random_bundle

    tree = make_synthetic_celeba(tmp_path / "celeba", n_images=80, n_identities=16, seed=2)
    grids = tmp_path / "grids"
    assert load_benchmark("make_face_grids").main(["--celeba-hq", str(tree), "--images", "img_align_celeba", "--part", "tune",
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
    text = (out / "results.md").read_text()
    assert re.search(rf"Bundles read: lnet_anet_localize: `{re.escape(str(new))}` \(bundle [0-9a-f]{{12}}, model [0-9a-f]{{12}}\); "
                     rf"baseline_localize: `{re.escape(str(old))}` \(bundle", text)  # fmt: skip
    assert 0 <= results["baseline_localize"]["share_boxes_over_two_faces"] <= 1


def test_face_grids_skip_faces_gives_grids_of_other_faces(tmp_path):
    """--skip-faces K with the same --seed: grids of faces another run (that used K) does not hold."""
    from lnet_anet.data.synthetic import make_synthetic_celeba

    tree = make_synthetic_celeba(tmp_path / "celeba", n_images=80, n_identities=16, seed=2)
    make = load_benchmark("make_face_grids").main
    common = ["--celeba-hq", str(tree), "--images", "img_align_celeba", "--part", "tune", "--sizes", "2", "--per-size", "2"]
    for name, skip in (("a", "0"), ("b", "8")):
        assert make([*common, "--skip-faces", skip, "--out", str(tmp_path / name)]) == 0

    def tiles(name):
        out = []
        for row in (tmp_path / name / "boxes.csv").read_text().splitlines()[1:]:
            path, x0, y0, x1, y1 = row.split(",")
            out.append(cv2.imread(str(tmp_path / name / path))[int(y0) : int(y1), int(x0) : int(x1)].astype(float))
        return out

    first, second = tiles("a"), tiles("b")
    assert len(first) == len(second) == 8 and all(a.shape == b.shape for a, b in zip(first, second, strict=True))
    # the same tile sizes (same seed), none of the same faces: every pair of tiles differs
    assert min(np.abs(a - b).mean() for a in first for b in second if a.shape == b.shape) > 5
    assert make([*common, "--skip-faces", "100", "--out", str(tmp_path / "c")]) == 1  # more than the part holds


def test_head_cost_times_two_bundles_face_graphs():
    """benchmarks/bench_head_cost.py (and bench_attractiveness, which imports it) builds the face
    graph's inputs as the Predictor does."""
    import tempfile

    from lnet_anet.inference.build import random_bundle

    with tempfile.TemporaryDirectory() as tmp:
        base = random_bundle(Path(tmp) / "base.lnetanet", threshold=0.0, preset="tiny", max_faces=1)
        faces = [(np.random.default_rng(i).integers(0, 255, (96, 96, 3), dtype=np.uint8),
                  np.array([10, 10, 80, 80], np.float32)) for i in range(2)]  # fmt: skip
        got = load_benchmark("bench_head_cost").head_cost(base, base, faces, batches=(1,), threads=(1,), rounds=1)
    assert got["threads_1_batch_1"]["base"]["ms_per_face"] > 0


# ----------------------------------------------------------------------------- user-reported problems


def _csv_tree(tmp_path: Path, n: int, extra_rows: tuple[str, ...] = ()) -> Path:
    """n noise images (120 x 160) with one 30 x 40 face box each, and extra_rows, in boxes.csv."""
    rng = np.random.default_rng(3)
    rows = ["path,x0,y0,x1,y1"]
    for i in range(n):
        cv2.imwrite(str(tmp_path / f"{i}.png"), rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
        rows.append(f"{i}.png,10,10,40,50")
    (tmp_path / "boxes.csv").write_text("\n".join([*rows, *extra_rows]) + "\n")
    return tmp_path / "boxes.csv"


def _strict_json(path: Path):
    def refuse(token):
        raise AssertionError(f"{path}: non-standard JSON token {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_an_empty_part_is_a_one_line_error(tmp_path, capsys):
    """WIDER labels whose images all fall in the tune part: the default --part val is empty, which
    used to crash in run_detector (IndexError on paths[0])."""
    from lnet_anet.data.readers.detection import hash_part

    names = [n for n in (f"0--Parade/p_{i}.jpg" for i in range(40)) if hash_part([n])[0] == "tune"][:3]
    images = tmp_path / "WIDER_train" / "images" / "0--Parade"
    images.mkdir(parents=True)
    (tmp_path / "wider_face_split").mkdir()
    rows = []
    for n in names:
        cv2.imwrite(str(images.parent / n), np.zeros((60, 80, 3), np.uint8))
        rows += [n, "1", "10 10 30 40 0 0 0 0 0 0"]
    # the train labels are split by hash_part (the official val labels would be scored whole)
    (tmp_path / "wider_face_split" / "wider_face_train_bbx_gt.txt").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    rc = _bench().main(["--wider", str(tmp_path), "--detectors", "haar", "--threads", "1", "--work", str(tmp_path / "work"),
                        "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and not out.exists()
    assert len(err) == 1 and err[0].startswith("error: ") and "val part holds none of its 3 images" in err[0]
    assert "--part all" in err[0]


def test_unreadable_images_are_skipped_for_every_detector(tmp_path, monkeypatch, capsys):
    """A missing, an empty and a non-image file in the labels: reported on stderr with the reason,
    left out for both detectors (checked once up front), and counted in results.json / .md."""
    labels = _csv_tree(tmp_path, 3, ("gone.png,1,1,30,30", "empty.png,1,1,30,30", "text.png,,,,"))
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_bytes(b"not an image at all")
    bench = _bench()
    seen: dict[str, list[str]] = {}
    real = bench.make_detector

    def fake(name, bundle=None, baseline=None, box_head=None, face_head=None):  # Haar's boxes under either name; the paths each one gets
        inner = real("haar")

        def detect(path):
            seen.setdefault(name, []).append(path)
            return inner(path)

        detect.settings = inner.settings
        return detect

    monkeypatch.setattr(bench, "make_detector", fake)
    out = tmp_path / "out"
    # lnet_anet_localize (a Predictor detector) makes the check read with load_image as well as read_image
    rc = bench.main(["--format", "csv", "--labels", str(labels), "--detectors", "haar,lnet_anet_localize",
                     "--threads", "1", "--work", str(tmp_path / "work"), "--out", str(out)])  # fmt: skip
    assert rc == 0
    err = capsys.readouterr().err
    assert f"skipped {tmp_path / 'gone.png'}: file not found" in err
    assert f"skipped {tmp_path / 'empty.png'}: file is empty" in err
    assert f"skipped {tmp_path / 'text.png'}: not a readable image" in err
    good = {str(tmp_path / f"{i}.png") for i in range(3)}
    assert set(seen) == {"haar", "lnet_anet_localize"}
    assert set(seen["haar"]) == set(seen["lnet_anet_localize"]) == good
    record = _strict_json(out / "results.json")
    assert record["data"]["n_images"] == 3 and record["data"]["n_images_all"] == 6
    assert record["data"]["n_skipped"] == 3
    assert {s["name"]: s["reason"] for s in record["data"]["skipped"]} == {
        "gone.png": "file not found", "empty.png": "file is empty",
        "text.png": "not a readable image (corrupt, truncated or unknown format)"}  # fmt: skip
    assert set(record["results"]) == {"haar", "lnet_anet_localize"}
    assert "Skipped, cannot be read: 3 image(s)" in (out / "results.md").read_text()


def _fddb_fold(folds: Path, pics: Path, k: int) -> None:
    name = f"2002/07/19/big/img_{k}"
    (pics / name).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(pics / f"{name}.jpg"), np.full((100, 120, 3), 90, np.uint8))
    (folds / f"FDDB-fold-{k:02d}.txt").write_text(name + "\n")
    (folds / f"FDDB-fold-{k:02d}-ellipseList.txt").write_text(f"{name}\n1\n30 20 1.570796 60 50 1\n")


def test_fddb_folds_can_be_chosen(tmp_path, capsys):
    folds, pics = tmp_path / "FDDB-folds", tmp_path / "originalPics"
    folds.mkdir()
    for k in (1, 3):
        _fddb_fold(folds, pics, k)
    bench = _bench()
    common = ["--format", "fddb", "--labels", str(folds), "--detectors", "haar", "--threads", "1", "--work",
              str(tmp_path / "work")]  # fmt: skip
    # All 10 folds by default: fold 2 is missing, named with the option that reads the folds there.
    assert bench.main([*common, "--out", str(tmp_path / "all")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {folds / 'FDDB-fold-02.txt'}: missing label file; to score only the folds that are there: "
                   "--fddb-folds 1 3"]  # fmt: skip
    assert not (tmp_path / "all").exists()
    assert bench.main([*common, "--fddb-folds", "1", "3", "--out", str(tmp_path / "out")]) == 0
    data = _strict_json(tmp_path / "out" / "results.json")["data"]
    assert data["fddb_folds"] == [1, 3] and data["n_images"] == 2 and data["n_faces"] == 2
    capsys.readouterr()
    assert bench.main([*common, "--fddb-folds", "1", "11", "--out", str(tmp_path / "bad")]) == 2
    assert capsys.readouterr().err.strip() == "error: --fddb-folds takes distinct fold numbers 1-10, got 1 11"


def test_fddb_labels_get_fddbs_own_roc_and_every_run_its_curves(tmp_path, capsys):
    """FDDB's labels were scored only as boxes (VOC AP on the ellipses' bounding boxes). Now each row
    also gets FDDB's own ROC (ellipse regions, Hungarian matching): its figures in the record, the
    tool's DiscROC / ContROC files; every run writes its curves (curves.json, and curves.png)."""
    from lnet_anet.data.readers.detection import ellipse_to_box

    folds, pics = tmp_path / "FDDB-folds", tmp_path / "originalPics"
    folds.mkdir()
    for k in (1, 2):
        _fddb_fold(folds, pics, k)
    box = ellipse_to_box(30, 20, 1.570796, 60, 50)
    x, y, w, h = box[0], box[1], box[2] - box[0], box[3] - box[1]
    saved = tmp_path / "out.txt"  # FDDB's output blocks: the ellipse's box on image 1, a miss on image 2
    saved.write_text(f"2002/07/19/big/img_1\n1\n{x} {y} {w} {h} 0.9\n2002/07/19/big/img_2\n1\n0 0 10 10 0.3\n")
    out = tmp_path / "out"
    assert _bench().main(["--format", "fddb", "--labels", str(folds), "--fddb-folds", "1", "2", "--detections",
                          f"mine={saved}", "--work", str(tmp_path / "work"), "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    fddb = _strict_json(out / "results.json")["results"]["mine"]["fddb"]
    assert fddb["n_faces"] == 2 and fddb["n_detections"] == 2
    assert fddb["at_false_positives"]["100"]["tpr_discrete"] == 0.5  # one face of two, one false positive
    assert (out / "fddb" / "mineDiscROC.txt").read_text().splitlines() == ["0.5 1 0.3", "0.5 0 0.9"]
    assert "| mine | 0.500 / 0." in (out / "results.md").read_text()
    curves = _strict_json(out / "curves.json")["mine"]
    assert curves["score"] == [0.9, 0.3] and curves["recall"] == [0.5, 0.5] and curves["precision"] == [1.0, 0.5]
    assert curves["fppi"] == [0.0, 0.5] and curves["fddb"]["false_positives"] == [0, 1]
    assert curves["operating_point"] == {"recall": 0.5, "precision": 0.5, "fppi": 0.5}  # a saved output: all of it
    pytest.importorskip("matplotlib")
    assert cv2.imread(str(out / "curves.png")) is not None and f"{out / 'curves.png'}" in printed


def test_bad_labels_and_detectors_are_one_line_errors(tmp_path, capsys, monkeypatch):
    labels = _csv_tree(tmp_path, 1, ("1.png,5,5,oops,9",))
    bench = _bench()
    common = ["--format", "csv", "--labels", str(labels), "--work", str(tmp_path / "work"), "--out", str(tmp_path / "out")]
    assert bench.main([*common, "--detectors", "haar"]) == 1
    assert capsys.readouterr().err.strip() == f"error: {labels}:3: not a number in '5,5,oops,9'"
    assert bench.main([*common, "--detectors", "haar,foo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unknown detector 'foo' (") and "haar" in err[0]
    assert bench.main([*common, "--detectors", "lnet_anet", "--box-head", str(tmp_path / "none.safetensors")]) == 2
    assert capsys.readouterr().err.strip() == f"error: --box-head {tmp_path / 'none.safetensors'}: no such file"
    folder = ["--format", "csv", "--labels", str(tmp_path), "--work", str(tmp_path / "work"), "--out", str(tmp_path / "out")]
    assert bench.main([*folder, "--detectors", "haar"]) == 1  # a folder where the CSV should be: said so, not "missing"
    assert capsys.readouterr().err.strip() == f"error: {tmp_path}: a folder, not a label file"
    # a peer whose package is missing: said before any detector runs (it crashed after them, losing their figures)
    monkeypatch.setitem(bench.PEER_PACKAGES, "mtcnn", ("a_package_that_is_not_installed", "facenet-pytorch"))
    assert bench.main([*common, "--detectors", "haar,mtcnn"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: mtcnn needs facenet-pytorch: `make bench-install` installs the peers (or leave them out "
                   "of --detectors)"]  # fmt: skip
    assert not (tmp_path / "work").exists()


def _wider_mat(path: Path, names: list[str], boxes: list[list], gt_list: list[list] | None = None) -> None:
    """A wider_face_*.mat as scipy reads the official ones: one event, cells of file names and boxes
    (and, as in wider_{easy,medium,hard}_val.mat, gt_list: the faces that count, 1-based)."""
    from scipy.io import savemat

    def cell(values):
        c = np.empty((len(values), 1), dtype=object)
        for i, v in enumerate(values):
            c[i, 0] = v
        return c

    mat = {"event_list": cell([np.array(["0--Parade"])]), "file_list": cell([cell([np.array([n]) for n in names])]),
           "face_bbx_list": cell([cell([np.array(b, np.float64).reshape(-1, 4) for b in boxes])])}  # fmt: skip
    if gt_list is not None:
        mat["gt_list"] = cell([cell([np.array(g, np.float64).reshape(-1, 1) for g in gt_list])])
    savemat(str(path), mat)


def test_wider_settings_files_count_their_gt_list_and_train_labels_score_their_val_part(tmp_path, capsys):
    """Trial 66: wider_easy_val.mat was scored as every face (its gt_list ignored), under the 24 px
    rule WIDER's protocol does not have; wider_face_train.mat was scored whole where the same labels
    as .txt score their val part; a reader's warning came out as Python's, with a source line."""
    images = tmp_path / "WIDER_val" / "images" / "0--Parade"
    images.mkdir(parents=True)
    names = [f"p_{i}" for i in range(3)]
    for n in names:
        cv2.imwrite(str(images / f"{n}.jpg"), np.full((120, 160, 3), 120, np.uint8))
    boxes = [[[10, 10, 30, 40], [60, 10, 12, 14]], [[5, 5, 20, 0]], [[50, 50, 40, 44]]]  # x y w h; a zero-height face
    bench = _bench()
    common = ["--format", "wider-mat", "--images", str(tmp_path / "WIDER_val" / "images"), "--detectors", "haar",
              "--threads", "1", "--work", str(tmp_path / "work")]  # fmt: skip
    _wider_mat(tmp_path / "wider_easy_val.mat", names, boxes, [[1], [], [1]])
    assert bench.main([*common, "--labels", str(tmp_path / "wider_easy_val.mat"), "--out", str(tmp_path / "easy")]) == 0
    captured = capsys.readouterr()
    assert "3 images (all part of 3), 2 faces that count, 2 don't-care" in captured.out
    assert captured.err.splitlines() == [f"warning: {tmp_path / 'wider_easy_val.mat'}: face_bbx_list{{1}}{{2}} "
                                         "(0--Parade/p_1) box 1: a face of zero width or height (1 in all): read as "
                                         "don't-care, since no box can overlap it"]  # fmt: skip
    data = json.loads((tmp_path / "easy" / "results.json").read_text())["data"]
    assert data["setting"] == "WIDER easy" and data["n_faces"] == 2
    assert data["dont_care_rule"] == "WIDER invalid=1, or not in WIDER easy's gt_list, or face height < 0 px"
    assert "# Face detection on wider_easy_val.mat (wider-mat, WIDER easy, all part)" in (tmp_path / "easy" / "results.md").read_text()
    # the train labels as .mat: their val part, as for the .txt (the tune part fitted the shipped localizer)
    _wider_mat(tmp_path / "wider_face_train.mat", names, boxes)
    assert bench.main([*common, "--labels", str(tmp_path / "wider_face_train.mat"), "--out", str(tmp_path / "t")]) == 0
    assert "images (val part of 3)" in capsys.readouterr().out
    assert json.loads((tmp_path / "t" / "results.json").read_text())["data"]["part"] == "val"


def test_wider_mat_is_found_under_wider_and_the_default_out_is_under_runs(tmp_path, monkeypatch, capsys):
    """--format wider-mat without --labels takes the official .mat under --wider; without --out the
    results go under runs/ (not experiments/); an AP over no faces is n/a in the table, null in
    strict JSON."""
    images = tmp_path / "wider" / "WIDER_val" / "images" / "0--Parade"
    images.mkdir(parents=True)
    split = tmp_path / "wider" / "wider_face_split"
    split.mkdir()
    for i in range(2):
        cv2.imwrite(str(images / f"p_{i}.jpg"), np.full((120, 160, 3), 120, np.uint8))
    _wider_mat(split / "wider_face_val.mat", ["p_0", "p_1"], [[[10, 10, 30, 40]], []])  # x y w h: 40 px high
    monkeypatch.chdir(tmp_path)
    bench = _bench()
    rc = bench.main(["--format", "wider-mat", "--wider", "wider", "--detectors", "haar", "--threads", "1"])
    assert rc == 0
    assert f"labels: {Path('wider/wider_face_split/wider_face_val.mat')} (found in" in capsys.readouterr().out
    (run,) = (tmp_path / "runs" / "bench_detection").glob("wider-mat-*")
    assert not (tmp_path / "experiments").exists()
    record = _strict_json(run / "results.json")
    assert record["data"]["labels"] == str(Path("wider/wider_face_split/wider_face_val.mat"))
    assert record["data"]["n_images"] == 2 and record["data"]["n_faces"] == 1
    haar = record["results"]["haar"]
    assert haar["by_size"]["easy_by_size"]["ap"] is None  # no face is 64 px high
    row = next(line for line in (run / "results.md").read_text().splitlines() if line.startswith("| haar |"))
    assert "n/a / " in row and "nan" not in row
    # Both official files, as wider_face_split/ ships them: the official val set, scored whole, and the other named.
    _wider_mat(split / "wider_face_train.mat", ["p_0"], [[[10, 10, 30, 40]]])
    (tmp_path / "wider" / "WIDER_train" / "images" / "0--Parade").mkdir(parents=True)
    shutil.copy(images / "p_0.jpg", tmp_path / "wider" / "WIDER_train" / "images" / "0--Parade" / "p_0.jpg")
    assert bench.main(["--format", "wider-mat", "--wider", "wider", "--detectors", "haar", "--out", "o"]) == 0
    out = capsys.readouterr().out
    assert f"labels: {Path('wider/wider_face_split/wider_face_val.mat')} (found in" in out
    assert "also there: wider_face_train.mat (choose with --labels)" in out and "2 images (all part of 2" in out
    # No face that counts: AP cannot be scored, said in one line (it was n/a with exit 0)
    assert bench.main(["--format", "wider-mat", "--wider", "wider", "--detectors", "haar", "--out", "o",
                       "--min-height", "50"]) == 1  # fmt: skip
    assert "none of the 1 faces of the 2 images counts (each is lower than --min-height 50 px" in capsys.readouterr().err
    # Several other .mat files: which one is for the user to say.
    for f in ("wider_face_train.mat", "wider_face_val.mat"):
        (split / f).rename(split / f.replace("wider_face_", "mine_"))
    assert bench.main(["--format", "wider-mat", "--wider", "wider", "--detectors", "haar", "--out", "o"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "several .mat label files" in err[0] and "--labels" in err[0]
    # None at all.
    (tmp_path / "empty").mkdir()
    assert bench.main(["--format", "wider-mat", "--wider", "empty", "--detectors", "haar", "--out", "o"]) == 1
    assert "no .mat label file" in capsys.readouterr().err


def test_the_default_detectors_leave_out_missing_peers_in_one_line(tmp_path, capsys, monkeypatch):
    """--help states the --detectors default (all of them); run with it where a peer's package is
    missing, the installed detectors run and one line names the peers left out and
    `make bench-install`; a peer named in --detectors is still an error (exit 2)."""
    bench = _bench()
    with pytest.raises(SystemExit) as done:
        bench.main(["--help"])
    assert done.value.code == 0
    assert "(default: all of them, but baseline_localize without --bundle or --baseline;" in " ".join(
        capsys.readouterr().out.split())
    labels = _csv_tree(tmp_path, 2)
    # the default, without the Predictor's detectors but baseline_localize: the embedded bundle twice, left out
    monkeypatch.setattr(bench, "ALL", ("haar", "mtcnn", "dlib_hog", "baseline_localize"))
    monkeypatch.setitem(bench.PEER_PACKAGES, "mtcnn", ("a_package_that_is_not_installed", "facenet-pytorch"))
    monkeypatch.setitem(bench.PEER_PACKAGES, "dlib_hog", ("another_package_not_installed", "dlib-bin"))
    common = ["--format", "csv", "--labels", str(labels), "--threads", "1", "--work", str(tmp_path / "work")]
    assert bench.main([*common, "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["note: skipping mtcnn (needs facenet-pytorch), dlib_hog (needs dlib-bin): `make bench-install` "
                   "installs the peers"]  # fmt: skip
    assert set(json.loads((tmp_path / "out" / "results.json").read_text())["results"]) == {"haar"}
    assert bench.main([*common, "--detectors", "haar,mtcnn", "--out", str(tmp_path / "out2")]) == 2
    assert "error: mtcnn needs facenet-pytorch" in capsys.readouterr().err


def test_labelled_boxes_wholly_outside_their_image_are_said_and_kept(tmp_path, capsys):
    """CSV, WIDER and FDDB carry no image size, so their readers cannot refuse a box that lies off
    its image (a fresh-user trial); bench_detection reads every image anyway: it says how many and
    lists them in results.json, and scores them as labelled (faces no detector can match)."""
    labels = _csv_tree(tmp_path, 2, ("0.png,200,10,230,50", "1.png,10,-60,40,-20"))  # the images are 160 x 120
    out = tmp_path / "out"
    rc = _bench().main(["--format", "csv", "--labels", str(labels), "--detectors", "haar", "--threads", "1",
                        "--work", str(tmp_path / "work"), "--out", str(out)])  # fmt: skip
    assert rc == 0
    assert "warning: 2 labelled box(es) lie wholly outside their image" in capsys.readouterr().err
    record = _strict_json(out / "results.json")
    assert record["data"]["boxes_outside"] == [{"name": "0.png", "box": [200.0, 10.0, 230.0, 50.0], "image_hw": [120, 160]},
                                               {"name": "1.png", "box": [10.0, -60.0, 40.0, -20.0], "image_hw": [120, 160]}]  # fmt: skip
    assert record["data"]["n_faces"] == 4  # kept: scored as labelled


def test_voc_classes_choose_which_objects_are_faces(tmp_path, capsys):
    ann, pics = tmp_path / "Annotations", tmp_path / "JPEGImages"
    ann.mkdir()
    pics.mkdir()
    cv2.imwrite(str(pics / "a.jpg"), np.full((120, 160, 3), 128, np.uint8))
    objects = "".join(f"<object><name>{n}</name><bndbox><xmin>11</xmin><ymin>11</ymin><xmax>60</xmax>"
                      f"<ymax>70</ymax></bndbox></object>" for n in ("Person", "head"))  # fmt: skip
    (ann / "a.xml").write_text(f"<annotation><filename>a.jpg</filename>{objects}</annotation>")
    bench = _bench()
    common = ["--format", "voc", "--labels", str(ann), "--detectors", "haar", "--threads", "1", "--work",
              str(tmp_path / "work")]  # fmt: skip
    # The warning for labels with no face names the option that chooses the classes, as a line of the
    # script's (it came with Python's source location), and so does the error (it said "lower --min-height").
    assert bench.main([*common, "--out", str(tmp_path / "none")]) == 1
    warning, error = capsys.readouterr().err.strip().splitlines()
    assert warning.startswith(f"warning: {ann}: no object is named face") and "named head, person" in warning
    assert error.endswith("the labels name no face in the 1 images: nothing to score AP on; check --voc-classes (the "
                          "<name> of the face objects)")  # fmt: skip
    assert bench.main([*common, "--voc-classes", "person, HEAD", "--out", str(tmp_path / "out")]) == 0
    data = _strict_json(tmp_path / "out" / "results.json")["data"]
    assert data["voc_classes"] == ["person", "HEAD"] and data["n_faces"] == 2
    capsys.readouterr()
    assert bench.main([*common[2:], "--voc-classes", "face", "--out", str(tmp_path / "bad")]) == 2
    assert capsys.readouterr().err.strip() == "error: --voc-classes is for --format voc"


def test_saved_detections_are_scored_beside_the_detectors(tmp_path, capsys):
    """Trial 66: a detector's saved output (WIDER's submission folder, FDDB's output blocks, a CSV,
    the script's own detections_<name>.json) could not be scored: the peers were fixed in the script.
    The labels as detections score AP 1; a re-scored detections_haar.json gives haar's figures."""
    from lnet_anet.data.readers.detection import read_detections

    images = tmp_path / "WIDER_val" / "images" / "0--Parade"
    images.mkdir(parents=True)
    split = tmp_path / "wider_face_split"
    split.mkdir()
    rng = np.random.default_rng(0)
    rows, boxes = [], {}
    for i in range(3):
        cv2.imwrite(str(images / f"p_{i}.jpg"), rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
        boxes[f"p_{i}"] = [[10 + 20 * i, 10, 40, 50], [150, 100, 30, 36]]  # x y w h
        rows += [f"0--Parade/p_{i}.jpg", "2", *(" ".join(map(str, b)) + " 0 0 0 0 0 0 " for b in boxes[f"p_{i}"])]
    (split / "wider_face_val_bbx_gt.txt").write_text("\n".join(rows) + "\n")
    submission = tmp_path / "sub" / "0--Parade"
    submission.mkdir(parents=True)
    for stem, bs in boxes.items():  # the labels themselves, as WIDER's submission files
        (submission / f"{stem}.txt").write_text(f"{stem}\n{len(bs)}\n" + "".join(f"{x} {y} {w} {h} 0.9\n" for x, y, w, h in bs))
    fddb = tmp_path / "half.txt"  # FDDB's output blocks: the first face of each image only
    fddb.write_text("".join(f"0--Parade/{stem}\n1\n{' '.join(map(str, bs[0]))} 0.8\n" for stem, bs in boxes.items()))
    table = tmp_path / "one.csv"  # a CSV naming one image: the others are scored as finding nothing, said
    table.write_text("name,x0,y0,x1,y1,score\n0--Parade/p_0.jpg,10,10,50,60,0.7\n")
    bench = _bench()
    common = ["--wider", str(tmp_path), "--threads", "1", "--work", str(tmp_path / "work")]
    assert bench.main([*common, "--detectors", "haar", "--detections", f"truth={tmp_path / 'sub'}", "--detections",
                       f"half={fddb}", "--detections", f"one={table}", "--vis", "2", "--out", str(tmp_path / "out")]) == 0  # fmt: skip
    captured = capsys.readouterr()
    pictures = sorted((tmp_path / "work" / "vis").iterdir())  # one panel per row, under --work (the data's pixels)
    assert [p.name for p in pictures] == ["000_0--Parade__p_0.jpg", "001_0--Parade__p_1.jpg"]
    drawn = cv2.imread(str(pictures[0]))  # 4 panels with 3 gaps of 6 px, and the colour key (trial 80) below
    assert drawn.shape[1] == 4 * 480 + 3 * 6 and 360 + 15 < drawn.shape[0] < 360 + 40  # the key on one line
    assert (drawn[362:, :200] < 100).mean() > 0.7 and (drawn[362:, :200] > 200).any()  # a dark strip with text
    assert f"pictures: 2 in {tmp_path / 'work' / 'vis'}" in captured.out
    assert f"warning: {table}: 2 of the 3 scored images have no detections there (the first: 0--Parade/p_1)" in captured.err
    results = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert results["truth"]["ap"] == 1.0 and results["truth"]["max_recall"] == 1.0
    assert results["half"]["max_recall"] == 0.5 and results["one"]["max_recall"] == pytest.approx(1 / 6)
    assert results["truth"]["median_ms"] is None and "| truth | 1.000 |" in (tmp_path / "out" / "results.md").read_text()
    # no false alarm at all: its recall at 0.1 and 1 false alarms per image is its max recall, said so (trial 90)
    # 3 photos: too few for an interval (intervals.MIN_ITEMS), and no note about brackets (trial 92)
    md = (tmp_path / "out" / "results.md").read_text()
    assert "| truth | 1.000 | 1.000 (max) | 1.000 (max) | 1.000 |" in md and "In brackets" not in md
    assert "intervals" not in results["truth"]
    # the script's own output, scored again: the same figures
    assert bench.main([*common, "--detections", f"again={tmp_path / 'work' / 'detections_haar.json'}",
                       "--out", str(tmp_path / "again")]) == 0  # fmt: skip
    again = json.loads((tmp_path / "again" / "results.json").read_text())["results"]
    assert set(again) == {"again"} and again["again"]["ap"] == results["haar"]["ap"]
    capsys.readouterr()
    # bad uses: one line each
    for spec, code, says in ((f"haar={fddb}", 2, "a detector of this script"), ("nameless", 2, "takes NAME=PATH"),
                             (f"x={tmp_path / 'none.csv'}", 1, "none.csv"),
                             (f"x={images / 'p_0.jpg'}", 1, "p_0.jpg:1: not UTF-8 text")):  # fmt: skip
        assert bench.main([*common, "--detections", spec, "--out", str(tmp_path / "bad")]) == code
        assert says in capsys.readouterr().err
    other = tmp_path / "other.csv"
    other.write_text("name,x0,y0,x1,y1,score\nsomewhere/else.jpg,1,1,5,5,0.5\n")
    assert bench.main([*common, "--detections", f"x={other}", "--out", str(tmp_path / "bad")]) == 1
    assert "none of the 3 scored images has detections there (a label names '0--Parade/p_0'; the file names " \
           "'somewhere/else')" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("0--Parade/p_0\n1\n10 10 -5 20 0.5\n")
    with pytest.raises(Exception, match=r"bad.txt:3: negative size in '10 10 -5 20 0.5'"):
        read_detections(bad)


@pytest.mark.parametrize("detectors", ["haar", "haar,lnet_anet_localize"])
def test_a_photo_stored_turned_is_sized_and_drawn_as_displayed(tmp_path, detectors, capsys):
    """Trial 84: a photo stored sideways with EXIF orientation 6, its boxes labelled on the upright
    photo (as every detector reads it), was sized by its stored pixels: its boxes were said to lie
    outside it, and --vis drew it sideways."""
    from PIL import Image

    upright = np.random.default_rng(5).integers(0, 255, (60, 300, 3), dtype=np.uint8)  # 300 wide, 60 high
    exif = Image.Exif()
    exif[0x0112] = 6  # the viewer turns it 90 deg clockwise
    Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1))).save(tmp_path / "turned.jpg", exif=exif)
    (tmp_path / "boxes.csv").write_text("path,x0,y0,x1,y1\nturned.jpg,200,10,240,50\n")  # x beyond the stored 60 px
    rc = _bench().main(["--format", "csv", "--labels", str(tmp_path / "boxes.csv"), "--detectors", detectors,
                        "--threads", "1", "--vis", "1", "--work", str(tmp_path / "work"), "--out", str(tmp_path / "out")])  # fmt: skip
    assert rc == 0
    assert "outside their image" not in capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "results.json").read_text())["data"].get("boxes_outside", []) == []
    (drawn,) = (tmp_path / "work" / "vis").iterdir()
    picture = cv2.imread(str(drawn))
    assert picture.shape[1] > 2 * 360  # upright: 300 x 60 drawn 360 high is 1800 wide (sideways: 72)


def test_intervals_and_differences_to_peers_in_the_table():
    """bench_detection's intervals: photos resampled whole, the brackets in the table, the note that
    says what they are, and each lnet_anet row's difference to each peer on the same resamples."""
    from lnet_anet.metrics.detection import FPPI

    bench = _bench()
    rng = np.random.default_rng(7)
    truth = [np.c_[xy, xy + 20] for xy in (rng.uniform(0, 100, (2, 2)) for _ in range(40))]
    found = [(np.r_[t, [[150.0, 150.0, 170.0, 170.0]]], np.array([0.9, 0.8, 0.5])) for t in truth]  # both faces, 1 false alarm
    half = [(t[:1], np.array([0.9])) for t in truth]
    versus = bench.differences({"lnet_anet_shipped": found, "haar": half}, truth, resamples=200)
    assert set(versus) == {"lnet_anet_shipped"}  # peers get no difference rows of their own
    assert versus["lnet_anet_shipped"]["haar"]["max_recall"] == [0.5, 0.5]  # half the faces of every photo, any draw
    results = {}
    for name, dets in (("lnet_anet_shipped", found), ("haar", half)):
        res = bench.evaluate_detections(dets, truth, fppi=FPPI)
        res["intervals"] = bench.detection_intervals(dets, truth, fppi=FPPI, resamples=200)
        results[name] = res | {"boxes_per_image": 1.0, "median_ms": 1.0, "settings": {}}
    results["lnet_anet_shipped"]["versus"] = versus["lnet_anet_shipped"]
    record = {"data": {"labels": "x.csv", "format": "csv", "part": "all", "n_images": 40, "n_faces": 80, "n_dont_care": 0,
                       "dont_care_rule": "none"}, "command": "c", "iou": 0.5, "machine": {"threads": 1}, "results": results}  # fmt: skip
    md = bench.to_markdown(record)
    half_row = "0.500 [0.500, 0.500]"  # half the faces of every photo, no false alarm: the same on every draw
    assert f"| haar | {half_row} | {half_row} (max) | {half_row} (max) | {half_row} |" in md  # max recall too
    assert "confidence interval, the percentile bootstrap over 200 resamples of the 40 photos" in md
    assert re.search(r"lnet_anet_shipped minus haar on the same photos: AP50 [+-]\d\.\d{3} \[", md)
