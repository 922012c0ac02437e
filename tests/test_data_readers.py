"""Dataset readers on tiny trees written in each release's own format, plus FaceDataset."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from lnet_anet.data.dataset import FaceDataset, collate_skip_bad
from lnet_anet.data.errors import DatasetFormatError
from lnet_anet.data.readers.age import (
    holdout_split,
    read_age_csv,
    read_chalearn,
    read_fgnet,
    read_morph,
    read_utkface,
)
from lnet_anet.data.readers.attractiveness import read_score_csv, read_scut_fbp5500
from lnet_anet.data.readers.celeba import CELEBA_ATTRIBUTES, read_celeba
from lnet_anet.data.readers.lfwa import read_lfw_attributes, read_lfwa

N = 6  # images in the CelebA fixture
LANDMARK_HEADER = (
    "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y "
    "leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
)


def _jpeg(path: Path, w: int = 16, h: int = 20, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    path.write_bytes(cv2.imencode(".jpg", img)[1].tobytes())  # any file name, even notes.txt


def _write(path: Path, lines: list[str], crlf: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n" if crlf else "\n").join(lines).encode() + b"\n")
    return path


def _names(n: int = N) -> list[str]:
    return [f"{i:06d}.jpg" for i in range(1, n + 1)]


def _labels(n: int = N) -> np.ndarray:
    return np.where(np.random.default_rng(1).random((n, 40)) < 0.3, 1, -1)


def _attr_lines(names: list[str], labels: np.ndarray) -> list[str]:
    # CelebA pads 1 with a space so that columns line up: "000001.jpg -1  1  1 -1".
    rows = [
        f"{n} " + " ".join(f"{v:2d}" for v in row) for n, row in zip(names, labels, strict=True)
    ]
    return [str(len(names)), " ".join(CELEBA_ATTRIBUTES) + " ", *rows]


def _landmarks(n: int = N) -> np.ndarray:
    base = np.array([69, 109, 106, 113, 77, 142, 73, 152, 108, 154])
    return base + np.arange(n)[:, None]


def _celeba(root: Path, images: str = "img_align_celeba", crlf: bool = False) -> Path:
    """A CelebA release in the original .txt formats, N images."""
    names = _names()
    for i, name in enumerate(names):
        _jpeg(root / images / name, seed=i)
    _write(root / "list_attr_celeba.txt", _attr_lines(names, _labels()), crlf)
    parts = [0, 0, 0, 1, 2, 0]
    _write(
        root / "list_eval_partition.txt", [f"{n} {p}" for n, p in zip(names, parts, strict=True)]
    )
    _write(root / "identity_CelebA.txt", [f"{n} {100 + i % 2}" for i, n in enumerate(names)])
    marks = [
        f"{n} " + " ".join(f"{v:4d}" for v in row)
        for n, row in zip(names, _landmarks(), strict=True)
    ]
    _write(root / "list_landmarks_align_celeba.txt", [str(N), LANDMARK_HEADER, *marks])
    boxes = [f"{n} {10 + i} {20 + i} 50 60" for i, n in enumerate(names)]
    _write(root / "list_bbox_celeba.txt", [str(N), "image_id x_1 y_1 width height", *boxes])
    return root


# --------------------------------------------------------------------------- CelebA


def test_read_celeba_parses_every_file(tmp_path):
    root = _celeba(tmp_path)
    df = read_celeba(root)
    assert len(df) == N and df.attrs["skipped"] == []
    assert df.attrs["attributes"] == list(CELEBA_ATTRIBUTES)
    assert list(df.columns[:3]) == ["path", "split", "identity"]
    np.testing.assert_array_equal(df[list(CELEBA_ATTRIBUTES)].to_numpy(), _labels() > 0)
    assert df[list(CELEBA_ATTRIBUTES)].dtypes.eq(np.int8).all()
    assert df["split"].tolist() == ["train", "train", "train", "val", "test", "train"]
    assert df["identity"].tolist() == [100, 101, 100, 101, 100, 101]
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in df["path"])
    assert df["path"].map(os.path.basename).tolist() == _names()
    np.testing.assert_array_equal(
        df[["lefteye_x", "rightmouth_y"]].to_numpy(), _landmarks()[:, [0, 9]]
    )
    assert "x0" not in df  # boxes describe the in-the-wild images, not img_align_celeba


def test_read_celeba_crlf_and_csv_variants_match_the_txt_originals(tmp_path):
    reference = read_celeba(_celeba(tmp_path / "txt"))
    root = _celeba(tmp_path / "csv", crlf=True)
    names = _names()
    (root / "list_eval_partition.txt").unlink()
    _write(
        root / "list_eval_partition.csv",
        [
            "image_id,partition",
            *[f"{n},{p}" for n, p in zip(names, [0, 0, 0, 1, 2, 0], strict=True)],
        ],
    )
    (root / "list_landmarks_align_celeba.txt").unlink()
    marks = [f"{n}," + ",".join(map(str, row)) for n, row in zip(names, _landmarks(), strict=True)]
    _write(
        root / "list_landmarks_align_celeba.csv",
        ["image_id," + LANDMARK_HEADER.replace(" ", ","), *marks],
    )
    df = read_celeba(root)
    pd.testing.assert_frame_equal(df.drop(columns="path"), reference.drop(columns="path"))


def test_read_celeba_kaggle_layout_nested_folder_and_csv_lists(tmp_path):
    reference = read_celeba(_celeba(tmp_path / "txt", images="img_celeba"))
    root = _celeba(tmp_path / "kaggle", images="img_celeba/img_celeba")  # Kaggle nests it
    names, labels = _names(), _labels()
    (root / "list_attr_celeba.txt").unlink()
    attr_rows = [f"{n}," + ",".join(map(str, row)) for n, row in zip(names, labels, strict=True)]
    _write(root / "list_attr_celeba.csv", ["image_id," + ",".join(CELEBA_ATTRIBUTES), *attr_rows])
    (root / "list_bbox_celeba.txt").unlink()
    boxes = [f"{n},{10 + i},{20 + i},50,60" for i, n in enumerate(names)]
    _write(root / "list_bbox_celeba.csv", ["image_id,x_1,y_1,width,height", *boxes])
    df = read_celeba(root)
    assert df["path"].str.endswith("/img_celeba/img_celeba/000001.jpg").iloc[0]
    pd.testing.assert_frame_equal(df.drop(columns="path"), reference.drop(columns="path"))
    _write(
        root / "list_attr_celeba.csv",
        ["image_id," + ",".join(CELEBA_ATTRIBUTES), attr_rows[0] + ",1"],
    )
    with pytest.raises(
        DatasetFormatError, match="list_attr_celeba.csv:2: expected 41 fields, found 42"
    ):
        read_celeba(root)


def test_read_celeba_in_the_wild_gets_boxes_exclusive_right_bottom(tmp_path):
    df = read_celeba(_celeba(tmp_path, images="img_celeba"))
    assert df[["x0", "y0", "x1", "y1"]].iloc[2].tolist() == [12.0, 22.0, 62.0, 82.0]
    assert "lefteye_x" not in df  # aligned landmarks do not fit in-the-wild pixels


def test_read_celeba_leaves_out_missing_images_and_unpartitioned_rows(tmp_path):
    root = _celeba(tmp_path)
    (root / "img_align_celeba" / "000002.jpg").unlink()
    lines = (root / "list_eval_partition.txt").read_text().splitlines()
    _write(root / "list_eval_partition.txt", [ln for ln in lines if not ln.startswith("000005")])
    with pytest.warns(UserWarning, match="left out 2 row"):
        df = read_celeba(root)
    assert df["path"].map(os.path.basename).tolist() == [
        "000001.jpg",
        "000003.jpg",
        "000004.jpg",
        "000006.jpg",
    ]
    skipped = "\n".join(df.attrs["skipped"])
    assert "000002.jpg: image file not found" in skipped
    assert "000005.jpg: not in list_eval_partition.txt" in skipped


def test_read_celeba_official_layout_and_partition_only(tmp_path):
    root = _celeba(tmp_path / "stage")
    official = tmp_path / "CelebA"
    (official / "Img").mkdir(parents=True)
    (root / "img_align_celeba").rename(official / "Img" / "img_align_celeba")
    (official / "Eval").mkdir()
    (root / "list_eval_partition.txt").rename(official / "Eval" / "list_eval_partition.txt")
    df = read_celeba(official)  # no attribute list: rows come from the partition file
    assert len(df) == N and df.attrs["attributes"] == []
    assert len(read_celeba(official, images="img_align_celeba")) == N  # named as data.index.images= names it
    assert df["split"].value_counts().to_dict() == {"train": 4, "val": 1, "test": 1}


def test_read_celeba_png_release_with_the_jpg_lists(tmp_path):
    """img_align_celeba_png holds 000001.png ... for the official lists' 000001.jpg names."""
    from PIL import Image

    root = _celeba(tmp_path)
    png = root / "img_align_celeba_png"
    png.mkdir()
    for jpg in sorted((root / "img_align_celeba").glob("*.jpg")):
        Image.open(jpg).save(png / (jpg.stem + ".png"))
        jpg.unlink()
    (root / "img_align_celeba").rmdir()
    df = read_celeba(root)
    assert len(df) == N and df.attrs["skipped"] == []
    assert df["path"].map(os.path.basename).tolist() == [n.replace(".jpg", ".png") for n in _names()]
    assert df["split"].tolist() == ["train", "train", "train", "val", "test", "train"]


