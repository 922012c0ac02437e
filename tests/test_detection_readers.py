"""Face-detection benchmark readers (WIDER FACE txt/.mat, FDDB, CSV, VOC XML) on generated files."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from lnet_anet.data.errors import DatasetFormatError
from lnet_anet.data.readers.detection import (
    ellipse_to_box,
    mark_small,
    n_faces,
    read_box_csv,
    read_fddb,
    read_voc_xml,
    read_wider_mat,
    read_wider_txt,
)

WIDER_TXT = """0--Parade/0_Parade_a_1.jpg
2
10 20 30 40 0 0 0 0 0 0$
50 60 8 10 2 1 0 1 2 1$
0--Parade/0_Parade_a_2.jpg
0
0 0 0 0 0 0 0 0 0 0$
1--Handshaking/1_Handshaking_b_3.jpg
1
5 5 100 120 1 0 1 0 1 0$
""".replace("$", " ")  # official rows end in a space


def _wider_tree(tmp_path):
    split = tmp_path / "wider_face_split"
    split.mkdir()
    (tmp_path / "WIDER_train" / "images").mkdir(parents=True)
    f = split / "wider_face_train_bbx_gt.txt"
    f.write_text(WIDER_TXT)
    return f


def test_read_wider_txt_boxes_flags_and_empty_images(tmp_path):
    df = read_wider_txt(_wider_tree(tmp_path))
    assert list(df["name"]) == ["0--Parade/0_Parade_a_1.jpg", "0--Parade/0_Parade_a_2.jpg",
                                "1--Handshaking/1_Handshaking_b_3.jpg"]  # fmt: skip
    assert df["path"][0] == str(tmp_path / "WIDER_train" / "images" / "0--Parade" / "0_Parade_a_1.jpg")
    np.testing.assert_array_equal(df["boxes"][0], [[10, 20, 40, 60], [50, 60, 58, 70]])  # x + w
    assert df["boxes"][1].shape == (0, 4) and df["dont_care"][1].shape == (0,)
    assert list(df["invalid"][0]) == [0, 1] and list(df["dont_care"][0]) == [False, True]
    assert list(df["blur"][0]) == [0, 2] and list(df["occlusion"][0]) == [0, 2]
    assert list(df["pose"][0]) == [0, 1] and list(df["illumination"][2]) == [1]
    assert n_faces(df) == (2, 1)
    small = mark_small(df, min_height=24)  # the 10 px high face is don't-care anyway, 40 px counts
    assert list(small["dont_care"][0]) == [False, True]
    assert list(mark_small(df, 50)["dont_care"][0]) == [True, True]
    assert list(df["dont_care"][0]) == [False, True]  # the original is untouched


def test_read_wider_txt_count_zero_without_its_line_of_zeros(tmp_path):
    f = tmp_path / "wider_face_val_bbx_gt.txt"
    f.write_text(WIDER_TXT.replace("0 0 0 0 0 0 0 0 0 0 \n", ""))
    df = read_wider_txt(f)
    assert len(df) == 3 and df["boxes"][1].shape == (0, 4) and df["boxes"][2].shape == (1, 4)


@pytest.mark.parametrize(
    "text, line, message",
    [
        (WIDER_TXT.replace("50 60 8 10 2 1 0 1 2 1", "50 60 8 10 2 1 0"), 4, "10 fields"),
        (WIDER_TXT.replace("5 5 100 120", "5 5 -100 120"), 10, "negative size"),
        (WIDER_TXT.replace("10 20 30 40 0 0 0 0 0 0", "10 20 30 4x 0 0 0 0 0 0"), 3, "not a number"),
        (WIDER_TXT.replace("\n2\n", "\ntwo\n"), 2, "face count"),
        (WIDER_TXT.replace("50 60 8 10 2 1 0 1 2 1", "50 60 8 10 3 1 0 1 2 1"), 4, "flag out of range"),
        (WIDER_TXT.replace("1\n5 5 100 120", "3\n5 5 100 120"), 9, "file ends"),
        (WIDER_TXT.replace("0 0 0 0 0 0 0 0 0 0", "150 60 50 60 0 0 0 1 0 0"), 7, "count says 0 faces, but a face box"),
        (WIDER_TXT + "0--Parade/0_Parade_a_1.jpg\n0\n", 11, r"0_Parade_a_1.jpg is listed twice \(first on line 1\)"),
        (WIDER_TXT.replace("2\n10 20", "3\n10 20"), 2, "count says 3 faces, 2 face lines follow"),
        (WIDER_TXT.replace("1\n5 5 100 120 1 0 1 0 1 0 \n", "2\n5 5 100 120 1 0 1 0 1 0 \n\n\n"), 9,
         "count says 2 faces, 1 face lines follow"),
        # NaN/inf: said as such (a NaN once read as "negative size or flag out of range")
        (WIDER_TXT.replace("5 5 100 120", "5 5 nan 120"), 10, r"w is 'nan', not a finite number \(in '5 5 nan 120"),
        (WIDER_TXT.replace("50 60 8 10 2 1", "50 -inf 8 10 2 1"), 4, r"y is '-inf', not a finite number"),
        (WIDER_TXT.replace("50 60 8 10 2 1", "50 60 8 10 NaN 1"), 4, r"blur is 'NaN', not a finite number"),
        # a file that ends right after an image name (it once said "found ''")
        (WIDER_TXT + "2--Demo/2_Demo_c_4.jpg\n", 11, r"the file ends after image name 2--Demo/2_Demo_c_4.jpg, where "
                                                     r"its face count was expected"),
        (WIDER_TXT + "2--Demo/2_Demo_c_4.jpg", 11, "the file ends after image name"),  # no last newline
        (WIDER_TXT + "2--Demo/2_Demo_c_4.jpg\n\n\n", 11, "the file ends after image name"),
        (WIDER_TXT.replace("a_1.jpg\n2\n", "a_1.jpg\n\n2\n"), 2, "expected the face count of .*, found a blank line"),
    ],
)
def test_read_wider_txt_names_file_and_line_of_a_bad_row(tmp_path, text, line, message):
    f = tmp_path / "wider_face_val_bbx_gt.txt"
    f.write_text(text)
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_wider_txt(f)
    assert err.value.line == line and err.value.path == str(f)


def _cell(items):
    out = np.empty((len(items), 1), dtype=object)
    for i, x in enumerate(items):
        out[i, 0] = x
    return out


def test_read_wider_mat_official_field_names(tmp_path):
    from scipy.io import savemat

    boxes_a = [np.array([[10.0, 20, 30, 40], [50, 60, 8, 10]]), np.zeros((0, 4))]
    boxes_b = [np.array([[5.0, 5, 100, 120]])]
    flags = {
        "blur": [[np.array([[0], [2]]), np.zeros((0, 1))], [np.array([[1]])]],
        "invalid": [[np.array([[0], [1]]), np.zeros((0, 1))], [np.array([[0]])]],
    }
    mat = {
        "event_list": _cell(["0--Parade", "1--Handshaking"]),
        "file_list": _cell([_cell(["0_Parade_a_1", "0_Parade_a_2"]), _cell(["1_Handshaking_b_3"])]),
        "face_bbx_list": _cell([_cell(boxes_a), _cell(boxes_b)]),
    }
    for name in ("blur", "expression", "illumination", "invalid", "occlusion", "pose"):
        per_event = flags.get(name, [[np.zeros((2, 1)), np.zeros((0, 1))], [np.zeros((1, 1))]])
        mat[f"{name}_label_list"] = _cell([_cell(e) for e in per_event])
    f = tmp_path / "wider_face_train.mat"
    savemat(str(f), mat)
    df = read_wider_mat(f, images=tmp_path)
    (tmp_path / "t").mkdir()
    txt = read_wider_txt(_wider_tree(tmp_path / "t"), images=tmp_path)
    assert list(df["name"]) == list(txt["name"])
    assert list(df["path"]) == list(txt["path"])
    for a, b in zip(df["boxes"], txt["boxes"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert list(df["blur"][0]) == [0, 2] and list(df["dont_care"][0]) == [False, True]
    # Only the three lists the evaluation tools' ground truth has: flags read as 0.
    f2 = tmp_path / "gt.mat"
    savemat(str(f2), {k: mat[k] for k in ("event_list", "file_list", "face_bbx_list")})
    df2 = read_wider_mat(f2, images=tmp_path)
    assert not any(dc.any() for dc in df2["dont_care"])
    savemat(str(f2), {k: mat[k] for k in ("event_list", "file_list")})
    with pytest.raises(DatasetFormatError, match="face_bbx_list"):
        read_wider_mat(f2)
    # A box of 3 numbers, or a flag out of WIDER's range, is named where it is, as the .txt reader does.
    bad = {**mat, "face_bbx_list": _cell([_cell(boxes_a), _cell([np.array([[1.0, 2, 3]])])])}
    savemat(str(f2), bad)
    with pytest.raises(DatasetFormatError, match=r"face_bbx_list\{2\}\{1\} \(1--Handshaking/1_Handshaking_b_3\): "
                                                 r"boxes must be rows of 4 numbers \(x y w h\), got shape 1x3"):
        read_wider_mat(f2, images=tmp_path)
    bad = {**mat, "face_bbx_list": _cell([_cell(boxes_a), _cell([np.array([[5.0, np.nan, 100, 120]])])])}
    savemat(str(f2), bad)
    with pytest.raises(DatasetFormatError, match=r"face_bbx_list\{2\}\{1\} .*: box 1 \[5.0, nan, 100.0, 120.0\] holds a "
                                                 r"value that is not a finite number"):
        read_wider_mat(f2, images=tmp_path)
    bad = {**mat, "face_bbx_list": _cell([_cell(boxes_a), _cell([np.array([[5.0, 5, -100, 120]])])])}
    savemat(str(f2), bad)
    with pytest.raises(DatasetFormatError, match=r"face_bbx_list\{2\}\{1\} .*: box 1 .* has a negative size"):
        read_wider_mat(f2, images=tmp_path)
    bad = {**mat, "blur_label_list": _cell([_cell([np.array([[0], [9]]), np.zeros((0, 1))]), _cell([np.array([[1]])])])}
    savemat(str(f2), bad)
    with pytest.raises(DatasetFormatError, match=r"face_bbx_list\{1\}\{1\} .*blur label out of range 0-2"):
        read_wider_mat(f2, images=tmp_path)


def _wider_eval_mat(path, boxes, gt_list=None):
    """A .mat as WIDER's evaluation tools ship it: one event, one image per box list; gt_list (the
    faces that count in wider_{easy,medium,hard}_val.mat), 1-based, when given."""
    from scipy.io import savemat

    names = [f"0_Parade_a_{k + 1}" for k in range(len(boxes))]
    mat = {"event_list": _cell(["0--Parade"]), "file_list": _cell([_cell(names)]),
           "face_bbx_list": _cell([_cell([np.asarray(b, float).reshape(-1, 4) for b in boxes])])}  # fmt: skip
    if gt_list is not None:
        mat["gt_list"] = _cell([_cell([np.asarray(g, float).reshape(-1, 1) for g in gt_list])])
    savemat(str(path), mat)
    return path


def test_read_wider_mat_takes_an_evaluation_settings_gt_list(tmp_path):
    """Trial 66: wider_easy_val.mat was read as every face: its gt_list (the faces that count in
    the easy setting) was ignored without a word, so a score on it was not WIDER Easy."""
    boxes = [[[10, 20, 30, 40], [50, 60, 80, 90], [0, 0, 12, 14]], [[5, 5, 100, 120]]]
    easy = read_wider_mat(_wider_eval_mat(tmp_path / "wider_easy_val.mat", boxes, [[2], [1]]), images=tmp_path)
    assert [dc.tolist() for dc in easy["dont_care"]] == [[True, False, True], [False]]
    assert easy.attrs["setting"] == "WIDER easy" and n_faces(easy) == (2, 2)
    whole = read_wider_mat(_wider_eval_mat(tmp_path / "wider_face_val.mat", boxes), images=tmp_path)
    assert n_faces(whole) == (4, 0) and whole.attrs["setting"] is None
    with pytest.raises(DatasetFormatError, match=r"gt_list\{1\}\{1\} \(0--Parade/0_Parade_a_1\): face index 4 is not "
                                                 r"one of the image's 3 faces"):  # fmt: skip
        read_wider_mat(_wider_eval_mat(tmp_path / "wider_hard_val.mat", boxes, [[1, 4], [1]]), images=tmp_path)


def test_wider_faces_of_zero_width_or_height_are_dont_care_and_said(tmp_path):
    """Trial 66: a face `10 10 0 30` counted as a face no box can overlap (IoU 0 with any box), so
    even the labels scored against themselves lost recall, without a word."""
    f = tmp_path / "wider_face_val_bbx_gt.txt"
    f.write_text(WIDER_TXT.replace("50 60 8 10 2 1 0 1 2 1", "50 60 0 30 2 1 0 0 2 1"))
    with pytest.warns(UserWarning, match=r"wider_face_val_bbx_gt.txt:4: a face of zero width or height \(1 in all\): "
                                         "read as don't-care"):  # fmt: skip
        df = read_wider_txt(f)
    assert df["dont_care"][0].tolist() == [False, True] and n_faces(df) == (2, 1)
    with pytest.warns(UserWarning, match=r"face_bbx_list\{1\}\{2\} \(0--Parade/0_Parade_a_2\) box 1: a face of zero "
                                         r"width or height \(2 in all\)"):  # fmt: skip
        df = read_wider_mat(_wider_eval_mat(tmp_path / "wider_face_val.mat", [[[1, 2, 3, 4]], [[0, 0, 5, 0], [1, 1, 0, 9]]]),
                            images=tmp_path)  # fmt: skip
    assert [dc.tolist() for dc in df["dont_care"]] == [[False], [True, True]]


def test_ellipse_to_box_is_the_bounding_box_of_the_rotated_ellipse():
    np.testing.assert_allclose(ellipse_to_box(20, 10, 0.0, 100, 50), [80, 40, 120, 60])
    np.testing.assert_allclose(ellipse_to_box(20, 10, math.pi / 2, 100, 50), [90, 30, 110, 70], atol=1e-9)
    half = math.sqrt((20**2 + 10**2) / 2)
    np.testing.assert_allclose(ellipse_to_box(20, 10, math.pi / 4, 0, 0), [-half, -half, half, half])
    # The box touches the ellipse: the extreme x of sampled boundary points equals its half width.
    t = np.linspace(0, 2 * np.pi, 100001)
    a, b, ang = 30.0, 12.0, 0.7
    x = a * np.cos(t) * np.cos(ang) - b * np.sin(t) * np.sin(ang)
    y = a * np.cos(t) * np.sin(ang) + b * np.sin(t) * np.cos(ang)
    np.testing.assert_allclose(ellipse_to_box(a, b, ang, 0, 0), [x.min(), y.min(), x.max(), y.max()], atol=1e-6)


def _fddb(tmp_path, ellipses: str, fold: str = "2002/08/11/big/img_591\n2002/08/26/big/img_265\n"):
    d = tmp_path / "FDDB-folds"
    d.mkdir(exist_ok=True)
    (d / "FDDB-fold-01.txt").write_text(fold)
    (d / "FDDB-fold-01-ellipseList.txt").write_text(ellipses)
    (tmp_path / "originalPics").mkdir(exist_ok=True)
    return d


FDDB_ELLIPSES = """2002/08/26/big/img_265
2
20 10 0 100 50  1
67.363819 44.511485 -1.476417 105.249970 87.209036  1
2002/08/11/big/img_591
1
123.583300 85.549500 1.265839 269.693400 161.781200  1
"""


def test_read_fddb_folds_in_fold_order(tmp_path):
    df = read_fddb(_fddb(tmp_path, FDDB_ELLIPSES), folds=[1])
    assert list(df["name"]) == ["2002/08/11/big/img_591", "2002/08/26/big/img_265"]
    assert df["path"][0] == str(tmp_path / "originalPics" / "2002/08/11/big/img_591.jpg")
    np.testing.assert_allclose(df["boxes"][1][0], [80, 40, 120, 60])
    b = df["boxes"][0][0]
    assert b[3] - b[1] > b[2] - b[0]  # a near-vertical major axis: a face taller than wide
    np.testing.assert_allclose((b[:2] + b[2:]) / 2, [269.6934, 161.7812])
    assert df["boxes"][1].shape == (2, 4) and not df["dont_care"][1].any()


def test_read_fddb_finds_the_pictures_unpacked_beside_the_folds(tmp_path):
    """originalPics.tar.gz unpacks to 2002/ and 2003/: beside FDDB-folds/, with no originalPics/."""
    d = _fddb(tmp_path, FDDB_ELLIPSES)
    (tmp_path / "originalPics").rmdir()
    (tmp_path / "2002").mkdir()
    df = read_fddb(d, folds=[1])
    assert df["path"][0] == str(tmp_path / "2002/08/11/big/img_591.jpg")


@pytest.mark.parametrize(
    "text, fold, where, message",
    [
        (FDDB_ELLIPSES.replace(" 1.265839 269.693400", ""), None, ("ellipseList.txt", 7), "6 fields"),
        (FDDB_ELLIPSES.replace("\n2\n", "\nx\n"), None, ("ellipseList.txt", 2), "face count"),
        (FDDB_ELLIPSES.replace("123.583300", "-1"), None, ("ellipseList.txt", 7), "bad ellipse"),
        # degrees where FDDB has radians (a fresh-user trial): refused, not a box turned the wrong way
        (FDDB_ELLIPSES.replace("1.265839", "72.53"), None, ("ellipseList.txt", 7), "angle 72.53 is beyond"),
        (FDDB_ELLIPSES, "2002/08/11/big/img_591\n2002/08/26/big/img_999\n", ("fold-01.txt", 2), "no entry"),
        (FDDB_ELLIPSES, "2002/08/11/big/img_591\n2002/08/26/big/img_265\n2002/08/11/big/img_591\n",
         ("fold-01.txt", 3), r"img_591 is listed twice \(first on line 1\)"),
        (FDDB_ELLIPSES.replace("123.583300", "nan"), None, ("ellipseList.txt", 7),
         r"major_radius is 'nan', not a finite number"),
        (FDDB_ELLIPSES.replace("269.693400", "inf"), None, ("ellipseList.txt", 7), r"centre_x is 'inf', not a finite number"),
        # an image of the ellipse list that its fold does not list: the ellipse list's line of it
        (FDDB_ELLIPSES, "2002/08/11/big/img_591\n", ("ellipseList.txt", 1), r"img_265 is not in FDDB-fold-01.txt$"),
        (FDDB_ELLIPSES + "2002/08/30/big/img_1\n0\n", "2002/08/11/big/img_591\n", ("ellipseList.txt", 1),
         r"img_265 is not in FDDB-fold-01.txt \(nor are 1 more of its images\)"),
        (FDDB_ELLIPSES + "2002/08/26/big/img_265\n0\n", None, ("ellipseList.txt", 8),
         r"img_265 is listed twice \(first on line 1\)"),
    ],
)
def test_read_fddb_names_file_and_line(tmp_path, text, fold, where, message):
    d = _fddb(tmp_path, text, **({"fold": fold} if fold else {}))
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_fddb(d, folds=[1])
    assert err.value.path.endswith(where[0]) and err.value.line == where[1]


def test_read_box_csv_with_and_without_header(tmp_path):
    f = tmp_path / "boxes.csv"
    f.write_text("path,x0,y0,x1,y1\na.jpg,1,2,11,22\nempty.jpg,,,,\na.jpg,30,30,40,45\nsub/b.jpg,0,0,5,5\n")
    df = read_box_csv(f)
    assert list(df["name"]) == ["a.jpg", "empty.jpg", "sub/b.jpg"]
    np.testing.assert_array_equal(df["boxes"][0], [[1, 2, 11, 22], [30, 30, 40, 45]])
    assert df["boxes"][1].shape == (0, 4)
    assert df["path"][2] == str(tmp_path / "sub" / "b.jpg")
    g = tmp_path / "noheader.csv"
    g.write_text("a.jpg,1,2,11,22,0\na.jpg,30,30,40,45,1\n")
    assert list(read_box_csv(g, images="/imgs")["dont_care"][0]) == [False, True]
    assert read_box_csv(g, images="/imgs")["path"][0] == "/imgs/a.jpg"


def test_read_box_csv_warns_of_a_box_listed_twice_for_one_image(tmp_path):
    """A fresh-user trial: the same box twice counted as two faces, halving the image's recall, silently."""
    f = tmp_path / "boxes.csv"
    f.write_text("a.jpg,1,2,11,22\nb.jpg,1,2,11,22\na.jpg,1,2,11,22\n")
    with pytest.warns(UserWarning, match=r"boxes.csv: 1 rows repeat a box of the same image \(line 3\)"):
        df = read_box_csv(f)
    assert len(df["boxes"][0]) == 2  # still read as written
    g = tmp_path / "fine.csv"
    g.write_text("a.jpg,1,2,11,22\nb.jpg,1,2,11,22\n")  # the same box in two images is no repeat
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_box_csv(g)


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("path,x0,y0,x1,y1\na.jpg,1,2,11\n", 2, "expected 5 fields"),
        ("path,x0,y0,x1,y1\na.jpg,1,2,11,22\nb.jpg,1,2,z,22\n", 3, "not a number"),
        ("a.jpg,10,2,1,22\n", 1, "bad box"),
        ("a.jpg,10,2,11,22\nb.jpg,10,2,10,22\n", 2, r"bad box .* \(need x0 < x1"),  # no area: never matched
        ("path,left,top,right,bottom\n", 1, "header"),
        ("a.jpg,1,2,11,22,maybe\n", 1, "dont_care"),
        ("a.jpg,1,2,11,22\nb.jpg,1,2,inf,22\n", 2, r"x1 is 'inf', not a finite number \(in '1,2,inf,22'\)"),
        ("a.jpg,nan,2,11,22\n", 1, r"x0 is 'nan', not a finite number"),
    ],
)
def test_read_box_csv_names_file_and_line(tmp_path, text, line, message):
    f = tmp_path / "boxes.csv"
    f.write_text(text)
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_box_csv(f)
    assert err.value.line == line and err.value.path == str(f)


