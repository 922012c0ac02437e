"""One pass of a bundle over the tune (or val) data of the face-filter study (RULE.md; issue 14):
every face the Predictor returns, with its LNet score, whether the rescue or the frame try gave
it, its box and the face head's P(face) of ANet's feature of its region (the feature the attribute
heads read), and each picture's frame candidate's P(face). simulate.py scores the filter settings
from it.

    PYTHONPATH=. python experiments/2026-12-03-face-filter/collect.py --part tune --out runs/face-filter/tune.pkl
    PYTHONPATH=. python experiments/2026-12-03-face-filter/collect.py --part tune --bundle B --out runs/face-filter/real.pkl

Sets (of --part): WIDER photos (faces >= 24 px count; hash_part), one face-free crop per WIDER photo
(bench_detection.face_free_crops, written under --work), compare.py's UTKFace chips, the
celeba_hq128 tune part (tune) or val partition (val), SCUT-FBP5500 folds (bench_end_to_end's).
Files the face head learnt from (experiments/2026-12-02-face-verifier/fit_lists.py's lists, rebuilt
here from the same seeds) are marked "fitted".
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_detection import face_free_crops, find_wider_labels, read_labels  # noqa: E402
from bench_end_to_end import SCUT_FOLDS, data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_fit_tune, split_of  # noqa: E402
from lnet_anet.data.readers.age import fold_of  # noqa: E402
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, mark_small  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.metrics.detection import truth_from_table  # noqa: E402

VERIFIER_SEED = "lnet_anet-face-verifier-v1"  # the face head's fit / choose halves (face-verifier study)


def crop_photo(crop: Path) -> str:
    """The WIDER photo name a face-free crop was cut from (face_free_crops' file naming)."""
    return crop.name.rsplit("__", 1)[0].replace("__", "/") + ".jpg"


def face_list_files(root: Path) -> set[str]:
    """The celeba_hq128 / UTKFace train files in the face head's face list (fit_lists.py)."""
    out: set[str] = set()
    for cfg in ("celeba_hq", "utkface"):
        files = split_of(build_index(data_cfg(cfg, root)), "train")
        out |= set(files.sample(n=min(1500, len(files)), random_state=7)["path"].tolist()[0::2])
    return out


def sets(part: str, root: Path, work: Path) -> dict:
    """{set name: {"paths", "fitted" (bool per path), "truth" (wider only)}}."""
    labels, _ = find_wider_labels(root / "wider_face_train", "wider")
    table = read_labels("wider", labels, None)
    table["part"] = hash_part(table["name"])
    wider = mark_small(table[table["part"] == part].reset_index(drop=True), 24.0)
    crops = [Path(p) for p in face_free_crops(wider, work / f"free-{part}")]
    halves = hash_part([crop_photo(c) for c in crops], 0.5, seed=VERIFIER_SEED)
    fitted_faces = face_list_files(root) if part == "tune" else set()
    celeba = build_index(data_cfg("celeba_hq", root))
    train = split_of(celeba, "train")
    files = split_fit_tune(train, 0.1, 0)[1] if part == "tune" else split_of(celeba, "val")
    utk = split_of(build_index(data_cfg("utkface", root)), "train" if part == "tune" else "val")
    chips = utk.sample(n=min(2000, len(utk)), random_state=1)["path"].tolist()
    scut = read_scut_fbp5500(root / "scut_fbp5500_train")
    scut = scut[scut["split"] == "train"].reset_index(drop=True)
    scut_paths = scut[np.isin(fold_of(scut["path"].map(lambda p: Path(p).name).tolist(), 5, 0),
                              SCUT_FOLDS[part])]["path"].tolist()  # fmt: skip
    return {
        "wider": {"paths": list(wider["path"]), "fitted": [False] * len(wider), "truth": truth_from_table(wider)},
        "free": {"paths": [str(c) for c in crops], "fitted": [part == "tune" and h == "tune" for h in halves]},
        "utkface": {"paths": chips, "fitted": [p in fitted_faces for p in chips]},
        "celeba_hq": {"paths": files["path"].tolist(), "fitted": [p in fitted_faces for p in files["path"]]},
        "scut": {"paths": scut_paths, "fitted": [False] * len(scut_paths)},
    }


def instrumented(bundle: str | None, face_head: str | None) -> Predictor:
    """The Predictor, keeping ANet's patch-average feature of each returned face in the face's
    record (as "_feature"; the face-verifier study's hook)."""
    path = REPO / "experiments" / "2026-12-02-face-verifier" / "collect.py"
    spec = importlib.util.spec_from_file_location("face_verifier_collect", path)  # another collect.py
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.keep_features(Predictor.load(bundle, face_head=face_head))


def read_faces(pred: Predictor, path: str) -> dict:
    a = pred.analyse(path)
    rec = a.record
    if rec.get("error"):
        return {"error": rec["error"], "faces": [], "frame_p": None, "hw": None}
    faces = rec["faces"]
    feats = np.stack([f.pop("_feature") for f in faces]) if faces else np.zeros((0, 1))
    probs = pred.face_head.probability(feats) if faces else np.zeros(0)
    out = [{"box": f["box"], "score": f["score"], "rescued": bool(f.get("face_probability") is not None),
            "frame": bool(f.get("frame")), "p": float(p)} for f, p in zip(faces, probs, strict=True)]  # fmt: skip
    primary = [f for f in out if not f["rescued"]]
    frame_p = float(pred.face_head.probability(pred.frame_feature(a.image)[None])[0]) if primary else None
    return {"faces": out, "frame_p": frame_p, "hw": a.image.shape[:2]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--bundle", default=None, help="default: the embedded bundle")
    ap.add_argument("--face-head", default=None)
    ap.add_argument("--work", type=Path, default=Path("runs/face-filter"))
    ap.add_argument("--limit", type=int, default=None, help="at most this many files of each set (a smoke run)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    data = sets(args.part, datasets_root(), args.work)
    pred = instrumented(args.bundle, args.face_head)
    out = {"part": args.part, "bundle": args.bundle or "embedded", "lnet_input": pred._lnet.to_dict(), "sets": {}}
    t0 = time.time()
    for name, s in data.items():
        paths = s["paths"][: args.limit]
        rows = [read_faces(pred, p) for p in tqdm(paths, desc=name, mininterval=15)]
        out["sets"][name] = {"paths": paths, "fitted": s["fitted"][: len(paths)], "rows": rows}
        if "truth" in s:
            out["sets"][name]["truth"] = s["truth"][: len(paths)]
    out["seconds"] = time.time() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(pickle.dumps(out))
    print(f"{args.out}: {sum(len(s['rows']) for s in out['sets'].values())} images in {out['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
