from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from lnet_anet.data.transforms import (
    CenterPatch,
    Chain,
    OneOf,
    Photometric,
    RandomPatch,
    ZoomOut,
    crop_resize,
    focus,
    mirror,
    soften,
    soften_sharp,
)


def test_patches_are_windows_of_the_image():
    img = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
    np.testing.assert_array_equal(CenterPatch(6)(img), img[2:8, 3:9])
    torch.manual_seed(0)
    seen = set()
    for _ in range(200):
        patch = RandomPatch(6)(img)
        y, x = np.argwhere(img[:, :, 0] == patch[0, 0, 0])[0]
        np.testing.assert_array_equal(patch, img[y:y + 6, x:x + 6])
        seen.add((int(y), int(x)))
    assert {(0, 0), (4, 6)} <= seen  # the extreme offsets are reachable


def test_image_smaller_than_the_patch_is_named():
    with pytest.raises(ValueError, match="smaller than the 8px patch"):
        RandomPatch(8)(np.zeros((6, 20, 3), np.uint8))


def test_zoom_out_shows_the_image_smaller_in_the_middle_of_a_black_or_blurred_frame():
    img = np.zeros((80, 80, 3), np.uint8)
    img[:, :40] = 200  # left half bright: flips and placement are visible
    black = ZoomOut(2.0)(img)
    assert black.shape == img.shape and black.dtype == np.uint8
    assert (black[:20] == 0).all() and (black[:, :20] == 0).all() and (black[60:] == 0).all()
    np.testing.assert_array_equal(black[20:60, 20:60], cv2.resize(img, (40, 40), interpolation=cv2.INTER_AREA))
    flipped = ZoomOut(2.0, flip=True)(img)
    np.testing.assert_array_equal(flipped[20:60, 20:60], black[20:60, 20:60][:, ::-1])
    blur = ZoomOut(2.0, fill="blur")(img)
    np.testing.assert_array_equal(blur[20:60, 20:60], black[20:60, 20:60])
    assert blur[40, 2].mean() > 100 and blur[40, 77].mean() < 100  # the edges carried outwards
    torch.manual_seed(0)
    shifted = [ZoomOut(2.0, jitter=0.2)(img) for _ in range(20)]
    assert any(not np.array_equal(s, black) for s in shifted)
    assert all((s > 0).sum() == (black > 0).sum() for s in shifted)  # moved, never cut
    np.testing.assert_array_equal(ZoomOut(1.0)(img), img)
    np.testing.assert_array_equal(mirror(img), ZoomOut(1.0, flip=True)(img))


def test_one_of_draws_every_view_and_none_keeps_the_image():
    """OneOf (train_age input=image with framings): each call gives the image as it is (None) or
    one of the views, drawn from torch's generator, so a seed repeats the draws."""
    img = np.full((16, 16, 3), 120, np.uint8)
    img[4:12, 4:12] = 250
    pick = OneOf(None, ZoomOut(2.0), Photometric(gray=True, gain=0.5))
    torch.manual_seed(3)
    first = [pick(img) for _ in range(60)]
    kinds = {"as is" if np.array_equal(o, img) else "zoom" if o[0, 0, 0] == 0 else "dark" for o in first}
    assert kinds == {"as is", "zoom", "dark"}
    torch.manual_seed(3)
    assert all(np.array_equal(a, pick(img)) for a in first)
    with pytest.raises(ValueError, match="at least one view"):
        OneOf()


@pytest.mark.parametrize("kwargs, match", [({"zoom": 0.8}, "zoom"), ({"zoom": 1.5, "fill": "noise"}, "fill"),
                                           ({"zoom": 1.5, "jitter": 0.6}, "jitter")])  # fmt: skip
def test_zoom_out_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ZoomOut(**kwargs)