VOC = """<annotation>
  <folder>faces</folder>
  <filename>{name}</filename>
  <size><width>200</width><height>100</height><depth>3</depth></size>
  <object>
    <name>face</name>
    <difficult>0</difficult>
    <bndbox><xmin>11</xmin><ymin>21</ymin><xmax>40</xmax><ymax>60</ymax></bndbox>
  </object>
  <object>
    <name>person</name>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>100</xmax><ymax>100</ymax></bndbox>
  </object>
  <object>
    <name>Face</name>
    <difficult>1</difficult>
    <bndbox><xmin>101</xmin><ymin>1</ymin><xmax>{xmax}</xmax><ymax>10</ymax></bndbox>
  </object>
</annotation>
"""


def test_read_voc_xml_faces_difficult_and_one_based_corners(tmp_path):
    ann = tmp_path / "Annotations"
    ann.mkdir()
    (tmp_path / "JPEGImages").mkdir()
    (ann / "b.xml").write_text(VOC.format(name="b.jpg", xmax=110))
    (ann / "a.xml").write_text("<annotation><filename>a.jpg</filename></annotation>")
    df = read_voc_xml(ann)
    assert list(df["name"]) == ["a.jpg", "b.jpg"]
    assert df["boxes"][0].shape == (0, 4)
    np.testing.assert_array_equal(df["boxes"][1], [[10, 20, 40, 60], [100, 0, 110, 10]])
    assert list(df["dont_care"][1]) == [False, True]
    assert df["path"][1] == str(tmp_path / "JPEGImages" / "b.jpg")
    assert read_voc_xml(ann, classes=("person",))["boxes"][1].shape == (1, 4)
    # no object of the classes asked for: every image would read as face-free, so it is said
    with pytest.warns(UserWarning, match=r"no object is named cat, .*named face, person"):
        assert not any(len(b) for b in read_voc_xml(ann, classes=("cat",))["boxes"])


