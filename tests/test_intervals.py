"""Bootstrap intervals of the benchmark figures (lnet_anet.metrics.intervals and its users)."""

import numpy as np
import pytest

from lnet_anet.metrics.age import AGE_BANDS, estimate_intervals, regression_metrics
from lnet_anet.metrics.attributes import attribute_intervals, attribute_metrics
from lnet_anet.metrics.detection import detection_intervals, evaluate_detections
from lnet_anet.metrics.intervals import bootstrap_interval, format_interval, share_interval


def test_interval_of_a_share_matches_the_normal_approximation():
    hits = np.random.default_rng(1).random(2000) < 0.9
    (low, high), = bootstrap_interval(lambda idx: hits[idx].mean(), len(hits))
    p = hits.mean()
    half = 1.96 * np.sqrt(p * (1 - p) / len(hits))  # the binomial's normal interval
    assert low < p < high
    assert (high - low) == pytest.approx(2 * half, rel=0.15)


def test_interval_is_seeded_and_narrows_with_more_items():
    x = np.random.default_rng(2).normal(size=4000)
    first = bootstrap_interval(lambda idx: x[idx].mean(), 4000, seed=3)
    assert np.array_equal(first, bootstrap_interval(lambda idx: x[idx].mean(), 4000, seed=3))
    small = bootstrap_interval(lambda idx: x[:400][idx].mean(), 400)
    assert np.ptp(small) > 2.5 * np.ptp(first)  # sqrt(10) ~ 3.2 times wider


@pytest.mark.parametrize("n, resamples, confidence", [(1, 100, 0.95), (9, 100, 0.95), (10, 0, 0.95), (10, 100, 1.0)])
def test_interval_refuses_what_it_cannot_compute(n, resamples, confidence):
    with pytest.raises(ValueError):
        bootstrap_interval(lambda idx: 0.0, n, resamples, confidence)


def test_format_interval():
    assert format_interval(0.9009, [0.8981, 0.9034]) == "0.901 [0.898, 0.903]"
    assert format_interval(5.25, None, ".2f") == "5.25"
    assert format_interval(-6.77, [-7.5, -6.1], "+.2f") == "-6.77 [-7.50, -6.10]"
    assert format_interval(float("nan"), [1, 2]) == "n/a"


def test_attribute_intervals_hold_the_figures_and_resample_faces_whole():
    rng = np.random.default_rng(4)
    labels = rng.random((1500, 6)) < 0.3
    good, worse = labels ^ (rng.random(labels.shape) < 0.08), labels ^ (rng.random(labels.shape) < 0.2)
    out = attribute_intervals({"good": good, "worse": worse}, labels, resamples=300)
    assert (out["unit"], out["n"], out["resamples"]) == ("faces", 1500, 300)
    for rule, pred in (("good", good), ("worse", worse)):
        point = attribute_metrics(pred, labels, list("abcdef"))
        for figure in ("mean_accuracy", "mean_balanced_accuracy"):
            low, high = out[f"{rule}/{figure}"]
            assert low < point[figure] < high
    assert out["good/mean_accuracy"][0] > out["worse/mean_accuracy"][1]
    perfect = attribute_intervals({"same": labels}, labels, resamples=50)
    assert perfect["same/mean_accuracy"] == [1.0, 1.0]
    with pytest.raises(ValueError, match="must both be"):
        attribute_intervals({"x": good[:, :5]}, labels)


def test_estimate_intervals_by_band_and_an_empty_band():
    rng = np.random.default_rng(5)
    true = rng.uniform(0, 59, 800)  # no one 60 or over
    pred = true + rng.normal(2.0, 4.0, 800)
    out = estimate_intervals(pred, true, np.full(800, 4.0), AGE_BANDS, resamples=400)
    point = regression_metrics(pred, true, pred_sigma=np.full(800, 4.0))
    assert out["mae"][0] < point["mae"] < out["mae"][1]
    assert out["bias"][0] < 2.0 < out["bias"][1]
    assert out["within_1_std"][0] < point["within_pred_std"] < out["within_1_std"][1]
    assert out["60+/mae"] is None and out["60+/bias"] is None
    assert out["0-12/mae"] is not None and "within_1_std" not in estimate_intervals(pred, true, resamples=20)


