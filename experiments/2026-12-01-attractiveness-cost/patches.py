"""Diagnostic for the cost (issue 17): how many of the bundle head's patches the score needs.

The bundle's attractiveness head (an ANetDLDL on ANet's layers) averages its distribution over the
3 x 3 patches (128 px at stride 16) of the 160 px crop. Its C4 and FC run once per patch, so its
cost in the face graph grows with their number. Variants, with the fold heads as trained (no
retraining), each face's patches as in the face graph:
- all: the 9 patches (shipped);
- stride32: the 4 corner patches (offsets 0 and 32);
- centre: the centre patch alone (offset 16).

Per image of SCUT-FBP5500's training list, through the Predictor (torch backend, so that the patched
head runs as written): the fold head's out-of-fold score of the best face, for each variant. Then the
score alone, and mixed 0.5 with the joint descriptor head's out-of-fold score (DescriptorHead.fit on
joined_inputs of the cached ANet feature and landmark-chip descriptor, per outer fold, seeds 0-2:
box_chip.py's recipe and cache). The descriptor head does not read the bundle head, so its
out-of-fold scores are computed once and mixed with each variant.

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/patches.py --runs 'runs/scut/e11x16-f{k}' \
        --cache runs/boxchip/cache.npz --oof runs/patches/oof.npz --out experiments/2026-12-01-attractiveness-cost/patches.json
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-01-descriptor-onnx"))
from scut_folds import metrics, scut_training_list  # noqa: E402

from benchmarks.bench_attractiveness import _with_enlarge, best_face  # noqa: E402
from lnet_anet.dldl.descriptor import DescriptorHead, joined_inputs  # noqa: E402
from lnet_anet.inference.build import rebundle, replace_heads  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402
from lnet_anet.models.dldl import ANetDLDL  # noqa: E402

VARIANTS = {"all": (slice(None), slice(None)), "stride32": (slice(0, None, 2), slice(0, None, 2)),
            "centre": (slice(1, 2), slice(1, 2))}  # fmt: skip


def _dense_probs(self, trunk_map: torch.Tensor, stage: int | None) -> torch.Tensor:
    """ANetDLDL._dense_probs over the patches of self.patches (VARIANTS; default all)."""
    feats = self.anet.dense_features_from_trunk(trunk_map, self.stride, stage=stage)  # (B, 3, 3, D)
    rows, cols = VARIANTS[getattr(self, "patches", "all")]
    return self._patch_logits(feats[:, rows, cols].flatten(1, 2)).float().softmax(-1).mean(1)


ANetDLDL._dense_probs = _dense_probs

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--runs", required=True, help="fold run pattern with {k}")
parser.add_argument("--cache", type=Path, required=True, help="box_chip.py's cache: feats, head_oof, landmark_descriptors")
parser.add_argument("--oof", type=Path, required=True,
                    help="this script's cache of the variants' out-of-fold scores (and the joint head's)")
parser.add_argument("--seeds", type=int, default=3)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

index, names, y, folds = scut_training_list(args.root)
z = np.load(args.cache)
found = np.isfinite(z["head_oof"])
oof = {k: v for k, v in np.load(args.oof).items() if k != "joint"} if args.oof.exists() else {}
for variant in VARIANTS:
    if variant in oof:
        continue
    scores = np.full(len(y), np.nan)
    for k in range(1, 6):
        bundle = replace_heads(DEFAULT_BUNDLE, Path(tempfile.mkdtemp()) / f"f{k}.lnetanet",
                               attractiveness=Path(args.runs.format(k=k)), command=f"patches fold {k}")  # fmt: skip
        predictor = Predictor.load(rebundle(bundle, bundle, lambda c: _with_enlarge(c, 1.1)), backend="torch")
        predictor._run["faces"].module.heads["attractiveness"].patches = variant
        rows = np.flatnonzero(folds == k)
        records = predictor.predict_many([index["path"][i] for i in rows], 8)
        for i, record in tqdm(zip(rows, records, strict=True), total=len(rows), desc=f"{variant} fold {k}"):
            face = best_face(record)
            scores[i] = np.nan if face is None else face["attractiveness"]["mean"]
    oof[variant] = scores
    args.oof.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.oof, **oof)

x = joined_inputs(z["landmark_descriptors"], z["feats"])
joint = []
for seed in range(args.seeds):
    pred = np.full(len(y), np.nan)
    for k in range(1, 6):
        train, test = (folds != k) & found, (folds == k) & found
        pred[test] = DescriptorHead.fit(x[train], y[train], seed=seed).regress(x[test])
    joint.append(pred)
np.savez(args.oof, **oof, joint=np.array(joint))  # (seeds, N): patch_subsets.py mixes with their mean
record = {"faces": int(found.sum()), "seeds": args.seeds,
          "torch_all_vs_onnx_cache_max_abs": round(float(np.nanmax(np.abs(oof["all"][found] - z["head_oof"][found]))), 4)}  # fmt: skip
for variant in VARIANTS:
    s = oof[variant]
    ok = found & np.isfinite(s)
    runs = [metrics(0.5 * j[ok] + 0.5 * s[ok], y[ok]) for j in joint]
    record[variant] = {"head_alone": metrics(s[ok], y[ok]), "mixed_0.5_per_seed": runs,
                       "mixed_mean": {m: round(float(np.mean([r[m] for r in runs])), 4) for m in runs[0]},
                       "mixed_sd": {m: round(float(np.std([r[m] for r in runs], ddof=1)), 4) for m in runs[0]}}  # fmt: skip
    print(variant, record[variant]["head_alone"], record[variant]["mixed_mean"], flush=True)
record["command"] = "python experiments/2026-12-01-attractiveness-cost/patches.py " + " ".join(sys.argv[1:])
args.out.write_text(json.dumps(record, indent=2) + "\n")
