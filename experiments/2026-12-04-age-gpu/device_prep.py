"""What the lent GPU machine needs for `device_train.sh`, packed under .device/ (session 39).

    PYTHONPATH=. python experiments/2026-12-04-age-gpu/device_prep.py

The device tool carries at most 64 MiB of working tree, counted on disk, so:
- the fit part of UTKFace's train partition (`tune_split={frac: 0.15, seed: 1}`: 12,885 chips)
  and 500 of its 2,224 tune chips (the per-epoch score) are re-encoded as WebP quality 90, under
  their own names, into one archive, `data.tgz` (36 MB; the JPEG chips are 70 MB on disk). The
  hold-out and the tune split hash each file's name, so the subset keeps both parts as they are here;
- the pure-Python packages the device image lacks (hydra, omegaconf, antlr4) go into `site.tgz`;
- the EfficientNet-Lite0 ImageNet weights, in timm's keys without the ImageNet classifier,
  go into `lite0_timm.pth`.
The bundle's assets are not needed there: the run was sent with them untracked and ignored for
the call, and then restored.
"""

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from PIL import Image

from lnet_anet.data.from_config import build_index, split_fit_tune, split_of
from lnet_anet.models.backbones import package_weights_path

DEST = Path(".device")
TUNE_CARRIED = 500


def main() -> None:
    with initialize_config_dir(os.path.abspath("lnet_anet/conf"), version_base="1.3"):
        cfg = compose("train_age", overrides=["experiment=age_lite0_photo"])
    fit, tune = split_fit_tune(split_of(build_index(cfg.data), "train"), frac=0.15, seed=1)
    stage = DEST / "stage"
    chips = stage / "utkface128" / "UTKFace"
    chips.mkdir(parents=True, exist_ok=True)
    for path in [*fit["path"], *tune.sample(TUNE_CARRIED, random_state=0)["path"]]:
        buf = io.BytesIO()
        Image.open(path).convert("RGB").save(buf, "WEBP", quality=90, method=6)
        (chips / Path(path).name).write_bytes(buf.getvalue())
    subprocess.run(["tar", "-czf", str(DEST / "data.tgz"), "-C", str(stage), "utkface128"], check=True)
    site = stage / "site"
    import antlr4
    import hydra
    import omegaconf

    for module in (hydra, omegaconf, antlr4):
        src = Path(module.__file__).parent
        shutil.copytree(src, site / src.name, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    subprocess.run(["tar", "-czf", str(DEST / "site.tgz"), "-C", str(stage), "site"], check=True)
    shutil.rmtree(stage)
    state = torch.load(package_weights_path(), map_location="cpu", weights_only=True)
    torch.save({k: v for k, v in state.items() if not k.startswith("classifier.")}, DEST / "lite0_timm.pth")
    shutil.copy(Path(__file__).with_name("device_train.sh"), DEST / "train.sh")
    (DEST / "prep.json").write_text(json.dumps({"fit": len(fit), "tune": len(tune), "tune_carried": TUNE_CARRIED,
                                                "format": "WebP q90 method 6, under the JPEG names"}))  # fmt: skip


if __name__ == "__main__":
    main()