def test_read_celeba_image_folder_must_be_unambiguous(tmp_path):
    root = _celeba(tmp_path)
    with pytest.raises(FileNotFoundError, match="nope: image folder not found"):
        read_celeba(root, images="nope")
    (root / "img_align_celeba").rename(root / "not_celeba")
    (root / "not_celeba" / "000001.jpg").rename(root / "not_celeba" / "face.jpg")
    for p in (root / "not_celeba").glob("0*.jpg"):
        p.unlink()
    with pytest.raises(FileNotFoundError, match="no folder of CelebA images"):
        read_celeba(root)
    _jpeg(root / "img_align_celeba" / "000001.jpg")
    _jpeg(root / "img_celeba_hq" / "000001.jpg")
    with pytest.raises(ValueError, match="several image folders .*data.index.images="):
        read_celeba(root)
    assert len(read_celeba(root, images="img_celeba_hq", check_images=False)) == N


def test_read_celeba_without_labels_names_the_missing_file(tmp_path):
    _jpeg(tmp_path / "img_align_celeba" / "000001.jpg")
    with pytest.raises(DatasetFormatError, match="list_attr_celeba.txt: missing label file"):
        read_celeba(tmp_path)


def _mutate(lines: list[str], line: int, text: str | None) -> list[str]:
    out = list(lines)
    if text is None:
        del out[line - 1]
    else:
        out[line - 1] = text
    return out


BAD_ATTR_FILES = {
    # case: (line to change (1-based), edit of that line, line named in the error, message)
    "too few labels": (4, lambda s: s.rsplit(" ", 1)[0], 4, "expected 41 fields, found 40"),
    "too many labels": (5, lambda s: s + " 1", 5, "expected 41 fields, found 42"),
    "non-numeric": (6, lambda s: s.replace("-1", "x", 1), 6, "expected -1 or 1, found 'x'"),
    "zero label": (3, lambda s: s.replace("-1", " 0", 1), 3, "expected -1 or 1, found '0'"),
    "count mismatch": (1, lambda s: "7", 1, "count line says 7 rows but the file has 6"),
    "duplicate name": (
        7,
        lambda s: s.replace("000005", "000002"),
        7,
        "duplicate image name '000002.jpg' (first at line 4)",
    ),
    "bad header": (2, lambda s: "000001.jpg " + s, 2, "bad header"),
    "a name missing from the header": (  # every row is off by one: the header is named, not line 3
        2,
        lambda s: " ".join(CELEBA_ATTRIBUTES[:39]),
        2,
        "it names 39 attributes, and the rows hold 40 labels (lines 3-7): a name is missing from the header",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ATTR_FILES))
def test_bad_attribute_list_names_file_and_line(tmp_path, case):
    root = _celeba(tmp_path)
    change, edit, bad_line, message = BAD_ATTR_FILES[case]
    path = root / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    lines[change - 1] = edit(lines[change - 1])
    _write(path, lines)
    with pytest.raises(DatasetFormatError) as err:
        read_celeba(root)
    assert err.value.path == str(path.resolve()) and err.value.line == bad_line
    assert f"list_attr_celeba.txt:{bad_line}: " in str(err.value) and message in str(err.value)


def test_read_celeba_names_a_misspelt_attribute_in_its_own_list(tmp_path):
    """A user trial: `EyeGlasses` in list_attr_celeba.txt was read as it is, and the attribute
    went missing only later, far from the label file. The .txt header is line 2 (after the
    count), the .csv's line 1; CelebA-HQ (an img_celeba_hq folder) is read by the same reader."""
    root = _celeba(tmp_path, images="img_celeba_hq")
    path = root / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    for wrong in ("EyeGlasses", "Eyeglases", "eyeglasses"):
        _write(path, [lines[0], lines[1].replace("Eyeglasses", wrong), *lines[2:]])
        with pytest.raises(DatasetFormatError) as err:
            read_celeba(root)
        assert str(err.value) == (f"{path.resolve()}:2: bad header: found attribute name {wrong!r}, expected "
                                  "'Eyeglasses' (CelebA's 40 attribute names)")  # fmt: skip
    path.unlink()
    rows = [f"{n}," + ",".join(map(str, row)) for n, row in zip(_names(), _labels(), strict=True)]
    header = "image_id," + ",".join(CELEBA_ATTRIBUTES).replace("Eyeglasses", "EyeGlasses")
    csv = _write(root / "list_attr_celeba.csv", [header, *rows])
    with pytest.raises(DatasetFormatError, match=r"list_attr_celeba.csv:1: bad header: found attribute name 'EyeGlasses'"):
        read_celeba(root)
    _write(csv, [header.replace("EyeGlasses", "Eyeglasses"), *rows])
    assert read_celeba(root)["Eyeglasses"].tolist() == (_labels()[:, CELEBA_ATTRIBUTES.index("Eyeglasses")] > 0).tolist()


@pytest.mark.parametrize(
    ("name", "line", "text", "message"),
    [
        (
            "list_eval_partition.txt",
            3,
            "000003.jpg 3",
            "partition: expected 0 or 1 or 2, found '3'",
        ),
        ("identity_CelebA.txt", 2, "000002.jpg x", "identity: expected an integer >= 0, found 'x'"),
        ("list_landmarks_align_celeba.txt", 2, "lefteye_x lefteye_y", "bad header"),
        ("list_landmarks_align_celeba.txt", 4, "000002.jpg 1 2 3", "expected 11 fields, found 4"),
    ],
)
def test_bad_side_files_name_file_and_line(tmp_path, name, line, text, message):
    root = _celeba(tmp_path)
    path = root / name
    _write(path, _mutate(path.read_text().splitlines(), line, text))
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_celeba(root)
    assert err.value.line == line and str(err.value).startswith(f"{path.resolve()}:{line}: ")


def test_bad_box_header_and_width(tmp_path):
    root = _celeba(tmp_path, images="img_celeba")
    path = root / "list_bbox_celeba.txt"
    lines = path.read_text().splitlines()
    _write(path, _mutate(lines, 2, "image_id x y w h"))
    with pytest.raises(DatasetFormatError, match="bad header") as err:
        read_celeba(root)
    assert err.value.line == 2
    _write(path, _mutate(lines, 5, "000003.jpg 1 2 0 5"))
    with pytest.raises(DatasetFormatError, match="width: expected a number >= 1, found '0'") as err:
        read_celeba(root)
    assert err.value.line == 5


# --------------------------------------------------------------------------- LFWA


def _lfw(root: Path) -> list[str]:
    people = ["Ann_Lee", "Bo_Di", "Ann_Lee", "Cy_Ra", "Bo_Di"]
    count: dict[str, int] = {}
    rel = []
    for p in people:
        count[p] = count.get(p, 0) + 1
        rel.append(f"{p}/{p}_{count[p]:04d}.jpg")
        _jpeg(root / "lfw" / rel[-1])
    return rel


def test_read_lfwa_split_by_file_order_survives_missing_images(tmp_path):
    rel = _lfw(tmp_path)
    names = [r if i % 2 else r.split("/")[1] for i, r in enumerate(rel)]  # both name forms
    _write(tmp_path / "list_attr_lfw.txt", _attr_lines(names, _labels(5)))
    (tmp_path / "lfw" / rel[1]).unlink()
    with pytest.warns(UserWarning, match="left out 1 row"):
        df = read_lfwa(tmp_path, n_train=3)
    assert df["path"].tolist() == [
        str((tmp_path / "lfw" / r).resolve()) for i, r in enumerate(rel) if i != 1
    ]
    assert df["split"].tolist() == ["train", "train", "test", "test"]
    assert df["person"].tolist() == ["Ann_Lee", "Ann_Lee", "Cy_Ra", "Bo_Di"]
    assert df["identity"].tolist() == [0, 0, 2, 1]
    np.testing.assert_array_equal(
        df[list(CELEBA_ATTRIBUTES)].to_numpy(), _labels(5)[[0, 2, 3, 4]] > 0
    )
    with pytest.raises(DatasetFormatError, match="n_train=6263 .* pass data.index.n_train=N with N < 5, or data.index.split_file"):
        read_lfwa(tmp_path)


def test_read_lfwa_takes_windows_names(tmp_path):
    """lfw_att_40.mat lists `Person\\Person_0001.jpg`: the same images as the forward-slash names."""
    rel = _lfw(tmp_path)
    _write(tmp_path / "list_attr_lfw.txt", _attr_lines([r.replace("/", "\\") for r in rel], _labels(5)))
    df = read_lfwa(tmp_path, n_train=3)
    assert df["path"].tolist() == [str((tmp_path / "lfw" / r).resolve()) for r in rel]
    assert df["person"].tolist() == ["Ann_Lee", "Bo_Di", "Ann_Lee", "Cy_Ra", "Bo_Di"]


def test_read_lfwa_split_file_and_tree_as_root(tmp_path):
    rel = _lfw(tmp_path)
    attr = _write(tmp_path / "labels" / "list_attr_lfw.txt", _attr_lines(rel, _labels(5)))
    split = _write(
        tmp_path / "split.txt",
        [
            f"{r.split('/')[1]} {s}"
            for r, s in zip(rel, ["test", "train", "train", "test", "val"], strict=True)
        ],
    )
    df = read_lfwa(tmp_path / "lfw", attr_file=attr, split_file=split)
    assert df["split"].tolist() == ["test", "train", "train", "test", "val"]
    _write(split, [f"{rel[0].split('/')[1]} dev"])
    with pytest.raises(DatasetFormatError, match="split.txt:1: split: expected train, val or test"):
        read_lfwa(tmp_path / "lfw", attr_file=attr, split_file=split)


