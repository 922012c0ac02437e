"""Trains TinyAttributeNet on a synthetic CelebA tree; run plainly or under torchrun.

usage: python tests/ddp_worker.py <synthetic_root> <run_dir>
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _tiny import TinyAttributeNet, bce_loss  # noqa: E402

from lnet_anet.data.dataset import FaceDataset  # noqa: E402
from lnet_anet.data.readers.celeba import read_celeba  # noqa: E402
from lnet_anet.engine import TrainConfig, Trainer  # noqa: E402
from lnet_anet.engine.distributed import world  # noqa: E402

if __name__ == "__main__":
    root, run_dir = Path(sys.argv[1]), Path(sys.argv[2])
    torch.set_num_threads(1)
    index = read_celeba(root, images="img_align_celeba")
    train = FaceDataset(index[index.split == "train"], image_size=32)
    cfg = TrainConfig(epochs=2, batch_size=8, lr=0.05, optimizer={"_target_": "torch.optim.SGD", "_partial_": True, "momentum": 0.9, "nesterov": True}, num_workers=0,
                      progress=False, seed=3, max_steps=int(sys.argv[3]) if len(sys.argv) > 3 else None)  # fmt: skip
    torch.manual_seed(0)  # the same initial weights in both runs
    trainer = Trainer(TinyAttributeNet(), bce_loss, train, cfg, run_dir)
    trainer.fit()
    if world()[0] == 0:
        torch.save(trainer.model.state_dict(), run_dir / "final.pt")
