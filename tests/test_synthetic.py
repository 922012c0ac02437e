"""The synthetic CelebA generator: determinism, formats, boxes, visual cues, identities, ages."""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score

from lnet_anet.data.attributes import CELEBA_ATTRIBUTES
from lnet_anet.data.images import read_image
from lnet_anet.data.readers.age import read_age_csv
from lnet_anet.data.readers.celeba import read_celeba
from lnet_anet.data.synthetic import (
    YOUNG_BELOW,
    main,
    make_synthetic_celeba,
    render_aligned,
    sample_face,
    sample_identity,
)

N_IMAGES, N_IDS, SCENE, ALIGNED = 240, 48, 128, 64
LABEL_FILES = (
    "list_attr_celeba.txt",
    "list_bbox_celeba.txt",
    "list_bbox_all.csv",
    "list_landmarks_align_celeba.txt",
    "list_landmarks_celeba.txt",
    "identity_CelebA.txt",
    "list_eval_partition.txt",
    "ages.csv",
)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "celeba"
    return make_synthetic_celeba(out, N_IMAGES, N_IDS, SCENE, ALIGNED, seed=3)


@pytest.fixture(scope="module")
def aligned(root):
    df = read_celeba(root, images="img_align_celeba")
    return df, np.stack([read_image(p) for p in df.path])


@pytest.fixture(scope="module")
def scenes(root):
    df = read_celeba(root, images="img_celeba")
    return df, [read_image(p) for p in df.path]


def _chroma(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, np.float32)
    return rgb[..., :2] / (rgb.sum(-1, keepdims=True) + 1e-6)


def _skin_mask(img: np.ndarray) -> np.ndarray:
    """Skin-coloured pixels: orange hue (OpenCV 0-22 or 176+), some saturation, not dark (greys
    and pastel pinks are not skin), cleaned of edge and noise speckles by a 3x3 opening."""
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    mask = (((h <= 22) | (h >= 176)) & (s >= 15) & (v > 40)).astype(np.uint8)
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)