def test_read_lfwa_says_why_each_row_is_left_out_and_names_two_attribute_files(tmp_path):
    """A fresh-user trial (session 56): a row naming a missing image was reported as "not in
    lfwa_split.txt", a split row naming an unknown image was ignored without a word, and two
    list_attr files were "missing label file"."""
    rel = _lfw(tmp_path)
    _write(tmp_path / "list_attr_lfw.txt", _attr_lines([*rel, "Nobody/Nobody_0001.jpg"], _labels(6)))
    (tmp_path / "lfw" / rel[4]).unlink()
    splits = ["train", "train", "test", "val", "test"]
    rows = [f"{r.split('/')[1]} {s}" for r, s in zip(rel, splits, strict=True)] + ["Ghost_0001.jpg train"]
    _write(tmp_path / "lfwa_split.txt", rows[:3] + rows[4:])  # rel[3] is not listed
    with pytest.warns(UserWarning) as caught:
        df = read_lfwa(tmp_path)
    said = "\n".join(str(w.message) for w in caught)
    assert "1 row(s) name images list_attr_lfw.txt does not list, e.g. Ghost/Ghost_0001.jpg; ignored" in said
    assert len(df) == 3 and df["split"].tolist() == ["train", "train", "test"]
    skipped = df.attrs["skipped"]
    assert any(s.endswith(f"{rel[3]}: not in lfwa_split.txt") for s in skipped)
    assert any(s.endswith(f"{rel[4]}: image file not found") for s in skipped)
    assert any(s.endswith("Nobody/Nobody_0001.jpg: image file not found") for s in skipped)
    _write(tmp_path / "anno" / "list_attr_lfw2.txt", _attr_lines(rel, _labels(5)))
    with pytest.raises(DatasetFormatError, match=r"2 attribute files: list_attr_lfw.txt, anno/list_attr_lfw2.txt; "
                                                 "choose one with data.index.attr_file="):  # fmt: skip
        read_lfwa(tmp_path)


def test_read_lfwa_names_a_misspelt_attribute_and_the_label_file(tmp_path):
    """A fresh-user trial: a misspelt header name was read as it is, and only scoring said that
    the attribute was missing, naming neither the label file nor the name in it."""
    rel = _lfw(tmp_path)
    lines = _attr_lines(rel, _labels(5))
    attr = tmp_path / "list_attr_lfw.txt"
    for wrong, right in (("Smilling", "Smiling"), ("male", "Male"), ("Wearing_Neckties", "Wearing_Necktie")):
        _write(attr, [lines[0], f" {lines[1]} ".replace(f" {right} ", f" {wrong} ").strip(), *lines[2:]])
        with pytest.raises(DatasetFormatError) as err:
            read_lfwa(tmp_path, n_train=3)
        assert str(err.value) == (f"{attr}:2: bad header: found attribute name {wrong!r}, expected {right!r} (LFWA "
                                  "uses CelebA's 40 attribute names)")  # fmt: skip
    # a name of its own, near none of the 40, is another attribute: read as it is
    extra = np.concatenate([_labels(5), np.ones((5, 1), int)], axis=1)
    rows = [f"{n} " + " ".join(f"{v:2d}" for v in row) for n, row in zip(rel, extra, strict=True)]
    _write(attr, ["5", " ".join(CELEBA_ATTRIBUTES) + " Has_Scar", *rows])
    assert read_lfwa(tmp_path, n_train=3)["Has_Scar"].tolist() == [1] * 5


def _write_mat(path: Path, variables: dict, v73: bool) -> Path:
    """A .mat file as MATLAB writes it: v5 through scipy, or v7.3 (HDF5, what `save -v7.3` gives:
    a cell of strings is a column of references to uint16 char arrays; arrays stored transposed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not v73:
        from scipy.io import savemat

        savemat(str(path), {k: np.array(v, dtype=object).reshape(-1, 1) if isinstance(v, list) else np.asarray(v, float)
                            for k, v in variables.items()})  # fmt: skip
        return path
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        for key, value in variables.items():
            if isinstance(value, list):  # an N x 1 cell of char arrays
                chars = [refs.create_dataset(f"{key}{i}", data=np.array([[ord(c)] for c in v], np.uint16))
                         for i, v in enumerate(value)]  # fmt: skip
                for c in chars:
                    c.attrs["MATLAB_class"] = np.bytes_("char")
                data = f.create_dataset(key, data=np.array([[c.ref for c in chars]], dtype=h5py.ref_dtype))
                data.attrs["MATLAB_class"] = np.bytes_("cell")
            else:
                data = f.create_dataset(key, data=np.asarray(value, np.float64).T)
                data.attrs["MATLAB_class"] = np.bytes_("double")
    return path


@pytest.mark.parametrize("v73", [False, True], ids=["v5", "v7.3"])
def test_read_lfwa_reads_the_authors_mat_files(tmp_path, v73):
    """Trial 66: LFWA as its authors distribute it (lfw_att_40.mat with 0/1 labels and Windows
    names, indices_train_test.mat) could not be read: only a list in CelebA's layout could."""
    rel = _lfw(tmp_path)
    labels = (_labels(5) > 0).astype(int)  # 0/1, as the .mat holds them
    _write_mat(tmp_path / "lfw_att_40.mat", {"name": [r.replace("/", "\\") for r in rel], "label": labels,
                                             "AttrName": list(CELEBA_ATTRIBUTES)}, v73)  # fmt: skip
    indices = _write_mat(tmp_path / "indices_train_test.mat", {"indices_img_train": np.array([[1], [3]]),
                                                               "indices_img_test": np.array([[2], [5]])}, v73)  # fmt: skip
    with pytest.warns(UserWarning, match="left out 1 row"):
        df = read_lfwa(tmp_path)
    assert df["path"].tolist() == [str((tmp_path / "lfw" / r).resolve()) for i, r in enumerate(rel) if i != 3]
    assert df["split"].tolist() == ["train", "test", "train", "test"]
    np.testing.assert_array_equal(df[list(CELEBA_ATTRIBUTES)].to_numpy(), labels[[0, 1, 2, 4]])
    assert df.attrs["skipped"] == [f"{(tmp_path / 'lfw' / rel[3]).resolve()}: in neither part of indices_train_test.mat"]

    _write_mat(indices, {"indices_img_train": np.array([1, 3]), "indices_img_test": np.array([3, 6])}, v73)
    with pytest.raises(DatasetFormatError, match="indices_img_test holds 6: expected row numbers 1-5 of the label file"):
        read_lfwa(tmp_path)
    indices.unlink()  # without a split: the paper's first-n_train rule, as for a list
    assert read_lfwa(tmp_path, n_train=2)["split"].tolist() == ["train", "train", "test", "test", "test"]
    for variables, said in (({"label": np.where(labels > 0, 1, 2)}, r"label holds \[1.0, 2.0\]: expected 0/1"),
                            ({"label": labels[:4]}, "label is 4x40 but the file names 5 images and 40 attributes"),
                            ({"AttrName": ["Smilling" if a == "Smiling" else a for a in CELEBA_ATTRIBUTES]},
                             "found attribute name 'Smilling', expected 'Smiling'"),
                            ({"name": None}, r"no 'name' variable in this LFWA label file \(found \['AttrName', 'label'\]\)")):  # fmt: skip
        given = {"name": [r.replace("/", "\\") for r in rel], "label": labels, "AttrName": list(CELEBA_ATTRIBUTES),
                 **variables}  # fmt: skip
        _write_mat(tmp_path / "lfw_att_40.mat", {k: v for k, v in given.items() if v is not None}, v73)
        with pytest.raises(DatasetFormatError, match=said) as err:
            read_lfwa(tmp_path, n_train=2)
        assert err.value.path.endswith("lfw_att_40.mat")


def _lfw_attributes(path: Path, rows: list[str]) -> Path:
    header = "#\tperson\timagenum\tMale\tBlack Hair\tSmiling"
    return _write(path, ["# lfw attributes file, v1.1", header, *rows])


def test_read_lfw_attributes_binarises_and_keeps_raw_scores(tmp_path):
    _lfw(tmp_path)
    path = _lfw_attributes(
        tmp_path / "lfw_attributes.txt",
        ["Ann Lee\t1\t1.5\t-0.2\t0.1", "Ann Lee\t2\t-1.0\t2.0\t-3", "Cy Ra\t1\t0.3\t0.0\t1e-3"],
    )
    df = read_lfw_attributes(path, tmp_path)
    assert df.attrs["attributes"] == ["Male", "Black_Hair", "Smiling"]
    assert df["path"].map(lambda p: p.split("/lfw/")[1]).tolist() == [
        "Ann_Lee/Ann_Lee_0001.jpg",
        "Ann_Lee/Ann_Lee_0002.jpg",
        "Cy_Ra/Cy_Ra_0001.jpg",
    ]
    assert df["Male"].tolist() == [1, 0, 1] and df["Black_Hair"].tolist() == [0, 1, 0]
    assert df["raw_Smiling"].tolist() == [0.1, -3.0, 0.001]
    assert (df["split"] == "").all() and df["identity"].tolist() == [0, 0, 1]


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        (["Ann Lee\t1\t1.5\t-0.2"], 3, "expected 5 fields, found 4"),
        (
            ["Ann Lee\t1\t1.5\t-0.2\t0", "Ann Lee\tone\t1\t1\t1"],
            4,
            "imagenum: expected an integer >= 1, found 'one'",
        ),
        (["Ann Lee\t1\t1.5\t-0.2\t0", "Ann Lee\t1\t1\t1\t1"], 4, "listed twice"),
    ],
)
def test_bad_lfw_attributes_names_file_and_line(tmp_path, rows, line, message):
    _lfw(tmp_path)
    path = _lfw_attributes(tmp_path / "lfw_attributes.txt", rows)
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_lfw_attributes(path, tmp_path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    _write(path, ["person\timagenum\tMale", "Ann Lee\t1\t1"])
    with pytest.raises(DatasetFormatError, match=r"bad header: expected a line .*, found 'person\\timagenum\\tMale'"):
        read_lfw_attributes(path, tmp_path)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("#\tpersn\timagenum\tMale", r"found 'persn' where 'person' belongs \(the header: \['#', 'persn'"),
        ("#\tperson\timage_num\tMale", "found 'image_num' where 'imagenum' belongs"),
        ("# person imagenum Male", r"\(tab-separated\), found '# person imagenum Male' where '#' belongs"),
        ("#\tperson", "found nothing where 'imagenum' belongs"),
        ("#\tperson\timagenum", "found no attribute names"),
        ("#\tperson\timagenum\tMale\tSmiling\tMale", "attribute name 'Male' appears twice"),
    ],
)
def test_lfw_attributes_header_errors_name_what_was_found(tmp_path, header, message):
    _lfw(tmp_path)
    path = _write(tmp_path / "lfw_attributes.txt", ["# lfw attributes file, v1.1", header, "Ann Lee\t1\t1\t1\t1"])
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_lfw_attributes(path, tmp_path)
    assert str(err.value).startswith(f"{path}:2: bad header: ")


