"""Per-attribute linear SVMs with Platt scaling on synthetic features."""

from __future__ import annotations

import numpy as np
import pytest

from lnet_anet.anet.svm import LinearSVMHead, fit_linear_svms


def _separable(n: int, dim: int = 12, n_attr: int = 3, seed: int = 0, margin: float = 0.5):
    """Features whose attribute k is the sign of a fixed random direction, with a gap around
    zero; `seed` draws the samples (train, calibration and test sets share the directions)."""
    directions = np.random.default_rng(1234).normal(size=(n_attr, dim))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4 * n, dim)) * 3 + 5  # offset and scale: standardisation matters
    proj = (x - 5) @ directions.T
    keep = (np.abs(proj) > margin * np.linalg.norm(directions, axis=1)).all(axis=1)
    x, proj = x[keep][:n], proj[keep][:n]
    return x, (proj > 0).astype(np.int64)


@pytest.fixture(scope="module")
def head_and_data():
    x, y = _separable(400)
    x_cal, y_cal = _separable(200, seed=1)
    head = fit_linear_svms(x, y, C=1.0, calibration=(x_cal, y_cal))
    return head, x, y


def test_separates_a_linearly_separable_problem(head_and_data):
    head, x, y = head_and_data
    assert ((head.scores(x) > 0) == y).all()
    x_test, y_test = _separable(300, seed=2)
    assert ((head.scores(x_test) > 0) == y_test).mean() > 0.97


def test_probabilities_are_calibrated_and_monotone(head_and_data):
    head, x, y = head_and_data
    p = head.probabilities(x)
    assert p.shape == y.shape and (p >= 0).all() and (p <= 1).all()
    assert (head.platt_a > 0).all()  # fitted on separable data: a positive slope
    assert p[y == 1].mean() > 0.9 and p[y == 0].mean() < 0.1
    s = np.linspace(-50, 50, 201)[:, None].repeat(head.num_attributes, axis=1)
    curve = head.platt(s)
    assert (np.diff(curve, axis=0) >= 0).all()  # monotone in the score, no overflow at extremes
    assert np.isfinite(curve).all() and curve.min() >= 0 and curve.max() <= 1


def test_uncalibrated_head_is_the_sigmoid_of_the_margin():
    x, y = _separable(200, seed=3)
    head = fit_linear_svms(x, y, class_weight="balanced")
    s = head.scores(x[:5])
    np.testing.assert_allclose(head.probabilities(x[:5]), 1 / (1 + np.exp(-s)), rtol=1e-12)


def test_average_over_patches_is_the_mean_score_then_platt(head_and_data):
    head, x, _ = head_and_data
    patches = x[:18].reshape(2, 9, -1)  # two faces of nine patches
    p = head.average_over_patches(patches)
    assert p.shape == (2, head.num_attributes)
    mean_scores = head.scores(x[:18]).reshape(2, 9, -1).mean(axis=1)
    np.testing.assert_allclose(p, head.platt(mean_scores), rtol=1e-12)
    np.testing.assert_allclose(head.average_over_patches(patches[1]), p[1], rtol=1e-12)


def test_arrays_round_trip_exactly(head_and_data, tmp_path):
    head, x, _ = head_and_data
    arrays = head.to_arrays()
    assert all(isinstance(v, np.ndarray) for v in arrays.values())
    np.savez(tmp_path / "svm.npz", **arrays)
    with np.load(tmp_path / "svm.npz", allow_pickle=False) as f:
        restored = LinearSVMHead.from_arrays(dict(f))
    for key, value in arrays.items():
        assert np.array_equal(getattr(restored, key), value), key
    assert np.array_equal(restored.probabilities(x), head.probabilities(x))


