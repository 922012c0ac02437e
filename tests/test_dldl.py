"""The DLDL recipes' checks of their settings and label bins (lnet_anet.dldl.recipes)."""

from __future__ import annotations

import numpy as np
import pytest


def test_dldl_settings_and_bins_that_cannot_train_are_named():
    """Trial 67: loss.lambda_l1=-1 ended in a traceback; SCUT's 1-5 scores on a net's default age
    bins (0-100, step 1, sigma 0.3) trained to MAE 47 without a word; bins a little short of
    UTKFace's ages said "1%" of labels outside, the limit itself, and offered models with the same bins."""
    import pandas as pd
    from omegaconf import OmegaConf

    from lnet_anet.dldl.label_distribution import LabelBins
    from lnet_anet.dldl.recipes import check_dldl_settings, check_labels_fit_bins
    from lnet_anet.engine.config import ConfigError

    def cfg(**over):
        base = {"target": "attractiveness", "data": {"name": "scut", "sigma": 0.3},
                "loss": {"lambda_l1": 1.0, "use_kl": True, "use_l1": True}}
        return OmegaConf.merge(base, over)

    check_dldl_settings(cfg())
    for over, says in (({"loss": {"lambda_l1": -1}}, "loss.lambda_l1 must be a number >= 0, got -1"),
                       ({"loss": {"use_kl": "no"}}, "loss.use_kl must be true or false, got 'no'"),
                       ({"loss": {"use_kl": False, "use_l1": False}}, "both false: nothing to train"),
                       ({"data": {"sigma": float("nan")}}, "data.sigma must be a number >= 0")):  # fmt: skip
        with pytest.raises(ConfigError, match=says):
            check_dldl_settings(cfg(**over))
    scores = pd.DataFrame({"split": "train", "attractiveness": np.linspace(1.2, 4.8, 50)})
    with pytest.raises(ConfigError, match=r"labels run 1.2-4.8, within 4 of the model's bins of 1 \(0-100\), and "
                                          r"data.sigma=0.3 is under one bin: .* Set model.low=1 model.high=5 model.step=0.1"):
        check_labels_fit_bins(cfg(), scores, LabelBins(0, 100, 1))
    check_labels_fit_bins(cfg(), scores, LabelBins(1, 5, 0.1))
    ages = pd.DataFrame({"split": "train", "age": np.r_[np.linspace(1, 99, 97), 105, 110, 112]})
    with pytest.raises(ConfigError) as err:
        check_labels_fit_bins(cfg(target="age", data={"sigma": 2.0}), ages, LabelBins(0, 100, 1))
    assert "3.0% of the training labels lie outside them (at most 1% is trained" in str(err.value)
    assert str(err.value).endswith("Set model.low=1 model.high=112 to cover them.")  # no model with other bins offered