# --------------------------------------------------------------------------- age


def test_read_utkface_reports_malformed_names(tmp_path):
    good = [
        "25_0_2_20170116174525125.jpg.chip.jpg",
        "3_1_4_20161219190000000.jpg.chip.jpg",
        "70_1_0_20170110.jpg",
    ]
    bad = {
        "24_0_1_20170116220224657 .jpg.chip.jpg": "contains a space",
        "39_1_20170116174525125.jpg.chip.jpg": "3 '_'-separated fields",
        "55_0_0_20170116232725357jpg.chip.jpg": "missing '.'",
        "30_2_0_20170116232725357.jpg.chip.jpg": "gender 2 is not 0 or 1",
        "notes.txt": "not an image file",
    }
    for i, name in enumerate(good + list(bad)):
        _jpeg(tmp_path / name, seed=i)
    with pytest.warns(UserWarning, match="left out 5 row"):
        df = read_utkface(tmp_path)
    assert sorted(df["path"].map(os.path.basename)) == sorted(good)
    by_name = df.set_index(df["path"].map(os.path.basename))
    assert by_name.loc[good[0], ["age", "gender", "race"]].tolist() == [25, 0, 2]
    assert by_name.loc[good[2], ["age", "gender", "race"]].tolist() == [70, 1, 0]
    for name, reason in bad.items():
        assert any(
            s.startswith(str(tmp_path.resolve() / name)) and reason in s
            for s in df.attrs["skipped"]
        )


def test_read_fgnet_subject_age_and_suffix_letters(tmp_path):
    for name in ["001A02.JPG", "078A11a.JPG", "078A43b.jpg", "readme.txt"]:
        _jpeg(tmp_path / name)
    with pytest.warns(UserWarning, match="left out 1 row"):
        df = read_fgnet(tmp_path)
    assert df[["identity", "age"]].values.tolist() == [[1, 2], [78, 11], [78, 43]]


def test_read_morph_album2_csv(tmp_path):
    for name in ["003285_00M21.JPG", "003285_01M22.JPG", "104010_00F40.JPG"]:
        _jpeg(tmp_path / "Album2" / name)
    header = "id_num,picture_num,dob,doa,race,gender,facial_hair,age,age_diff,glasses,photo"
    rows = [
        "3285,0,1/1/1970,1/1/1991,B,M,0,21,0,0,Album2\\003285_00M21.JPG",
        "3285,1,1/1/1970,1/1/1992,B,M,0,22,1,0,Album2/003285_01M22.JPG",
        "104010,0,1/1/1960,1/1/2000,H,F,0,40,0,1,Album2/104010_00F40.JPG",
    ]
    csv = _write(tmp_path / "morph.csv", [header, *rows])
    df = read_morph(csv)
    assert df[["identity", "age", "gender", "race"]].values.tolist() == [
        [3285, 21, 0, 1],
        [3285, 22, 0, 1],
        [104010, 40, 1, 4],
    ]
    assert all(os.path.isfile(p) for p in df["path"])
    _write(csv, [header, rows[0], rows[1].replace(",M,", ",X,")])
    with pytest.raises(DatasetFormatError, match="morph.csv:3: gender: unknown value 'x'"):
        read_morph(csv)


def test_read_morph_identity_from_file_names_without_id_column(tmp_path):
    for name in ["000123_00M21.JPG", "000777_02F33.JPG"]:
        _jpeg(tmp_path / name)
    csv = _write(
        tmp_path / "m.csv", ["file,age,gender", "000123_00M21.JPG,21,0", "000777_02F33.JPG,33,1"]
    )
    assert read_morph(csv)["identity"].tolist() == [123, 777]


def test_read_chalearn_2015_and_2016_layouts(tmp_path):
    for name in ["image_1.jpg", "image_2.jpg"]:
        _jpeg(tmp_path / "train" / name)
    v2015 = _write(
        tmp_path / "Train.csv", ["image;mean;stdv", "image_1.jpg;27,5;4,1", "image_2.jpg;61;6.25"]
    )
    v2016 = _write(tmp_path / "train_gt.csv", ["image_1.jpg,27.5,4.1", "image_2.jpg,61,6.25"])
    for path in (v2015, v2016):
        df = read_chalearn(path, tmp_path / "train")
        assert df[["age", "age_sigma"]].values.tolist() == [[27.5, 4.1], [61.0, 6.25]]
        assert (df["split"] == "").all()
    _write(v2016, ["image_1.jpg,27.5,4.1", "image_2.jpg,sixty,6.25"])
    with pytest.raises(
        DatasetFormatError, match=r"train_gt.csv:2: mean: expected a number in \[0, 130\]"
    ):
        read_chalearn(v2016, tmp_path / "train")


def test_read_age_csv_header_optional_and_bad_rows(tmp_path):
    for name in ["a.jpg", "b.jpg", "c.jpg"]:
        _jpeg(tmp_path / "img" / name)
    plain = _write(tmp_path / "ages.csv", ["img/a.jpg,30", "img/b.jpg, 41", "img/c.jpg,7"])
    assert read_age_csv(plain)["age"].tolist() == [30, 41, 7]
    named = _write(
        tmp_path / "n.csv", ["age,path,sigma,split", "30,a.jpg,2,train", "41,b.jpg,3,test"]
    )
    df = read_age_csv(named, image_root=tmp_path / "img")
    assert df[["split", "age", "age_sigma"]].values.tolist() == [["train", 30, 2], ["test", 41, 3]]
    for lines, line, message in [
        (["img/a.jpg,30", "img/b.jpg,300"], 2, "age: expected a number in [0, 130], found '300'"),
        (["img/a.jpg,30", "img/b.jpg,1", "img/a.jpg,2"], 3, "duplicate image 'img/a.jpg'"),
        (["img/a.jpg,30", "img/b.jpg"], 2, "expected 2 fields, found 1"),
    ]:
        _write(plain, lines)
        with pytest.raises(DatasetFormatError) as err:
            read_age_csv(plain)
        assert str(err.value) == f"{plain}:{line}: {message}"
    _write(plain, ["file,years", "a.jpg,3"])
    with pytest.raises(DatasetFormatError, match="ages.csv:1: bad header: no column for 'age'"):
        read_age_csv(plain)


