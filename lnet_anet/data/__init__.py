"""Data layer: dataset readers -> one index DataFrame -> torch Datasets.

Index schema (every reader returns a pandas DataFrame with these columns where the format has them):
  path      str   absolute image path
  split     str   "train" | "val" | "test"
  identity  int   person id (-1 when unknown)
  <attr>    int8  one 0/1 column per attribute, names in df.attrs["attributes"] (CelebA order)
  x0,y0,x1,y1 float  face box in pixels (exclusive right/bottom)
  lefteye_x, lefteye_y, righteye_x, righteye_y, nose_x, nose_y,
  leftmouth_x, leftmouth_y, rightmouth_x, rightmouth_y   float landmarks
  age float, age_sigma float, gender int, race int    (age datasets)
  attractiveness float                                 (attractiveness datasets: mean rating, 1-5)
df.attrs["attributes"]: list[str] of attribute names (empty when none)
df.attrs["skipped"]: list[str] of human-readable "path: reason" lines for rows left out
"""

import os
from pathlib import Path

DATASETS_ENV = "LNET_ANET_DATASETS"


def datasets_root(default: str | Path = "../shared/datasets") -> Path:
    """The folder that holds the datasets: $LNET_ANET_DATASETS when set, else `default` (the
    configs' paths.datasets default, relative to the working folder). Every command and
    benchmark reads its default from here, as conf/paths/default.yaml does."""
    return Path(os.environ.get(DATASETS_ENV) or default)


RUNS_ENV = "LNET_ANET_RUNS"


def runs_root(default: str | Path = "runs") -> Path:
    """The folder that runs, benchmark results and their working files go under: $LNET_ANET_RUNS
    when set, else `default` (the configs' paths.runs default, relative to the working folder), as
    conf/paths/default.yaml says for training (trial 83: the benchmarks wrote under ./runs whatever
    LNET_ANET_RUNS said)."""
    return Path(os.environ.get(RUNS_ENV) or default)
