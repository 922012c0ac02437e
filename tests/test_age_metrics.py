"""Age / attractiveness metrics on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lnet_anet.metrics.age import (
    age_band,
    epsilon_error,
    error_by_group,
    regression_metrics,
    to_markdown,
)


def test_mae_rmse_and_cumulative_score():
    # errors: +1, -2, +3, -4  -> MAE 2.5, RMSE sqrt(30/4)
    m = regression_metrics([11, 18, 33, 36], [10, 20, 30, 40])
    assert m["n"] == 4
    assert m["mae"] == pytest.approx(2.5)
    assert m["rmse"] == pytest.approx(math.sqrt(7.5))
    assert [m[f"cs_{t}"] for t in (1, 2, 3, 4, 5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert set(f"cs_{t}" for t in range(1, 11)) <= set(m)
    assert "eps_error" not in m


def test_pearson_by_hand_and_torch_input():
    # pred = 2 * true + 1 -> r = 1; pred reversed -> r = -1
    true = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert regression_metrics(2 * true + 1, true)["pearson_r"] == pytest.approx(1.0)
    assert regression_metrics(true.flip(0), true)["pearson_r"] == pytest.approx(-1.0)
    # a, b centred: (-1, 0, 1) and (-1, 1, 0): r = (1 + 0 + 0) / sqrt(2 * 2) = 0.5
    assert regression_metrics([0, 1, 2], [0, 2, 1])["pearson_r"] == pytest.approx(0.5)
    assert math.isnan(regression_metrics([5, 5, 5], [1, 2, 3])["pearson_r"])


def test_epsilon_error_by_hand():
    # |err| = sigma -> 1 - e^-0.5; err 0 -> 0
    expected = (1 - math.exp(-0.5) + 0.0) / 2
    assert epsilon_error([23, 40], [20, 40], [3, 5]) == pytest.approx(expected)
    m = regression_metrics([23, 40], [20, 40], true_sigma=[3, 5])
    assert m["eps_error"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="true_sigma"):
        epsilon_error([1.0], [1.0], [0.0])


def test_predicted_spread_coverage():
    m = regression_metrics([10, 20, 30, 40], [11, 25, 30, 41], pred_sigma=[2, 2, 1, 0.5])
    assert m["pred_std_mean"] == pytest.approx(1.375)
    assert m["within_pred_std"] == pytest.approx(0.5)  # |err| 1<=2, 5>2, 0<=1, 1>0.5


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="true has 3 values"):
        regression_metrics([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="non-finite"):
        regression_metrics([1, float("nan")], [1, 2])
    with pytest.raises(ValueError, match="empty"):
        regression_metrics([], [])


def test_age_bands_edges():
    assert list(age_band([0, 12.9, 13, 19, 20, 39.5, 40, 59, 60, 116])) == [
        "0-12", "0-12", "13-19", "13-19", "20-39", "20-39", "40-59", "40-59", "60+", "60+",
    ]  # fmt: skip


def test_error_by_group_bands_and_counts():
    df = pd.DataFrame({
        "true": [5, 10, 25, 30, 35, 70],
        "pred": [6, 12, 25, 27, 35, 60],
        "gender": [0, 1, 1, 0, 1, -1],
        "race": [0, 0, 2, 2, 2, 4],
    })  # fmt: skip
    table = error_by_group(df)
    bands = table[table.group == "age band"].set_index("value")
    assert list(bands.index) == ["0-12", "13-19", "20-39", "40-59", "60+"]
    assert bands["count"].tolist() == [2, 0, 3, 0, 1]
    assert bands.loc["0-12", "mae"] == pytest.approx(1.5)
    assert bands.loc["20-39", "mae"] == pytest.approx(1.0)
    assert bands.loc["20-39", "bias"] == pytest.approx(-1.0)
    assert np.isnan(bands.loc["13-19", "mae"])
    gender = table[table.group == "gender"].set_index("value")
    assert gender["count"].to_dict() == {"male": 2, "female": 3, "unknown": 1}
    assert gender.loc["male", "mae"] == pytest.approx(2.0)  # errors 1 and 3
    race = table[table.group == "race"].set_index("value")
    assert race["count"].to_dict() == {"White": 2, "Asian": 3, "Others": 1}
    overall = table[table.group == "all"].iloc[0]  # |errors| 1, 2, 0, 3, 0, 10
    assert overall["count"] == 6 and overall["mae"] == pytest.approx(16 / 6)


def test_error_by_group_without_demographics_or_bands():
    table = error_by_group(pd.DataFrame({"true": [1.0, 80.0], "pred": [2.0, 70.0]}))
    assert set(table.group) == {"all", "age band"}
    scores = error_by_group(pd.DataFrame({"true": [2.5, 3.1], "pred": [2.0, 3.0]}), bands=None)
    assert scores.group.tolist() == ["all"] and scores["mae"][0] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="ages must lie"):
        age_band([-1.0])
    with pytest.raises(KeyError, match="pred"):
        error_by_group(pd.DataFrame({"true": [1.0]}))


def test_to_markdown_tables():
    md = to_markdown(pd.DataFrame({"value": ["a|b", "c"], "count": [3, 0],
                                   "mae": [1.23456, float("nan")]}), digits=2)  # fmt: skip
    lines = md.strip().split("\n")
    assert lines[0] == "| value | count | mae |"
    assert lines[1] == "|---|---|---|"
    assert lines[2] == "| a\\|b | 3 | 1.23 |"
    assert lines[3] == "| c | 0 | - |"
    md = to_markdown({"mae": 2.5, "n": 4.0})
    assert md.split("\n")[2:4] == ["| mae | 2.500 |", "| n | 4 |"]


def test_attractiveness_cs_thresholds_are_on_its_own_scale():
    import pandas as pd

    from lnet_anet.dldl.training import prediction_metrics

    df = pd.DataFrame({"pred": [3.0, 3.25, 2.0], "true": [3.05, 3.0, 3.9], "pred_std": [0.3, 0.3, 0.3]})
    m = prediction_metrics(df, "attractiveness")
    assert m["cs_0.1"] == pytest.approx(1 / 3) and m["cs_0.3"] == pytest.approx(2 / 3) and "cs_2" not in m
    assert prediction_metrics(df.assign(pred=[30.0, 32.0, 20.0], true=[31.0, 30.0, 39.0]))["cs_2"] == pytest.approx(2 / 3)
