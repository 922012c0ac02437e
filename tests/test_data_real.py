"""The readers on the real data in ../shared/datasets (skipped where it is absent).

Only names are read here: no image is decoded, so these stay fast.
"""

from __future__ import annotations

import os

import pytest
from _real import REAL_DATASETS  # noqa: E402 - tests/ is on the path

from lnet_anet.data.readers.age import read_utkface
from lnet_anet.data.readers.celeba import CELEBA_ATTRIBUTES, read_celeba

REAL = REAL_DATASETS
pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(not REAL.exists(), reason=f"real data not found at {REAL}"),
]


def test_celeba_hq128_matches_its_readme():
    df = read_celeba(REAL / "celeba_hq128")
    assert len(df) == 27_129 and df.attrs["skipped"] == []
    assert df["split"].value_counts().to_dict() == {"train": 24_142, "val": 2_987}
    assert df["identity"].nunique() == 5_612
    assert df.attrs["attributes"] == list(CELEBA_ATTRIBUTES)
    assert os.path.dirname(df["path"].iloc[0]).endswith("img_celeba_hq")
    # Identity-disjoint partition: no person is in both train and val.
    assert (df.groupby("identity")["split"].nunique() == 1).all()


def test_celeba_format_samples_crlf_attributes_and_landmark_csv():
    with pytest.warns(UserWarning, match="no list_eval_partition"):
        df = read_celeba(REAL / "celeba_format_samples")
    assert len(df) == 32 and len(df.attrs["attributes"]) == 40
    assert df["lefteye_x"].notna().all() and df["rightmouth_y"].notna().all()
    first = df.iloc[0]
    assert os.path.basename(first["path"]) == "000001.jpg"
    # 000001.jpg's original row begins "-1  1  1 -1" and its landmarks "69,109,106,113".
    assert [first[a] for a in CELEBA_ATTRIBUTES[:4]] == [0, 1, 1, 0]
    assert first[["lefteye_x", "lefteye_y", "righteye_x", "righteye_y"]].tolist() == [
        69,
        109,
        106,
        113,
    ]


def test_utkface_reports_malformed_names_and_reads_the_rest():
    folder = REAL / "utkface128" / "UTKFace"
    with pytest.warns(UserWarning, match="left out"):
        df = read_utkface(folder)
    skipped = df.attrs["skipped"]
    assert len(skipped) > 0 and len(df) + len(skipped) == len(os.listdir(folder))
    assert any("24_0_1_20170116220224657 .jpg.chip.jpg: malformed name" in s for s in skipped)
    assert df["age"].between(1, 116).all() and set(df["gender"]) == {0, 1}
    assert set(df["race"]) == {0, 1, 2, 3, 4}