def test_bad_shapes_and_labels_raise(head_and_data):
    head, x, y = head_and_data
    with pytest.raises(ValueError, match="11 dims, the head expects 12"):
        head.scores(np.zeros((3, 11)))
    with pytest.raises(ValueError, match="2-D"):
        head.scores(np.zeros(12))
    with pytest.raises(ValueError, match=r"\(nPatches, D\) or \(B, nPatches, D\)"):
        head.average_over_patches(np.zeros((1, 2, 3, 12)))
    with pytest.raises(ValueError, match=r"labels must be \(N=400"):
        fit_linear_svms(x, y[:10])
    with pytest.raises(ValueError, match="0/1"):
        fit_linear_svms(x, y * 2)
    with pytest.warns(UserWarning, match="only one class"):
        constant = fit_linear_svms(x, np.concatenate([y[:, :1], np.zeros_like(y[:, 1:])], axis=1))
    assert (constant.scores(x)[:, 1:] < 0).all() and (constant.weight[1:] == 0).all()
    names = [f"Attr{k}" for k in range(y.shape[1])]  # a trial: indices had to be counted through 40 names
    with pytest.warns(UserWarning, match=r"attributes \['Attr1', 'Attr2'\] have only one class"):
        fit_linear_svms(x, np.concatenate([y[:, :1], np.zeros_like(y[:, 1:])], axis=1), names=names)
    with pytest.warns(UserWarning, match=r"Platt slope <= 0 for attributes \['Attr0'"):
        head.calibrate(x, np.concatenate([1 - y[:, :1], y[:, 1:]], axis=1), names=names)
    head.calibrate(x, y)
    with pytest.raises(ValueError, match="NaN"):
        fit_linear_svms(np.full_like(x, np.nan), y)
    with pytest.raises(ValueError, match="2 attributes, the head has 3"):
        head.calibrate(x, y[:, :2])
    arrays = head.to_arrays()
    arrays["bias"] = arrays["bias"][:2]
    with pytest.raises(ValueError, match="bias must have shape"):
        LinearSVMHead.from_arrays(arrays)
    with pytest.raises(ValueError, match="missing"):
        LinearSVMHead.from_arrays({"weight": arrays["weight"]})


def test_thresholds_trade_accuracy_for_balanced_accuracy_on_a_rare_attribute():
    """A rare attribute with overlapping scores: 0.5 almost never predicts it; a balance weight
    lowers its threshold, raising balanced accuracy at a small cost in accuracy."""
    rng = np.random.default_rng(0)
    y = (rng.random((4000, 1)) < 0.08).astype(np.int64)
    x = rng.normal(size=(4000, 4)) + 1.2 * y  # positives only shifted: overlapping classes
    head = fit_linear_svms(x[:2000], y[:2000], C=0.1, calibration=(x[2000:3000], y[2000:3000]))
    tune_p, test_p, test_y = (
        head.probabilities(x[2000:3000]),
        head.probabilities(x[3000:]),
        y[3000:].astype(bool),
    )

    def accuracies(pred):
        bal = ((pred & test_y).sum() / test_y.sum() + (~pred & ~test_y).sum() / (~test_y).sum()) / 2
        return (pred == test_y).mean(), bal

    assert np.array_equal(head.threshold, [0.5]) and np.array_equal(
        head.decide(test_p), test_p >= 0.5
    )
    acc_half, bal_half = accuracies(head.decide(test_p))
    most_accurate = head.choose_thresholds(tune_p, y[2000:3000], 0.0).threshold.copy()
    balanced = head.choose_thresholds(tune_p, y[2000:3000], 1.0).threshold.copy()
    assert balanced[0] < most_accurate[0]
    acc_bal, bal_bal = accuracies(head.decide(test_p))
    assert bal_bal > bal_half + 0.05 and acc_bal > acc_half - 0.1
    # Saved and restored with the head; heads saved before thresholds existed read as 0.5.
    arrays = head.to_arrays()
    assert np.array_equal(LinearSVMHead.from_arrays(arrays).threshold, balanced)
    del arrays["threshold"]
    assert np.array_equal(LinearSVMHead.from_arrays(arrays).threshold, [0.5])
    with pytest.raises(ValueError, match="balance_weight"):
        head.choose_thresholds(tune_p, y[2000:3000], -1.0)


def test_the_grid_says_a_constant_attribute_once(head_and_data):
    """ANet's SVM step fits one head per C of its grid; an attribute with one class in the fit
    part was warned about once per C (three times in a trial's log): now once."""
    import warnings

    from lnet_anet.anet.training import fit_svms

    _, x, y = head_and_data
    y = np.concatenate([y[:, :1], np.zeros_like(y[:, 1:])], axis=1)
    feats = {"features": x[:, None, :], "attributes": y}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_svms(feats, feats, [0.01, 0.1, 1.0], None, [0.0], 0.005)
    assert sum("only one class" in str(w.message) for w in caught) == 1
