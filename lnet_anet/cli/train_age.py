"""Age or attractiveness by DLDL-v2, every input from one command: `make train-age`.

    python -m lnet_anet.cli.train_age                                  # input=image: a net on the face crop
    python -m lnet_anet.cli.train_age input=anet_layers                # ANet's layers (the bundle's age net)
    python -m lnet_anet.cli.train_age input=anet_features anet_run=FILE_OR_RUN   # a head on ANet's feature
    python -m lnet_anet.cli.train_age --config-name train_attractiveness          # SCUT-FBP5500
    python -m lnet_anet.cli.train_age model=tiny_age_net loss.use_kl=false        # an ablation

The recipes: lnet_anet.dldl.recipes. Writes into runs/<name>/: .hydra/ (resolved config),
data.json, train.log, metrics.jsonl, checkpoints/, model.safetensors, model.json,
preprocess.json, eval.json, eval.md (metrics and error by group), predictions.csv, curves.png (the
training curves) and, for age, age_errors.png (errors by age band, the std's calibration). Running the
same command again resumes.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from lnet_anet.engine.runs import training_command, yaml_errors_named


@yaml_errors_named
@hydra.main(config_path="../conf", config_name="train_age", version_base="1.3")
@training_command
def main(cfg: DictConfig) -> dict:
    # imported here: --help and a mistyped override answer without loading torch
    from lnet_anet.dldl.recipes import train

    return train(cfg)


if __name__ == "__main__":
    main()