@pytest.mark.parametrize(
    "text, line, message",
    [
        (VOC.format(name="b.jpg", xmax="1x0"), 17, "not a number"),
        (VOC.format(name="b.jpg", xmax=50), 17, "bad box"),
        (VOC.format(name="b.jpg", xmax=110).replace("<ymax>60</ymax>", "<ymax>60</ymx>"), 8, "XML"),
        (VOC.format(name="b.jpg", xmax=110).replace("<ymin>21</ymin>", ""), 8, "ymin"),
        (VOC.format(name="b.jpg", xmax="nan"), 17, r"<xmax> is 'nan', not a finite number"),  # once read silently
        (VOC.format(name="b.jpg", xmax=110).replace("<ymin>21</ymin>", "<ymin>-inf</ymin>"), 8,
         r"<ymin> is '-inf', not a finite number"),
    ],
)
def test_read_voc_xml_names_file_and_line(tmp_path, text, line, message):
    f = tmp_path / "b.xml"
    f.write_text(text)
    with pytest.raises(DatasetFormatError, match=message) as err:
        read_voc_xml([f])
    assert err.value.line == line and err.value.path == str(f)


def test_read_voc_xml_refuses_two_files_naming_one_image(tmp_path):
    """A trial: a copy of an annotation file (`b (1).xml` beside `b.xml`) scored its image twice,
    silently. Now the second file is named, with the first."""
    ann = tmp_path / "Annotations"
    ann.mkdir()
    (ann / "b.xml").write_text(VOC.format(name="b.jpg", xmax=110))
    (ann / "c.xml").write_text(VOC.format(name="b.jpg", xmax=110))
    with pytest.raises(DatasetFormatError, match=r"<filename> b.jpg is named by .*b.xml too") as err:
        read_voc_xml(ann)
    assert err.value.path == str(ann / "c.xml")


