"""Knowledge distillation in the anet_layers recipe (soft_labels): more training faces, each with
a teacher's target, on synthetic data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SMALL = ["data=synthetic_age", "init_from=null", "model.pretrained=none", "model.c3_channels=32",
         "model.c4_channels=32", "model.feature_dim=32", "train=smoke", "train.batch_size=16",
         "data.index.n_images=120", "data.index.n_identities=20", "trunk_cache_dir=${paths.runs}/cache"]  # fmt: skip


def train(runs: Path, name: str, *overrides: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "lnet_anet.cli.train_anet_dldl", f"paths.runs={runs}", f"name={name}", *SMALL,
           *overrides]  # fmt: skip
    return subprocess.run(cmd, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True)


@pytest.mark.slow
def test_soft_labels_pull_the_model_towards_the_teachers_targets(tmp_path, launch):
    plain = train(tmp_path, "plain")
    assert plain.returncode == 0, plain.stderr[-3000:]
    images = sorted((tmp_path / "synthetic-data" / "seed0" / "img_align_celeba").glob("*.jpg"))
    # A teacher that calls every extra face 95 years old, far above the synthetic ages.
    faces = tmp_path / "teacher.csv"
    pd.DataFrame({"path": [str(p) for p in images], "age": 95.0}).to_csv(faces, index=False)
    soft = train(tmp_path, "soft", f"soft_labels={{faces: {faces}}}")
    assert soft.returncode == 0, soft.stderr[-3000:]
    assert f"soft labels: {len(images)} more faces" in soft.stderr + soft.stdout
    assert len(list((tmp_path / "cache").glob("*-soft-*-mirror.npz"))) == 1  # cached once, beside the crops'

    mean = {name: pd.read_csv(tmp_path / name / "predictions.csv")["pred"].mean() for name in ("plain", "soft")}
    assert mean["soft"] > mean["plain"] + 5, mean  # smoke training: pulled up, not all the way to 95
    assert json.loads((tmp_path / "soft" / "eval.json").read_text())["split"] == "val"

    # A target that is not a number is named with its file and line; boxes are required for crop: box.
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"path": [str(p) for p in images[:3]], "age": ["30", "thirty", "40"]}).to_csv(bad, index=False)
    command = ["lnet_anet.cli.train_anet_dldl", f"paths.runs={tmp_path}", *SMALL]  # stops before training: in process
    code, err = launch(*command, "name=bad", f"soft_labels={{faces: {bad}}}")
    assert code != 0 and f"{bad}, line 3: 'age' is not a number" in err
    boxes = tmp_path / "boxes.csv"
    boxes.write_text("name,x0,y0,x1,y1\n" + "".join(f"{p.name},6,4,58,60\n" for p in images))
    code, err = launch(*command, "name=boxless", f"soft_labels={{faces: {faces}}}", "data.crop=box", f"+data.boxes={boxes}")
    assert code != 0 and "soft_labels.boxes names no CSV of face boxes" in err
