"""The detail pass: a large photo also read in overlapping tiles at a fixed resolution."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lnet_anet.data.preprocess import LNetInput, PreprocessError
from lnet_anet.data.transforms import resize as resize_image
from lnet_anet.inference.build import random_bundle
from lnet_anet.inference.predictor import Predictor
from lnet_anet.lnet.multiscale import (
    DETAIL_OVERLAP,
    DETAIL_TILE,
    detail_tiles,
    read_scales,
    tile_origins,
    wants_detail,
)

pytestmark = pytest.mark.usefixtures("one_thread")
BASE = {"input_size": [224, 224], "resize": "letterbox", "mean": [0.5] * 3, "std": [0.5] * 3}


@pytest.mark.parametrize("length", [1, 500, DETAIL_TILE, DETAIL_TILE + 1, 2000, 3001])
def test_tiles_cover_the_line_and_overlap_enough_for_any_small_face(length):
    starts = tile_origins(length)
    assert starts[0] == 0 and starts == sorted(starts)
    if length <= DETAIL_TILE:
        assert starts == [0]
        return
    assert starts[-1] + DETAIL_TILE == length  # flush with the end
    for a, b in zip(starts, starts[1:], strict=False):
        assert a + DETAIL_TILE - b >= DETAIL_OVERLAP  # any interval of DETAIL_OVERLAP px lies in one tile


def test_detail_tiles_hold_the_resized_photo_and_zero_padding():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (1000, 1700, 3), dtype=np.uint8)
    tiles, origins, (ky, kx), (nh, nw) = detail_tiles(img, 0.5)
    assert (nh, nw) == (500, 850) and (ky, kx) == (0.5, 0.5)
    assert tiles.shape == (len(origins), DETAIL_TILE, DETAIL_TILE, 3) and origins == [(0, 0), (0, 850 - DETAIL_TILE)]
    small = resize_image(img, nh, nw)
    np.testing.assert_array_equal(tiles[1, :500], small[:, 850 - DETAIL_TILE:])
    assert not tiles[:, 500:].any()  # below the photo: padding


def test_the_detail_pass_is_for_photos_the_other_scales_shrink_below_its_ratio():
    lnet = LNetInput.from_dict({**BASE, "scales": [1.0], "zoom_in_scales": [2.0], "detail_ratio": 0.5})
    assert wants_detail((4000, 6000), lnet)  # 224 / 6000 * 2 = 0.075
    assert not wants_detail((480, 640), lnet)  # 0.7 already
    assert not wants_detail((4000, 6000), dataclasses.replace(lnet, detail_ratio=None))
    with pytest.raises(PreprocessError, match="detail_ratio"):
        LNetInput.from_dict({**BASE, "detail_ratio": 0.01})
    lnet = LNetInput.from_dict({**BASE, "detail_ratio": 0.5})
    assert lnet.detail_ratio == 0.5 and LNetInput.from_dict(lnet.to_dict()) == lnet
    assert "detail_ratio" not in LNetInput.from_dict({**BASE}).to_dict()


def test_same_place_takes_overlapping_boxes_and_pieces_for_one_face():
    from lnet_anet.lnet.multiscale import same_place

    face = np.array([100.0, 100.0, 500.0, 500.0])
    far = np.array([0.0, 0.0, 50.0, 50.0])
    assert same_place([120, 120, 480, 480], [far, face], 0.3) == 1  # the same face boxed tighter
    assert same_place([250, 250, 330, 330], [face], 0.3) == 0  # an eye: its centre in the face
    # two halves of one face from the tiles, IoU 0.27 (a trial's picture): the upper's centre is in the lower
    assert same_place([2044, 1723, 2243, 1920], [np.array([2013.0, 1820, 2245, 2050])], 0.3) == 0
    assert same_place([520, 100, 700, 300], [face], 0.3) is None  # a neighbour beside it
    assert same_place([250, 250, 330, 330], [], 0.3) is None


def test_read_scales_leaves_the_detail_pass_to_the_predictor():
    """The scales' faces alone: the Predictor adds the detail pass's faces last (_add_detail)."""
    lnet = LNetInput.from_dict({**BASE, "scales": [1.0], "zoom_in_scales": [2.0], "detail_ratio": 0.5})

    class Settings:
        nms_iou, max_faces = 0.3, 10

    big = np.array([1000.0, 1000.0, 2000.0, 2000.0])
    found = read_scales([(4000, 6000)], lambda scale, which: [[(big, 2.0)] for _ in which], lnet, Settings())
    assert [b.tolist() for b, _ in found[0]] == [big.tolist()]


def test_the_detail_pass_only_adds_faces_and_takes_nested_pieces_for_parts(tmp_path, monkeypatch):
    """Trials: with --detail a 450 px face came back as a 77 x 102 box on its nose, or twice; then a
    small face beside a large one took the large one's place. The detail faces are added last, and
    every face found without them stays: a detail face at a found face's place is dropped unless it
    is much smaller and the face head gives it a higher P(face) than that face's region; then,
    inside that face's face box it is the same face read tighter and gives it its region (the score
    kept), outside it (hair, shoulders) it is another face, added beside it. The face box is the
    one the user is given for that face alone: the box head's, or the crowd head's for a small one
    (a trial: the localizer's fixed face box, then the box head's, sat over a small face above)."""
    import dataclasses

    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=8))
    predictor.localizer = dataclasses.replace(predictor.localizer, face_box=(0.5, 0.5, 0.0, 0.0))  # the central half
    image = np.random.default_rng(3).integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    big = np.array([400.0, 300.0, 900.0, 800.0])  # a face found without the detail pass: face box [525, 425, 775, 675]
    piece = np.array([560.0, 460.0, 640.0, 540.0])  # its eye, stronger in the tiles, inside its face box
    small = np.array([760.0, 650.0, 840.0, 730.0])  # a small face in its region, outside its face box
    same = np.array([410.0, 310.0, 890.0, 790.0])  # the found face again
    apart = np.array([1300.0, 100.0, 1380.0, 180.0])
    monkeypatch.setattr(predictor, "_read_scales", lambda images, *a, **k: [[(big.copy(), 2.0)] for _ in images])
    monkeypatch.setattr(predictor, "_detect_detail",
                        lambda image, work, checks=None: [(piece, 9.0), (same, 8.0), (small, 5.0), (apart, 4.0)])
    chance = {tuple(big): 0.5, tuple(piece): 0.2, tuple(small): 0.9}
    monkeypatch.setattr(predictor, "_mean_features", lambda faces: np.stack([f[1] for f in faces]))

    class Head:
        def probability(self, features):
            return np.array([chance[tuple(f)] for f in features])

    predictor._face_head = Head()
    assert [b.tolist() for b, _ in next(predictor.locate_many([image], kind="region"))] == [big.tolist()]  # detail off
    predictor.detail_ratio = 0.5
    found = next(predictor.locate_many([image], kind="region"))
    assert [(b.tolist(), s) for b, s in found] == [(small.tolist(), 5.0), (apart.tolist(), 4.0), (big.tolist(), 2.0)]
    chance[tuple(small)] = 0.4  # the face head prefers the found face's region: not another face
    assert [b.tolist() for b, _ in next(predictor.locate_many([image], kind="region"))] == [apart.tolist(), big.tolist()]
    chance[tuple(small)], chance[tuple(piece)] = 0.9, 0.99  # preferred inside the face box: the face read tighter
    found = next(predictor.locate_many([image], kind="region"))
    assert [(b.tolist(), s) for b, s in found] == [(small.tolist(), 5.0), (apart.tolist(), 4.0), (piece.tolist(), 2.0)]

    class Lower:  # a box head that places the face 200 px lower than the fixed face box
        def correct(self, fixed, features):
            return fixed + np.array([0.0, 200.0, 0.0, 200.0])

    predictor._box_head, predictor.refine_boxes = Lower(), True  # the face box tested is the box head's
    found = next(predictor.locate_many([image], kind="region"))  # a trial: a face above the face kept it
    assert [(b.tolist(), s) for b, s in found] == [(piece.tolist(), 9.0), (small.tolist(), 5.0),
                                                   (apart.tolist(), 4.0), (big.tolist(), 2.0)]  # fmt: skip

    class Still:  # a crowd head that leaves the fixed face box where it is
        def correct(self, fixed, features):
            return fixed

    # a small lone face is placed by the crowd head (crowd_box_small), twice here: that box is tested
    predictor._crowd_box_head = Still()
    predictor._lnet = dataclasses.replace(predictor._lnet, crowd_box_head=2, crowd_box_small=0.5, crowd_box_steps=2)
    found = next(predictor.locate_many([image], kind="region"))
    assert [(b.tolist(), s) for b, s in found] == [(small.tolist(), 5.0), (apart.tolist(), 4.0), (piece.tolist(), 2.0)]
    predictor.refine_boxes = False
    predictor._face_head = None  # no face head: nothing is added at a found face's place
    assert [b.tolist() for b, _ in next(predictor.locate_many([image], kind="region"))] == [apart.tolist(), big.tolist()]
    predictor.localizer = dataclasses.replace(predictor.localizer, max_faces=1)  # no room: the found face stays
    assert [b.tolist() for b, _ in next(predictor.locate_many([image], kind="region"))] == [big.tolist()]


def test_with_detail_the_threshold_decides_a_face_and_a_rescued_face_becomes_the_detail_face(tmp_path, monkeypatch):
    """A trial (59): `--threshold 20 --no-rescue --detail 0.5` gave six faces scoring 4-10, and a
    face the rescue kept (score 1.7) took the detail reading's answers with the rescue's score.
    In a picture where no face passed the localizer, the detail faces count only when the
    strongest beats the threshold; a detail face that reads a rescued face tighter replaces it,
    its own score and all, and is no longer the rescue's."""
    import dataclasses

    from lnet_anet.inference.predictor import _Rescued

    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=8))
    predictor.localizer = dataclasses.replace(predictor.localizer, face_box=(0.5, 0.5, 0.0, 0.0))  # the central half
    image = np.random.default_rng(4).integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    big = np.array([400.0, 300.0, 900.0, 800.0])  # the rescue's face: face box [525, 425, 775, 675]
    tighter = np.array([560.0, 460.0, 700.0, 600.0])  # the same face, read by the tiles
    apart = np.array([1300.0, 100.0, 1380.0, 180.0])
    rescued: list = []
    # the first reading finds nothing; `rescued` stands for what the rescue kept (a random bundle has none)
    monkeypatch.setattr(predictor, "_read_scales", lambda images, *a, **k: [list(rescued) for _ in images])
    monkeypatch.setattr(predictor, "_detect_detail", lambda image, work, checks=None: [(tighter, 9.0), (apart, 4.0)])
    monkeypatch.setattr(predictor, "_mean_features", lambda faces: np.stack([f[1] for f in faces]))
    chance = {tuple(big): 0.5, tuple(tighter): 0.9, tuple(apart): 0.9}

    class Head:
        def probability(self, features):
            return np.array([chance[tuple(f)] for f in features])

    predictor._face_head, predictor.detail_ratio = Head(), 0.5

    def found() -> list:
        return next(predictor.locate_many([image], kind="region"))

    assert [(b.tolist(), s) for b, s in found()] == [(tighter.tolist(), 9.0), (apart.tolist(), 4.0)]
    predictor.localizer = dataclasses.replace(predictor.localizer, threshold=9.0)  # --threshold 9: none beats it
    assert found() == []
    predictor.localizer = dataclasses.replace(predictor.localizer, threshold=8.0)  # the strongest does: both count
    assert len(found()) == 2
    rescued.append(_Rescued((big.copy(), 1.7), 0.9))  # the rescue keeps the face the tiles read tighter
    faces = found()
    assert [(b.tolist(), s) for b, s in faces] == [(tighter.tolist(), 9.0), (apart.tolist(), 4.0)]
    assert not any(isinstance(f, _Rescued) for f in faces)  # the localizer's face now, not the rescue's
    predictor.localizer = dataclasses.replace(predictor.localizer, threshold=20.0)  # the rescued face alone stays
    faces = found()
    assert len(faces) == 1 and isinstance(faces[0], _Rescued) and faces[0][1] == 1.7