def _boxes(xy: np.ndarray, side: float = 20.0) -> np.ndarray:
    return np.c_[xy, xy + side]


def test_detection_intervals_hold_ap_and_a_difference_to_another_detector():
    rng = np.random.default_rng(6)
    truth = [_boxes(rng.uniform(0, 100, (k, 2))) for k in rng.integers(0, 4, 150)]
    found = [(np.r_[t + rng.uniform(-1, 1, t.shape), _boxes(rng.uniform(0, 100, (1, 2)))], rng.normal(size=len(t) + 1))
             for t in truth]  # fmt: skip
    first_only = [(b[:1], s[:1]) for b, s in found]  # finds at most one face a photo
    out = detection_intervals(found, truth, versus=first_only, resamples=300)
    point, other = evaluate_detections(found, truth), evaluate_detections(first_only, truth)
    assert out["unit"] == "images" and out["ap"][0] <= point["ap"] <= out["ap"][1]
    low, high = out["max_recall - versus"]
    assert 0 < low <= point["max_recall"] - other["max_recall"] <= high
    same = detection_intervals(found, truth, versus=found, resamples=50)
    assert same["ap - versus"] == [0.0, 0.0]
    with pytest.raises(ValueError, match="detection lists"):
        detection_intervals(found[:-1], truth)


def test_groups_are_drawn_whole_and_widen_the_interval_of_correlated_items():
    rng = np.random.default_rng(8)
    people = np.repeat(np.arange(60), 5)  # 60 people, 5 photos each
    per_person = rng.normal(0, 1, 60)[people]  # the photos of one person agree
    values = per_person + rng.normal(0, 0.1, 300)
    seen = []

    def mean(idx):
        seen.append(idx)
        return values[idx].mean()

    by_item = bootstrap_interval(lambda idx: values[idx].mean(), 300, resamples=400)
    by_person = bootstrap_interval(mean, 300, resamples=400, groups=people)
    assert np.ptp(by_person) > 1.8 * np.ptp(by_item)  # 5 photos of one person are about one item, not five
    drawn = seen[-1]
    assert len(drawn) % 5 == 0 and all(np.bincount(people[drawn]) % 5 == 0)  # each person with all 5 photos
    with pytest.raises(ValueError, match="at least 10 groups"):
        bootstrap_interval(mean, 300, groups=people % 9)
    with pytest.raises(ValueError, match="group labels"):
        bootstrap_interval(mean, 300, groups=people[:-1])


def test_share_interval_is_exact_at_the_ends():
    low, high = share_interval(1958, 1958)
    assert high == 1.0 and 0.998 < low < 0.999  # the bootstrap would say [1, 1]
    assert share_interval(3, 3)[0] == pytest.approx(0.2924, abs=1e-3)
    assert share_interval(0, 50)[0] == 0.0
    for k, n in ((4, 3), (-1, 3), (0, 0)):
        with pytest.raises(ValueError):
            share_interval(k, n)


def test_a_rare_class_leaves_the_balanced_mean_without_an_interval():
    rng = np.random.default_rng(9)
    labels = np.c_[rng.random(200) < 0.5, np.arange(200) < 4]  # the second attribute: 4 positives
    pred = labels ^ (rng.random(labels.shape) < 0.1)
    out = attribute_intervals({"p": pred}, labels, resamples=100, names=["common", "rare"])
    assert out["p/mean_balanced_accuracy"] is None and out["rare_class_attributes"] == ["rare"]
    assert out["p/mean_accuracy"] is not None
