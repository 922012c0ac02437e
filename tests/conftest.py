"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def graph_cache(tmp_path_factory) -> Path:
    """Predictors' ONNX Runtime graphs (lnet_anet.inference.runtime) are cached in a temporary
    folder, not in the user's ~/.cache (also for the commands the tests start)."""
    folder = tmp_path_factory.mktemp("cache")
    before = os.environ.get("LNET_ANET_CACHE")
    os.environ["LNET_ANET_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("LNET_ANET_CACHE", None)
    else:
        os.environ["LNET_ANET_CACHE"] = before


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for the module: on 2 shared cores, two intra-op threads contend with
    other processes and run small convolutions many times slower than one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory) -> Path:
    """A tiny random-weight bundle; threshold 0: every positive peak of the response is a "face"."""
    from lnet_anet.inference.build import random_bundle

    return random_bundle(tmp_path_factory.mktemp("bundle") / "tiny.lnetanet", threshold=0.0, max_faces=2)


@pytest.fixture(scope="module")
def predictor(bundle_path):
    from lnet_anet.inference.predictor import Predictor

    return Predictor.load(bundle_path)


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    """A generated scene with one synthetic face (180 x 140)."""
    from lnet_anet.data.synthetic import render_scene, sample_face, sample_identity

    rng = np.random.default_rng(0)
    image, _, _ = render_scene(sample_face(sample_identity(rng, 0), rng), (180, 140), rng)
    return image


@pytest.fixture
def launch(capsys, monkeypatch):
    """`launch("lnet_anet.cli.train_age", *args)` runs `python -m <module> *args` in this process
    (runpy, as -m runs it; working folder: the repository) and returns (exit status, stderr). For
    the commands that stop before training: a subprocess costs an interpreter start and a torch
    import, seconds each on 2 cores, dozens of times in the suite. What a launch sets up for the
    process (Hydra's log handlers on the root logger, warning filters and showwarning, the locks
    of the run folders it opened) is put back after."""
    import logging
    import runpy
    import sys
    import warnings

    from lnet_anet.engine import lock

    monkeypatch.chdir(Path(__file__).resolve().parents[1])

    def run(module: str, *args: str) -> tuple[int, str]:
        locked = set(lock._held)
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        monkeypatch.setattr(sys, "argv", [module, *args])
        capsys.readouterr()
        with warnings.catch_warnings():  # puts back the filters and the showwarning a command sets
            # runpy's note that the module is imported already (by an earlier launch): it runs anew
            warnings.filterwarnings("ignore", "'.*' found in sys.modules", RuntimeWarning)
            try:
                runpy.run_module(module, run_name="__main__", alter_sys=False)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else int(e.code is not None)
            finally:
                for handler in root.handlers:
                    if handler not in handlers:
                        handler.close()
                root.handlers[:] = handlers
                root.setLevel(level)
                for key in set(lock._held) - locked:  # run folders it locked: let go, as its exit would
                    lock._held.pop(key)[0].close()
        return code, capsys.readouterr().err

    return run