def test_predictor_reads_a_large_photo_in_tiles_when_asked(tmp_path):
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4))
    with pytest.raises(ValueError, match="detail_ratio"):
        predictor.detail_ratio = 2.0
    image = np.random.default_rng(1).integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    shapes = []
    lnet = predictor._run["lnet"]

    def counting(x):
        shapes.append(tuple(x.shape))
        return lnet(x)

    predictor._run["lnet"] = counting
    plain = predictor.predict(image)
    tiles_off = list(shapes)
    predictor.detail_ratio = 0.5  # 800 x 600: two tiles side by side
    record = predictor.predict(image)
    tiles = [s for s in shapes[len(tiles_off):] if s[1:3] == (DETAIL_TILE, DETAIL_TILE)]
    assert not any(s[1:3] == (DETAIL_TILE, DETAIL_TILE) for s in tiles_off)
    assert tiles == [(1, DETAIL_TILE, DETAIL_TILE, 3)] * 2
    assert len(record["faces"]) >= len(plain["faces"]) >= 1
    for face in record["faces"]:
        x0, y0, x1, y1 = face["box"]
        assert 0 <= x0 < x1 <= 1600 and 0 <= y0 < y1 <= 1200


def test_predict_cli_takes_a_detail_ratio_and_refuses_a_bad_one(tmp_path, capsys, monkeypatch):
    import cv2

    from lnet_anet.predict import main

    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=2)
    photo = tmp_path / "large.jpg"
    cv2.imwrite(str(photo), np.random.default_rng(2).integers(0, 255, (1000, 1800, 3), dtype=np.uint8))
    assert main([str(photo), "--bundle", str(bundle), "--detail", "0.5", "--json"]) == 0
    assert '"faces"' in capsys.readouterr().out
    monkeypatch.setattr(Predictor, "load", lambda *a, **k: pytest.fail("a bad --detail must stop before the model loads"))
    for bad in ("2", "0", "0.01"):
        assert main([str(photo), "--bundle", str(bundle), "--detail", bad]) == 2  # a bad value: usage
        err = capsys.readouterr().err
        assert err.startswith("usage: ") and f"error: argument --detail: must be within [0.05, 1] pixels per photo pixel, got '{bad}'" in err


