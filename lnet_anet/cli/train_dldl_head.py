"""`python -m lnet_anet.cli.train_dldl_head` = `python -m lnet_anet.cli.train_age input=anet_features`
(conf/train_dldl_head.yaml; the recipe: lnet_anet.dldl.recipes.train_on_anet_features)."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from lnet_anet.engine.runs import training_command, yaml_errors_named


@yaml_errors_named
@hydra.main(config_path="../conf", config_name="train_dldl_head", version_base="1.3")
@training_command
def main(cfg: DictConfig) -> dict:
    # imported here: --help and a mistyped override answer without loading torch
    from lnet_anet.dldl.recipes import train

    return train(cfg)


if __name__ == "__main__":
    main()
