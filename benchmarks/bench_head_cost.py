"""What a bundle's heads cost per face in the Predictor's face graph (ANet + every head), on
ONNX Runtime: the same face crops through `Predictor._run["faces"]` of a base bundle and of a
variant (e.g. another attractiveness head), in interleaved rounds, in one process.

    python benchmarks/bench_head_cost.py --variant runs/bench/attr-anet.lnetanet \
        [--base lnet_anet/assets/default.lnetanet] [--images DIR] [--faces 30] [--batches 1 5] \
        [--threads 1 2] [--rounds 7] [--out runs/bench/head-cost.json]

Per batch size and thread count: the median over rounds of each round's median time per face
(one call's time / batch size), for the base and the variant, and their difference (what the
variant's heads add per face). The faces are LNet's boxes of --images (the highest-scoring face
of each image), cropped as the Predictor crops them. Also reports, per head, the ANet trunk
stages it shares with ANet (inference.fuse.shared_trunk_stages; 0: the head runs its own trunk).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.inference.bundle import load_bundle  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor, _crops  # noqa: E402

SCUT_IMAGES = datasets_root(REPO.parent / "shared" / "datasets") / "scut_fbp5500_train/SCUT-FBP5500_v2/Images"


def shared_stages(path: Path) -> dict[str, int]:
    """Each crop-reading head's trunk stages shared with ANet (fuse.shared_trunk_stages, as the
    Predictor's face graph uses them)."""
    return dict(Predictor(load_bundle(path), backend="torch")._shared_stages)


def face_graph_inputs(predictor: Predictor, faces: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """The face graph's inputs for the faces, as Predictor._face_features builds them."""
    p = predictor._anet
    crops = [_crops(faces, p.enlarge, p.canonical_size)]  # uint8: the face graph normalises
    for name in predictor._face_inputs[1:]:  # heads that read a crop of their own
        prep = predictor._heads[name.removesuffix("_crops")]
        crops.append(_crops(faces, prep.enlarge, prep.image_size))
    return crops


def time_face_graphs(predictors: dict[str, Predictor], faces: list, batch: int, rounds: int) -> dict[str, dict]:
    """ms per face of each predictor's face graph on the faces in batches of `batch`:
    interleaved rounds (the order alternates), median per round, median over rounds."""
    groups = [faces[i : i + batch] for i in range(0, len(faces) - batch + 1, batch)]
    inputs = {name: [face_graph_inputs(p, g) for g in groups] for name, p in predictors.items()}
    for name, p in predictors.items():  # warm-up
        for x in inputs[name][:3]:
            p._run["faces"](*x)
    per_round: dict[str, list[float]] = {name: [] for name in predictors}
    names = list(predictors)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            run, times = predictors[name]._run["faces"], []
            for x in inputs[name]:
                t = time.perf_counter()
                run(*x)
                times.append((time.perf_counter() - t) * 1000 / batch)
            per_round[name].append(statistics.median(times))
    return {name: {"ms_per_face": round(statistics.median(v), 3), "rounds_ms": [round(t, 3) for t in v]}
            for name, v in per_round.items()}  # fmt: skip


def head_cost(base: Path, variant: Path, faces: list, batches=(1, 5), threads=(1, 2), rounds: int = 7) -> dict:
    """The variant's face graph against the base's, per thread count and batch size."""
    out: dict = {}
    before = torch.get_num_threads()
    try:
        for t in threads:
            torch.set_num_threads(t)  # OrtGraph takes torch's thread count when the session is made
            predictors = {"base": Predictor.load(base, backend="onnxruntime"),
                          "variant": Predictor.load(variant, backend="onnxruntime")}  # fmt: skip
            for b in batches:
                got = time_face_graphs(predictors, faces, b, rounds)
                got["added_ms_per_face"] = round(got["variant"]["ms_per_face"] - got["base"]["ms_per_face"], 3)
                out[f"threads_{t}_batch_{b}"] = got
                print(f"threads {t}, batch {b}: base {got['base']['ms_per_face']} ms/face, variant "
                      f"{got['variant']['ms_per_face']} ms/face, added {got['added_ms_per_face']}", flush=True)  # fmt: skip
    finally:
        torch.set_num_threads(before)
    return out


def lnet_faces(images: list[Path], bundle: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    predictor = Predictor.load(bundle)
    faces = []
    for path, found in zip(images, predictor.locate_many(images, kind="region"), strict=True):
        if found:
            img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            faces.append((img, np.asarray(found[0][0], np.float32)))
    return faces


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variant", type=Path, required=True)
    p.add_argument("--base", type=Path, default=DEFAULT_BUNDLE)
    p.add_argument("--images", type=Path, default=SCUT_IMAGES)
    p.add_argument("--faces", type=int, default=30)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 5])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if not args.images.is_dir():
        p.error(f"--images {args.images}: no such folder (SCUT-FBP5500's Images/; or set LNET_ANET_DATASETS)")
    images = sorted(q for q in args.images.iterdir() if q.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.faces]
    faces = lnet_faces(images, args.base)
    result = {"base": str(args.base), "variant": str(args.variant), "faces": len(faces),
              "shared_stages": {"base": shared_stages(args.base), "variant": shared_stages(args.variant)}}  # fmt: skip
    print(f"shared trunk stages: {result['shared_stages']}", flush=True)
    result["timing"] = head_cost(args.base, args.variant, faces, tuple(args.batches), tuple(args.threads), args.rounds)
    result["machine"] = {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                         "load_average": list(os.getloadavg()), "note": "shared machine; nothing paused"}  # fmt: skip
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