def test_read_voc_xml_warns_of_boxes_wholly_outside_the_image_size(tmp_path):
    """A fresh-user trial: a box beyond its image was read silently and scored as a missed face."""
    f = tmp_path / "b.xml"
    # the 200x100 image: xmin 201 is column 200 (0-based), past the last one; ymax 0 ends above row 0
    f.write_text(VOC.format(name="b.jpg", xmax=250).replace("<xmin>101</xmin>", "<xmin>201</xmin>")
                 .replace("<ymin>21</ymin><xmax>40</xmax><ymax>60</ymax>", "<ymin>-9</ymin><xmax>40</xmax><ymax>0</ymax>"))
    with pytest.warns(UserWarning) as record:
        df = read_voc_xml([f])
    assert len(record) == 1  # once per file
    assert str(record[0].message).startswith(f"{f}: 2 boxes lie wholly outside the 200x100 image its <size> gives "
                                             "(lines 8, 17); kept")  # fmt: skip
    assert df["boxes"][0].shape == (2, 4)  # not dropped
    # touching the edges is inside; no <size>, or a size of 0 ("unknown"), is no check
    f.write_text(VOC.format(name="b.jpg", xmax=250).replace("<xmin>101</xmin>", "<xmin>200</xmin>"))  # x0 = 199
    g = tmp_path / "c.xml"
    g.write_text(VOC.format(name="c.jpg", xmax=250).replace("<xmin>101</xmin>", "<xmin>201</xmin>")
                 .replace("<width>200</width>", "<width>0</width>"))
    h = tmp_path / "d.xml"
    h.write_text(VOC.format(name="d.jpg", xmax=250).replace("<xmin>101</xmin>", "<xmin>201</xmin>")
                 .replace("<size><width>200</width><height>100</height><depth>3</depth></size>", ""))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_voc_xml([f, g, h])) == 3