def test_a_large_photo_is_shrunk_once_and_its_canvases_placed_as_the_original_s():
    from lnet_anet.lnet.multiscale import place, shrink_factor

    lnet = LNetInput.from_dict({**BASE, "scales": [1.0, 0.45], "zoom_in_scales": [2.0]})
    assert shrink_factor((480, 640), lnet) == 1.0  # a canvas at scale 2 already has 0.7 px per pixel
    f = shrink_factor((4000, 6000), lnet)
    assert f == pytest.approx(2 * 2 * 224 / 6000)  # twice the largest canvas's resolution
    detail = LNetInput.from_dict({**lnet.to_dict(), "detail_ratio": 0.5})
    assert shrink_factor((4000, 6000), detail, detail=True) == 0.5 and shrink_factor((480, 640), detail, detail=True) == 1.0
    assert shrink_factor((4000, 6000), detail) == f  # the scales' copy: the same with the detail pass on
    yy, xx = np.mgrid[0:2000, 0:3000]
    img = np.stack([(xx / 12) % 256, (yy / 8) % 256, (xx + yy) / 20 % 256], axis=2).astype(np.uint8)  # smooth
    work = resize_image(img, 500, 750)
    for scale in (1.0, 0.45, 2.0):
        direct, where = place(img, (224, 224), scale, "letterbox", "fit")
        canvas, shrunk = place(work, (224, 224), scale, "letterbox", "fit")
        moved = shrunk.of_original(750 / 3000, 500 / 2000)
        assert (moved.x0, moved.y0, moved.h_c, moved.w_c) == (where.x0, where.y0, where.h_c, where.w_c)
        assert moved.kx == pytest.approx(where.kx) and moved.ky == pytest.approx(where.ky)
        assert np.abs(canvas.astype(int) - direct.astype(int)).mean() < 3  # the same picture
        np.testing.assert_allclose(moved.to_image([10, 20, 60, 90], (2000, 3000)),
                                   where.to_image([10, 20, 60, 90], (2000, 3000)), atol=1e-6)  # fmt: skip


