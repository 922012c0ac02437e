"""Diagnostic for the cost (issue 17, section 8): which of the bundle head's 3 x 3 patches the
mixed score needs, chosen by nested CV.

patches.py scored three patch sets through the Predictor. Here each fold head's distribution of
every patch is kept, so that any set's score is their mean: per SCUT-FBP5500 training-list image,
the fold head that did not see it, on the crop of the best face the Predictor finds
(torch backend; the head's distributions kept before their mean). The joint descriptor head of 3 networks
(the shipped recipe; its out-of-fold scores as patches.py fitted them on box_chip.py's cache,
seeds 0-2 averaged) is mixed
0.5 with each set's score.

The choice is nested: for each outer fold k, the set with the lowest mixed RMSE on the other four
folds' out-of-fold scores (fold k's labels unseen), the cheapest on a tie; then fold k is scored
with it. Candidates: every set of 1-4 patches symmetric under the horizontal mirror, and all 9;
again among the sets of at most 2 patches (the cheap ones); and, for the centre patch, the middle
row's outer pair and all 9, the mix weight (0.4-0.7) chosen the same way.

--runs may name other fold runs of the recipe (e.g. trained longer, or on patches near the
centre: section 8 of the README); --probs then needs a file of its own.

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/patch_subsets.py --runs 'runs/scut/e11x16-f{k}' \
        --oof runs/patches/oof.npz --probs runs/patches/probs.npz \
        --out experiments/2026-12-01-attractiveness-cost/patch_subsets.json
"""

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-01-descriptor-onnx"))
from scut_folds import metrics, scut_training_list  # noqa: E402

from benchmarks.bench_attractiveness import _with_enlarge, best_face  # noqa: E402
from lnet_anet.inference.build import rebundle, replace_heads  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402
from lnet_anet.models.dldl import ANetDLDL  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--runs", required=True, help="fold run pattern with {k}")
parser.add_argument("--oof", type=Path, required=True, help="patches.py's cache: the joint head's out-of-fold scores")
parser.add_argument("--probs", type=Path, required=True, help="this script's cache of the per-patch distributions")
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)



def _dense_probs(self, trunk_map: torch.Tensor, stage: int | None) -> torch.Tensor:
    """ANetDLDL._dense_probs, keeping each face's per-patch distributions (B, patches, bins) in
    self.keep_patch_probs when the Predictor set it (the attractiveness head)."""
    feats = self.anet.dense_features_from_trunk(trunk_map, self.stride, stage=stage)
    probs = self._patch_logits(feats.flatten(1, 2)).float().softmax(-1)
    if getattr(self, "keep_patch_probs", None) is not None:
        self.keep_patch_probs.append(probs.numpy())
    return probs.mean(1)


ANetDLDL._dense_probs = _dense_probs


class PatchProbsPredictor(Predictor):
    """A Predictor (torch backend) that puts each face's per-patch distributions of the
    attractiveness head in its record ("_probs")."""

    def _face_features(self, faces: list) -> list[np.ndarray]:
        out = super()._face_features(faces)
        kept = self._run["faces"].module.heads["attractiveness"].keep_patch_probs
        for (*_, face), p in zip(faces, kept.pop(), strict=True):
            face["_probs"] = p
        return out


index, names, y, folds = scut_training_list(args.root)
if args.probs.exists():
    z = np.load(args.probs)
    probs, values = z["probs"], z["values"]
