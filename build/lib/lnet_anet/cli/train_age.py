"""Train a DLDL-v2 head (age or attractiveness): `make train-age`, `make train-attractiveness`.

    python -m lnet_anet.cli.train_age                       # age on UTKFace (conf/train_age.yaml)
    python -m lnet_anet.cli.train_age --config-name train_attractiveness data.index.root=/data/SCUT-FBP5500_v2
    python -m lnet_anet.cli.train_age model=tiny_age_net loss.use_kl=false   # an ablation

Writes into runs/<name>/: .hydra/ (resolved config), data.json, train.log, metrics.jsonl,
checkpoints/, model.safetensors, eval.json and eval.md (metrics and error by group).
Running the same command again resumes.
"""

from __future__ import annotations

import functools
import logging

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.data.from_config import build_index, face_dataset, split_of
from lnet_anet.data.preprocess import HeadInput
from lnet_anet.dldl.training import evaluate_dldl, finish_dldl_run
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.engine.runs import (
    record_data,
    start_run,
)

log = logging.getLogger("lnet_anet.train")


@hydra.main(config_path="../conf", config_name="train_age", version_base="1.3")
def main(cfg: DictConfig) -> dict:
    out = start_run(cfg.train.get("seed", 0))  # locked, cleaned, seeded before the model
    index = build_index(cfg.data)
    record_data(out, cfg.data, index)
    train_set = face_dataset(cfg.data, split_of(index, "train"), train=True)
    eval_index = split_of(index, cfg.data.eval_split)
    eval_set = face_dataset(cfg.data, eval_index, train=False)

    model = instantiate(cfg.model)
    loss_fn = instantiate(cfg.loss)  # conf/loss/dldl.yaml: dldl_loss_fn with its options bound
    evaluate_fn = functools.partial(evaluate_dldl, target=cfg.target)
    trainer = Trainer(model, loss_fn, train_set, TrainConfig.from_dict(cfg.train), out,
                      val_set=eval_set, evaluate_fn=evaluate_fn)  # fmt: skip
    trainer.fit()
    loader = DataLoader(eval_set, batch_size=cfg.train.batch_size, num_workers=cfg.train.num_workers,
                        collate_fn=collate_skip_bad)  # fmt: skip
    result = finish_dldl_run(out, cfg, model, HeadInput(cfg.data.image_size, cfg.enlarge), model, loader,
                             eval_index.reset_index(drop=True), cfg.data.eval_split, trainer.device)  # fmt: skip
    log.info("%s on %s/%s: %s", cfg.target, cfg.data.name, cfg.data.eval_split,
             {k: round(v, 3) for k, v in result.items() if isinstance(v, float) and not k.startswith("cs_")})  # fmt: skip
    return result


if __name__ == "__main__":
    main()