def test_holdout_split_is_stable_when_files_are_added():
    df = pd.DataFrame(
        {"path": [f"/d/{i}.jpg" for i in range(400)], "split": "", "identity": np.arange(400) // 4}
    )
    a = holdout_split(df, frac=0.25, seed=3)
    assert 0.15 < (a["split"] == "val").mean() < 0.35
    assert a["split"].tolist() == holdout_split(df, frac=0.25, seed=3)["split"].tolist()
    bigger = holdout_split(pd.concat([df, df.assign(path=df["path"] + "x")]), frac=0.25, seed=3)
    assert bigger["split"].iloc[:400].tolist() == a["split"].tolist()
    assert (
        holdout_split(df, seed=4)["split"].tolist() != holdout_split(df, seed=3)["split"].tolist()
    )
    by_person = holdout_split(df, by="identity", holdout="test")
    assert (by_person.groupby("identity")["split"].nunique() == 1).all()
    with pytest.raises(ValueError, match="already has a split"):
        holdout_split(a)


def test_a_tune_split_with_the_hold_out_seed_is_refused_not_left_empty():
    from lnet_anet.data.from_config import split_fit_tune

    df = pd.DataFrame({"path": [f"/d/{i}.jpg" for i in range(400)], "split": ""})
    train = holdout_split(df, frac=0.2, seed=0).query("split == 'train'")
    fit, tune = split_fit_tune(train, frac=0.1, seed=1)
    assert len(fit) + len(tune) == len(train) and 0.03 < len(tune) / len(train) < 0.2
    with pytest.raises(ValueError, match="leaves the tune part empty"):  # hash < 0.1 rows all went to the hold-out
        split_fit_tune(train, frac=0.1, seed=0)
    few = pd.DataFrame({"path": [f"/d/{i}.jpg" for i in range(32)], "identity": [i % 3 for i in range(32)]})
    tries = []  # 3 people: some seed puts none of them in a 10% tune part, and the error says why
    for seed in range(20):
        try:
            split_fit_tune(few, frac=0.1, seed=seed)
        except ValueError as e:
            tries.append(str(e))
    assert tries and "3 identities are split by identity" in tries[0] and "raise tune_split.frac" in tries[0]


# --------------------------------------------------------------------------- attractiveness


def _scut(root: Path) -> Path:
    files = root / "train_test_files"
    names = ["AF1.jpg", "AM2.jpg", "CF3.jpg", "CM4.jpg", "AF5.jpg"]
    for i, n in enumerate(names):
        _jpeg(root / "Images" / n, seed=i)
    split_dir = files / "split_of_60%training and 40%testing"
    _write(split_dir / "train.txt", ["AF1.jpg 2.883333", "AM2.jpg 1.0", "CF3.jpg 4.5"])
    _write(split_dir / "test.txt", ["CM4.jpg 3.25", "AF5.jpg 5.0"])
    fold = files / "5_folders_cross_validations_files" / "cross_validation_2"
    _write(fold / "train_2.txt", ["AF1.jpg 2.883333", "CM4.jpg 3.25"])
    _write(fold / "test_2.txt", ["AF5.jpg 5.0"])
    return root


def test_read_scut_fbp5500_splits_scores_and_groups(tmp_path):
    root = _scut(tmp_path / "SCUT-FBP5500_v2")
    df = read_scut_fbp5500(tmp_path)
    assert df["split"].tolist() == ["train"] * 3 + ["test"] * 2
    assert df["attractiveness"].tolist() == [2.883333, 1.0, 4.5, 3.25, 5.0]
    assert df["gender"].tolist() == [1, 0, 1, 0, 1] and df["race"].tolist() == [2, 2, 0, 0, 2]
    fold = read_scut_fbp5500(root, split="fold2")
    assert fold["path"].map(os.path.basename).tolist() == ["AF1.jpg", "CM4.jpg", "AF5.jpg"]
    with pytest.raises(ValueError, match="fold1'..'fold5'"):
        read_scut_fbp5500(root, split="fold6")


def test_scut_ratings_give_each_image_its_raters_spread(tmp_path):
    """Trial 67: DLDL-v2 labels each SCUT-FBP face with the spread of its raters; no reader read the
    release's All_Ratings.xlsx, so one sigma served every face. With ratings=, each image's
    attractiveness_sigma is its ratings' standard deviation (the "ALL" sheet, or every sheet)."""
    import openpyxl

    from lnet_anet.data.dataset import FaceDataset

    root = _scut(tmp_path / "SCUT-FBP5500_v2")
    ratings = {"AF1.jpg": [2, 3, 4], "AM2.jpg": [1, 1, 1], "CF3.jpg": [4, 5], "CM4.jpg": [3, 3, 4], "AF5.jpg": [5]}
    book = openpyxl.Workbook()  # no "ALL" sheet: every sheet is read
    asian, caucasian = book.active, book.create_sheet("Caucasian")
    asian.title = "Asian"
    for sheet in (asian, caucasian):
        sheet.append(["Rater", "Filename", "Rating", "original Rating"])
    for name, values in ratings.items():
        for k, v in enumerate(values):
            (asian if name.startswith("A") else caucasian).append([k + 1, name, v, v])
    book.save(tmp_path / "All_Ratings.xlsx")
    df = read_scut_fbp5500(root, ratings=tmp_path / "All_Ratings.xlsx")
    np.testing.assert_allclose(df["attractiveness_sigma"].to_numpy(), [1.0, 0.0, np.std([4, 5], ddof=1),
                                                                        np.std([3, 3, 4], ddof=1), np.nan])  # fmt: skip
    sample = FaceDataset(df, image_size=16)[0]
    assert sample["attractiveness_sigma"].item() == pytest.approx(1.0)
    table = tmp_path / "ratings.csv"  # the same as a CSV; a rating off the 1-5 scale is named
    table.write_text("Rater,Filename,Rating\n1,AF1.jpg,2\n2,AF1.jpg,6\n")
    with pytest.raises(DatasetFormatError, match=r"ratings.csv: rating '6' of 'AF1.jpg': expected a number in 1-5"):
        read_scut_fbp5500(root, ratings=table)
    table.write_text("who,image,score\n1,AF1.jpg,2\n")
    with pytest.raises(DatasetFormatError, match="expected the columns Filename and Rating"):
        read_scut_fbp5500(root, ratings=table)


def test_bad_scut_files_name_file_and_line(tmp_path):
    root = _scut(tmp_path)
    test_txt = root / "train_test_files" / "split_of_60%training and 40%testing" / "test.txt"
    _write(test_txt, ["CM4.jpg 3.25", "AF5.jpg 5.5"])
    with pytest.raises(
        DatasetFormatError, match=r"score: expected a number in \[1, 5\], found '5.5'"
    ) as err:
        read_scut_fbp5500(root)
    assert err.value.line == 2 and err.value.path == str(test_txt)
    _write(test_txt, ["CM4.jpg 3.25", "AF1.jpg 3"])
    with pytest.raises(
        DatasetFormatError, match="test.txt:2: image 'AF1.jpg' is also in train.txt"
    ):
        read_scut_fbp5500(root)


def _shipped_scut(root: Path, n: int = 40) -> Path:
    """The layout of the shared copy: Images/, All_labels.txt and train.txt, no test.txt."""
    names = [f"{g}{i}.jpg" for i in range(1, n // 4 + 1) for g in ("AF", "AM", "CF", "CM")]
    rows = [f"{name} {1 + (i % 17) / 4:.6f}" for i, name in enumerate(names)]
    for i, name in enumerate(names):
        _jpeg(root / "Images" / name, w=24, h=24, seed=i)
    _write(root / "train_test_files" / "All_labels.txt", rows)
    _write(root / "train_test_files" / "split_of_60%training and 40%testing" / "train.txt", rows, crlf=True)
    return root


def test_read_scut_as_shipped_without_test_list(tmp_path):
    root = _shipped_scut(tmp_path / "SCUT-FBP5500_v2")
    df = read_scut_fbp5500(tmp_path)
    assert len(df) == 40 and set(df["split"]) == {"train"} and df.attrs["skipped"] == []
    assert read_scut_fbp5500(root, split="all")["split"].tolist() == [""] * 40
    with pytest.raises(DatasetFormatError, match="none of its label files exists"):
        read_scut_fbp5500(root, split="fold1")


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("AF99.jpg", "expected 2 fields"),
        ("AF99.jpg 2.5 extra", "expected 2 fields"),
        ("AF99.jpg high", "score: expected a number in \\[1, 5\\], found 'high'"),
        ("AF99.jpg 0.5", "score: expected a number in \\[1, 5\\], found '0.5'"),
        ("XY99.jpg 2.5", "image name 'XY99.jpg' is not SCUT's"),
    ],
)
def test_malformed_scut_row_is_refused_or_skipped_by_file_and_line(tmp_path, bad_line, message):
    root = _shipped_scut(tmp_path)
    train = root / "train_test_files" / "split_of_60%training and 40%testing" / "train.txt"
    rows = train.read_text().splitlines()
    _write(train, rows[:3] + [bad_line] + rows[3:])
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_scut_fbp5500(root)
    assert err.value.line == 4 and err.value.path == str(train)
    with pytest.warns(UserWarning, match="left out 1 row"):
        df = read_scut_fbp5500(root, bad_rows="skip")
    assert len(df) == 40
    assert err.value.message.endswith("; to leave such rows out, each named in the log, and go on: data.index.bad_rows=skip")
    assert df.attrs["skipped"] == [f"{train}:4: {err.value.message.rsplit('; to leave such rows out', 1)[0]}"]


def test_scut_split_row_must_agree_with_all_labels(tmp_path):
    root = _shipped_scut(tmp_path)
    train = root / "train_test_files" / "split_of_60%training and 40%testing" / "train.txt"
    rows = train.read_text().splitlines()
    _write(train, [rows[0].split()[0] + " 4.9", *rows[1:]])
    with pytest.raises(DatasetFormatError, match=r"train.txt:1: score 4.9 of 'AF1.jpg' disagrees with All_labels"):
        read_scut_fbp5500(root)
    with pytest.warns(UserWarning):
        assert len(read_scut_fbp5500(root, bad_rows="skip")) == 39


def test_scut_missing_image_is_skipped(tmp_path):
    root = _shipped_scut(tmp_path)
    (root / "Images" / "CM3.jpg").unlink()
    with pytest.warns(UserWarning, match="image file not found"):
        df = read_scut_fbp5500(root)
    assert len(df) == 39 and "CM3.jpg" in df.attrs["skipped"][0]


def test_scut_folds_are_disjoint_fixed_and_balanced(tmp_path):
    from lnet_anet.data.readers.age import fold_of, fold_split

    names = [f"AF{i}.jpg" for i in range(1000)]
    folds = fold_of(names, 5, seed=0)
    assert set(folds) == {1, 2, 3, 4, 5} and all(150 < (folds == k).sum() < 250 for k in range(1, 6))
    assert fold_of(["x/" + n for n in names[:10]], 5, 0).tolist() == folds[:10].tolist()  # the file name decides
    assert fold_of(names[:10], 5, 1).tolist() != folds[:10].tolist()
    df = read_scut_fbp5500(_shipped_scut(tmp_path))
    parts = [fold_split(df, k, 5, seed=0) for k in range(1, 6)]
    held = [set(p.loc[p["split"] == "val", "path"]) for p in parts]
    assert sum(len(h) for h in held) == len(df) and set().union(*held) == set(df["path"])  # a partition
    assert all(set(p.loc[p["split"] == "train", "path"]) == set(df["path"]) - h for p, h in zip(parts, held, strict=True))
    with pytest.raises(ValueError, match="fold k must be in 1..5"):
        fold_split(df, 6, 5)


def test_build_index_fold_and_boxes(tmp_path):
    from omegaconf import OmegaConf

    from lnet_anet.data.from_config import build_index

    root = _shipped_scut(tmp_path)
    boxes = _write(tmp_path / "boxes.csv", ["name,x0,y0,x1,y1,score,faces", "AF1.jpg,2,3,20,22,5.0,1",
                                            "AM1.jpg,,,,,0,0"])  # fmt: skip
    cfg = OmegaConf.create({
        "name": "scut", "index": {"_target_": "lnet_anet.data.readers.attractiveness.read_scut_fbp5500",
                                  "root": str(root)},
        "holdout": {"frac": 0.1, "seed": 0, "by": None, "holdout": "val", "from_split": "train"},
        "fold": {"k": 2, "n": 5, "seed": 0}, "boxes": str(boxes),
    })  # fmt: skip
    index = build_index(cfg)
    assert set(index["split"]) == {"train", "val"} and (index.loc[index["split"] == "val", "fold"] == 2).all()
    assert index.attrs["fold"] == {"k": 2, "n": 5, "seed": 0}
    by_name = index.set_index(index["path"].map(os.path.basename))
    assert by_name.loc["AF1.jpg", ["x0", "y0", "x1", "y1"]].tolist() == [2, 3, 20, 22]
    assert by_name.loc["AM1.jpg", ["x0", "y0", "x1", "y1"]].tolist() == [0, 0, 24, 24]  # no face: whole image
    assert by_name.loc["CF1.jpg", ["x0", "y0", "x1", "y1"]].tolist() == [0, 0, 24, 24]  # not in the CSV
    # With data.limit, only the rows kept are matched and counted (fit_svms' "without a box" warning).
    assert index.attrs["boxes"]["whole_image"] == len(index) - 1
    cfg.limit = 1
    limited = build_index(cfg)
    assert len(limited) == 2 and limited.attrs["limit"] == 1  # one row of each split
    assert limited.attrs["boxes"]["whole_image"] == len(limited) - limited["path"].str.endswith("AF1.jpg").sum()
    del cfg.limit
    # Only crop: box reads the CSV; when it needs one that is missing, the error says how to make it.
    cfg.boxes = str(tmp_path / "missing.csv")
    cfg.crop = "full"
    assert "x0" not in build_index(cfg)
    cfg.crop = "box"
    with pytest.raises(FileNotFoundError, match="missing.csv: no such boxes CSV .*lnet_boxes"):
        build_index(cfg)


@pytest.mark.parametrize("row, said", [
    ("AF1.jpg,20,3,2,22,5.0,1", "boxes.csv:3: AF1.jpg: bad box ['20', '3', '2', '22']"),  # x0 and x1 swapped
    ("AF1.jpg,2,xx,20,22,5.0,1", "boxes.csv:3: AF1.jpg: the box ['2', 'xx', '20', '22'] is not four numbers"),
    ("AF1.jpg,2,,20,22,5.0,1", "boxes.csv:3: AF1.jpg: the box"),  # one value empty: not the no-face row
    ("AM1.jpg,1,1,9,9,5.0,1", "boxes.csv:3: 'AM1.jpg' is listed twice (first on line 2)"),
    ("AF1.jpg,2,3", "boxes.csv:3: 3 fields, the header has 7"),
])
def test_a_bad_row_of_a_boxes_csv_is_named_by_file_and_line_before_any_work(tmp_path, row, said):
    """A user trial: a swapped box in lnet_boxes' CSV surfaced minutes into training, from the
    crop, naming no file or line."""
    from omegaconf import OmegaConf

    from lnet_anet.data.errors import DatasetFormatError
    from lnet_anet.data.from_config import build_index

    root = _shipped_scut(tmp_path)
    boxes = _write(tmp_path / "boxes.csv", ["name,x0,y0,x1,y1,score,faces", "AM1.jpg,,,,,0,0", row])
    cfg = OmegaConf.create({"name": "scut", "boxes": str(boxes), "index": {
        "_target_": "lnet_anet.data.readers.attractiveness.read_scut_fbp5500", "root": str(root)}})  # fmt: skip
    with pytest.raises(DatasetFormatError) as e:
        build_index(cfg)
    assert str(e.value).startswith(str(boxes)) and said in str(e.value)


def test_a_boxes_csv_of_other_images_is_refused(tmp_path):
    from omegaconf import OmegaConf

    from lnet_anet.data.from_config import build_index
    from lnet_anet.engine.config import ConfigError

    root = _shipped_scut(tmp_path)
    boxes = _write(tmp_path / "boxes.csv", ["name,x0,y0,x1,y1,score,faces", "000001.jpg,2,3,20,22,5.0,1"])
    cfg = OmegaConf.create({"name": "scut", "boxes": str(boxes), "index": {
        "_target_": "lnet_anet.data.readers.attractiveness.read_scut_fbp5500", "root": str(root)}})  # fmt: skip
    with pytest.raises(ConfigError, match=r"boxes.csv: names none of the .* images .*'000001.jpg'"):
        build_index(cfg)


def test_a_dataset_folder_one_level_too_high_or_relative_is_said_so(tmp_path, monkeypatch):
    """UTKFace unpacked as utkface128/UTKFace/: pointing at utkface128 finds no images, and the
    error names the sub-folder that holds them; a relative path that is missing is also shown
    absolute (a relative default resolves from where the command runs)."""
    from omegaconf import OmegaConf

    from lnet_anet.data.errors import DataNotFoundError
    from lnet_anet.data.from_config import build_index
    from lnet_anet.engine.config import ConfigError

    inner = tmp_path / "utkface128" / "UTKFace"
    inner.mkdir(parents=True)
    cv2.imwrite(str(inner / "25_0_1_20170116174525125.jpg.chip.jpg"), np.zeros((8, 8, 3), np.uint8))
    cfg = OmegaConf.create({"name": "utkface", "index": {"_target_": "lnet_anet.data.readers.age.read_utkface",
                                                         "folder": str(tmp_path / "utkface128")}})  # fmt: skip
    with pytest.raises(ConfigError, match=r"found no images; .*utkface128 holds images in its sub-folder UTKFace: "
                                          r"point at one, e\.g\. data\.index\.folder=.*utkface128/UTKFace"):
        build_index(cfg)
    cfg.index.folder = str(inner)
    assert len(build_index(cfg)) == 1
    monkeypatch.chdir(tmp_path)
    from lnet_anet.data.readers.age import read_utkface

    with pytest.raises(DataNotFoundError, match=rf"^elsewhere: .*\[looked at {tmp_path / 'elsewhere'}\]"):
        read_utkface("elsewhere")



def test_a_finished_run_refuses_another_holdout_rule(tmp_path):
    """data.holdout.seed=1 on a run trained with seed 0 moves rows between train and val with the
    same counts; data.json keeps the rule, so the rerun is refused instead of scoring its own
    training images (a fresh-user trial)."""
    from omegaconf import OmegaConf

    from lnet_anet.data.from_config import build_index
    from lnet_anet.engine.lock import RunRefusedError
    from lnet_anet.engine.runs import record_data

    root = _shipped_scut(tmp_path)
    cfg = OmegaConf.create({
        "name": "scut", "index": {"_target_": "lnet_anet.data.readers.attractiveness.read_scut_fbp5500",
                                  "root": str(root)},
        "holdout": {"frac": 0.5, "seed": 0, "by": None, "holdout": "val"},
    })  # fmt: skip
    run = tmp_path / "run"
    index = build_index(cfg)
    assert index.attrs["holdout"] == {"frac": 0.5, "seed": 0, "by": None, "holdout": "val", "from_split": None}
    record_data(run, cfg, index)
    (run / "checkpoints").mkdir()
    cfg.holdout.seed = 1
    with pytest.raises(RunRefusedError, match=r"\(holdout.* differ .*holdout\.seed: 0 -> 1"):
        record_data(run, cfg, build_index(cfg))
    # a data.json written before the rule was kept: taken as today's rule, so the run goes on
    old = json.loads((run / "data.json").read_text())
    del old["holdout"]
    (run / "data.json").write_text(json.dumps(old))
    cfg.holdout.seed = 0
    record_data(run, cfg, build_index(cfg))
    # a run begun before its data left out copies of training images (UTKFace's config): told how to go on (trial 91)
    cfg.holdout.drop_copies = True
    with pytest.raises(RunRefusedError, match=r"drop_copies.*data\.holdout\.drop_copies=false reads the data as it did"):
        record_data(run, cfg, build_index(cfg))

def test_read_score_csv(tmp_path):
    for name in ["a.png", "b.png"]:
        _jpeg(tmp_path / name)
    csv = _write(tmp_path / "s.csv", ["path,score", "a.png,1.5", "b.png,4"])
    assert read_score_csv(csv)["attractiveness"].tolist() == [1.5, 4.0]
    _write(csv, ["path,score", "a.png,1.5", "b.png,0.5"])
    with pytest.raises(DatasetFormatError, match=r"s.csv:3: attractiveness: expected a number in \[1, 5\]"):
        read_score_csv(csv)
    assert read_score_csv(csv, score_range=(0, 10))["attractiveness"].tolist() == [1.5, 0.5]


# --------------------------------------------------------------------------- FaceDataset


def _index_with_box(tmp_path: Path, n: int = 3) -> pd.DataFrame:
    """Dark 80x60 images with a bright rectangle where the box says the face is."""
    rows = []
    for i in range(n):
        img = np.full((60, 80, 3), 20, np.uint8)
        x0, y0, x1, y1 = 10 + 5 * i, 12, 50 + 5 * i, 44
        img[y0:y1, x0:x1] = 230
        nose = (x0 + 12, y0 + 16)  # left of centre, and grey: shows where a flip put it
        img[nose[1] - 1 : nose[1] + 2, nose[0] - 1 : nose[0] + 2] = 120
        path = tmp_path / f"{i}.png"
        cv2.imwrite(str(path), img)
        marks = [x0 + 8, y0 + 10, x1 - 8, y0 + 10, *nose, x0 + 10, y1 - 6, x1 - 10, y1 - 6]
        box = {"x0": x0, "y0": y0, "x1": x1, "y1": y1}
        rows.append(
            {"path": str(path), "split": "train", "identity": i, "Male": i % 2, **box}
            | dict(zip(LANDMARK_HEADER.split(), marks, strict=True))
        )
    df = pd.DataFrame(rows)
    df["Male"] = df["Male"].astype(np.int8)
    df.attrs["attributes"] = ["Male"]
    return df


def _bright_box(image: torch.Tensor) -> list[float]:
    bright = (image.mean(0) > 0).numpy()  # normalised to [-1, 1]: bright pixels are > 0
    ys, xs = np.nonzero(bright)
    return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def _grey_spot(image: torch.Tensor, box: torch.Tensor) -> np.ndarray:
    """Centre of the grey spot inside the bright box (its blurred edges left aside)."""
    x0, y0, x1, y1 = (box + torch.tensor([3, 3, -3, -3])).round().int().tolist()
    ys, xs = np.nonzero((image.mean(0)[y0:y1, x0:x1] < 0.4).numpy())
    return np.array([xs.mean() + x0, ys.mean() + y0])


def test_face_dataset_full_crop_keys_and_values(tmp_path):
    ds = FaceDataset(_index_with_box(tmp_path), image_size=(30, 40))
    s = ds[1]
    assert set(s) == {"image", "attributes", "identity", "box", "landmarks", "index"}
    assert s["image"].shape == (3, 30, 40) and s["image"].dtype == torch.float32
    assert -1.0 <= s["image"].min() and s["image"].max() <= 1.0
    assert (
        s["attributes"].tolist() == [1.0] and s["identity"].dtype == torch.long and s["index"] == 1
    )
    # 80x60 -> 40x30 halves every coordinate; the box is where the bright pixels are.
    assert s["box"].tolist() == [7.5, 6.0, 27.5, 22.0]
    np.testing.assert_allclose(_bright_box(s["image"]), s["box"].numpy(), atol=1)


def test_face_dataset_box_crop_is_square_and_padded(tmp_path):
    ds = FaceDataset(_index_with_box(tmp_path), image_size=32, crop="box", enlarge=2.0)
    s = ds[0]
    # The 40x32 box, squared to 40 and doubled to 80, spans x -10..70, y -12..68: the part
    # below the 60-pixel image is black padding, the box sits in the middle half.
    np.testing.assert_allclose(s["box"].numpy(), [8, 9.6, 24, 22.4], atol=1e-5)
    np.testing.assert_allclose(_bright_box(s["image"]), s["box"].numpy(), atol=1)
    assert (s["image"][:, -2:, :] == -1).all()  # padding is black
    with pytest.raises(ValueError, match="needs the index's x0"):
        FaceDataset(_index_with_box(tmp_path).drop(columns=["x0"]), crop="box")


def test_face_dataset_train_augmentation_moves_labels_with_the_pixels(tmp_path):
    ds = FaceDataset(
        _index_with_box(tmp_path), image_size=48, crop="box", enlarge=1.6, train=True
    )
    torch.manual_seed(0)
    flipped = 0
    for _ in range(12):
        s = ds[2]
        np.testing.assert_allclose(_bright_box(s["image"]), s["box"].numpy(), atol=1.5)
        marks = s["landmarks"].view(5, 2)
        np.testing.assert_allclose(_grey_spot(s["image"], s["box"]), marks[2].numpy(), atol=1.5)
        assert marks[0, 0] < marks[1, 0] and marks[3, 0] < marks[4, 0]  # left stays left
        flipped += bool(marks[2, 0] > s["box"][[0, 2]].mean())  # the nose is left of centre
    assert 0 < flipped < 12
    torch.manual_seed(5)
    a = ds[0]["image"]
    torch.manual_seed(5)
    assert torch.equal(a, ds[0]["image"])


def test_face_dataset_skips_unreadable_images(tmp_path):
    df = _index_with_box(tmp_path)
    Path(df["path"][1]).write_bytes(b"not an image")
    ds = FaceDataset(df, image_size=16, transform=lambda img: torch.zeros(3, 16, 16))
    with pytest.warns(UserWarning, match="1.png"):
        assert ds[1] is None
    batch = collate_skip_bad([ds[i] for i in range(3)])
    assert batch["n_skipped"] == 1 and batch["index"].tolist() == [0, 2]
    assert batch["image"].shape == (2, 3, 16, 16) and batch["image"].abs().sum() == 0
    assert collate_skip_bad([None, None]) is None


@pytest.mark.parametrize(
    ("reader", "args", "key"),
    [(read_utkface, ("utkface128/UTKFace",), "folder"), (read_fgnet, ("fgnet/images",), "folder"),
     (read_celeba, ("celeba",), "root"), (read_lfwa, ("lfwa",), "root"),
     (read_scut_fbp5500, ("scut_fbp5500_train",), "root"), (read_morph, ("morph/morph.csv",), "csv_path"),
     (read_chalearn, ("chalearn/train_gt.csv", "chalearn/train"), "csv_path"),
     (read_age_csv, ("ages.csv",), "csv_path"), (read_score_csv, ("scores.csv",), "csv_path")],
)  # fmt: skip
def test_a_missing_dataset_names_its_path_and_how_to_point_at_the_data(tmp_path, reader, args, key):
    datasets = tmp_path / "no-datasets-here"
    missing = datasets / args[0]
    with pytest.raises(FileNotFoundError) as err:
        reader(*(str(datasets / a) for a in args))
    message = str(err.value)
    assert message.startswith(f"{missing}: ") and "not found" in message
    assert "paths.datasets=DIR" in message and "LNET_ANET_DATASETS" in message
    assert f"data.index.{key}=PATH" in message
    assert isinstance(err.value, DatasetFormatError)  # what the readers' callers caught before


def test_a_file_where_a_dataset_folder_belongs_and_a_missing_image_root(tmp_path):
    a_file = tmp_path / "UTKFace"
    a_file.write_text("")
    with pytest.raises(FileNotFoundError, match=f"{a_file}: UTKFace folder is not a folder"):
        read_utkface(a_file)
    (tmp_path / "train_gt.csv").write_text("image,mean,stdv\na.jpg,20,3\n")
    with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'train'}: image folder of .*train_gt.csv not found"):
        read_chalearn(tmp_path / "train_gt.csv", tmp_path / "train")
    assert len(read_chalearn(tmp_path / "train_gt.csv", tmp_path / "train", check_images=False)) == 1


