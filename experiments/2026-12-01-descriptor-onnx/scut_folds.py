"""The record's SCUT-FBP5500 scripts' shared pieces: the training list with its folds, and the
three figures they report."""

import os
from pathlib import Path

import numpy as np

from lnet_anet.data.readers.age import fold_of
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500


def scut_training_list(root: Path):
    """SCUT-FBP5500's training list as released: (index, file names, scores, folds), the folds
    of every attractiveness record (fold_of(name, 5, seed 0))."""
    index = read_scut_fbp5500(root)
    index = index[index["split"] == "train"].reset_index(drop=True)
    names = index["path"].map(os.path.basename).tolist()
    return index, names, index["attractiveness"].to_numpy(np.float64), fold_of(names, 5, 0)


def metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Pearson r, MAE and RMSE, rounded to 4 places."""
    e = pred - true
    return {"pearson_r": round(float(np.corrcoef(pred, true)[0, 1]), 4), "mae": round(float(np.abs(e).mean()), 4),
            "rmse": round(float(np.sqrt((e**2).mean())), 4)}
