"""Tune diagnostic: the best face's threshold against face-free false alarms and faces found
(tune parts only: WIDER tune photos and face-free crops of them, 600 UTKFace train chips, 300
CelebA-HQ train files). Run from the repository root:

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-01-face-box/threshold-tune/sweep.py [T ...]
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, "benchmarks")
argv, sys.argv = sys.argv, sys.argv[:1]  # the benchmarks parse their own arguments on import
import bench_detection as bd  # noqa: E402
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.readers.celeba import read_partition  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, mark_small, read_wider_txt  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.metrics.detection import evaluate_detections, truth_from_table  # noqa: E402

data = Path("../shared/datasets")
table = read_wider_txt(next(iter(sorted((data / "wider_face_train" / "wider_face_split").glob("wider_face_*_bbx_gt.txt")))))
tune = mark_small(table[hash_part(table["name"]) == "tune"].reset_index(drop=True), 24)
free = bd.face_free_crops(tune, Path("runs/threshold-tune/face_free"))
truth = truth_from_table(tune)
utk = split_of(build_index(data_cfg("utkface", data)), "train").reset_index(drop=True)
utk_train = list(utk.sample(n=600, random_state=0)["path"])
rng = np.random.default_rng(0)
part = read_partition(data / "celeba_hq128" / "list_eval_partition.txt")
celeb = [data / "celeba_hq128" / "img_celeba_hq" / n for n in rng.choice(sorted(part.index[part == "train"]), 300, replace=False)]
p = Predictor.load()
out = {"n_free": len(free), "n_utk": len(utk_train), "n_celeb": len(celeb)}
for t in [float(v) for v in argv[1:]] or [0.662, 1.0, 1.5, 2.0, 2.5, 3.0]:
    p.localizer.threshold = t
    ff = sum(len(f) for f in p.locate_many(free)) / len(free)
    u = np.mean([len(f) > 0 for f in p.locate_many(utk_train)])
    c = np.mean([len(f) > 0 for f in p.locate_many(celeb)])
    dets = [(np.array([b for b, _ in f]).reshape(-1, 4), np.array([s for _, s in f])) for f in p.locate_many(list(tune["path"]))]
    m = evaluate_detections(dets, truth, bands=None)
    out[str(t)] = {"face_free_fa": ff, "utk_found": float(u), "celeba_found": float(c), "wider_ap": m["ap"],
                   "wider_recall_0.1": m.get("recall_at_0.1_fppi"), "wider_max_recall": m["max_recall"]}  # fmt: skip
    print(t, out[str(t)], flush=True)
Path("experiments/2026-12-01-face-box/threshold-tune/sweep.json").write_text(json.dumps(out, indent=1))
