"""Round 5 (RULE.md): the rescue's bar and the frame's bar together, on tune parts only.

    PYTHONPATH=. python experiments/2026-12-02-frame-rescue/bars.py --free runs/frame-rescue/wider-tune-before/face_free \\
        --exclude runs/face-verifier/free-fit.txt --out experiments/2026-12-02-frame-rescue/tune/round5/bars.json

Each picture is read once by the bundle with its rescue off. For each without a face: the face
head's P(face) of LNet's strongest candidate at score >= rescue_faces[0] (Predictor.candidates,
what the rescue tries first) and of its frame (Predictor.frame_region, the last try). A pair
(r, f) keeps the candidate when P > r, else the frame when P > f: faces found per set and false
alarms per face-free crop follow without reading any picture again.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "experiments" / "2026-12-02-anet-photometric"))
from bench_end_to_end import SCUT_FOLDS, data_cfg  # noqa: E402
from compare import load  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_fit_tune, split_of  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.data.readers.age import fold_of  # noqa: E402
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500  # noqa: E402

RESCUE_BARS = (0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
FRAME_BARS = (0.95, 0.98, 0.99)


def chances(predictor, paths: list[str]) -> dict:
    """Faces found with the rescue off per picture, and for each picture without: (P of the
    strongest candidate or -1 when there is none, P of the frame)."""
    min_score = predictor.bundle.preprocessing["lnet"]["rescue_faces"][0]
    faces, lost = [], []
    for path in paths:
        image = load_image(Path(path))
        faces.append(len(predictor.predict(image)["faces"]))
        if faces[-1]:
            continue
        _, _, features = predictor.candidates(image, min_score=min_score)
        p_candidate = float(predictor.face_head.probability(features[:1])[0]) if len(features) else -1.0
        lost.append((p_candidate, float(predictor.face_head.probability(predictor.frame_feature(image)[None])[0])))
    return {"faces": faces, "lost": lost}


def outcome(read: dict, r: float, f: float) -> tuple[float, float]:
    """(share of pictures with a face, faces per picture) under the pair (r, f)."""
    kept = sum(1 for pc, pf in read["lost"] if pc > r or pf > f)
    n = len(read["faces"])
    return (sum(1 for k in read["faces"] if k) + kept) / n, (sum(read["faces"]) + kept) / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default="lnet_anet/assets/default.lnetanet", help="BUNDLE[:BOX_HEAD:FACE_HEAD]")
    ap.add_argument("--free", type=Path, required=True)
    ap.add_argument("--exclude", type=Path, required=True, help="the face head's own face-free list")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    predictor = load(args.bundle)
    predictor.rescue = False
    root = datasets_root()
    celeba = build_index(data_cfg("celeba_hq", root))
    utk = build_index(data_cfg("utkface", root))
    scut = read_scut_fbp5500(root / "scut_fbp5500_train")
    scut = scut[scut["split"] == "train"].reset_index(drop=True)
    left_out = {Path(line).name for line in args.exclude.read_text().split()}
    sets = {"utkface": split_of(utk, "train").sample(n=2000, random_state=1)["path"].tolist(),
            "scut": scut[np.isin(fold_of(scut["path"].map(lambda p: Path(p).name).tolist(), 5, 0),
                                 SCUT_FOLDS["tune"])]["path"].tolist(),
            "celeba": split_fit_tune(split_of(celeba, "train"), 0.1, 0)[1]["path"].tolist(),
            "free": sorted(str(p) for p in args.free.iterdir() if p.name not in left_out)}  # fmt: skip
    reads = {name: chances(predictor, paths) for name, paths in sets.items()}
    pairs = {}
    for r, f in itertools.product(RESCUE_BARS, FRAME_BARS):
        pairs[f"{r},{f}"] = {**{name: outcome(reads[name], r, f)[0] for name in ("utkface", "scut", "celeba")},
                             "false_alarms_per_crop": outcome(reads["free"], r, f)[1]}  # fmt: skip
    shipped = pairs["0.7,0.95"]
    ok = {k: v for k, v in pairs.items() if v["utkface"] >= 0.990 and v["scut"] >= shipped["scut"]
          and v["celeba"] >= shipped["celeba"]}  # fmt: skip
    chosen = min(ok, key=lambda k: (ok[k]["false_alarms_per_crop"], -float(k.split(",")[0]))) if ok else None
    out = {"n": {k: len(v) for k, v in sets.items()}, "pairs": pairs, "shipped": "0.7,0.95", "chosen": chosen,
           "ship": bool(chosen and shipped["false_alarms_per_crop"] - pairs[chosen]["false_alarms_per_crop"] >= 0.010),
           "lost": {k: v["lost"] for k, v in reads.items()}}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: v for k, v in out.items() if k != "lost"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