def test_a_scut_root_that_is_not_a_release_says_how_to_point_at_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a SCUT-FBP5500 release .*paths.datasets=DIR"):
        read_scut_fbp5500(tmp_path)


def test_a_dataset_without_splits_names_the_partition_file_or_a_hold_out():
    from lnet_anet.data.from_config import split_of

    index = pd.DataFrame({"path": ["a.jpg", "b.jpg"], "split": ["", ""]})
    with pytest.raises(ValueError, match=r"no 'train' rows .*no image has a split: .*list_eval_partition.txt.*data.holdout="):
        split_of(index, "train")
    index["split"] = ["train", "val"]
    with pytest.raises(ValueError, match=r"no 'test' rows \(its splits: \['train', 'val'\]\); score another one"):
        split_of(index, "test")


def test_data_limit_keeps_at_most_n_rows_of_each_split_nested_and_refuses_a_bad_limit():
    import pandas as pd

    from lnet_anet.data.from_config import limit_rows
    from lnet_anet.engine.config import ConfigError

    index = pd.DataFrame({"path": [f"{i}.jpg" for i in range(50)], "split": ["train"] * 35 + ["val"] * 15})
    index.attrs = {"attributes": ["Smiling"]}
    small, large = limit_rows(index, 10), limit_rows(index, 20)
    assert small["split"].value_counts().to_dict() == {"train": 10, "val": 10}
    assert large["split"].value_counts().to_dict() == {"train": 20, "val": 15}  # a split smaller than the limit stays whole
    assert set(small["path"]) <= set(large["path"])  # a larger limit keeps a smaller one's rows
    assert list(small.index) == sorted(small.index)  # the rows stay in the index's order
    assert list(small[small["split"] == "train"].index) != list(range(10))  # drawn, not the first rows
    assert small.attrs == {"attributes": ["Smiling"], "limit": 10}
    assert set(limit_rows(index, 10)["path"]) == set(small["path"])  # fixed seed
    # rows left out of another split (drop_copies' val copies) move no training row (trial 91: 3 of 40 stayed)
    fewer = index.drop(index=index.index[index["split"] == "val"][::2])
    kept = limit_rows(fewer, 10)
    assert set(kept.loc[kept["split"] == "train", "path"]) == set(small.loc[small["split"] == "train", "path"])
    for bad in (0, -3, 2.5, "10", True):
        with pytest.raises(ConfigError, match="data.limit must be a whole number"):
            limit_rows(index, bad)


