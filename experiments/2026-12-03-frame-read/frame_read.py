"""Faces the frame try finds, read through the padded frame region or the picture itself
(RULE.md; preprocessing.lnet.frame_read), end to end through `Predictor` on UTKFace chips.

    PYTHONPATH=. python experiments/2026-12-03-frame-read/frame_read.py --part tune \\
        --out experiments/2026-12-03-frame-read/tune/results.json

First the bundle reads every chip of the partition (train for tune, val for val) and lists the
chips it frame-rescues (a face with "frame": true; the list is kept under --work). Then each arm
(frame_read "padded" and "picture", the same bundle otherwise) reads those chips again. Per arm:
age MAE against the file name's age, the share with Wearing_Hat among the decisions ("present")
and its mean probability, the mean number of attributes present, the share whose Male decision
agrees with the file name's gender (and the share of male chips, what "male" always would get).
Per-chip rows go under --work (they name dataset files: never committed).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.bundle import load_bundle  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402

ARMS = ("padded", "picture")


def frame_rescued(predictor: Predictor, paths: list[str]) -> list[str]:
    out = []
    records = predictor.predict_many(paths, batch_size=8)
    for path, record in tqdm(zip(paths, records, strict=True), total=len(paths), desc="all chips", mininterval=20):
        if any(face.get("frame") for face in record["faces"]):
            out.append(path)
    return out


def arm(bundle_path: str, frame_read: str) -> Predictor:
    bundle = load_bundle(bundle_path)
    bundle.preprocessing["lnet"]["frame_read"] = frame_read
    return Predictor(bundle)


def read_arm(predictor: Predictor, paths: list[str], ages: dict[str, float], male: dict[str, bool]) -> dict:
    errors, hats, hat_p, present, male_right, framed, rows = [], [], [], [], [], 0, []
    for path, record in zip(paths, predictor.predict_many(paths, batch_size=8), strict=True):
        if not record["faces"]:
            rows.append({"path": path, "face": False})
            continue
        face = max(record["faces"], key=lambda f: f["score"])
        framed += bool(face.get("frame"))
        errors.append(abs(face["age"]["mean"] - ages[path]))
        hats.append("Wearing_Hat" in face["present"])
        hat_p.append(face["attributes"]["Wearing_Hat"])
        present.append(len(face["present"]))
        male_right.append(("Male" in face["present"]) == male[path])
        rows.append({"path": Path(path).name, "face": True, "box": face["box"], "age": face["age"]["mean"],
                     "true_age": ages[path], "present": face["present"]})  # fmt: skip
    return {"n": len(paths), "with_a_face": len(errors), "frame_faces": framed,
            "age_mae": float(np.mean(errors)) if errors else None,
            "wearing_hat_share": float(np.mean(hats)) if hats else None,
            "wearing_hat_mean_p": float(np.mean(hat_p)) if hat_p else None,
            "attributes_present_mean": float(np.mean(present)) if present else None,
            "male_decision_right": float(np.mean(male_right)) if male_right else None,
            "male_share": float(np.mean([male[p] for p in paths])) if paths else None, "rows": rows}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--bundle", default=str(DEFAULT_BUNDLE))
    ap.add_argument("--work", type=Path, default=Path("runs/frame-read"))
    ap.add_argument("--limit", type=int, default=None, help="at most this many chips (a smoke run)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    chips = split_of(build_index(data_cfg("utkface", datasets_root())), "train" if args.part == "tune" else "val")
    chips = chips.iloc[: args.limit]
    ages = dict(zip(chips["path"], chips["age"].astype(float), strict=True))
    male = dict(zip(chips["path"], chips["gender"].astype(int) == 0, strict=True))  # UTKFace: 0 male, 1 female
    listed = args.work / f"frame-{args.part}{'-limit' if args.limit else ''}.txt"
    if listed.is_file():
        paths = listed.read_text().split()
    else:
        paths = frame_rescued(arm(args.bundle, "padded"), chips["path"].tolist())
        listed.parent.mkdir(parents=True, exist_ok=True)
        listed.write_text("".join(p + "\n" for p in paths))
    print(f"{len(paths)} of {len(chips)} chips frame-rescued", flush=True)
    results = {"command": shlex.join(["python", *sys.argv]), "part": args.part, "bundle": args.bundle,
               "n_chips": len(chips), "n_frame_rescued": len(paths), "machine": machine(), "arms": {}}  # fmt: skip
    for name in ARMS:
        results["arms"][name] = read_arm(arm(args.bundle, name), paths, ages, male)
        print(name, json.dumps({k: v for k, v in results["arms"][name].items() if k != "rows"}), flush=True)
    rows = {name: results["arms"][name].pop("rows") for name in ARMS}  # per chip: under --work (names dataset files)
    (args.work / f"rows-{args.part}.json").write_text(json.dumps(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