def _has_face_sized_blob(mask: np.ndarray, min_side: int = 10) -> bool:
    """A compact region (both sides >= min_side, filling >= 35% of its bounding box)."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    w, h, area = (stats[1:, k] for k in (cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT, cv2.CC_STAT_AREA))
    return bool(((w >= min_side) & (h >= min_side) & (area >= 0.35 * w * h)).any())


def _near_colour(img: np.ndarray, rgb: np.ndarray, tol: float = 0.035) -> np.ndarray:
    """Pixels of the same chromaticity as `rgb` (whatever the lighting), not too dark."""
    near = np.abs(_chroma(img) - _chroma(rgb)).max(-1) < tol
    return near & (img.astype(np.float32).sum(-1) > 0.4 * float(np.sum(rgb)))


def _tree_digest(root: Path) -> dict[str, str]:
    out = {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in LABEL_FILES}
    for sub in ("img_celeba", "img_align_celeba", "backgrounds"):
        for p in sorted((root / sub).glob("*.jpg")):
            out[f"{sub}/{p.name}"] = hashlib.sha256(read_image(p).tobytes()).hexdigest()
    return out


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    kw = dict(n_images=10, n_identities=4, scene_size=64, aligned_size=32, face_free=0.2)
    a = _tree_digest(make_synthetic_celeba(tmp_path / "a", seed=5, **kw))
    b = _tree_digest(make_synthetic_celeba(tmp_path / "b", seed=5, **kw))
    c = _tree_digest(make_synthetic_celeba(tmp_path / "c", seed=6, **kw))
    assert len(a) == len(LABEL_FILES) + 10 + 10 + 2
    assert a == b
    assert a["list_attr_celeba.txt"] != c["list_attr_celeba.txt"]
    assert sum(a[k] != c[k] for k in a) > len(a) // 2


# --------------------------------------------------------------------------- formats


def test_label_files_have_celeba_layout(root):
    raw = (root / "list_attr_celeba.txt").read_bytes()
    assert raw.count(b"\r\n") == N_IMAGES + 2 and raw.count(b"\n") == N_IMAGES + 2  # CRLF only
    lines = raw.decode().split("\r\n")
    assert lines[0] == str(N_IMAGES)
    assert tuple(lines[1].split()) == CELEBA_ATTRIBUTES
    for i, line in enumerate(lines[2:-1], 1):
        assert line.startswith(f"{i:06d}.jpg ")
        values = line[len("000001.jpg") :]
        assert len(values) == 40 * 3 and set(values.split()) <= {"1", "-1"}  # " -1" / "  1"
    bbox = (root / "list_bbox_celeba.txt").read_text().splitlines()
    assert bbox[:2] == [str(N_IMAGES), "image_id x_1 y_1 width height"]
    marks = (root / "list_landmarks_align_celeba.txt").read_text().splitlines()
    assert marks[1].split() == [
        f"{p}_{xy}" for p in ("lefteye", "righteye", "nose", "leftmouth", "rightmouth")
        for xy in "xy"
    ]  # fmt: skip
    assert all(len(line.split()) == 11 for line in marks[2:]) and len(marks) == N_IMAGES + 2


def test_read_celeba_and_age_reader_parse_the_tree(root, aligned, scenes):
    al, _ = aligned
    wild, images = scenes
    assert len(al) == len(wild) == N_IMAGES and not al.attrs["skipped"]
    assert al.attrs["attributes"] == list(CELEBA_ATTRIBUTES)
    assert set(al.identity) <= set(range(1, N_IDS + 1))
    assert al.lefteye_x.between(0, ALIGNED).all() and al.rightmouth_y.between(0, ALIGNED).all()
    assert (al.lefteye_x < al.righteye_x).all() and (al.lefteye_y < al.leftmouth_y).all()
    assert (wild.x0 >= 0).all() and (wild.y0 >= 0).all()
    assert (wild.x1 <= SCENE).all() and (wild.y1 <= SCENE).all()
    assert images[0].shape == (SCENE, SCENE, 3)

    ages = read_age_csv(root / "ages.csv")
    assert len(ages) == N_IMAGES and ages.age.between(1, 90).all()
    assert (ages.path.to_numpy() == al.path.to_numpy()).all()
    assert ((ages.age < YOUNG_BELOW).to_numpy() == al.Young.astype(bool).to_numpy()).all()
    assert (ages.identity.to_numpy() == al.identity.to_numpy()).all()
    assert (ages.split.to_numpy() == al.split.to_numpy()).all()


def test_partition_is_identity_disjoint_and_about_70_15_15(aligned):
    al, _ = aligned
    splits_per_id = al.groupby("identity").split.nunique()
    assert (splits_per_id == 1).all()
    share = al.groupby("identity").split.first().value_counts(normalize=True)
    assert share["train"] == pytest.approx(0.7, abs=0.05)
    assert share["val"] == pytest.approx(0.15, abs=0.05)
    assert share["test"] == pytest.approx(0.15, abs=0.05)
    order = al.split.map({"train": 0, "val": 1, "test": 2}).to_numpy()
    assert (np.diff(order) >= 0).all()  # numbered train, val, test as CelebA is


def test_tags_are_logically_consistent(aligned):
    al, _ = aligned
    on = {a: al[a].astype(bool).to_numpy() for a in CELEBA_ATTRIBUTES}
    colours = on["Black_Hair"].astype(int) + on["Blond_Hair"] + on["Brown_Hair"] + on["Gray_Hair"]
    assert (colours <= 1).all()
    assert not (on["Bald"] & (colours > 0)).any()
    assert not (on["Bald"] & (on["Bangs"] | on["Straight_Hair"] | on["Wavy_Hair"])).any()
    assert not (on["Straight_Hair"] & on["Wavy_Hair"]).any()
    beard = on["Goatee"] | on["Mustache"] | on["5_o_Clock_Shadow"]
    assert not (on["No_Beard"] & beard).any()
    assert not (~on["Male"] & (beard | on["Wearing_Necktie"])).any()
    assert not (on["Male"] & (on["Heavy_Makeup"] | on["Wearing_Lipstick"])).any()


def test_tag_frequencies_are_celeba_like():
    # CelebA's published training-set frequencies, for a meaningful majority-class baseline.
    celeba = {"Male": 0.42, "Young": 0.77, "Smiling": 0.48, "Eyeglasses": 0.065,
              "Wearing_Hat": 0.048, "No_Beard": 0.835, "Wearing_Lipstick": 0.47,
              "Blond_Hair": 0.15, "Black_Hair": 0.24, "Bald": 0.022, "Attractive": 0.51}  # fmt: skip
    people = [sample_identity(np.random.default_rng([1, i]), i) for i in range(600)]
    specs = [sample_face(people[i % 600], np.random.default_rng([2, i])) for i in range(3000)]
    freq = (np.stack([s.vector() for s in specs]) > 0).mean(0)
    for name, expected in celeba.items():
        assert freq[CELEBA_ATTRIBUTES.index(name)] == pytest.approx(expected, abs=0.07), name


# --------------------------------------------------------------------------- boxes


def _cheek_tone(img: np.ndarray, row) -> np.ndarray:
    """The face's skin colour: median of a patch between the eyes and the nose tip."""
    x = (row.lefteye_x + row.righteye_x + 2 * row.nose_x) / 4
    y = (row.lefteye_y + row.righteye_y + 2 * row.nose_y) / 4
    x0, y0 = int(round(x)) - 2, int(round(y)) - 2
    return np.median(img[y0 : y0 + 5, x0 : x0 + 5].reshape(-1, 3), axis=0)


