"""A wheel install (`pip install .`, not editable) carries the configs and the bundle: it predicts
on the demo photo and runs a smoke training from its packaged configs, outside the source tree."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.mark.slow
def test_wheel_install_predicts_and_trains_from_packaged_configs(tmp_path):
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources it builds.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "runs", "build", "*.egg-info",
                                                                  "__pycache__", ".pytest_cache", ".ruff_cache"))  # fmt: skip
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
          str(source)], cwd=tmp_path)  # fmt: skip
    (wheel,) = wheels.glob("lnet_anet-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp_path).stdout.strip())  # fmt: skip
    # The dependencies (torch, timm, hydra, ...) come from this interpreter's site-packages as a
    # plain path: its own lnet_anet (an editable install, a .pth hook) is not loaded from there.
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "deps.pth").write_text("\n".join(deps) + "\n")
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(purelib),
          str(wheel)], cwd=tmp_path)  # fmt: skip

    where = _run([str(python), "-c", "import lnet_anet; print(lnet_anet.__file__)"], cwd=tmp_path).stdout
    assert where.startswith(str(purelib)), where  # the wheel's copy, not the source tree
    assert (purelib / "lnet_anet" / "conf" / "train_age.yaml").is_file()
    assert (purelib / "lnet_anet" / "assets" / "default.lnetanet").is_file()

    out = _run([str(python), "-m", "lnet_anet.predict", "--demo", "--json"], cwd=tmp_path).stdout
    record = json.loads(out.splitlines()[-1])
    assert record["error"] is None and len(record["faces"]) >= 1

    runs = tmp_path / "runs"
    _run([str(python), "-m", "lnet_anet.cli.train_age", "data=synthetic_age", "name=age", "model=tiny_age_net",
          "data.image_size=32", "train=smoke", "train.batch_size=16", "data.index.n_images=120",
          "data.index.n_identities=20", f"paths.runs={runs}"], cwd=tmp_path)  # fmt: skip
    assert json.loads((runs / "age" / "model.json").read_text())["model"] == "tiny_age_net"
    assert (runs / "age" / ".hydra" / "config.yaml").is_file()
