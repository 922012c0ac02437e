"""Face crops filled outside the picture by black, the edge repeated or the picture mirrored
(RULE.md; issue 15): bundles side by side, end to end through `Predictor.predict` on files.

(A) celeba_hq128 files, (B) the same files cut tight (the central 64% square, 128 px, JPEG q95:
the face fills the picture, as on a chip), (C) UTKFace chips: attributes at the bundle's
decisions on A and B (mean, balanced, Wearing_Hat), and on C the share of chips with
Wearing_Hat present, age MAE and faces found.

    python experiments/2026-12-03-crop-pad/pad.py --part tune --bundle black=B0 edge=B1 reflect=B2 --out DIR
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "experiments" / "2026-12-02-anet-photometric"))

from compare import data_cfg, load, top_faces  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_fit_tune, split_of  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.metrics.attributes import attribute_metrics  # noqa: E402

TIGHT = 0.64  # the side of the central square kept, as a share of the picture's shorter side


def cut_tight(paths: list[str], folder: Path) -> list[str]:
    """Each file's central TIGHT square, resized to 128 px, saved as JPEG q95 under `folder`."""
    out = []
    for k, path in enumerate(paths):
        img = Image.open(path).convert("RGB")
        w, h = img.size
        side = TIGHT * min(w, h)
        box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
        target = folder / f"{k:05d}.jpg"
        img.resize((128, 128), Image.BICUBIC, box=box).save(target, quality=95)
        out.append(str(target))
    return out


def attributes(predictor, paths: list[str], labels: np.ndarray, names: list[str], train_labels) -> dict:
    faces = top_faces(predictor, paths)
    found = np.array([f is not None for f in faces])
    probs = np.array([[f["attributes"][n] for n in names] for f in faces if f is not None])
    decided = probs >= predictor.bundle.svm.threshold
    m = attribute_metrics(decided, labels[found], names, train_labels)
    hat = names.index("Wearing_Hat")
    truth = labels[found][:, hat] > 0.5
    return {"n": len(paths), "found": round(float(found.mean()), 4), "boxes": _boxes(faces),
            "mean_accuracy": round(float(m["mean_accuracy"]), 4),
            "mean_balanced_accuracy": round(float(m["mean_balanced_accuracy"]), 4),
            "Wearing_Hat": {"accuracy": round(float((decided[:, hat] == truth).mean()), 4),
                            "present": round(float(decided[:, hat].mean()), 4),
                            "labelled": round(float(truth.mean()), 4)}}  # fmt: skip


def chips(predictor, paths: list[str], ages: np.ndarray, names: list[str]) -> dict:
    faces = top_faces(predictor, paths)
    found = np.array([f is not None for f in faces])
    kept = [f for f in faces if f is not None]
    present = np.array([[f["attributes"][n] >= t for n, t in zip(names, predictor.bundle.svm.threshold, strict=True)]
                        for f in kept])  # fmt: skip
    err = np.abs(np.array([f["age"]["mean"] for f in kept]) - ages[found])
    return {"n": len(paths), "found": round(float(found.mean()), 4), "boxes": _boxes(faces),
            "age_mae": round(float(err.mean()), 3),
            "Wearing_Hat_present": round(float(present[:, names.index("Wearing_Hat")].mean()), 4),
            "present_per_face": round(float(present.sum(1).mean()), 3),
            "present_rate": {n: round(float(v), 4) for n, v in zip(names, present.mean(0), strict=True)}}  # fmt: skip


def _boxes(faces: list) -> list:
    """Each picture's top face box (None: no face), to compare bundles picture by picture."""
    return [None if f is None else f["box"] for f in faces]


def same_boxes(results: dict) -> None:
    """Round 4: each bundle's share of pictures per set whose top face box (or its absence) is the
    first bundle's exactly; the boxes themselves are dropped from the record."""
    first, *_ = results.values()
    for sets in results.values():
        for name, got in sets.items():
            got["same_boxes_as_first"] = round(float(np.mean([a == b for a, b in zip(got["boxes"], first[name]["boxes"],
                                                                                     strict=True)])), 4)  # fmt: skip
    for sets in results.values():
        for got in sets.values():
            del got["boxes"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", nargs="+", required=True, help="LABEL=BUNDLE[:BOX_HEAD:FACE_HEAD]")
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--files", type=int, default=1000, help="celeba_hq128 files (0: all of the part)")
    ap.add_argument("--chips", type=int, default=600, help="UTKFace chips")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    root = datasets_root()
    celeba = build_index(data_cfg("celeba_hq", root))
    train = split_of(celeba, "train")
    files = split_fit_tune(train, 0.1, 0)[1] if args.part == "tune" else split_of(celeba, "val")
    if args.files:
        files = files.sample(n=min(args.files, len(files)), random_state=0)
    names = list(celeba.attrs["attributes"])
    labels, train_labels = files[names].to_numpy(), train[names].to_numpy()
    utk = build_index(data_cfg("utkface", root))
    utk = split_of(utk, "train" if args.part == "tune" else "val").sample(n=args.chips, random_state=1)
    results = {"command": shlex.join(["python", "experiments/2026-12-03-crop-pad/pad.py", *(argv or sys.argv[1:])]),
               "part": args.part, "machine": machine(), "tight": TIGHT, "bundles": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as work:
        tight = cut_tight(files["path"].tolist(), Path(work))
        for spec in args.bundle:
            label, _, path = spec.partition("=")
            predictor = load(path)
            results["bundles"][label] = {
                "A celeba_hq128 files": attributes(predictor, files["path"].tolist(), labels, names, train_labels),
                "B the same files cut tight": attributes(predictor, tight, labels, names, train_labels),
                "C UTKFace chips": chips(predictor, utk["path"].tolist(), utk["age"].to_numpy(np.float64), names)}
            print(label, json.dumps({k: {kk: vv for kk, vv in v.items() if kk not in ("present_rate", "boxes")}
                                     for k, v in results["bundles"][label].items()}), flush=True)  # fmt: skip
    same_boxes(results["bundles"])
    print(json.dumps({label: {k: v["same_boxes_as_first"] for k, v in sets.items()}
                      for label, sets in results["bundles"].items()}))  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