def test_boxes_frame_the_drawn_face(root, aligned, scenes):
    al, al_images = aligned
    wild, images = scenes
    all_boxes = pd.read_csv(root / "list_bbox_all.csv")
    assert set(all_boxes.image_id) == {Path(p).name for p in wild.path}
    inside_share, outside_share = [], []
    for (_, row), img, al_img, (_, al_row) in zip(
        wild.iterrows(), images, al_images, al.iterrows(), strict=True
    ):
        x0, y0, x1, y1 = (int(row[c]) for c in ("x0", "y0", "x1", "y1"))
        side = max(x1 - x0, y1 - y0) / SCENE
        assert 0.12 <= side <= 0.75, row.path
        mine = all_boxes[all_boxes.image_id == Path(row.path).name]
        areas = (mine.x1 - mine.x0) * (mine.y1 - mine.y0)
        assert areas.iloc[0] == areas.max() == (x1 - x0) * (y1 - y0)  # the box file has the largest
        if al_row.Blurry:
            continue
        # this person's skin colour, taken from the aligned image of the same face
        skin = _near_colour(img, _cheek_tone(al_img, al_row))
        inside_share.append(skin[y0:y1, x0:x1].mean())
        skin[y0:, max(0, x0 - (x1 - x0)) : x1 + (x1 - x0)] = False  # neck, shoulders, the box
        outside_share.append(skin.mean())
    inside_share = np.array(inside_share)
    assert np.median(inside_share) > 0.5 and (inside_share > 0.2).mean() > 0.95
    assert np.median(outside_share) < 0.02


def test_backgrounds_hold_no_skin_blob_while_faces_do(root, scenes):
    backgrounds = sorted((root / "backgrounds").glob("*.jpg"))
    assert len(backgrounds) == round(0.1 * N_IMAGES)
    for p in backgrounds:
        img = read_image(p)
        assert img.shape == (SCENE, SCENE, 3)
        assert not _has_face_sized_blob(_skin_mask(img)), p
    wild, images = scenes
    found = [
        _has_face_sized_blob(_skin_mask(img[int(r.y0) : int(r.y1), int(r.x0) : int(r.x1)]))
        for (_, r), img in zip(wild.iterrows(), images, strict=True)
        if not r.Blurry
    ]
    assert np.mean(found) > 0.9  # the same detector does find the faces


# --------------------------------------------------------------------------- cues


def _crop(img: np.ndarray, cx: float, cy: float, hw: int, hh: int) -> np.ndarray:
    x0, y0 = int(round(cx)) - hw, int(round(cy)) - hh
    pad = np.pad(img, ((hh, hh), (hw, hw), (0, 0)), mode="edge")
    return pad[y0 + hh : y0 + 3 * hh, x0 + hw : x0 + 3 * hw].astype(np.float32).ravel() / 255


def _cv_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    model = LogisticRegression(C=1.0, max_iter=500)
    return float(cross_val_score(model, x - x.mean(0), y, cv=cv).mean())


def test_frequent_tags_are_learnable_from_pixels(aligned):
    al, images = aligned
    mx, my = (al.leftmouth_x + al.rightmouth_x) / 2, (al.leftmouth_y + al.rightmouth_y) / 2
    mouth = np.stack([_crop(im, x, y, 10, 6) for im, x, y in zip(images, mx, my, strict=True)])
    small = np.stack([cv2.resize(im, (16, 16), interpolation=cv2.INTER_AREA) for im in images])
    small = small.reshape(len(images), -1).astype(np.float32) / 255
    for name, x in (("Smiling", mouth), ("Wearing_Lipstick", mouth), ("Male", small),
                    ("Blond_Hair", small), ("Black_Hair", small)):  # fmt: skip
        y = al[name].to_numpy()
        majority = max(y.mean(), 1 - y.mean())
        assert _cv_accuracy(x, y) > majority + 0.5 * (1 - majority), name