def test_photometric_darkens_brightens_and_drops_colour():
    img = np.zeros((4, 4, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 200, 100, 50
    np.testing.assert_array_equal(Photometric(0.5)(img)[0, 0], [100, 50, 25])
    np.testing.assert_array_equal(Photometric(1.5)(img)[0, 0], [255, 150, 75])  # clipped, not wrapped
    gray = Photometric(gray=True)(img)
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    assert gray[0, 0, 0] == round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)
    assert Photometric(gamma=2.0)(img)[0, 0, 1] < 100 < Photometric(gamma=0.5)(img)[0, 0, 1]
    with pytest.raises(ValueError, match="gain and gamma"):
        Photometric(gain=0)


def test_framing_views_name_every_setting_and_chain_photometric_after_the_framing():
    from lnet_anet.dldl.recipes import framing_views

    views = dict(framing_views([{"zoom": 2.0, "fill": "blur", "jitter": 0.1, "flip": True},
                                {"zoom": 2.0, "photometric": {"gain": 0.5, "gray": True}}]))  # fmt: skip
    assert list(views) == ["train-zoom2-blur-j0.1-flip", "train-zoom2-black-j0-g0.5-y1-gray"]
    img = np.full((40, 40, 3), 200, np.uint8)
    out = views["train-zoom2-black-j0-g0.5-y1-gray"](img)
    assert isinstance(views["train-zoom2-black-j0-g0.5-y1-gray"], Chain)
    assert out[20, 20].tolist() == [100, 100, 100] and out[0, 0].tolist() == [0, 0, 0]
    assert framing_views(None) == [] and framing_views([]) == []


def test_soften_takes_fine_detail_out_and_soften_sharp_only_from_sharp_crops():
    """An age net trained on soft chips read sharp photos' faces as old (experiments/2026-12-04-age-gpu):
    soften keeps the size and the coarse picture, and lowers the focus measure; soften_sharp
    leaves a crop at or under its bar as it is."""
    rng = np.random.default_rng(0)
    sharp = cv2.resize(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), (128, 128), interpolation=cv2.INTER_NEAREST)
    soft = cv2.GaussianBlur(sharp, (0, 0), 3)
    out = soften(sharp, 2)
    assert out.shape == sharp.shape and out.dtype == np.uint8
    assert focus(out) < 0.5 * focus(sharp)
    assert abs(float(out.mean()) - float(sharp.mean())) < 2  # the same picture, less detail
    bar = (focus(soft) + focus(sharp)) / 2
    assert soften_sharp(soft, 2, bar) is soft
    assert np.array_equal(soften_sharp(sharp, 2, bar), out)
    assert soften_sharp(sharp, 1, 0) is sharp  # times 1: never softened
    with pytest.raises(ValueError, match=">= 1"):
        soften(sharp, 0.5)


@pytest.mark.parametrize("pad", ["black", "edge", "reflect"])
def test_a_large_padded_region_is_shrunk_before_it_is_padded_and_crops_as_before(pad):
    """A 24 MP photo's whole-picture region was padded at full size (70 ms, 190 MB a crop); filled
    black, it is cut from a shrunk copy (AreaPyramid), and the crop is the one padding first gives,
    to within the border's half pixel; other fills keep padding first."""
    from lnet_anet.data.transforms import AreaPyramid

    img = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8), (0, 0), 3)
    region = np.array([-150.0, -250.0, 550.0, 450.0])  # 700 x 700, padded on every side but the right
    padded_first, origin, scale = crop_resize(img, region, (64, 64), pad)
    shrunk_first = AreaPyramid(img).crop_face(region, 1.0, 64, pad)  # a square box at enlarge 1: the region itself
    np.testing.assert_array_equal(origin, np.floor(region[:2]))
    np.testing.assert_array_equal(scale, [64 / 700, 64 / 700])
    diff = np.abs(padded_first.astype(int) - shrunk_first.astype(int))
    if pad != "black":
        assert not diff.any()
        return
    assert np.median(diff) <= 1 and diff[2:-2, 2:-2].mean() < 4  # borders aside, the same crop
    assert not shrunk_first[:20].any() and not shrunk_first[:, :12].any()  # black wholly outside the picture


def test_large_regions_are_cut_from_a_shrunk_copy_that_gives_the_same_crop():
    """AreaPyramid: a face region many times the crop's side is cut from a copy shrunk by area
    averaging (a 24 MP photo's face crops read ~4 MP each otherwise); smaller ones from the image."""
    from lnet_anet.data.transforms import PYRAMID_FROM, AreaPyramid, crop_face

    y, x = np.mgrid[0:1200, 0:1600]
    img = np.stack([(x // 7) % 256, (y // 5) % 256, ((x + y) // 11) % 256], axis=-1).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 2)
    pyramid = AreaPyramid(img)
    for box, pad in (([300.0, 200.0, 1300.0, 1100.0], "black"), ([-200.0, -100.0, 900.0, 1000.0], "black"),
                     ([-200.0, -100.0, 900.0, 1000.0], "edge"), ([700.0, 500.0, 760.0, 570.0], "black")):  # fmt: skip
        direct, cut = crop_face(img, box, 1.1, 64, pad), pyramid.crop_face(box, 1.1, 64, pad)
        assert np.abs(direct.astype(int) - cut.astype(int)).mean() < 1.5, (box, pad)
        if (box[2] - box[0]) * 1.1 < PYRAMID_FROM * 64 or pad != "black":  # cut from the image itself
            np.testing.assert_array_equal(direct, cut)
    assert len(pyramid._levels) > 1  # a shrunk copy was made, once
