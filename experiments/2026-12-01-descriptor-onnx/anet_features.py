"""Per SCUT-FBP5500 training-list image: the Predictor's ANet feature of its best face and the
attractiveness score of the bundle's fold head that did not see it (out of fold), for
choose_inputs.py. Each fold's images go through that fold's bundle (the shipped recipe's fold
run, framing 1.1), as benchmarks/bench_attractiveness.py scores them.

    PYTHONPATH=. python experiments/2026-12-01-descriptor-onnx/anet_features.py --runs 'runs/scut/e11x16-f{k}' \
        --out runs/onnx-desc/anet-feats.npz
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from scut_folds import scut_training_list  # noqa: E402

from benchmarks.bench_attractiveness import FeaturePredictor, _with_enlarge, best_face  # noqa: E402
from lnet_anet.inference.build import rebundle, replace_heads  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--runs", required=True, help="fold run pattern with {k}")
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

index, names, _, folds = scut_training_list(args.root)
feats, head_oof = np.full((len(index), 256), np.nan, np.float32), np.full(len(index), np.nan)
tmp = Path(tempfile.mkdtemp())
for k in range(1, 6):
    bundle = replace_heads(DEFAULT_BUNDLE, tmp / f"f{k}.lnetanet", attractiveness=Path(args.runs.format(k=k)),
                           command=f"anet_features fold {k}")  # fmt: skip
    bundle = rebundle(bundle, bundle, lambda c: _with_enlarge(c, 1.1))
    predictor = FeaturePredictor.load(bundle)
    rows = np.flatnonzero(folds == k)
    for i, record in zip(rows, predictor.predict_many([index["path"][i] for i in rows], 8), strict=True):
        face = best_face(record)
        if face is not None:
            feats[i], head_oof[i] = face["_feature"], face["attractiveness"]["mean"]
args.out.parent.mkdir(parents=True, exist_ok=True)
np.savez(args.out, names=np.array(names), feats=feats, head_oof=head_oof)
print(f"{np.isfinite(head_oof).sum()} of {len(index)} images with a face")
