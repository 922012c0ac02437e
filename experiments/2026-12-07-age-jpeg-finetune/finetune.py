"""The shipped age ensemble's two Lite0 DLDL-v2 nets (experiments/2026-12-04-age-gpu/ensemble-fp16) fine-tuned with JPEG re-saves among their
training views (RULE.md): each net starts from the embedded bundle's weights and trains on the fit
part it learnt from (UTKFace train part less the tune split {frac 0.15, seed 1}), with its own
recipe (the framings of experiment=age_lite0_photo; the second net's band weights) and, before
the framing, the chip re-saved as JPEG at quality U(lo, hi) with probability p.

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-07-age-jpeg-finetune/finetune.py \
        --epochs 1 --lr 1e-4 --out runs/age-jpeg-ft

Writes <out>/member<i>/ (the Trainer's run folder: checkpoints, metrics.jsonl, train.log; a killed
run resumes) and <out>/member<i>.pt (the net's weights).
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image

from lnet_anet.data.from_config import build_index, face_dataset, split_fit_tune, split_of
from lnet_anet.data.transforms import Chain, OneOf
from lnet_anet.dldl.recipes import band_weights, framing_views
from lnet_anet.engine import TrainConfig, Trainer
from lnet_anet.inference.build import read_dldl_run

RUNS = Path("experiments/2026-12-04-age-gpu/device-runs")
SHIPPED = Path("experiments/2026-12-04-age-gpu/ensemble-fp16")  # the embedded bundle's age ensemble (round 6)
MEMBERS = ("age-lite0-gpu-tune85", "age-lite0bal-gpu-tune85")  # the ensemble's order (run.sh: ensemble_dldl)


class JpegResave:
    """The uint8 (H, W, 3) image re-saved as JPEG at a quality drawn from U(low, high), with
    probability p (torch's generator: seeded per DataLoader worker)."""

    def __init__(self, p: float, low: int, high: int):
        self.p, self.low, self.high = p, low, high

    def __call__(self, img: np.ndarray) -> np.ndarray:
        if torch.rand(1).item() >= self.p:
            return img
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=int(torch.randint(self.low, self.high + 1, (1,))))
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=float, default=1)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--p", type=float, default=0.5)
    ap.add_argument("--quality", type=int, nargs=2, default=(50, 95))
    ap.add_argument("--after", action="store_true", help="re-save after the framing (round 2), not before it")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    # the shipped ensemble's weights as kept (float16), built unfolded: a Predictor's own copy has its
    # BatchNorms folded into frozen convolutions (inference.fuse), which a first try here trained by mistake
    ensemble = read_dldl_run(SHIPPED, "age")["net"]
    for i, run in enumerate(MEMBERS):
        cfg = OmegaConf.load(RUNS / run / "hydra" / "config.yaml")
        fit, _ = split_fit_tune(split_of(build_index(cfg.data), "train"), frac=0.15, seed=1)
        if cfg.get("balance"):
            fit = fit.assign(**{f"{cfg.target}_weight": band_weights(fit[cfg.target], **cfg.balance)})
        views = [view for _, view in framing_views(cfg.framings)]
        resave, framing = JpegResave(args.p, *args.quality), OneOf(None, *views)
        train_set = face_dataset(cfg.data, fit, train=True,
                                 transform=Chain(framing, resave) if args.after else Chain(resave, framing))  # fmt: skip
        model = ensemble.members[i]
        steps_per_epoch = len(fit) // cfg.train.batch_size
        train = {**OmegaConf.to_container(cfg.train, resolve=True), "lr": args.lr, "epochs": max(1, int(np.ceil(args.epochs))),
                 "max_steps": args.max_steps or int(args.epochs * steps_per_epoch), "warmup_steps": 20,
                 "num_workers": args.workers, "num_threads": 2, "amp": False, "checkpoint_every": 50,
                 "progress": False, "log_every": 10}  # fmt: skip
        train["optimizer"]["lr"] = args.lr
        train["scheduler"]["warmup_steps"] = 20
        trainer = Trainer(model, instantiate(cfg.loss), train_set, TrainConfig.from_dict(train), args.out / f"member{i}")
        trainer.fit()
        torch.save(model.state_dict(), args.out / f"member{i}.pt")


if __name__ == "__main__":
    main()
