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


# ----------------------------------------------------------------- evaluate_detections (AP, FPPI)

from lnet_anet.metrics.detection import (  # noqa: E402
    average_precision,
    evaluate_detections,
    label_detections,
    paired_iou,
    truth_from_table,
)

A, B, C, D = [0, 0, 10, 10], [50, 50, 60, 60], [100, 100, 110, 110], [200, 200, 210, 210]
FAR = [300, 300, 310, 310]


def test_ap_by_hand_all_point_interpolation():
    # Ranking 0.9 hit, 0.8 false alarm, 0.7 hit over 3 faces: recall 1/3, 1/3, 2/3 at precision
    # 1, 1/2, 2/3; the envelope is 1 up to recall 1/3 and 2/3 up to 2/3: AP = 1/3 + 2/9 = 5/9.
    dets = [([A, FAR], [0.9, 0.8]), ([B], [0.7])]
    truth = [[A], [B, C]]
    out = evaluate_detections(dets, truth, bands=None)
    assert out["ap"] == pytest.approx(5 / 9)
    assert out["max_recall"] == pytest.approx(2 / 3)
    assert out["recall_at_0.1_fppi"] == pytest.approx(1 / 3)  # 0.2 false alarms allowed: none
    assert out["recall_at_1_fppi"] == pytest.approx(2 / 3)
    assert out["n_faces"] == 3 and out["n_images"] == 2 and out["n_detections"] == 3
    assert out["false_alarms"] == 1 and out["max_fppi"] == pytest.approx(0.5)  # recall at 1 FPPI is max recall here
    # Image order and detection order within an image do not matter: one global ranking.
    swapped = evaluate_detections([([B], [0.7]), ([FAR, A], [0.8, 0.9])], [[B, C], [A]], bands=None)
    assert swapped["ap"] == pytest.approx(5 / 9)


def test_a_top_ranked_false_alarm_costs_precision():
    dets = [([A, FAR], [0.9, 0.95]), ([B], [0.7])]  # false alarm first: precision 0, 1/2, 2/3
    out = evaluate_detections(dets, [[A], [B]], bands=None)
    assert out["ap"] == pytest.approx(0.5 * (2 / 3) + 0.5 * (2 / 3))
    assert out["recall_at_0.1_fppi"] == 0.0 and out["recall_at_1_fppi"] == 1.0


def test_dont_care_faces_neither_count_nor_penalise():
    truth = [([A, D], [False, True]), ([B, C], [False, False])]
    base = evaluate_detections([([A, FAR], [0.9, 0.8]), ([B], [0.7])], truth, bands=None)
    assert base["ap"] == pytest.approx(5 / 9) and base["n_faces"] == 3 and base["n_dont_care"] == 1
    # A top-scored detection of the don't-care face changes nothing ...
    on_dc = evaluate_detections([([A, FAR, D], [0.9, 0.8, 0.99]), ([B], [0.7])], truth, bands=None)
    assert on_dc["ap"] == pytest.approx(5 / 9) and on_dc["false_alarms"] == 1
    # ... while the same box, when the face counts, is a hit (more recall).
    counted = evaluate_detections([([A, FAR, D], [0.9, 0.8, 0.99]), ([B], [0.7])],
                                  [[A, D], [B, C]], bands=None)  # fmt: skip
    assert counted["max_recall"] == pytest.approx(3 / 4)
    # A second detection of a matched face that also overlaps a don't-care face is ignored.
    scores, labels = label_detections([A, A], [0.9, 0.8], [A, A], [False, True])
    assert list(labels) == [1, -1]
    # Without the don't-care face it is a duplicate: a false alarm.
    assert list(label_detections([A, A], [0.9, 0.8], [A])[1]) == [1, 0]


def test_ties_are_one_operating_point():
    # Two detections of equal score, one hit and one false alarm, one image: no threshold keeps
    # the hit without the false alarm.
    out = evaluate_detections([([A, FAR], [0.5, 0.5])], [[A]], fppi=(0.5, 1.0), bands=None)
    assert out["recall_at_0.5_fppi"] == 0.0 and out["recall_at_1_fppi"] == 1.0
    assert out["ap"] == pytest.approx(0.5)


def test_average_precision_of_a_perfect_and_an_empty_ranking():
    assert average_precision(np.array([0.5, 1.0]), np.array([1.0, 1.0])) == pytest.approx(1.0)
    assert average_precision(np.zeros(0), np.zeros(0)) == 0.0
    out = evaluate_detections([([], [])], [[A]], bands=None)
    assert out["ap"] == 0.0 and out["max_recall"] == 0.0 and out["recall_at_1_fppi"] == 0.0


def test_by_size_bands_make_other_faces_dont_care():
    small, large = [0, 0, 30, 30], [100, 0, 180, 80]  # 30 px and 80 px high
    dets = [([small, large], [0.9, 0.8])]
    bands = {"easy_by_size": (64, np.inf), "hard_by_size": (24, np.inf), "small_only": (24, 40)}
    out = evaluate_detections(dets, [[small, large]], bands=bands)
    assert out["ap"] == 1.0
    easy = out["by_size"]["easy_by_size"]
    assert easy["n_faces"] == 1 and easy["ap"] == 1.0 and easy["false_alarms"] == 0
    assert out["by_size"]["small_only"]["n_faces"] == 1 and out["by_size"]["hard_by_size"]["n_faces"] == 2
    assert easy["band_px"] == [64, np.inf]
    # An unmatched detection stays a false alarm in every band.
    out = evaluate_detections([([small, large, FAR], [0.9, 0.8, 0.95])], [[small, large]], bands=bands)
    assert out["by_size"]["easy_by_size"]["false_alarms"] == 1
    assert out["by_size"]["easy_by_size"]["ap"] == pytest.approx(0.5)


def test_evaluate_detections_accepts_localizer_output_and_reader_tables():
    import pandas as pd

    df = pd.DataFrame({"boxes": [np.array([A], float), np.zeros((0, 4))],
                       "dont_care": [np.array([False]), np.zeros(0, bool)]})  # fmt: skip
    dets = [[(np.array(A, float), 0.9)], []]
    out = evaluate_detections(dets, truth_from_table(df), bands=None)
    assert out["ap"] == 1.0 and out["n_images"] == 2
    with pytest.raises(ValueError, match="2 boxes but 1 scores"):
        evaluate_detections([([A, B], [0.9])], [[A]])
    with pytest.raises(ValueError, match="detection lists"):
        evaluate_detections([], [[A]])


def test_paired_iou_is_the_diagonal_of_the_iou_matrix():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 50, (30, 2))
    a = np.concatenate([xy, xy + rng.uniform(1, 40, (30, 2))], 1)
    b = a + rng.normal(0, 8, (30, 4))
    b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 1)
    np.testing.assert_allclose(paired_iou(a, b), np.diag(iou(a, b)), atol=1e-12)
    assert paired_iou(a[:1], a[:1])[0] == 1.0
    assert paired_iou([[0, 0, 0, 0]], [[0, 0, 0, 0]])[0] == 0.0  # empty boxes: 0, not NaN
    with pytest.raises(ValueError, match="one shape"):
        paired_iou(a, b[:3])