def test_draw_by_name_is_nested_stable_under_removals_and_blind_to_folders():
    import pandas as pd

    from lnet_anet.data.from_config import draw_by_name

    rows = pd.DataFrame({"path": [f"/a/{i}.jpg" for i in range(60)], "age": range(60)})
    small, large = draw_by_name(rows, 10, seed=0), draw_by_name(rows, 25, seed=0)
    assert len(small) == 10 and list(large["path"][:10]) == list(small["path"])  # a prefix of a larger draw
    assert list(small.index) != sorted(small.index)  # in the order drawn, not the frame's (a prefix is a draw too)
    assert set(draw_by_name(rows, 10, seed=1)["path"]) != set(small["path"])
    # a row left out that was not drawn moves no other row (DataFrame.sample's draw did: bench_end_to_end --limit)
    not_drawn = rows.index.difference(small.index)[:7]
    assert list(draw_by_name(rows.drop(index=not_drawn), 10, seed=0)["path"]) == list(small["path"])
    moved = rows.assign(path=rows["path"].str.replace("/a/", "/elsewhere/"))  # the file's name decides, not its folder
    assert list(draw_by_name(moved, 10, seed=0).index) == list(small.index)
    assert len(draw_by_name(rows, 100)) == 60 and draw_by_name(rows, 0).empty
    with pytest.raises(ValueError, match="cannot draw -1 rows"):
        draw_by_name(rows, -1)


