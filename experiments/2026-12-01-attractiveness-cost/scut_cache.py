"""Per SCUT-FBP5500 training-list image, through the Predictor: its best face's box, ANet's
patch features of that face (P, 256; the attribute SVMs read their mean), the attractiveness of
the bundle's fold head that did not see the image (out of fold; the shipped recipe's fold runs,
framing 1.1, as benchmarks/bench_attractiveness.py scores them) and dlib's descriptor of the box
(the shipped settings: box map, int8). For cost_choice.py; not committed (runs/).

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/scut_cache.py --runs 'runs/scut/e11x16-f{k}' \
        --out runs/cost/scut-cache.npz
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-01-descriptor-onnx"))
from scut_folds import scut_training_list  # noqa: E402

from benchmarks.bench_attractiveness import _with_enlarge, best_face  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.dldl.descriptor import FaceDescriptor  # noqa: E402
from lnet_anet.inference.build import rebundle, replace_heads  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402


class PatchPredictor(Predictor):
    """A Predictor that keeps each face's ANet patch features (P, 256) in its record."""

    def _face_features(self, faces: list) -> list[np.ndarray]:
        out = super()._face_features(faces)
        for (*_, face), features in zip(faces, out[0], strict=True):
            face["_patches"] = np.asarray(features, np.float32)
        return out


parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--runs", required=True, help="fold run pattern with {k}")
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

index, names, _, folds = scut_training_list(args.root)
n = len(index)
patches, boxes, head_oof = None, np.full((n, 4), np.nan), np.full(n, np.nan)
descriptors = np.full((n, 128), np.nan, np.float32)
describe = FaceDescriptor()
tmp = Path(tempfile.mkdtemp())
for k in range(1, 6):
    bundle = replace_heads(DEFAULT_BUNDLE, tmp / f"f{k}.lnetanet", attractiveness=Path(args.runs.format(k=k)),
                           command=f"scut_cache fold {k}")  # fmt: skip
    bundle = rebundle(bundle, bundle, lambda c: _with_enlarge(c, 1.1))
    predictor = PatchPredictor.load(bundle)
    rows = np.flatnonzero(folds == k)
    records = predictor.predict_many([index["path"][i] for i in rows], 8)
    for i, record in tqdm(zip(rows, records, strict=True), total=len(rows), desc=f"fold {k}"):
        face = best_face(record)
        if face is None:
            continue
        if patches is None:
            patches = np.full((n, *face["_patches"].shape), np.nan, np.float32)
        patches[i], boxes[i], head_oof[i] = face["_patches"], face["box"], face["attractiveness"]["mean"]
        descriptors[i] = describe(load_image(index["path"][i]), [face["box"]])[0]
args.out.parent.mkdir(parents=True, exist_ok=True)
np.savez(args.out, names=np.array(names), patches=patches, boxes=boxes, head_oof=head_oof, descriptors=descriptors)
print(f"{np.isfinite(head_oof).sum()} of {n} images with a face")
