"""Where the real datasets are for the tests that read them (README: "Real data"): the folder
$LNET_ANET_DATASETS names, as the configs read it, else the checkout's ../shared/datasets. Tests
that need a set skip where it is absent."""

import os
from pathlib import Path

REAL_DATASETS = Path(os.environ.get("LNET_ANET_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
