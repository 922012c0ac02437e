"""Where exactly the face box lies: a box model that reads ANet's feature of the region.

The face box the Predictor reports is LNet's region mapped by four fixed ratios
(Localizer.face_box, fitted on WIDER's tune part). LNet's map does not say where in its region
the face sits, so many boxes centred on a face miss it at IoU 0.5 (on WIDER's tune part a third of
them). `BoxHead` moves and resizes that face box by what ANet's feature of the region (computed
anyway for every face) says: a ridge regression to (log width ratio, log height ratio, dx / width,
dy / height) of the labelled face box relative to the fixed one, its prediction scaled by
`shrink`, taught to ignore how the feature changes with the photo's exposure (`invariance`;
experiments/2026-12-02-box-head-views); or a regression with one hidden layer (an MLP), fitted also
on jittered face boxes around each labelled face as in the bounding-box regression of R-CNN and
MTCNN (`jittered_boxes`; experiments/2026-12-05-box-head-v2). Like the four ratios it is fitted on WIDER's boxes of the tune part (LNet and ANet never
see a box); the choice and figures: experiments/2026-12-02-box-head. A bundle uses it when its
preprocessing.lnet.refine_boxes is true (Predictor.box_head).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lnet_anet.inference.feature_head import FeatureHead

DEFAULT_BOX_HEAD = Path(__file__).resolve().parents[1] / "assets" / "box_head.safetensors"
# Opt-in heads that ship beside the default, by name (BoxHead.load("mlp"), predict --box-head mlp).
# "mlp": one hidden layer, fitted on jittered boxes of WIDER's tune part and CelebA-HQ train grids:
# WIDER val AP50 0.348 -> 0.398 and grids found 0.899 -> 0.938, but the box moves more when a photo
# is re-exposed (median box IoU at brightness x1.5 0.915 -> 0.885): experiments/2026-12-05-box-head-v2
NAMED_BOX_HEADS = {"mlp": DEFAULT_BOX_HEAD.with_name("box_head_mlp.safetensors")}
LOG_SIDE_CENTRE = 4.0  # the MLP learns on log sides less this (a 55-pixel box), near the standardised features
# jittered_boxes: sigma of the log scale, the log aspect and the centre shift (of the jittered side),
# each draw clipped at JITTER_CLIP sigma: about the spread of the shipped boxes' errors on WIDER's tune part
# (log width 5-95% -0.45 ... +0.46, dx -0.20 ... +0.20; experiments/2026-12-05-box-head-v2/RULE.md)
JITTER_SIGMA, JITTER_CLIP = (0.35, 0.08, 0.12), 2.5


def encode_boxes(boxes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(log width ratio, log height ratio, dx / width, dy / height) of `targets` relative to
    `boxes`, both (N, 4) [x0, y0, x1, y1] with positive sides: (N, 4)."""
    bw, bh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    gw, gh = targets[:, 2] - targets[:, 0], targets[:, 3] - targets[:, 1]
    dx = ((targets[:, 0] + targets[:, 2]) - (boxes[:, 0] + boxes[:, 2])) / 2 / bw
    dy = ((targets[:, 1] + targets[:, 3]) - (boxes[:, 1] + boxes[:, 3])) / 2 / bh
    return np.stack([np.log(gw / bw), np.log(gh / bh), dx, dy], 1)