else:
    probs, values = None, None
    for k in range(1, 6):
        bundle = replace_heads(DEFAULT_BUNDLE, Path(tempfile.mkdtemp()) / f"f{k}.lnetanet",
                               attractiveness=Path(args.runs.format(k=k)), command=f"patch_subsets fold {k}")  # fmt: skip
        predictor = PatchProbsPredictor.load(rebundle(bundle, bundle, lambda c: _with_enlarge(c, 1.1)), backend="torch")
        net = predictor._run["faces"].module.heads["attractiveness"]
        net.keep_patch_probs, values = [], net.head.bins.values.numpy()
        rows = np.flatnonzero(folds == k)
        for i, record in zip(rows, predictor.predict_many([index["path"][i] for i in rows], 8), strict=True):
            face = best_face(record)
            if face is not None:
                if probs is None:
                    probs = np.full((len(y), *face["_probs"].shape), np.nan, np.float32)
                probs[i] = face["_probs"]
        print(f"fold {k}: {len(rows)} images", flush=True)
    args.probs.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.probs, probs=probs, values=values)
found = np.isfinite(probs).all((1, 2))
joint = np.load(args.oof)["joint"].mean(0)  # the 3-network head: the mean of its networks' expectations
grid = [(r, c) for r in range(3) for c in range(3)]
mirror = {(r, c): (r, 2 - c) for r, c in grid}
candidates = [s for n in range(1, 5) for s in itertools.combinations(grid, n) if {mirror[p] for p in s} == set(s)]
candidates.append(tuple(grid))


def nested(sets, weights=(0.5,)):
    """Per outer fold k: the (set, weight) of lowest mixed RMSE on the other folds (the cheapest set
    on a tie), then fold k scored with it. Returns (metrics, per-fold choices)."""
    oof, chosen = np.full(len(y), np.nan), {}
    for k in range(1, 6):
        inner = np.flatnonzero((folds != k) & found)
        scored = [(metrics((1 - w) * head + w * joint[inner], y[inner])["rmse"], len(s), w, s)
                  for s in sets for head in [score(s, inner)] for w in weights]  # fmt: skip
        rmse, _, w, best = min(scored, key=lambda t: t[:3])
        rows = np.flatnonzero((folds == k) & found)
        oof[rows] = (1 - w) * score(best, rows) + w * joint[rows]
        chosen[k] = {"set": [list(p) for p in best], "weight": w, "inner_rmse": rmse, "fold": metrics(oof[rows], y[rows])}
    return metrics(oof[found], y[found]), chosen


def score(subset, rows):
    """The head's score of the faces in `rows` from the patches of `subset`: its mean distribution's expectation."""
    return probs[rows][:, [grid.index(p) for p in subset]].mean(1) @ values


def mixed(subset, rows):
    return 0.5 * score(subset, rows) + 0.5 * joint[rows]


record = {"faces": int(found.sum()), "candidates": [[list(p) for p in s] for s in candidates]}
record["nested"], record["outer"] = nested(candidates)
record["nested_at_most_2_patches"], record["outer_at_most_2_patches"] = nested([s for s in candidates if len(s) <= 2])
for name, subset in (("centre", ((1, 1),)), ("middle_row_pair", ((1, 0), (1, 2))), ("all", tuple(grid))):
    record[f"nested_weight_{name}"] = nested([subset], (0.4, 0.5, 0.6, 0.7))
for k in range(1, 6):
    print(k, record["outer"][k], flush=True)
record["each_set_over_all_folds"] = {"+".join(f"{r}{c}" for r, c in s): metrics(mixed(s, np.flatnonzero(found)), y[found])
                                     for s in candidates}  # fmt: skip
record["head_alone"] = {"+".join(f"{r}{c}" for r, c in s): metrics(score(s, np.flatnonzero(found)), y[found])
                        for s in candidates}  # fmt: skip
record["command"] = "python experiments/2026-12-01-attractiveness-cost/patch_subsets.py " + " ".join(sys.argv[1:])
args.out.write_text(json.dumps(record, indent=2) + "\n")
print("nested", record["nested"], "at most 2 patches", record["nested_at_most_2_patches"])
print({k: v[0] for k, v in record.items() if k.startswith("nested_weight")})
for name, m in sorted(record["each_set_over_all_folds"].items(), key=lambda t: t[1]["rmse"])[:10]:
    print(name, m, record["head_alone"][name])
