"""DLDL-v2 label distributions, expectation, the KL + L1 loss and the head."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lnet_anet.dldl.label_distribution import (
    DLDLHead,
    DLDLLoss,
    LabelBins,
    band_weights,
    distribution_std,
    expectation,
    gaussian_label_distribution,
    label_prior,
    make_bins,
    predict_from_logits,
    prior_corrected,
)

AGES = LabelBins(0, 100, 1)


def test_bins_values_and_count():
    assert len(AGES) == 101
    assert AGES.values[0] == 0 and AGES.values[-1] == 100
    scores = LabelBins(1, 5, 0.1)
    assert len(scores) == 41
    assert torch.allclose(scores.values[10], torch.tensor(2.0))


@pytest.mark.parametrize("args", [(0, 100, 0), (5, 1, 0.1), (0, 10, 3)])
def test_bad_bins_raise(args):
    with pytest.raises(ValueError):
        LabelBins(*args)


def test_make_bins_derives_and_checks_consistency():
    assert make_bins() == LabelBins(0, 100, 1)
    assert len(make_bins(41, 1, 5)) == 41 and make_bins(41, 1, 5).step == pytest.approx(0.1)
    assert len(make_bins(None, 1, 5, 0.1)) == 41
    with pytest.raises(ValueError, match="disagrees"):
        make_bins(101, 1, 5, 0.1)


def test_distribution_sums_to_one_and_peaks_at_label():
    y = torch.tensor([0.0, 23.0, 57.0, 100.0])
    p = gaussian_label_distribution(y, 2.0, AGES)
    assert p.shape == (4, 101)
    assert torch.allclose(p.sum(1), torch.ones(4))
    assert p.argmax(1).tolist() == [0, 23, 57, 100]


def test_out_of_range_labels_clamp_to_the_ends():
    p = gaussian_label_distribution(torch.tensor([-5.0, 116.0]), 2.0, AGES)
    q = gaussian_label_distribution(torch.tensor([0.0, 100.0]), 2.0, AGES)
    assert torch.allclose(p, q)


def test_zero_sigma_is_one_hot_and_negative_sigma_raises():
    p = gaussian_label_distribution(torch.tensor([30.2, 40.5]), 0.0, AGES)
    assert p[0, 30] == pytest.approx(1.0)
    assert p[1, 40] == pytest.approx(0.5) and p[1, 41] == pytest.approx(0.5)  # exact tie
    with pytest.raises(ValueError, match="sigma"):
        gaussian_label_distribution(torch.tensor([30.0]), -1.0, AGES)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_label_distribution(torch.tensor([30.0]), float("nan"), AGES)


def test_per_sample_sigma_changes_the_spread():
    y = torch.tensor([50.0, 50.0])
    p = gaussian_label_distribution(y, torch.tensor([1.0, 5.0]), AGES)
    std = distribution_std(p, AGES)
    assert std[0] == pytest.approx(1.0, abs=0.02) and std[1] == pytest.approx(5.0, abs=0.02)


def test_expectation_of_one_hot_and_gaussian_is_its_mean():
    one_hot = torch.zeros(2, 101)
    one_hot[0, 17], one_hot[1, 88] = 1.0, 1.0
    assert expectation(one_hot, AGES).tolist() == [17.0, 88.0]
    assert distribution_std(one_hot, AGES).tolist() == [0.0, 0.0]
    y = torch.tensor([33.3, 61.7])  # between bins, far from the ends
    p = gaussian_label_distribution(y, 3.0, AGES)
    assert torch.allclose(expectation(p, AGES), y, atol=1e-3)


def test_kl_is_zero_when_prediction_equals_target():
    y = torch.tensor([20.0, 45.5, 70.0])
    target = gaussian_label_distribution(y, 12.0, AGES)  # wide: no bin underflows to 0
    loss, parts = DLDLLoss(AGES, sigma=12.0, use_l1=False)(target.log(), y)
    assert parts["kl"] == pytest.approx(0.0, abs=1e-5)
    assert float(loss) == pytest.approx(0.0, abs=1e-5)
    _, wrong = DLDLLoss(AGES, sigma=12.0)(torch.zeros(3, 101), y)
    assert wrong["kl"] > 0.5


def test_flags_switch_terms_off():
    torch.manual_seed(0)
    y = torch.tensor([10.0, 60.0])
    logits = torch.randn(2, 101, requires_grad=True)
    both, parts = DLDLLoss(AGES, lambda_l1=0.5)(logits, y)
    kl_only, _ = DLDLLoss(AGES, use_l1=False)(logits, y)
    l1_only, _ = DLDLLoss(AGES, lambda_l1=0.5, use_kl=False)(logits, y)
    assert float(both.detach()) == pytest.approx(parts["kl"] + 0.5 * parts["l1"], rel=1e-5)
    assert float(kl_only.detach()) == pytest.approx(parts["kl"], rel=1e-5)
    assert float(l1_only.detach()) == pytest.approx(0.5 * parts["l1"], rel=1e-5)
    # The switched-off term contributes no gradient: the gradients add up.
    g_kl = torch.autograd.grad(kl_only, logits)[0]
    g_l1 = torch.autograd.grad(l1_only, logits)[0]
    g_both = torch.autograd.grad(both, logits)[0]
    assert torch.allclose(g_both, g_kl + g_l1, atol=1e-6)
    with pytest.raises(ValueError, match="nothing to train"):
        DLDLLoss(AGES, use_kl=False, use_l1=False)


def test_batch_sigma_is_used_where_finite():
    y = torch.tensor([30.0, 30.0])
    logits = gaussian_label_distribution(y, 6.0, AGES).log()
    loss_fn = DLDLLoss(AGES, sigma=1.0, use_l1=False)
    _, default = loss_fn(logits, y)
    _, given = loss_fn(logits, y, torch.tensor([6.0, 6.0]))
    _, mixed = loss_fn(logits, y, torch.tensor([6.0, float("nan")]))
    assert given["kl"] == pytest.approx(0.0, abs=1e-5)  # target built with sigma 6 = prediction
    assert default["kl"] > 0.1
    assert mixed["kl"] == pytest.approx(default["kl"] / 2, rel=1e-4)  # NaN row -> sigma 1.0


def test_loss_decreases_training_a_linear_model_on_toy_regression():
    torch.manual_seed(0)
    x = torch.rand(256, 4)
    y = 10 + 80 * x[:, 0]  # ages 10..90, a function of the first feature
    head = DLDLHead(4, AGES)
    loss_fn = DLDLLoss(AGES)
    opt = torch.optim.Adam(head.parameters(), lr=0.1)
    first = None
    for _ in range(60):
        loss, _ = loss_fn(head(x), y)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    pred = head.predict(head(x))
    mae = float((pred["mean"] - y).abs().mean())
    assert float(loss.detach()) < 0.5 * first
    assert mae < 8.0  # from ~25 years for a uniform prediction


def test_head_predict_shapes_and_consistency():
    head = DLDLHead(8, LabelBins(1, 5, 0.1))
    out = head.predict(head(torch.randn(3, 8)))
    assert out["probs"].shape == (3, 41) and out["mean"].shape == (3,)
    assert torch.allclose(out["probs"].sum(1), torch.ones(3))
    assert ((out["mean"] >= 1) & (out["mean"] <= 5)).all() and (out["std"] > 0).all()


def test_wrong_logit_width_raises():
    with pytest.raises(ValueError, match="logits must be"):
        DLDLLoss(AGES)(torch.zeros(2, 50), torch.tensor([1.0, 2.0]))


def test_band_weights_pull_rare_bands_up_and_average_one():
    ages = np.array([5] * 10 + [30] * 80 + [70] * 10, dtype=np.float64)
    w = band_weights(ages, edges=[0, 13, 60, 117], power=1.0)
    assert w.mean() == pytest.approx(1.0)
    assert w[0] == pytest.approx(w[-1]) and w[0] == pytest.approx(8 * w[50])  # shares 0.1 vs 0.8
    assert w[:10].sum() == pytest.approx(w[10:90].sum())  # power 1: every band weighs the same
    np.testing.assert_allclose(band_weights(ages, [0, 13, 60, 117], power=0.0), 1.0)
    assert band_weights([150.0, 30.0], [0, 60, 117])[0] == band_weights([100.0, 30.0], [0, 60, 117])[0]
    with pytest.raises(ValueError, match="increasing"):
        band_weights(ages, [0, 60, 13])
    with pytest.raises(ValueError, match="power"):
        band_weights(ages, [0, 13, 60], power=-1)


def test_weighted_loss_is_the_weighted_mean_of_per_sample_losses():
    bins = LabelBins(0, 10, 1)
    loss = DLDLLoss(bins, sigma=1.0)
    torch.manual_seed(0)
    logits, y = torch.randn(2, len(bins)), torch.tensor([2.0, 7.0])
    first, _ = loss(logits[:1], y[:1])
    second, _ = loss(logits[1:], y[1:])
    both, _ = loss(logits, y, weight=torch.tensor([3.0, 1.0]))
    assert both == pytest.approx(float(0.75 * first + 0.25 * second), rel=1e-5)
    plain, _ = loss(logits, y)
    assert plain == pytest.approx(float(loss(logits, y, weight=torch.ones(2))[0]), rel=1e-6)


def test_label_prior_is_the_mean_target_floored_and_normalised():
    ages = np.array([20.0] * 90 + [80.0] * 10)
    prior = label_prior(ages, AGES, sigma=2.0, floor=0.1)
    assert prior.shape == (101,) and torch.isclose(prior.sum(), torch.tensor(1.0))
    assert int(prior.argmax()) == 20 and prior[20] / prior[80] == pytest.approx(9.0, rel=1e-3)
    assert torch.isclose(prior[50], prior.min()) and prior.min() > 0  # raised to the floor, far from any label
    assert torch.isclose(label_prior(ages, AGES, floor=0.0)[50], torch.tensor(0.0), atol=1e-12)
    with pytest.raises(ValueError, match="at least one"):
        label_prior([], AGES)


def test_prior_correction_moves_a_rare_label_back_from_the_middle():
    """A net that learnt on mostly 20-year-olds reads a 70-year-old's face as a blend of its
    evidence and that prior; dividing the prior out moves the estimate back towards 70."""
    ages = np.random.default_rng(0).normal(30.0, 15.0, 5000).clip(0, 100)  # few labels near 70
    prior = label_prior(ages, AGES, floor=0.1)
    evidence = gaussian_label_distribution(torch.tensor([70.0]), 6.0, AGES).log()
    posterior = (evidence + prior.log()).log_softmax(1)  # what such a net outputs
    before = predict_from_logits(posterior, AGES)["mean"].item()
    after = prior_corrected(posterior, prior, 1.0, AGES)["mean"].item()
    assert before < 68.0 and after == pytest.approx(70.0, abs=0.05)
    assert prior_corrected(posterior, prior, 0.0, AGES)["mean"].item() == pytest.approx(before)

    head = DLDLHead(4, AGES)
    assert head.predict(posterior)["mean"].item() == pytest.approx(before)  # no correction set: as trained
    head.set_prior_correction(prior.numpy(), 1.0)
    assert head.predict(posterior)["mean"].item() == pytest.approx(after, abs=1e-4)
    assert "logit_offset" not in head.state_dict()  # the bundle's config keeps it, not the weights
    std = head.predict(posterior)["std"]
    head.set_std_scale(0.8)
    assert torch.allclose(head.predict(posterior)["std"], std * 0.8) and "std_scale" not in head.state_dict()
    assert head.predict(posterior)["mean"].item() == pytest.approx(after, abs=1e-4)  # the mean is not scaled
    with pytest.raises(ValueError, match="std scale"):
        head.set_std_scale(0.0)
    with pytest.raises(ValueError, match="positive"):
        head.set_prior_correction(np.zeros(101), 1.0)
    with pytest.raises(ValueError, match="strength"):
        head.set_prior_correction(prior, -0.5)