def decode_boxes(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The boxes that `offsets` (encode_boxes' (N, 4)) describe relative to `boxes` (N, 4)."""
    bw, bh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 + offsets[:, 2] * bw
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 + offsets[:, 3] * bh
    w, h = bw * np.exp(offsets[:, 0]), bh * np.exp(offsets[:, 1])
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


def jittered_boxes(face: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k face boxes (k, 4) [x0, y0, x1, y1] around `face` (4,), same pixels: its sides scaled by
    exp(N(0, 0.35)), its aspect by exp(N(0, 0.08)), its centre moved by N(0, 0.12) of the
    jittered side (JITTER_SIGMA, each draw clipped at JITTER_CLIP sigma), the centre kept inside
    the face. The pairs a box head learns to move back (fit_box_head --jitter)."""
    face = np.asarray(face, np.float64)
    w, h = face[2] - face[0], face[3] - face[1]
    cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    scale_sigma, aspect_sigma, shift_sigma = JITTER_SIGMA

    def draw(sigma: float) -> np.ndarray:
        return np.clip(rng.normal(0, sigma, k), -JITTER_CLIP * sigma, JITTER_CLIP * sigma)

    scale, aspect = np.exp(draw(scale_sigma)), np.exp(draw(aspect_sigma))
    jw, jh = w * scale * aspect, h * scale / aspect
    jx = np.clip(cx + draw(shift_sigma) * jw, face[0] + 0.01 * w, face[2] - 0.01 * w)
    jy = np.clip(cy + draw(shift_sigma) * jh, face[1] + 0.01 * h, face[3] - 0.01 * h)
    return np.stack([jx - jw / 2, jy - jh / 2, jx + jw / 2, jy + jh / 2], 1)


def _consistent_mlp(inputs: np.ndarray, targets: np.ndarray, viewed: np.ndarray, of: np.ndarray, hidden: int,
                    consistency: float, seed: int, patience: int = 10, max_epochs: int = 300):  # fmt: skip
    """A one-hidden-layer ReLU MLP from inputs (N, I) to targets (N, O), trained in torch on the
    squared error plus `consistency` x the mean squared change of its output between inputs[of[m]]
    and viewed[m] (M, I); Adam (lr 1e-3, weight decay 1e-4), batches of 200, early stopping on 10%
    of the pairs (and their views) after `patience` epochs without a better held-out loss.
    Returns MLPRegressor's layout: ([w1 (I, H), w2 (H, O)], [b1 (H,), b2 (O,)]), epochs run."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    x, y, v = (torch.as_tensor(a, dtype=torch.float32) for a in (inputs, targets, viewed))
    of = torch.as_tensor(of, dtype=torch.long)
    held = torch.zeros(len(x), dtype=torch.bool)
    held[torch.as_tensor(rng.permutation(len(x))[: max(1, len(x) // 10)])] = True
    train, views = torch.nonzero(~held).flatten(), torch.nonzero(~held[of]).flatten()
    held_views = torch.nonzero(held[of]).flatten()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, y.shape[1]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)

    def loss(rows: torch.Tensor, view_rows: torch.Tensor) -> torch.Tensor:
        fit = torch.mean((model(x[rows]) - y[rows]) ** 2)
        if not len(view_rows):
            return fit
        return fit + consistency * torch.mean((model(v[view_rows]) - model(x[of[view_rows]])) ** 2)

    best, best_state, since, epochs = float("inf"), None, 0, 0
    while epochs < max_epochs and since < patience:
        epochs += 1
        model.train()
        order = train[torch.randperm(len(train), generator=gen)]
        per_view = views[torch.randint(len(views), (len(order),), generator=gen)] if len(views) else views
        for s in range(0, len(order), 200):
            opt.zero_grad()
            loss(order[s : s + 200], per_view[s : s + 200]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            now = float(loss(torch.nonzero(held).flatten(), held_views))
        if now < best - 1e-4:
            best, since = now, 0
            best_state = {k: t.clone() for k, t in model.state_dict().items()}
        else:
            since += 1
    model.load_state_dict(best_state)
    first, last = model[0], model[2]
    weights = [first.weight.detach().double().numpy().T, last.weight.detach().double().numpy().T]
    return weights, [first.bias.detach().double().numpy(), last.bias.detach().double().numpy()], epochs


class BoxHead(FeatureHead):
    """Face boxes corrected by ANet's feature of their regions (module doc).

    Inputs of the regression: the feature standardised by (mean, scale), both (D,), then the log
    width and log height of the fixed face box in pixels. coef (4, D + 2), intercept (4,):
    the offsets of encode_boxes; shrink: the share of the predicted offsets applied. With a
    hidden layer (hidden_weight (H, D + 2), hidden_bias (H,)) the offsets are
    relu(hidden_weight @ inputs + hidden_bias) @ coef.T + intercept, coef (4, H). anet: digest
    of the ANet whose feature it reads; info: how it was fitted. ValueError for shapes that do
    not agree."""

    META_KEY = "box_head"
    FIT_COMMAND = "python -m lnet_anet.cli.fit_box_head"
    DEFAULT_PATH = DEFAULT_BOX_HEAD

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 shrink: float = 1.0, anet: str | None = None, info: dict | None = None,
                 hidden_weight: np.ndarray | None = None, hidden_bias: np.ndarray | None = None):  # fmt: skip
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)
        self.coef, self.intercept = np.asarray(coef, np.float64), np.asarray(intercept, np.float64)
        if (hidden_weight is None) != (hidden_bias is None):
            raise ValueError("hidden_weight and hidden_bias go together")
        self.hidden_weight = None if hidden_weight is None else np.asarray(hidden_weight, np.float64)
        self.hidden_bias = None if hidden_bias is None else np.asarray(hidden_bias, np.float64)
        d = self.mean.shape[0] if self.mean.ndim == 1 else -1
        width = d + 2 if self.hidden_weight is None else self.hidden_weight.shape[0]
        if self.hidden_weight is not None and (self.hidden_weight.shape != (width, d + 2)
                                               or self.hidden_bias.shape != (width,)):  # fmt: skip
            raise ValueError(f"hidden_weight must be (H, D + 2) and hidden_bias (H,) for D = {d}, got "
                             f"{self.hidden_weight.shape}, {self.hidden_bias.shape}")  # fmt: skip
        if self.scale.shape != (d,) or self.coef.shape != (4, width) or self.intercept.shape != (4,):
            raise ValueError(f"mean and scale must be (D,), coef (4, {'H' if self.hidden_weight is not None else 'D + 2'})"
                             f" and intercept (4,), got {self.mean.shape}, {self.scale.shape}, {self.coef.shape}, "
                             f"{self.intercept.shape}")  # fmt: skip
        self.shrink, self.anet, self.info = float(shrink), anet, dict(info or {})

    @property
    def feature_dim(self) -> int:
        return int(self.mean.shape[0])

    @property
    def hidden(self) -> int:
        """The hidden layer's width H; 0 for the ridge regression."""
        return 0 if self.hidden_weight is None else int(self.hidden_weight.shape[0])

    def _inputs(self, boxes: np.ndarray, features: np.ndarray) -> np.ndarray:
        b, x = np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(features, np.float64)
        if x.ndim != 2 or x.shape != (len(b), self.feature_dim):
            raise ValueError(f"features must be (N, {self.feature_dim}) for N = {len(b)} boxes, got {x.shape}")
        sides = np.maximum(b[:, 2:] - b[:, :2], 1e-6)
        return np.concatenate([(x - self.mean) / self.scale, np.log(sides)], 1)

    def correct(self, boxes: np.ndarray, features: np.ndarray) -> np.ndarray:
        """(N, 4) face boxes [x0, y0, x1, y1] in pixels and (N, D) ANet features of their
        regions -> (N, 4) corrected boxes, same pixels (not clipped). ValueError for other shapes."""
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        inputs = self._inputs(b, features)
        if self.hidden_weight is not None:
            inputs = np.maximum(inputs @ self.hidden_weight.T + self.hidden_bias, 0.0)
        return decode_boxes(b, self.shrink * (inputs @ self.coef.T + self.intercept))

    @classmethod
    def fit(cls, boxes: np.ndarray, features: np.ndarray, targets: np.ndarray, alpha: float = 1000.0,
            shrink: float = 0.5, anet: str | None = None, info: dict | None = None,
            feature_changes: np.ndarray | None = None, invariance: float = 0.0, hidden: int = 0,
            change_pairs: np.ndarray | None = None, seed: int = 0, consistency: float = 0.0) -> BoxHead:  # fmt: skip
        """Ridge regression (`alpha`) of the labelled face boxes `targets` (N, 4) relative to the
        fixed face boxes `boxes` (N, 4) on the regions' features (N, D).

        With `invariance` > 0, the correction is also taught to ignore what `feature_changes` (M, D)
        holds: how ANet's feature of a region changes when only the photo's exposure does (the
        same region read in an exposure_view of the photo, minus its feature in the photo). The
        fit then minimises ||X w - y||^2 + alpha ||w||^2 + invariance (N / M) ||C w||^2 (C: the
        standardised changes; closed form), so that a brighter, gray or re-saved copy of a photo
        gets about the same box (experiments/2026-12-02-box-head-views). Without it: scikit-learn's
        Ridge.

        hidden H > 0: an MLP with one ReLU layer of H units instead (scikit-learn's MLPRegressor:
        adam, L2 penalty `alpha`, early stopping on 10% of the pairs, at most 300 epochs,
        random_state `seed`) on the same inputs (the log sides less LOG_SIDE_CENTRE) to the
        standardised offsets. It has no closed-form penalty: with invariance > 0 each change
        becomes a pair of its own, the feature of pair change_pairs[m] plus feature_changes[m]
        with that pair's box and target (the same face read in an exposure view;
        experiments/2026-12-05-box-head-v2). With consistency > 0 (and hidden) the views are no
        pairs: the MLP is trained in torch (Adam, lr 1e-3, batches of 200, weight decay 1e-4,
        early stopping on 10% of the pairs) on the squared error plus `consistency` x the mean
        squared change of its standardised output between pair change_pairs[m] and that pair
        read in its view (a consistency penalty; `alpha` unused). ValueError for fewer than 10
        pairs, mismatched shapes, or invariance without changes (or, with hidden, without
        change_pairs)."""
        from sklearn.linear_model import Ridge

        b, x, t = (np.asarray(a, np.float64) for a in (boxes, features, targets))
        if len(b) < 10 or b.shape != t.shape or x.ndim != 2 or len(x) != len(b):
            raise ValueError(f"fit needs at least 10 (box, feature, target) triples of matching shapes, got {b.shape}, "
                             f"{x.shape}, {t.shape}")  # fmt: skip
        changes = None if feature_changes is None else np.asarray(feature_changes, np.float64)
        if invariance < 0 or (invariance > 0 and (changes is None or changes.ndim != 2 or not len(changes)
                                                   or changes.shape[1] != x.shape[1])):  # fmt: skip
            raise ValueError(f"invariance must be >= 0 and, when > 0, come with (M, {x.shape[1]}) feature_changes, "
                             f"got {invariance} and {None if changes is None else changes.shape}")  # fmt: skip
        info = {**(info or {}), "pairs": len(b), "alpha": alpha, "shrink": shrink}
        if hidden:
            return cls._fit_mlp(b, x, t, hidden, alpha, shrink, anet, info, changes if invariance else None,
                                change_pairs, seed, consistency)  # fmt: skip
        mean, scale = x.mean(0), x.std(0) + 1e-6
        head = cls(mean, scale, np.zeros((4, x.shape[1] + 2)), np.zeros(4), shrink, anet)
        inputs, offsets = head._inputs(b, x), encode_boxes(b, t)
        if invariance == 0:
            model = Ridge(alpha=alpha).fit(inputs, offsets)
            return cls(mean, scale, model.coef_, model.intercept_, shrink, anet, info)
        c = np.concatenate([changes / scale, np.zeros((len(changes), 2))], 1)  # the log sides do not change
        xm, ym = inputs.mean(0), offsets.mean(0)
        xc = inputs - xm
        gram = xc.T @ xc + alpha * np.eye(xc.shape[1]) + invariance * len(b) / len(c) * (c.T @ c)
        w = np.linalg.solve(gram, xc.T @ (offsets - ym))  # (D + 2, 4)
        info.update(invariance=invariance, feature_changes=len(c))
        return cls(mean, scale, w.T, ym - xm @ w, shrink, anet, info)

    @classmethod
    def _fit_mlp(cls, b: np.ndarray, x: np.ndarray, t: np.ndarray, hidden: int, alpha: float, shrink: float,
                 anet: str | None, info: dict, changes: np.ndarray | None, change_pairs: np.ndarray | None, seed: int,
                 consistency: float = 0.0) -> BoxHead:  # fmt: skip
        """fit() with a hidden layer (its docstring)."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor

        pairs = None
        if changes is not None:
            pairs = None if change_pairs is None else np.asarray(change_pairs)
            if pairs is None or pairs.shape != (len(changes),) or not len(pairs) or pairs.min() < 0 or pairs.max() >= len(b):
                raise ValueError(f"an MLP box head with invariance needs change_pairs: the pair (0 .. {len(b) - 1}) of "
                                 f"each of the {len(changes)} feature changes")  # fmt: skip
        if pairs is not None and not consistency:  # the views as pairs of their own
            b, x, t = (np.concatenate([a, a[pairs]]) for a in (b, x, t))
            x[-len(pairs) :] += changes
            info = {**info, "view_pairs": len(pairs)}
        mean, scale = x.mean(0), x.std(0) + 1e-6  # over the view pairs too
        head = cls(mean, scale, np.zeros((4, x.shape[1] + 2)), np.zeros(4), shrink, anet)
        inputs, offsets = head._inputs(b, x), encode_boxes(b, t)
        inputs[:, -2:] -= LOG_SIDE_CENTRE
        y_mean, y_scale = offsets.mean(0), offsets.std(0) + 1e-9
        if consistency:
            if pairs is None:
                raise ValueError("consistency needs feature_changes and change_pairs (with invariance > 0)")
            viewed = inputs[pairs].copy()
            viewed[:, :-2] += changes / scale
            (w1, w2), (b1, b2), epochs = _consistent_mlp(inputs, (offsets - y_mean) / y_scale, viewed, pairs, hidden,
                                                         consistency, seed)  # fmt: skip
            info = {**{k: v for k, v in info.items() if k != "alpha"}, "consistency": consistency,
                    "view_changes": len(pairs)}  # fmt: skip
        else:
            with warnings.catch_warnings(record=True) as caught:  # said in info["converged"], not on stderr
                warnings.simplefilter("always", ConvergenceWarning)
                model = MLPRegressor(hidden_layer_sizes=(hidden,), alpha=alpha, early_stopping=True,
                                     validation_fraction=0.1, max_iter=300,
                                     random_state=seed).fit(inputs, (offsets - y_mean) / y_scale)  # fmt: skip
            (w1, w2), (b1, b2), epochs = model.coefs_, model.intercepts_, int(model.n_iter_)
            for w in caught:  # any other warning goes on as it came
                if not issubclass(w.category, ConvergenceWarning):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            info = {**info, "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught)}
        # the centre of the log sides and the offsets' standardisation folded into the layers
        hidden_bias = b1 - LOG_SIDE_CENTRE * w1[-2:].sum(0)
        info = {**info, "hidden": hidden, "seed": seed, "epochs": epochs}
        return cls(mean, scale, (w2 * y_scale).T, b2 * y_scale + y_mean, shrink, anet, info, w1.T, hidden_bias)

    @classmethod
    def load(cls, path: str | Path | None = None) -> BoxHead:
        """A saved head: a file, the name of an opt-in head that ships (NAMED_BOX_HEADS: "mlp"),
        or None for the default one. Raises FileNotFoundError, or ValueError when the file is not
        a box head."""
        return super().load(NAMED_BOX_HEADS.get(path, path) if isinstance(path, str) else path)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept}
        if self.hidden_weight is not None:
            out |= {"hidden_weight": self.hidden_weight, "hidden_bias": self.hidden_bias}
        return out

    def meta(self) -> dict:
        return {"shrink": self.shrink, "anet": self.anet, "info": self.info}

    @classmethod
    def from_file(cls, arrays: dict[str, np.ndarray], meta: dict) -> BoxHead:
        return cls(arrays["mean"], arrays["scale"], arrays["coef"], arrays["intercept"], meta["shrink"],
                   meta.get("anet"), meta.get("info"), arrays.get("hidden_weight"), arrays.get("hidden_bias"))  # fmt: skip


__all__ = ["DEFAULT_BOX_HEAD", "NAMED_BOX_HEADS", "BoxHead", "decode_boxes", "encode_boxes", "jittered_boxes"]