def test_hash_part_is_fixed_by_name_alone():
    from lnet_anet.data.readers.detection import hash_part

    names = [f"ev/{i}.jpg" for i in range(2000)]
    part = hash_part(names)
    assert set(part) == {"tune", "val"}
    assert abs((part == "val").mean() - 0.3) < 0.04
    assert list(hash_part(names[::-1])) == list(part[::-1])  # order does not matter
    assert list(hash_part(names[:7])) == list(part[:7])  # nor which other names are there
    assert (hash_part(names, seed="other") != part).any()
    assert set(hash_part(names, 0.0)) == {"tune"} and set(hash_part(names, 1.0)) == {"val"}


def test_missing_label_files_and_folders_are_file_not_found_errors_naming_them(tmp_path):
    missing = tmp_path / "nowhere"
    cases = [(read_wider_mat, missing / "wider_face_val.mat", "WIDER FACE label file not found"),
             (read_wider_txt, missing / "wider_face_val_bbx_gt.txt", "missing label file"),
             (read_fddb, missing, "FDDB folds folder not found"), (read_voc_xml, missing, "VOC annotation folder not found"),
             (read_box_csv, missing / "boxes.csv", "missing label file")]  # fmt: skip
    for reader, path, message in cases:
        with pytest.raises(FileNotFoundError) as err:
            reader(path)
        assert str(err.value) == f"{path}: {message}", reader.__name__


