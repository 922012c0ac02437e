"""Age label distributions of UTKFace chips, end to end through `Predictor` (a diagnostic).

    python experiments/2026-12-02-age-prior/capture.py --bundle B.lnetanet --run RUN --part tune|val \
        --out runs/age-prior/tune.npz [--limit N]

Each chip file goes through `Predictor.predict` as a user's photo would (LNet finds the face, the
age net reads its crop); the age head's logits of the top face are caught on their way into
`DLDLHead.predict` (backend "torch"), checked against the record's age mean, and saved with the
chip's true age. `--run` is the age training run whose data config and tune_split define the
parts: `tune` = the run's tune part of UTKFace's train partition (held out from that run),
`val` = UTKFace's 20% hold-out; the train part's labels (the run's fit part for `tune`) are saved
too, for the label prior.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from tqdm import tqdm

from lnet_anet.data.from_config import build_index, split_fit_tune, split_of
from lnet_anet.dldl.label_distribution import DLDLHead
from lnet_anet.inference.predictor import Predictor


def parts(run: Path, which: str):
    """(scored part, the part whose labels the age net learnt from) of the run's index."""
    cfg = OmegaConf.load(run / ".hydra" / "config.yaml")
    train = split_of(build_index(cfg.data), "train")
    if which == "val":
        return split_of(build_index(cfg.data), cfg.data.eval_split), train
    fit, tune = split_fit_tune(train, **cfg.tune_split)
    return tune, fit


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--part", choices=("tune", "val"), required=True)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--soften", type=float, default=1.0,
                    help="a diagnostic: each chip shrunk this many times and enlarged back before it is read "
                         "(lnet_anet.data.transforms.soften; experiments/2026-12-04-age-gpu)")
    ap.add_argument("--soften-above", type=float, default=0.0, help="with --soften: only chips whose focus is over this")
    args = ap.parse_args(argv)
    read = str
    if args.soften != 1:
        from lnet_anet.data.images import load_image
        from lnet_anet.data.transforms import soften_sharp

        def read(path):
            return soften_sharp(load_image(path), args.soften, args.soften_above)

    torch.set_num_threads(2)
    scored, learnt = parts(args.run, args.part)
    if args.limit:
        scored = scored.sample(n=min(args.limit, len(scored)), random_state=0)
    predictor = Predictor.load(args.bundle, backend="torch")
    age_bins = predictor.bundle.net("age").bins
    caught: list[torch.Tensor] = []
    real = DLDLHead.predict

    def catch(self, logits):
        out = real(self, logits)
        if self.bins.num_bins == age_bins.num_bins:
            caught.append((logits.detach().clone(), out["mean"].detach().clone()))
        return out

    DLDLHead.predict = catch
    rows, logits, missing = [], [], 0
    for path, age in tqdm(list(zip(scored["path"], scored["age"], strict=True)), desc=f"{args.part} chips"):
        caught.clear()
        record = predictor.predict(read(path))
        if not record["faces"] or not caught:
            missing += 1
            continue
        # The predictor may read a face more than once (the frame try, the rescue): the call whose
        # answer is the record's top face is the one kept (the last such; raw logits, before any
        # prior correction the bundle adds).
        said = record["faces"][0]["age"]["mean"]
        found = [lg[0] for lg, means in caught if abs(float(means[0]) - said) <= 0.01]
        if not found:
            raise SystemExit(f"{path}: no age head call gives the record's {said} "
                             f"(caught: {[round(float(m[0]), 3) for _, m in caught]})")
        top = found[-1]
        rows.append((str(path), float(age)))
        logits.append(top.numpy())
    DLDLHead.predict = real
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, logits=np.stack(logits).astype(np.float32), age=np.array([a for _, a in rows]),
                        path=np.array([p for p, _ in rows]), bins=age_bins.values.numpy(),
                        train_ages=learnt["age"].to_numpy(np.float64), no_face=missing)
    print(f"{len(rows)} chips with a face, {missing} without -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