def test_lipstick_makes_lips_redder(aligned):
    al, images = aligned
    redness = []  # Lab a* of the reddest pixels between the mouth corners
    for im, (_, r) in zip(images, al.iterrows(), strict=True):
        x0, x1 = int(r.leftmouth_x), int(r.rightmouth_x) + 1
        y = int((r.leftmouth_y + r.rightmouth_y) / 2)
        lab = cv2.cvtColor(im[y - 3 : y + 5, x0:x1], cv2.COLOR_RGB2LAB)
        redness.append(np.percentile(lab[..., 1], 90))
    redness, on = np.array(redness), al.Wearing_Lipstick.astype(bool).to_numpy()
    assert np.median(redness[on]) > np.median(redness[~on]) + 10
    threshold = (np.median(redness[on]) + np.median(redness[~on])) / 2
    assert ((redness > threshold) == on).mean() > 0.85


def _forced_renders(name: str, n: int = 120) -> tuple[np.ndarray, np.ndarray, list]:
    """n random people, each rendered with `name` switched on or off at random (half each)."""
    ys = np.arange(n) % 2
    images, marks = [], []
    for i, y in enumerate(ys):
        spec = sample_face(
            sample_identity(np.random.default_rng([11, i]), i), np.random.default_rng([12, i])
        )
        spec = dataclasses.replace(
            spec, attributes={**spec.attributes, name: bool(y), "Blurry": False}
        )
        img, m = render_aligned(spec, ALIGNED, np.random.default_rng([13, i]))
        images.append(img)
        marks.append(m)
    return np.stack(images), ys, marks


@pytest.mark.parametrize("name", ["Eyeglasses", "Wearing_Hat", "Wearing_Necktie"])
def test_rare_accessories_are_learnable_from_pixels(name):
    images, y, marks = _forced_renders(name)
    if name == "Eyeglasses":  # thin frames: look at the eyes at full resolution
        x = np.stack(
            [_crop(im, *m[:2].mean(0), 20, 8) for im, m in zip(images, marks, strict=True)]
        )
    else:
        x = np.stack([cv2.resize(im, (24, 24), interpolation=cv2.INTER_AREA) for im in images])
        x = x.reshape(len(x), -1).astype(np.float32) / 255
    assert _cv_accuracy(x, y) > 0.85


CUE_REGIONS = {  # tag -> rows of the aligned image (fractions of its height) where it shows
    "Eyeglasses": (0.35, 0.6), "Wearing_Hat": (0.0, 0.45), "Smiling": (0.4, 0.85),
    "Mouth_Slightly_Open": (0.6, 0.8), "Wearing_Lipstick": (0.6, 0.8), "Heavy_Makeup": (0.35, 0.8),
    "Bangs": (0.15, 0.5), "Bald": (0.0, 1.0), "Goatee": (0.7, 0.95), "Mustache": (0.6, 0.8),
    "5_o_Clock_Shadow": (0.6, 0.95), "Wearing_Necktie": (0.85, 1.0), "Wearing_Necklace": (0.8, 1.0),
    "Wearing_Earrings": (0.4, 0.8), "Rosy_Cheeks": (0.5, 0.75), "High_Cheekbones": (0.45, 0.7),
    "Bags_Under_Eyes": (0.45, 0.65), "Sideburns": (0.3, 0.7), "Receding_Hairline": (0.1, 0.45),
    "Double_Chin": (0.75, 0.95), "Blurry": (0.0, 1.0),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CUE_REGIONS))
@pytest.mark.parametrize("seed", [0, 1])
def test_switching_a_tag_changes_its_region(name, seed):
    person = sample_identity(np.random.default_rng([21, seed]), 1)
    person = dataclasses.replace(person, bald=False, male=name in ("Goatee", "Mustache"))
    spec = sample_face(person, np.random.default_rng([22, seed]), age=30)
    off = {n: False for n in CUE_REGIONS}
    spec = dataclasses.replace(
        spec, attributes={**spec.attributes, **off}, smile=0.0, mouth_open=0.0
    )
    changes = {"Smiling": {"smile": 0.9}, "Mouth_Slightly_Open": {"mouth_open": 0.08}}.get(name, {})
    on = dataclasses.replace(spec, attributes={**spec.attributes, name: True}, **changes)
    a = render_aligned(spec, 96, np.random.default_rng(1))[0].astype(np.float32)
    b = render_aligned(on, 96, np.random.default_rng(1))[0].astype(np.float32)
    changed = np.abs(a - b).max(-1) > 25  # clearly visible, well above the sensor noise
    lo, hi = (int(f * 96) for f in CUE_REGIONS[name])
    assert changed.sum() >= 20, name  # the tag is drawn...
    assert changed[lo:hi].sum() >= 0.75 * changed.sum(), name  # ...where it belongs


