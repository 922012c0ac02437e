"""IoU, recall / mean IoU / false positives and the empty-image rate on hand-made boxes."""

from __future__ import annotations

import numpy as np
import pytest

from lnet_anet.metrics import empty_image_rate, iou, match_detections


def test_iou_of_hand_made_boxes():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    m = iou(a, b)
    assert m.shape == (2, 3)
    assert m[0, 0] == pytest.approx(1.0)
    assert m[0, 1] == pytest.approx(50 / 150)  # half overlap: 50 / (100 + 100 - 50)
    assert m[0, 2] == 0.0
    assert iou([0, 0, 4, 4], [1, 1, 3, 3])[0, 0] == pytest.approx(4 / 16)  # one box inside
    assert iou(np.zeros((0, 4)), b).shape == (0, 3)


def test_iou_rejects_malformed_boxes():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        iou([[0, 0, 1]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="x1 < x0"):
        iou([[5, 0, 1, 1]], [[0, 0, 1, 1]])


def test_match_detections_counts_hits_misses_and_false_positives():
    gt = [
        [[0, 0, 10, 10]],  # found
        [[0, 0, 10, 10], [50, 50, 60, 60]],  # one found, one missed (IoU 1/3 < 0.5)
        [[0, 0, 10, 10]],  # missed: no prediction
    ]
    pred = [
        [[1, 0, 11, 10], [30, 30, 40, 40]],  # a hit and a false positive
        [[0, 0, 10, 10], [55, 50, 65, 60]],
        [],
    ]
    out = match_detections(pred, gt, iou=0.5)
    assert out["n_images"] == 3
    assert out["recall"] == pytest.approx(2 / 4)
    assert out["false_positives_per_image"] == pytest.approx(2 / 3)
    assert out["mean_iou"] == pytest.approx((90 / 110 + 1.0 + 50 / 150 + 0.0) / 4)
    # A looser IoU threshold turns the second image's near miss into a hit.
    assert match_detections(pred, gt, iou=0.3)["recall"] == pytest.approx(3 / 4)


def test_one_prediction_matches_at_most_one_face():
    gt = [[[0, 0, 10, 10], [0, 0, 10, 10]]]  # two identical faces, one prediction
    out = match_detections([[[0, 0, 10, 10]]], gt)
    assert out["recall"] == 0.5 and out["false_positives_per_image"] == 0.0
    # A duplicate prediction of one face is a false positive.
    out = match_detections([[[0, 0, 10, 10], [0, 0, 10, 10]]], [[[0, 0, 10, 10]]])
    assert out["recall"] == 1.0 and out["false_positives_per_image"] == 1.0


def test_match_detections_accepts_localizer_output():
    dets = [(np.array([0.0, 0.0, 10.0, 10.0]), 0.9)]
    assert match_detections([dets], [[[0, 0, 10, 10]]])["recall"] == 1.0


def test_match_detections_needs_one_prediction_list_per_image():
    with pytest.raises(ValueError, match="2 prediction lists for 1 images"):
        match_detections([[], []], [[[0, 0, 1, 1]]])


def test_empty_image_rate():
    preds = [[], [[0, 0, 5, 5]], np.zeros((0, 4)), [(np.array([1.0, 1, 2, 2]), 0.5)]]
    assert empty_image_rate(preds) == pytest.approx(2 / 4)
    with pytest.raises(ValueError, match="no face-free images"):
        empty_image_rate([])