def test_a_holdout_that_moves_rows_into_a_split_the_data_already_has_says_so(tmp_path, caplog):
    """LFWA's config carves val out of train; with a split file that already has val rows, val
    grew silently (a fresh-user trial): a warning now says by how much and how to turn it off."""
    import logging

    from omegaconf import OmegaConf

    from lnet_anet.data.from_config import build_index

    rows = [f"p{i:02d}.jpg,{split},{i // 2}" for i, split in enumerate(["train"] * 20 + ["val"] * 6 + ["test"] * 6)]
    table = _write(tmp_path / "index.csv", ["path,split,identity", *rows])
    cfg = OmegaConf.create({"name": "lfwa", "index": {"_target_": "pandas.read_csv", "filepath_or_buffer": str(table)},
                            "holdout": {"frac": 0.3, "seed": 0, "by": "identity", "holdout": "val",
                                        "from_split": "train"}})  # fmt: skip
    caplog.set_level(logging.INFO, logger="lnet_anet.data")
    index = build_index(cfg)
    moved = int((index["split"] == "val").sum()) - 6
    assert moved > 0 and (index["split"] == "test").sum() == 6
    (said,) = [r for r in caplog.records if "data.holdout moved" in r.getMessage()]
    assert said.levelno == logging.WARNING
    assert said.getMessage() == (f"data.holdout moved {moved} of the 20 train rows into val (the data's own split "
                                 "already had 6 val rows); data.holdout=null keeps the data's own split")  # fmt: skip
    caplog.clear()  # data without val rows: the holdout makes them, said as information
    cfg.index.filepath_or_buffer = str(_write(tmp_path / "no_val.csv", ["path,split,identity",
                                                                       *(r for r in rows if ",val," not in r)]))
    build_index(cfg)
    (said,) = [r for r in caplog.records if "data.holdout moved" in r.getMessage()]
    assert said.levelno == logging.INFO and "already had" not in said.getMessage()


def test_holdout_drop_copies_leaves_out_held_files_with_a_training_files_bytes(tmp_path, caplog):
    """UTKFace keeps byte-identical copies under other names, and a split by name put 107 copies of
    training chips in val (a fresh-user trial). data.holdout.drop_copies: true leaves such held-out
    rows out, says how many with an example, and records the count; the training side is kept."""
    import logging

    from omegaconf import OmegaConf

    from lnet_anet.data.from_config import build_index

    folder = tmp_path / "faces"
    for i in range(40):  # 20 distinct images, each under two names
        _jpeg(folder / f"{i % 20}_0_0_{i:017d}.jpg.chip.jpg", seed=i % 20)
    cfg = OmegaConf.create({"name": "utk", "index": {"_target_": "lnet_anet.data.readers.age.read_utkface",
                                                     "folder": str(folder)},
                            "holdout": {"frac": 0.4, "seed": 0, "by": None, "holdout": "val"}})  # fmt: skip
    plain = build_index(cfg)
    train_bytes = {Path(p).read_bytes() for p in plain.loc[plain["split"] == "train", "path"]}
    copies = [p for p in plain.loc[plain["split"] == "val", "path"] if Path(p).read_bytes() in train_bytes]
    assert copies  # the names hash apart: copies on both sides, as in UTKFace
    cfg.holdout.drop_copies = True
    caplog.set_level(logging.INFO, logger="lnet_anet.data")
    index = build_index(cfg)
    val = index.loc[index["split"] == "val", "path"]
    assert not any(Path(p).read_bytes() in train_bytes for p in val)
    assert len(val) == int((plain["split"] == "val").sum()) - len(copies) and set(copies).isdisjoint(val)
    assert index.loc[index["split"] == "train", "path"].tolist() == plain.loc[plain["split"] == "train", "path"].tolist()
    assert index.attrs["holdout"]["copies_left_out"] == len(copies) and index.attrs["holdout"]["drop_copies"]
    (said,) = [r for r in caplog.records if "drop_copies" in r.getMessage()]
    assert f"left out {len(copies)} of the" in said.getMessage() and " = " in said.getMessage()
    cfg.holdout.drop_copies = "yes"
    with pytest.raises(ValueError, match="drop_copies must be true or false"):
        build_index(cfg)


@pytest.mark.parametrize("command", ["train_anet", "fit_svms", "train_lnet"])
def test_lfwas_shipped_holdout_leaves_the_attribute_commands_a_tune_part(command):
    """data=lfwa's hold-out and the commands' tune_split hashed identities with one seed, so every
    identity the tune part would take had gone to val: the tune part was always empty (a trial,
    session 56)."""
    from omegaconf import OmegaConf

    from lnet_anet.data.from_config import split_fit_tune

    conf = Path(__file__).resolve().parents[1] / "lnet_anet" / "conf"
    rule = OmegaConf.to_container(OmegaConf.load(conf / "data" / "lfwa.yaml").holdout)
    tune = OmegaConf.load(conf / f"{command}.yaml").tune_split
    people = pd.DataFrame({"path": [f"p{i}_{k}.jpg" for i in range(2000) for k in range(3)],
                           "identity": np.repeat(np.arange(2000), 3)})  # fmt: skip
    held = holdout_split(people, frac=rule["frac"], seed=rule["seed"], by=rule["by"], holdout=rule["holdout"])
    train = held[held["split"] == "train"]
    fit, tuned = split_fit_tune(train, tune.frac, tune.seed)
    assert 0.05 < len(tuned) / len(train) < 0.15 and len(fit) + len(tuned) == len(train)


def test_crop_box_with_an_image_missing_from_the_box_file_is_one_config_error(tmp_path):
    """A list_bbox_celeba.txt missing a row gave a warning, then a traceback from the dataset after
    the run folder was made (a fresh-user trial, session 56)."""
    from omegaconf import OmegaConf

    from lnet_anet.data.from_config import build_index
    from lnet_anet.engine.config import ConfigError

    rows = ["path,split,x0,y0,x1,y1", "a.jpg,train,1,1,20,20", "b.jpg,train,,,,", "c.jpg,val,2,2,30,30"]
    table = _write(tmp_path / "index.csv", rows)
    cfg = OmegaConf.create({"name": "celeba", "crop": "box",
                            "index": {"_target_": "pandas.read_csv", "filepath_or_buffer": str(table)}})  # fmt: skip
    with pytest.raises(ConfigError, match=r"data.crop=box: 1 of the 3 images have no face box, e.g. b.jpg .*data.crop=full"):
        build_index(cfg)
    cfg.crop = "full"  # the whole images: no box needed
    assert len(build_index(cfg)) == 3


def test_a_tune_split_emptied_by_the_holdouts_seed_says_so_first():
    """The trial's LFWA case: the message blamed too few identities when one seed had emptied the part."""
    from lnet_anet.data.from_config import split_fit_tune
    from lnet_anet.engine.config import ConfigError

    people = pd.DataFrame({"path": [f"p{i}_{k}.jpg" for i in range(300) for k in range(2)],
                           "identity": np.repeat(np.arange(300), 2)})  # fmt: skip
    held = holdout_split(people, frac=0.1, seed=0, by="identity")
    train = held[held["split"] == "train"]
    train.attrs = {"holdout": {"frac": 0.1, "seed": 0, "by": "identity", "holdout": "val", "from_split": None}}
    with pytest.raises(ConfigError, match=r"leaves the tune part empty: data.holdout .* hashed the same identities with "
                                          r"the same seed, .* set tune_split.seed \(or data.holdout.seed\)"):  # fmt: skip
        split_fit_tune(train, 0.1, 0)
    assert len(split_fit_tune(train, 0.1, 1)[1]) > 0


def test_a_label_file_short_of_some_of_celebas_attributes_says_which(tmp_path):
    """Trial 83: an LFWA file without Young trained a 39-attribute model, and nothing said so."""
    rel = _lfw(tmp_path)
    labels = (_labels(5) > 0).astype(int)
    kept = [a for a in CELEBA_ATTRIBUTES if a != "Young"]
    _write_mat(tmp_path / "lfw_att_40.mat", {"name": rel, "label": labels[:, [CELEBA_ATTRIBUTES.index(a) for a in kept]],
                                             "AttrName": kept}, False)  # fmt: skip
    with pytest.warns(UserWarning, match=r"lfw_att_40.mat: lacks 1 of CelebA's 40 attributes \(Young\); a model trained on it has no Young"):
        df = read_lfwa(tmp_path, n_train=3)
    assert "Young" not in df.columns and df.attrs["attributes"] == kept
    import warnings

    _write_mat(tmp_path / "lfw_att_40.mat", {"name": rel, "label": labels[:, :5], "AttrName": list(CELEBA_ATTRIBUTES[:5])},
               False)  # fmt: skip
    with warnings.catch_warnings():  # a set of a few of them is a set of one's own: not warned
        warnings.simplefilter("error")
        assert read_lfwa(tmp_path, n_train=3).attrs["attributes"] == list(CELEBA_ATTRIBUTES[:5])


def test_the_hold_out_a_dataset_without_splits_is_told_to_use_leaves_a_tune_part():
    """Trial 83: pasting the suggested data.holdout (seed 0) into train_anet hit its tune split's seed 0,
    which then took no image: a second error."""
    import re

    from omegaconf import OmegaConf

    from lnet_anet.data.from_config import no_rows_error, split_fit_tune

    message = str(no_rows_error("train", [""]))
    rule = OmegaConf.to_container(OmegaConf.create(re.search(r"data.holdout='(\{.*?\})'", message).group(1)))
    tune = OmegaConf.load(Path(__file__).resolve().parents[1] / "lnet_anet" / "conf" / "train_anet.yaml").tune_split
    photos = pd.DataFrame({"path": [f"{i:06d}.jpg" for i in range(3000)], "identity": -1})
    held = holdout_split(photos, frac=rule["frac"], seed=rule["seed"], by=rule["by"], holdout=rule["holdout"])
    fit, tuned = split_fit_tune(held[held["split"] == "train"], tune.frac, tune.seed)
    assert len(tuned) > 100 and len(fit) > 1000
