"""The teacher's attractiveness for the extra faces of one fold (issue 17, knowledge distillation).

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-distill/teacher.py --fold K \
        --head-run runs/scut/e11x16-fK --scut-emb runs/distill/scut-emb.npz \
        --extra-emb runs/distill/extra-emb-0.npz runs/distill/extra-emb-1.npz \
        --extra-boxes runs/distill/extra-boxes.csv --out runs/distill/teacher-fK.csv

teacher = 0.5 * (the fold's anet_dldl run on LNet's crop) + 0.5 * (an RBF SVR on dlib's
face-recognition descriptor, fitted on the fold's training faces; C and gamma chosen by 3-fold
CV inside them), clipped to 1..5. --fold 0: all 3,300 faces (the bundle's teacher). Only the
fold's training faces are used; the held-out fold is scored for the record (teacher-fK.json),
never used to choose anything. Writes CSV path, attractiveness, head, svr (the extra faces), and
beside it <out>-held.csv (the held-out fold's image, true, head, svr) and <out>.json."""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from safetensors.torch import load_file
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVR

from lnet_anet.anet.features import frozen_stage_cache
from lnet_anet.data.from_config import attach_boxes, build_index
from lnet_anet.dldl.recipes import face_list_maps
from lnet_anet.dldl.training import FromTrunkMaps
from lnet_anet.metrics.age import regression_metrics

parser = argparse.ArgumentParser()
parser.add_argument("--fold", type=int, required=True, help="1..5, or 0 for all 3,300 faces")
parser.add_argument("--head-run", required=True)
parser.add_argument("--scut-emb", required=True)
parser.add_argument("--extra-emb", nargs="+", required=True)
parser.add_argument("--extra-boxes", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
torch.set_num_threads(2)

fold = f"data.fold={{k: {args.fold}, n: 5, seed: 0}}" if args.fold else "data.holdout=null"
with initialize_config_dir(str(Path("lnet_anet/conf").resolve()), version_base="1.3"):
    cfg = compose("train_attractiveness_anet", overrides=[fold])
index = build_index(cfg.data)
train, held = index[index.split == "train"], index[index.split == "val"]

scut = np.load(args.scut_emb)
row = {Path(p).name: i for i, p in enumerate(scut["paths"])}
def emb_of(part):
    return scut["emb"][[row[Path(p).name] for p in part.path]]
svr = GridSearchCV(SVR(), {"C": [0.3, 1, 3, 10], "gamma": [0.5, 1, 2, 4]}, cv=3)
svr.fit(emb_of(train), train.attractiveness.to_numpy())

net = instantiate(cfg.model)
net.load_state_dict({k: v.float() for k, v in load_file(f"{args.head_run}/model.safetensors").items()})
net.eval()
stage, prefix = frozen_stage_cache(net.anet)

parts = [np.load(p) for p in args.extra_emb]
extra = pd.DataFrame({"path": np.concatenate([p["paths"] for p in parts])})
extra_emb = np.concatenate([p["emb"] for p in parts])
cache = Path(cfg.trunk_cache_dir) / f"{prefix}-soft-{cfg.canonical_size}"
found = face_list_maps(cfg, net, stage, cache, attach_boxes(extra, args.extra_boxes))
with torch.no_grad():
    scorer = FromTrunkMaps(net, stage, dense=True)
    maps = torch.from_numpy(found["maps"][0])
    head = torch.cat([net.head.predict(scorer(maps[i : i + 256].float())["logits"])["mean"]
                      for i in range(0, len(maps), 256)]).numpy()  # fmt: skip
rows = found["index"]
out = extra.iloc[rows].assign(head=head, svr=svr.predict(extra_emb[rows]))
out["attractiveness"] = np.clip(0.5 * out["head"] + 0.5 * out["svr"], 1, 5)
Path(args.out).parent.mkdir(parents=True, exist_ok=True)
out[["path", "attractiveness", "head", "svr"]].to_csv(args.out, index=False)

record = {"fold": args.fold, "svr_params": svr.best_params_, "extra_faces": len(out),
          "extra_teacher_mean": float(out.attractiveness.mean()), "extra_teacher_std": float(out.attractiveness.std())}
if len(held):  # the teacher on the held-out fold, for the record only
    preds = pd.read_csv(f"{args.head_run}/predictions.csv").set_index("image")
    names = held.path.map(lambda p: Path(p).name)
    head_held = preds.loc[names, "pred"].to_numpy()
    svr_held = svr.predict(emb_of(held))
    y = held.attractiveness.to_numpy()
    pd.DataFrame({"image": names.to_numpy(), "true": y, "head": head_held, "svr": svr_held}).to_csv(
        Path(args.out).with_name(Path(args.out).stem + "-held.csv"), index=False)
    for name, p in (("head", head_held), ("svr", svr_held), ("teacher", 0.5 * head_held + 0.5 * svr_held)):
        m = regression_metrics(p, y)
        record[name] = {k: round(float(m[k]), 4) for k in ("pearson_r", "mae", "rmse")}
Path(args.out).with_suffix(".json").write_text(json.dumps(record, indent=1))
print(json.dumps(record))