def test_the_detail_pass_works_with_a_localizer_that_adds_weak_faces(tmp_path):
    """The embedded bundle's localizer has weak_threshold (session 28); the detail pass's own
    localizer drops secondary_threshold, so it must drop weak_threshold with it (a ValueError
    on every large photo otherwise)."""
    import dataclasses

    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4))
    predictor.localizer = dataclasses.replace(predictor.localizer, separation=0.5, secondary_threshold=0.5,
                                              weak_threshold=0.1)  # fmt: skip
    predictor.detail_ratio = 0.5
    image = np.random.default_rng(3).integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    record = predictor.predict(image)
    assert record.get("error") is None and len(record["faces"]) >= 1


def test_locate_many_refuses_one_path_as_predict_many_does(tmp_path):
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4))
    with pytest.raises(TypeError, match="locate_many takes an iterable of images"):
        predictor.locate_many("photo.jpg")  # at the call, not when the iterator is first read
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        predictor.locate_many(["photo.jpg"], batch_size=0)
    with pytest.raises(ValueError, match="batch_size must be an int"):
        predictor.locate_many(["photo.jpg"], batch_size=1.0)
    empty = tmp_path / "broken.jpg"
    empty.write_bytes(b"")
    from lnet_anet.inference.predictor import UnreadableImageWarning

    with pytest.warns(UnreadableImageWarning, match="broken.jpg: file is empty"):
        assert list(predictor.locate_many([empty])) == [[]]  # no faces, and said why


