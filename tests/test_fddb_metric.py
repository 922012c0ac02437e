"""lnet_anet.metrics.fddb: FDDB's own discrete and continuous ROC (ellipse regions, Hungarian matching)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lnet_anet.data.readers.detection import ellipse_to_box
from lnet_anet.metrics.fddb import fddb_roc, region_overlaps, write_roc_files

FACE = np.array([[40.0, 30.0, math.pi / 2, 100.0, 80.0]])  # upright: 60 px wide, 80 px high


def test_an_ellipse_overlaps_its_bounding_box_by_about_pi_over_4():
    box = ellipse_to_box(*FACE[0])
    overlap = region_overlaps(FACE, box[None], (200, 300))
    assert overlap.shape == (1, 1)
    assert overlap[0, 0] == pytest.approx(math.pi / 4, abs=0.03)  # pixels, not the continuous areas
    moved = box + [70, 0, 70, 0]  # beside the face: no shared pixel
    assert region_overlaps(FACE, moved[None], (200, 300))[0, 0] == 0.0


def test_regions_are_clipped_to_the_image():
    corner = np.array([[40.0, 30.0, math.pi / 2, 0.0, 0.0]])  # a quarter of it in the picture
    inside = np.array([[0.0, 0.0, 30.0, 40.0]])
    full = region_overlaps(corner, inside, (200, 300))[0, 0]
    assert full > 0.6  # the quarter ellipse fills most of the box that holds it
    assert region_overlaps(corner, inside, (10, 10))[0, 0] == pytest.approx(
        region_overlaps(corner, np.array([[0.0, 0.0, 9.0, 9.0]]), (10, 10))[0, 0])  # both cut to 10 x 10 pixels


def test_hungarian_matching_beats_the_greedy_order():
    """Two faces 10 px apart, two detections: the better-scoring one sits on the first face and
    overlaps the second by 0.65, the other overlaps the first by 0.65 and the second by under 0.5.
    Taken best score first (VOC's order) the first face goes to the first detection and the second
    detection misses; FDDB's matching maximises the summed overlap and pairs them crosswise: two
    true positives."""
    faces = np.array([[40.0, 30.0, math.pi / 2, 100.0, 80.0], [40.0, 30.0, math.pi / 2, 110.0, 80.0]])
    a = ellipse_to_box(*faces[0])
    boxes = np.stack([a, a + [-10, 0, -10, 0]])
    o = region_overlaps(faces, boxes, (200, 300))
    assert o[0, 0] > o[1, 0] > 0.5 and o[0, 1] > 0.5 > o[1, 1]  # the geometry the docstring says
    assert o[1, 0] + o[0, 1] > o[0, 0] + o[1, 1]
    roc = fddb_roc([(boxes, np.array([0.9, 0.5]))], [faces], [(200, 300)])
    assert roc["threshold"] == [0.9, 0.5]
    assert roc["tpr_discrete"] == [0.5, 1.0] and roc["false_positives"] == [0, 0]
    assert roc["tpr_continuous"][1] == pytest.approx((o[1, 0] + o[0, 1]) / 2)


def test_the_roc_runs_over_every_score_of_every_image(tmp_path):
    box = ellipse_to_box(*FACE[0])
    far = np.array([[0.0, 0.0, 20.0, 20.0]])
    detections = [(np.stack([box, far[0]]), np.array([0.9, 0.4])),  # image 1: a hit, then a false positive
                  (far, np.array([0.7])),  # image 2: a false positive only; its face is never found
                  (np.zeros((0, 4)), np.zeros(0))]  # image 3: no detection, one face
    roc = fddb_roc(detections, [FACE, FACE, FACE], [(200, 300)] * 3)
    assert roc["n_faces"] == 3 and roc["n_images"] == 3 and roc["n_detections"] == 3
    assert roc["threshold"] == [0.9, 0.7, 0.4]
    assert roc["false_positives"] == [0, 1, 2]
    assert roc["tpr_discrete"] == pytest.approx([1 / 3] * 3)
    assert roc["at_false_positives"]["100"]["tpr_discrete"] == pytest.approx(1 / 3)
    disc, cont = write_roc_files(tmp_path / "x", roc)
    assert disc.name == "xDiscROC.txt" and cont.name == "xContROC.txt"
    lines = disc.read_text().splitlines()  # FDDB's order: lowest threshold first, "tpr fp threshold"
    assert lines[0].split() == ["0.333333", "2", "0.4"] and lines[-1].split() == ["0.333333", "0", "0.9"]
    assert len(cont.read_text().splitlines()) == 3


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="one of each per image"):
        fddb_roc([(np.zeros((0, 4)), np.zeros(0))], [FACE, FACE], [(10, 10)])
    with pytest.raises(ValueError, match="image 0: 1 boxes but 2 scores"):
        fddb_roc([(np.zeros((1, 4)), np.zeros(2))], [FACE], [(10, 10)])
