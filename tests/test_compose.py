"""Scenes composed from face crops: the box is where the face went, and scenes are repeatable."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from _real import REAL_DATASETS  # noqa: E402 - tests/ is on the path

from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.data.scenes import (
    SKIMAGE_FACE_FREE,
    BackgroundBank,
    ComposedScenes,
    ScenePhotometric,
    compose_scene,
    feathered_ellipse,
)

REAL = REAL_DATASETS
ATTRS = ["Smiling", "Male", "Young"]


def _index(tmp_path: Path, n: int, bad: tuple[int, ...] = ()) -> pd.DataFrame:
    rows = []
    for i in range(n):
        path = tmp_path / f"face{i}.png"
        if i in bad:
            path.write_bytes(b"not an image")
        else:
            face = np.full((40, 32, 3), (255, 0, 255), np.uint8)
            cv2.circle(face, (16, 20), 8, (0, 255, 0), -1)
            cv2.imwrite(str(path), face)
        rows.append({"path": str(path), "split": "val", "Smiling": i % 2, "Male": 1, "Young": 0})
    df = pd.DataFrame(rows)
    df.attrs["attributes"] = list(ATTRS)
    return df


def _procedural(canvas=(96, 128)) -> BackgroundBank:
    return BackgroundBank(canvas, photos=(), procedural_prob=1.0)


def test_box_is_where_the_face_was_pasted():
    rng = np.random.default_rng(3)
    face = np.full((50, 40, 3), 255, np.uint8)
    background = np.zeros((120, 160, 3), np.uint8)
    for _ in range(5):
        out, box = compose_scene(face, background, rng, canvas=(120, 160), max_rotation_deg=10)
        assert out.shape == (120, 160, 3) and out.dtype == np.uint8
        ys, xs = np.nonzero(out[..., 0] >= 128)  # at least half face
        found = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        assert np.abs(found - box).max() <= 1
        x0, y0, x1, y1 = box.astype(int)
        outside = np.ones((120, 160), bool)
        outside[y0:y1, x0:x1] = False
        assert out[outside].max() < 128  # outside the box at most the faint end of the feather
        assert (out[outside] == 0).mean() > 0.5  # and mostly untouched background
        cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
        assert (out[cy, cx] == 255).all()  # the middle of the face is untouched by the blend
        side = max(x1 - x0, y1 - y0)
        assert 0.15 * 120 * 0.85 <= side <= 0.7 * 120 * 1.05


def test_paste_edge_is_feathered_not_sharp():
    mask = feathered_ellipse(64, 64, np.random.default_rng(0), feather=(0.3, 0.3))
    row = mask[32]
    assert row[32] == pytest.approx(1.0) and row[0] == 0.0
    between = ((row > 0.05) & (row < 0.95)).sum()
    assert between >= 6  # a gradual ramp on both sides, not a step


def test_compose_scene_checks_its_inputs():
    rng = np.random.default_rng(0)
    face = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match="face_rgb must be a uint8"):
        compose_scene(face.astype(np.float32), face, rng)
    with pytest.raises(ValueError, match="scale_range"):
        compose_scene(face, face, rng, scale_range=(0.5, 1.5))


def test_background_bank_gives_canvas_sized_face_free_images():
    bank = BackgroundBank((60, 80), photos=("brick", "coffee"), procedural_prob=0.5)
    rng = np.random.default_rng(0)
    images = [bank.sample(rng) for _ in range(8)]
    assert all(im.shape == (60, 80, 3) and im.dtype == np.uint8 for im in images)
    assert len({im.tobytes() for im in images}) == 8  # random crops, flips, jitter
    assert "astronaut" not in SKIMAGE_FACE_FREE and "camera" not in SKIMAGE_FACE_FREE
    with pytest.raises(ValueError, match="no sample image 'nonexistent'"):
        BackgroundBank(photos=("nonexistent",))


def test_composed_scenes_are_deterministic_per_seed_and_index(tmp_path):
    df = _index(tmp_path, 4)
    a = ComposedScenes(df, _procedural(), canvas=(96, 128), seed=7)
    b = ComposedScenes(df, _procedural(), canvas=(96, 128), seed=7)
    s0, s1 = a[2], b[2]
    assert set(s0) == {"image", "attributes", "box", "has_face", "index"}
    assert s0["image"].shape == (3, 96, 128)
    assert torch.equal(s0["image"], s1["image"]) and torch.equal(s0["box"], s1["box"])
    assert not torch.equal(a[1]["image"], s0["image"])
    c = ComposedScenes(df, _procedural(), canvas=(96, 128), seed=8)
    assert not torch.equal(c[2]["image"], s0["image"])
    assert s0["attributes"].tolist() == [0.0, 1.0, 0.0] and s0["has_face"] == 1
    assert s0["index"] == 2
    # Normalised with mean = std = 0.5: the image spans [-1, 1].
    assert s0["image"].min() >= -1.0 and s0["image"].max() <= 1.0


def test_box_marks_the_face_in_the_normalised_image(tmp_path):
    df = _index(tmp_path, 1)
    bank = BackgroundBank((96, 128), photos=("moon",), procedural_prob=0.0)
    sample = ComposedScenes(df, bank, canvas=(96, 128), seed=0)[0]
    x0, y0, x1, y1 = sample["box"].round().int().tolist()
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    # The centre of the pasted face is its green disc: G high, R and B low, unlike the grey moon.
    r, g, b = sample["image"][:, cy, cx].tolist()
    assert g > 0.5 and r < -0.5 and b < -0.5


def test_training_scenes_change_every_epoch_but_repeat_under_a_seed(tmp_path):
    df = _index(tmp_path, 2)
    ds = ComposedScenes(df, _procedural((64, 64)), canvas=(64, 64), train=True)
    torch.manual_seed(0)
    first, second = ds[0]["image"], ds[0]["image"]
    assert not torch.equal(first, second)
    torch.manual_seed(0)
    assert torch.equal(ds[0]["image"], first)


def test_empty_scenes_have_no_face_no_tags_and_no_box(tmp_path):
    df = _index(tmp_path, 1)
    empty = ComposedScenes(df, _procedural((64, 64)), canvas=(64, 64), p_empty=1.0)[0]
    assert empty["has_face"] == 0 and torch.isnan(empty["box"]).all()
    assert empty["attributes"].sum() == 0
    df = _index(tmp_path, 40)
    flags = [ComposedScenes(df, _procedural((64, 64)), canvas=(64, 64), p_empty=0.5)[i]["has_face"]
             for i in range(40)]  # fmt: skip
    assert 5 < sum(flags) < 35


def test_scene_photometric_changes_whole_scenes_and_nothing_else(tmp_path):
    """ScenePhotometric (issue 14, LNet trained on other shots) changes face and face-free scenes
    alike, leaves the composition (box, tags, where the face is) as without it, repeats per seed,
    and with p 0 changes nothing; gray makes the channels equal."""
    df = _index(tmp_path, 6)
    kw = dict(canvas=(64, 64), seed=3, p_empty=0.5, attributes=ATTRS)
    plain = ComposedScenes(df, _procedural((64, 64)), **kw)
    always = ScenePhotometric(p=1.0, gain=(0.3, 0.3), gamma=(1.0, 1.0), p_gray=1.0, p_blur=0.0, p_jpeg=0.0)
    shot = ComposedScenes(df, _procedural((64, 64)), photometric=always, **kw)
    never = ComposedScenes(df, _procedural((64, 64)), photometric=ScenePhotometric(p=0.0), **kw)
    kinds = set()
    for i in range(6):
        a, b, c = plain.scene(i), shot.scene(i), never.scene(i)
        kinds.add(a[2])
        assert b[2] == a[2] and np.array_equal(b[1], a[1], equal_nan=True)  # the same composition
        assert np.array_equal(c[0], a[0])  # p 0: unchanged
        assert (b[0][..., 0] == b[0][..., 1]).all() and (b[0][..., 1] == b[0][..., 2]).all()  # gray
        assert b[0].mean() < 0.5 * a[0].mean()  # gain 0.3: darker
        assert np.array_equal(shot.scene(i)[0], b[0])  # a pure function of (seed, i)
    assert kinds == {True, False}  # both kinds of scene were changed
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    rng = np.random.default_rng(1)
    jpeg = ScenePhotometric(p=1.0, gain=(1.0, 1.0), gamma=(1.0, 1.0), p_gray=0.0, p_blur=1.0, p_jpeg=1.0)(image, rng)
    assert jpeg.shape == image.shape and jpeg.dtype == np.uint8 and jpeg.std() < image.std()  # blurred
    with pytest.raises(ValueError, match="p_gray must be in"):
        ScenePhotometric(p_gray=1.5)
    with pytest.raises(ValueError, match="gain must be"):
        ScenePhotometric(gain=(2.0, 1.0))


def test_torch_seeded_photometric_repeats_under_torch_seed_and_draws_anew_otherwise():
    """TorchSeededPhotometric (train_anet's photometric=) draws from torch's generator: the same
    torch seed gives the same picture, successive calls give other draws."""
    import torch

    from lnet_anet.data.scenes import TorchSeededPhotometric

    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    draw = TorchSeededPhotometric(ScenePhotometric(p=1.0, gain=(0.3, 3.0), p_gray=0.5, p_blur=0.0, p_jpeg=0.0))
    torch.manual_seed(5)
    first, second = draw(image), draw(image)
    torch.manual_seed(5)
    assert np.array_equal(draw(image), first) and not np.array_equal(first, second)
    assert first.shape == image.shape and first.dtype == np.uint8 and not np.array_equal(first, image)


def test_unreadable_face_warns_with_its_name_and_is_dropped(tmp_path):
    df = _index(tmp_path, 3, bad=(1,))
    ds = ComposedScenes(df, _procedural((64, 64)), canvas=(64, 64))
    with pytest.warns(UserWarning, match="face1.png"):
        assert ds[1] is None
    batch = collate_skip_bad([ds[i] for i in range(3)])
    assert batch["image"].shape == (2, 3, 64, 64) and batch["n_skipped"] == 1
    assert batch["index"].tolist() == [0, 2]


def test_scenes_need_the_attribute_columns_and_matching_canvas(tmp_path):
    df = _index(tmp_path, 1).drop(columns=["Male"])
    with pytest.raises(ValueError, match="Male"):
        ComposedScenes(df, _procedural(), canvas=(96, 128))
    with pytest.raises(ValueError, match="canvas"):
        ComposedScenes(_index(tmp_path, 1), _procedural((64, 64)), canvas=(96, 128))


@pytest.mark.real_data
@pytest.mark.skipif(not REAL.exists(), reason=f"real data not found at {REAL}")
def test_composes_real_celeba_hq_faces():
    from lnet_anet.data.readers.celeba import read_celeba

    df = read_celeba(REAL / "celeba_hq128").iloc[:4]
    ds = ComposedScenes(df, canvas=(300, 300), seed=0)
    sample = ds[3]
    assert sample["image"].shape == (3, 300, 300) and sample["attributes"].shape == (40,)
    x0, y0, x1, y1 = sample["box"].tolist()
    assert 0 <= x0 < x1 <= 300 and 0 <= y0 < y1 <= 300
    assert 0.15 * 300 * 0.85 <= max(x1 - x0, y1 - y0) <= 0.7 * 300 * 1.05