def test_locate_many_reads_its_images_as_it_goes(tmp_path):
    """An endless generator (a video's frames) gives its first faces; only one batch is read."""
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4))
    taken = []

    def frames():
        while True:
            taken.append(len(taken))
            yield np.zeros((24, 32, 3), np.uint8)

    found = predictor.locate_many(frames(), batch_size=3)
    assert taken == []  # nothing read at the call
    next(found)
    assert len(taken) == 3


def test_predict_many_and_locate_many_refuse_one_array_or_pil_image(tmp_path):
    from PIL import Image

    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4))
    image = np.zeros((24, 32, 3), np.uint8)
    for one in (image, image[..., 0], Image.fromarray(image)):  # read row by row before
        with pytest.raises(TypeError, match="takes an iterable of images"):
            list(predictor.locate_many(one))
        with pytest.raises(TypeError, match="takes an iterable of images"):
            list(predictor.predict_many(one))
    assert len(list(predictor.locate_many(np.stack([image, image])))) == 2  # a batch array: its images


def test_the_detail_pass_reads_the_scales_from_the_same_pixels(tmp_path):
    """A trial: with --detail 0.5 a 6000 x 4000 photo lost faces the default reading found. The
    scales' canvases were cut from the detail pass's copy (shrunk to 0.5, not ~0.15), so LNet read
    other pixels. Now the scales read the same copy with the detail pass on or off: their maps agree."""
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=4),
                               backend="torch")  # fmt: skip
    image = np.random.default_rng(5).integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    plain = predictor.analyse(image).maps
    predictor.detail_ratio = 0.5
    with_detail = predictor.analyse(image).maps
    assert plain and len(with_detail) == len(plain)  # the detail pass's tiles are not among the scales' maps
    for (m0, size0, _), (m1, size1, _) in zip(plain, with_detail, strict=True):
        assert size0 == size1
        np.testing.assert_array_equal(m0, m1)
