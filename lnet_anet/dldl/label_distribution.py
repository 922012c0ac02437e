"""DLDL-v2 pieces: label bins, Gaussian label distributions, their expectation, the joint loss.

After Gao et al., "Learning Expectation of Label Distribution for Facial Age and Attractiveness
Estimation" (DLDL-v2). A scalar label y (an age, an attractiveness score) becomes a discretised
normal N(y, sigma^2) over fixed bins l_1..l_K; the network predicts a softmax over the same bins
and is trained with KL(label distribution || prediction) + lambda * |E[prediction] - y|, so the
quantity it is evaluated on (the expectation, MAE) is also optimised directly.

Conventions (shared by every DLDL model in lnet_anet.models.dldl):
  * labels outside [low, high] are clamped to the nearest end before encoding; the expectation
    of a softmax over the bins can never leave [low, high], so the L1 term uses the clamped label
    too (a 116-year-old in UTKFace is trained as 100 with the default 0..100 bins);
  * sigma must be >= 0; sigma == 0 is raised to MIN_SIGMA, which puts all the mass on the nearest
    bin (split evenly between two bins at an exact tie) -- the reference code does the same with
    1e-10. A negative or non-finite sigma is an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MIN_SIGMA = 1e-6
# Label spread used when a sample has no annotated one. Age: sigma = 2 years, as DLDL/DLDL-v2 use
# for datasets without a per-image standard deviation. Score: our choice (5 bins of 0.1 on the
# 1..5 scale); the paper uses each image's rater std where the dataset provides one.
DEFAULT_SIGMA = {"age": 2.0, "attractiveness": 0.5}


@dataclass(frozen=True)
class LabelBins:
    """Equally spaced label values low, low + step, ..., high (both ends included).

    LabelBins(0, 100, 1) -> the 101 ages 0..100; LabelBins(1, 5, 0.1) -> 41 scores 1.0..5.0.
    """

    low: float
    high: float
    step: float

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.low, self.high, self.step)):
            raise ValueError(f"LabelBins needs finite numbers, got {self}")
        if self.step <= 0 or self.high <= self.low:
            raise ValueError(f"LabelBins needs step > 0 and high > low, got {self}")
        span = (self.high - self.low) / self.step
        if abs(span - round(span)) > 1e-6 * max(1.0, span):
            raise ValueError(
                f"(high - low) / step = {span:.6g} is not a whole number of bins: {self}"
            )

    @property
    def num_bins(self) -> int:
        return round((self.high - self.low) / self.step) + 1

    def __len__(self) -> int:
        return self.num_bins

    @cached_property
    def values(self) -> torch.Tensor:
        """The K bin values as a float32 tensor (linspace, so `high` is exact)."""
        return torch.linspace(self.low, self.high, self.num_bins, dtype=torch.float32)

    def values_like(self, ref: torch.Tensor) -> torch.Tensor:
        """The bin values on ref's device, in ref's floating dtype."""
        return self.values.to(device=ref.device, dtype=ref.dtype)


def make_bins(
    num_bins: int | None = None, low: float = 0.0, high: float = 100.0, step: float | None = None
) -> LabelBins:
    """LabelBins from any consistent subset of (num_bins, low, high, step).

    step alone or num_bins alone fixes the other; neither means step 1; both must agree.
    """
    low, high = float(low), float(high)
    if num_bins is None:
        return LabelBins(low, high, 1.0 if step is None else float(step))
    if num_bins < 2:
        raise ValueError(f"num_bins must be >= 2, got {num_bins}")
    derived = LabelBins(low, high, (high - low) / (num_bins - 1))
    if step is not None and abs(float(step) - derived.step) > 1e-9 * max(1.0, abs(step)):
        raise ValueError(
            f"num_bins={num_bins} disagrees with low={low}, high={high}, step={step} "
            f"({LabelBins(low, high, float(step)).num_bins} bins); pass only one of num_bins, step"
        )
    return derived


def _as_sigma(sigma: torch.Tensor | float, y: torch.Tensor) -> torch.Tensor:
    sigma = torch.as_tensor(sigma, dtype=y.dtype, device=y.device).expand_as(y)
    if not bool(torch.isfinite(sigma).all()) or bool((sigma < 0).any()):
        raise ValueError(f"sigma must be finite and >= 0, got {sigma.flatten()[:8].tolist()}")
    return sigma.clamp_min(MIN_SIGMA)


def gaussian_label_distribution(
    y: torch.Tensor, sigma: torch.Tensor | float, bins: LabelBins
) -> torch.Tensor:
    """(B,) labels -> (B, K) discretised N(y, sigma^2) over the bins, each row summing to 1.

    p_k is proportional to exp(-(l_k - y)^2 / (2 sigma^2)); computed as a softmax of the
    log-density so that a tiny sigma gives a one-hot row instead of 0/0. y is clamped to
    [low, high]; sigma is a float or a (B,) tensor (see the module doc for sigma == 0).
    """
    y = torch.as_tensor(y)
    if y.ndim != 1:
        raise ValueError(f"labels must have shape (B,), got {tuple(y.shape)}")
    if not y.is_floating_point():
        y = y.float()
    if not bool(torch.isfinite(y).all()):
        raise ValueError(f"labels must be finite, got {y[~torch.isfinite(y)][:8].tolist()}")
    sigma = _as_sigma(sigma, y)
    y = y.clamp(bins.low, bins.high)
    values = bins.values_like(y)
    log_density = -0.5 * ((values[None, :] - y[:, None]) / sigma[:, None]) ** 2
    return log_density.softmax(dim=1)


def expectation(probs: torch.Tensor, bins: LabelBins) -> torch.Tensor:
    """(B, K) distributions -> (B,) means sum_k p_k l_k."""
    return probs @ bins.values_like(probs)


def distribution_std(probs: torch.Tensor, bins: LabelBins) -> torch.Tensor:
    """(B, K) distributions -> (B,) standard deviations around their means."""
    values = bins.values_like(probs)
    mean = probs @ values
    var = (probs * (values[None, :] - mean[:, None]) ** 2).sum(dim=1)
    return var.clamp_min(0).sqrt()


class DLDLLoss(nn.Module):
    """KL(label distribution || softmax(logits)) + lambda_l1 * |E[softmax(logits)] - y|.

    Both terms are batch means (KL summed over bins per sample). use_kl / use_l1 switch the
    terms off for the ablations (KL only = DLDL, L1 only = expectation regression); both parts
    are always reported, the disabled one computed without gradient. sigma: the label spread for
    samples without a finite per-sample one.
    """

    def __init__(
        self,
        bins: LabelBins,
        lambda_l1: float = 1.0,
        use_kl: bool = True,
        use_l1: bool = True,
        sigma: float = DEFAULT_SIGMA["age"],
    ):
        super().__init__()
        if not (use_kl or use_l1):
            raise ValueError("DLDLLoss: use_kl and use_l1 are both False; nothing to train")
        if lambda_l1 < 0:
            raise ValueError(f"lambda_l1 must be >= 0, got {lambda_l1}")
        if not (math.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"sigma must be finite and >= 0, got {sigma}")
        self.bins, self.lambda_l1, self.sigma = bins, float(lambda_l1), float(sigma)
        self.use_kl, self.use_l1 = use_kl, use_l1

    def forward(
        self, logits: torch.Tensor, y: torch.Tensor, sigma: torch.Tensor | None = None,
        weight: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:  # fmt: skip
        """logits (B, bins), y (B,) labels, sigma (B,) per-sample spreads (NaN: the configured
        one), weight (B,) per-sample weights (e.g. band_weights; None: all 1): both terms are
        then weighted means over the batch."""
        if logits.ndim != 2 or logits.shape[1] != len(self.bins):
            raise ValueError(
                f"logits must be (B, {len(self.bins)}) for {self.bins}, got {tuple(logits.shape)}"
            )
        logits = logits.float()  # softmax/KL in float32 even under fp16 autocast
        y = y.to(logits).reshape(-1)
        per_sample = torch.full_like(y, self.sigma)
        if sigma is not None:  # rows without an annotated spread (NaN) use the configured one
            sigma = sigma.to(logits).reshape(-1)
            per_sample = torch.where(torch.isfinite(sigma), sigma, per_sample)
        target = gaussian_label_distribution(y, per_sample, self.bins)
        log_probs = logits.log_softmax(dim=1)

        w = torch.ones_like(y) if weight is None else weight.to(logits).reshape(-1)
        w = w / w.sum().clamp_min(1e-12)
        with torch.set_grad_enabled(self.use_kl and torch.is_grad_enabled()):
            kl = (F.kl_div(log_probs, target, reduction="none").sum(1) * w).sum()
        with torch.set_grad_enabled(self.use_l1 and torch.is_grad_enabled()):
            mean = expectation(log_probs.exp(), self.bins)
            l1 = ((mean - y.clamp(self.bins.low, self.bins.high)).abs() * w).sum()

        loss = (kl if self.use_kl else 0.0) + (self.lambda_l1 * l1 if self.use_l1 else 0.0)
        return loss, {"kl": float(kl.detach()), "l1": float(l1.detach())}


def band_weights(values, edges, power: float = 0.5) -> np.ndarray:
    """Per-sample loss weights that pull rare label bands up (e.g. the young and the old in
    UTKFace): a sample in a band holding the share q of the samples weighs q ** -power (0: all
    equal; 1: every band weighs as much as any other in total), normalised to mean 1. edges:
    the bands' increasing boundaries [e0, e1, ...] (band k = [e_k, e_k+1)); a value outside
    them joins the nearest band. Raises ValueError for fewer than 2 edges, edges that do not
    increase, or power < 0."""
    edges = np.asarray(edges, np.float64)
    if edges.ndim != 1 or len(edges) < 2 or not (np.diff(edges) > 0).all():
        raise ValueError(f"edges must be >= 2 increasing boundaries, got {edges.tolist()}")
    if not power >= 0:
        raise ValueError(f"power must be >= 0, got {power}")
    values = np.asarray(values, np.float64)
    band = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    share = np.bincount(band, minlength=len(edges) - 1) / max(len(values), 1)
    w = share[band] ** -power
    return (w / w.mean()).astype(np.float32)


def label_prior(labels, bins: LabelBins, sigma: float = DEFAULT_SIGMA["age"], floor: float = 0.1) -> torch.Tensor:
    """The training labels' distribution over the bins as a DLDL net learns it: the mean of their
    discretised Gaussian targets (gaussian_label_distribution, `sigma`), each bin raised to at
    least floor / K (K bins; so that a bin next to no training label is not divided by ~0 in
    prior_corrected) and renormalised. labels: (N,) finite values, N >= 1. Returns (K,) float32,
    summing to 1. Raises ValueError for no labels or floor outside [0, 1]."""
    labels = torch.as_tensor(np.asarray(labels, np.float32)).reshape(-1)
    if not len(labels):
        raise ValueError("label_prior needs at least one label")
    if not 0 <= floor <= 1:
        raise ValueError(f"floor must be in [0, 1], got {floor}")
    prior = gaussian_label_distribution(labels, sigma, bins).mean(0).clamp_min(floor / len(bins))
    return (prior / prior.sum()).float()


def prior_corrected(logits: torch.Tensor, prior: torch.Tensor, strength: float,
                    bins: LabelBins) -> dict[str, torch.Tensor]:  # fmt: skip
    """predict_from_logits of softmax(logits) / prior ** strength, renormalised: the training
    label prior divided out of the predicted distribution (strength 1: all of it, as if every
    label had been equally common in training; 0: nothing). A DLDL net's softmax estimates
    p(label | face) under the training labels' prior, which pulls the rare ends of the range
    (the very young, the old) towards the middle; Balanced MSE (Ren et al., CVPR 2022, its
    Bayesian view) and logit adjustment (Menon et al., ICLR 2021) remove it so. logits (B, K),
    prior (K,) from label_prior."""
    return predict_from_logits(logits.float() - strength * prior.to(logits.device).float().log(), bins)


class DLDLHead(nn.Module):
    """Linear features -> logits over the bins; `predict` turns logits into mean, std, probs
    (with the label-prior correction and the std's scale when they are set: set_prior_correction,
    set_std_scale)."""

    def __init__(self, in_features: int, bins: LabelBins):
        super().__init__()
        self.bins = bins
        self.fc = nn.Linear(in_features, len(bins))
        nn.init.zeros_(self.fc.bias)
        # -strength * log(prior), added to the logits by predict; not in the state dict (a bundle
        # keeps the correction in its config, so weights saved before it load as they are).
        self.register_buffer("logit_offset", torch.zeros(len(bins)), persistent=False)
        self.register_buffer("std_scale", torch.ones(()), persistent=False)  # set_std_scale; kept likewise

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(features)

    def set_prior_correction(self, prior, strength: float) -> None:
        """Divide prior ** strength out of every prediction (prior_corrected): prior (K,) with
        positive entries (label_prior's), strength >= 0 (0: off). Raises ValueError otherwise."""
        prior = torch.as_tensor(np.asarray(prior, np.float32)).reshape(-1)
        if len(prior) != len(self.bins) or not bool((prior > 0).all()) or not bool(torch.isfinite(prior).all()):
            raise ValueError(f"prior must hold {len(self.bins)} positive finite values (one per bin of {self.bins})")
        if not (math.isfinite(strength) and strength >= 0):
            raise ValueError(f"prior correction strength must be finite and >= 0, got {strength}")
        self.logit_offset.copy_(-float(strength) * (prior / prior.sum()).log())

    def set_std_scale(self, scale: float) -> None:
        """Report the distribution's std times `scale` (> 0; 1: as predicted), e.g. so that a
        tune part's true labels fall within mean ± 1 std about as often as a normal's do (68%).
        Raises ValueError for a scale that is not finite and > 0."""
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"std scale must be finite and > 0, got {scale}")
        self.std_scale.fill_(float(scale))

    @torch.no_grad()
    def predict(self, logits: torch.Tensor) -> dict[str, torch.Tensor]:
        out = predict_from_logits(logits.float() + self.logit_offset.to(logits.device), self.bins)
        return {**out, "std": out["std"] * self.std_scale.to(logits.device)}


def mixture_logits(logits) -> torch.Tensor:
    """Log-probabilities (B, K) of the equal mixture of softmax(l) over the (B, K) logits in
    `logits`: the prediction of an ensemble, or of a crop with its mirror image (its expectation
    is the mean of theirs). Floored at 1e-12 before the log."""
    probs = torch.stack([x.float().softmax(-1) for x in logits]).mean(0)
    return probs.clamp_min(1e-12).log()


def predict_from_logits(logits: torch.Tensor, bins: LabelBins) -> dict[str, torch.Tensor]:
    """{"mean": (B,), "std": (B,), "probs": (B, K)}: the estimate is the expectation.
    Differentiable (DLDLHead.predict is the no-grad version)."""
    probs = logits.float().softmax(dim=1)
    return {
        "mean": expectation(probs, bins),
        "std": distribution_std(probs, bins),
        "probs": probs,
    }


__all__ = [
    "DEFAULT_SIGMA",
    "MIN_SIGMA",
    "DLDLHead",
    "DLDLLoss",
    "LabelBins",
    "distribution_std",
    "expectation",
    "gaussian_label_distribution",
    "label_prior",
    "make_bins",
    "predict_from_logits",
    "prior_corrected",
]