def test_read_voc_xml_warns_of_a_size_other_than_its_images(tmp_path):
    """Trial 83: a <size> of 320x240 written for every file, whatever the image, was read without a
    word (boxes drawn on another copy of a photo could never match). The image's size as displayed
    is compared: a phone photo stored turned (EXIF 6) has its width and height swapped."""
    import cv2
    from PIL import Image

    ann, images = tmp_path / "Annotations", tmp_path / "JPEGImages"
    ann.mkdir()
    images.mkdir()
    cv2.imwrite(str(images / "b.jpg"), np.zeros((100, 200, 3), np.uint8))  # as <size> says: 200x100
    cv2.imwrite(str(images / "c.jpg"), np.zeros((50, 80, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (100, 200)).save(images / "d.jpg", exif=exif)  # stored 100x200, shown 200x100
    for name in ("b", "c", "d"):
        (ann / f"{name}.xml").write_text(VOC.format(name=f"{name}.jpg", xmax=110))
    with pytest.warns(UserWarning) as record:
        read_voc_xml(ann)
    (said,) = [str(w.message) for w in record]
    assert said.startswith(f"{ann}: 1 of 3 annotation files give a <size> other than their image's as displayed")
    assert "c.xml: <size> 200x100, image 80x50" in said
    (images / "c.jpg").unlink()  # a missing image is not this check's to say (the benchmark names it)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_voc_xml(ann)) == 3