def test_age_is_visible():
    ages = np.random.default_rng(0).integers(1, 91, 240).astype(float)
    x = []
    for i, age in enumerate(ages):
        person = sample_identity(np.random.default_rng([31, i]), i)
        spec = sample_face(person, np.random.default_rng([32, i]), age=age)
        img = render_aligned(spec, ALIGNED, np.random.default_rng([33, i]))[0]
        x.append(cv2.resize(img, (24, 24), interpolation=cv2.INTER_AREA).ravel() / 255)
    pred = cross_val_predict(Ridge(alpha=1.0), np.stack(x), ages, cv=5)
    baseline = np.abs(ages - np.median(ages)).mean()
    assert np.abs(pred - ages).mean() < 0.7 * baseline


# --------------------------------------------------------------------------- identities


def _f_ratio(values: np.ndarray, groups: np.ndarray) -> float:
    """Between-group over within-group variance (one-way ANOVA F without the dof factors)."""
    df = pd.DataFrame({"v": values, "g": groups})
    means = df.groupby("g").v.transform("mean")
    return float(((means - df.v.mean()) ** 2).mean() / ((df.v - means) ** 2).mean())


def test_identity_fixes_geometry_skin_and_identity_tags(aligned):
    al, images = aligned
    fixed = ["Male", "Pale_Skin", "Big_Nose", "Pointy_Nose", "Chubby", "Oval_Face", "Narrow_Eyes",
             "Big_Lips", "Bushy_Eyebrows", "Arched_Eyebrows", "Bald"]  # fmt: skip
    assert (al.groupby("identity")[fixed].nunique() == 1).all().all()
    tones = np.stack(
        [_chroma(_cheek_tone(im, r)) for im, (_, r) in zip(images, al.iterrows(), strict=True)]
    )
    ids = al.identity.to_numpy()
    assert _f_ratio(tones[:, 0], ids) > 5  # red chromaticity: skin tone is the person's
    eye_gap = (al.righteye_x - al.lefteye_x).to_numpy()
    assert _f_ratio(eye_gap, ids) > 2  # eye spacing is the person's despite pose jitter


# --------------------------------------------------------------------------- entry points


def test_cli_writes_and_reports_the_tree(tmp_path, capsys):
    out = tmp_path / "cli"
    main([str(out), "--n-images", "6", "--n-identities", "3", "--scene-size", "64", "48",
          "--aligned-size", "32", "--seed", "1"])  # fmt: skip
    printed = capsys.readouterr().out
    assert "img_celeba" in printed and "list_attr_celeba.txt" in printed
    assert read_image(out / "img_celeba" / "000006.jpg").shape == (48, 64, 3)
    assert read_image(out / "img_align_celeba" / "000001.jpg").shape == (32, 32, 3)
    assert (out / "list_attr_celeba.txt").read_text().splitlines()[0] == "6"


@pytest.mark.parametrize(
    "kwargs",
    [{"n_images": 0}, {"n_identities": 0}, {"scene_size": 8}, {"seed": -1}, {"face_free": -0.5}],
)
def test_bad_arguments_raise(tmp_path, kwargs):
    with pytest.raises(ValueError):
        make_synthetic_celeba(tmp_path / "bad", **kwargs)


def test_reading_a_synthetic_tree_made_at_another_size_says_so(tmp_path, caplog):
    """A trial: data.index.n_images=3000 read the 400-image tree an earlier run had made, and
    trained on it without a word. The tree is still read as it is, but a warning names the size.
    Writing it is said too (trial 65: data=synthetic wrote its tree without a line)."""
    import logging

    from lnet_anet.data.synthetic.celeba_tree import read_synthetic

    root = tmp_path / "tree"
    with caplog.at_level(logging.INFO, logger="lnet_anet.data"):
        assert len(read_synthetic(root, n_images=12, n_identities=3)) == 12
    assert f"synthetic data: 12 images of 3 identities written to {root}" in caplog.text
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same size: no warning
        read_synthetic(root, n_images=12, n_identities=3)
    with pytest.warns(UserWarning, match=r"made before with 12 images, and this config asks for n_images=30"):
        assert len(read_synthetic(root, n_images=30, n_identities=3)) == 12
