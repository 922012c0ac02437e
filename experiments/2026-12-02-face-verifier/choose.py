"""The face-verifier grid of RULE.md on the tune part (collect.py --part tune's npz): fits each
verifier on the fit half, scores it on the choose half, writes choose.json and prints the table.

    python experiments/2026-12-02-face-verifier/choose.py runs/face-verifier/tune.npz --out experiments/2026-12-02-face-verifier
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, mark_small, read_wider_txt  # noqa: E402
from lnet_anet.inference.upright import UprightHead  # noqa: E402  (the same logistic regression)
from lnet_anet.metrics.detection import evaluate_detections, label_detections, truth_from_table  # noqa: E402

SHIPPED_T = 0.6624905531191163
CS = (0.01, 0.1, 1.0)
TS = (SHIPPED_T, 0.4, 0.2)
S_HIGH = (float("inf"),)  # round 1: no bypass; round 2 (--bypass): strong faces skip the verifier
P_GRID = np.round(np.arange(0.0, 1.0, 0.01), 2)


def wider_truth(names: np.ndarray):
    table = read_wider_txt(next((datasets_root() / "wider_face_train" / "wider_face_split").glob("*_bbx_gt.txt")))
    table = mark_small(table.set_index("name").loc[list(names)].reset_index(), 24.0)
    return truth_from_table(table)


def per_image(d: dict, src: str, keep: np.ndarray, score: np.ndarray, images) -> list:
    out = []
    for i in images:
        m = (d[f"{src}_image"] == i) & keep
        out.append((d[f"{src}_box"][m], score[m]))
    return out


def op_recall(dets, truth) -> float:
    hits = care = 0
    for (b, s), (g, dc) in zip(dets, truth, strict=True):
        care += int((~dc).sum())
        if len(s):
            _, lab = label_detections(b, s, g, dc)
            hits += int((lab == 1).sum())
    return hits / care


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("npz", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--bypass", action="store_true", help="round 2: s_high in {2, 3, 4, 5}")
    args = ap.parse_args()
    global S_HIGH
    if args.bypass:
        S_HIGH = (2.0, 3.0, 4.0, 5.0)
    d = dict(np.load(args.npz))
    names = d["wider_names"]
    half = hash_part(names, 0.5, seed="lnet_anet-face-verifier-v1")  # "tune" = fit, "val" = choose
    fit_img, choose_img = np.flatnonzero(half == "tune"), np.flatnonzero(half == "val")
    truth_all = wider_truth(names)
    truth = [truth_all[i] for i in choose_img]
    free_names = d["free_names"]
    free_half = hash_part(free_names, 0.5, seed="lnet_anet-face-verifier-v1")
    free_fit, free_choose = np.flatnonzero(free_half == "tune"), np.flatnonzero(free_half == "val")

    def top1(src, imgs):
        m = np.isin(d[f"{src}_image"], imgs) & (d[f"{src}_rank"] == 0)
        return d[f"{src}_feature"][m]

    n_al = {s: int(d[f"{s}_n_images"]) for s in ("celeba", "utk")}
    al_fit = {s: np.arange(0, n_al[s], 2) for s in n_al}
    al_choose = {s: np.arange(1, n_al[s], 2) for s in n_al}
    neg = d["free_feature"][np.isin(d["free_image"], free_fit)]
    pos1 = np.concatenate([top1("celeba", al_fit["celeba"]), top1("utk", al_fit["utk"])])
    pos2 = np.concatenate([pos1, top1("wider", fit_img)])

    def found(src, keep):
        imgs = al_choose[src]
        return float(np.mean([np.any(keep & (d[f"{src}_image"] == i)) for i in imgs]))

    def free_fa(keep):
        m = np.isin(d["free_image"], free_choose)
        return float((keep & m).sum() / len(free_choose))

    wider_s = d["wider_score"]
    ap_r1 = evaluate_detections(per_image(d, "wider", np.ones(len(wider_s), bool), wider_s, choose_img), truth)["ap"]
    base_keep = {s: d[f"{s}_score"] > SHIPPED_T for s in ("wider", "free", "celeba", "utk")}
    shipped = {"ap50": ap_r1, "op_recall": op_recall(per_image(d, "wider", base_keep["wider"], wider_s, choose_img), truth),
               "found_celeba": found("celeba", base_keep["celeba"]), "found_utk": found("utk", base_keep["utk"]),
               "free_fa": free_fa(base_keep["free"])}
    print("shipped", json.dumps({k: round(v, 4) for k, v in shipped.items()}))
    rows = []
    for fit_name, pos in (("F1", pos1), ("F2", pos2)):
        for c in CS:
            x = np.concatenate([pos, neg])
            y = np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)]
            head = UprightHead.fit(x, y, c=c)
            p = {s: head.probability(d[f"{s}_feature"]) for s in ("wider", "free", "celeba", "utk")}
            for t, s_high in ((t, s_high) for t in TS for s_high in S_HIGH):
                for p_star in P_GRID:
                    keep = {s: (d[f"{s}_score"] > t) & ((d[f"{s}_score"] >= s_high) | (p[s] > p_star)) for s in p}
                    if free_fa(keep["free"]) <= 0.04:
                        break
                else:
                    continue
                op = op_recall(per_image(d, "wider", keep["wider"], wider_s, choose_img), truth)
                for rank in ("R1", "R2"):
                    s = wider_s if rank == "R1" else np.maximum(wider_s, 0) * p["wider"]
                    ap50 = ap_r1 if rank == "R1" else evaluate_detections(
                        per_image(d, "wider", np.ones(len(s), bool), s, choose_img), truth)["ap"]
                    row = {"fit": fit_name, "C": c, "t": round(t, 3), "s_high": s_high, "p_star": float(p_star), "rank": rank, "ap50": ap50,
                           "op_recall": op, "found_celeba": found("celeba", keep["celeba"]),
                           "found_utk": found("utk", keep["utk"]), "free_fa": free_fa(keep["free"]),
                           "wider_boxes_per_img": float(keep["wider"][np.isin(d["wider_image"], choose_img)].sum() / len(choose_img))}
                    row["qualifies"] = bool(row["found_celeba"] >= shipped["found_celeba"] - 0.003
                                            and row["found_utk"] >= shipped["found_utk"] - 0.003
                                            and row["op_recall"] >= shipped["op_recall"] - 0.01
                                            and row["ap50"] >= shipped["ap50"] - 0.005)
                    rows.append(row)
                    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    ok = [r for r in rows if r["qualifies"]]
    chosen = None
    if ok:
        best = max(r["ap50"] for r in ok)
        near = [r for r in ok if r["ap50"] >= best - 0.002]
        chosen = sorted(near, key=lambda r: (r["rank"] != "R1", -r["t"], -r["s_high"], r["C"]))[0]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "choose.json").write_text(json.dumps({"shipped": shipped, "rows": rows, "chosen": chosen,
                                                      "n": {"fit_photos": len(fit_img), "choose_photos": len(choose_img),
                                                            "free_fit": len(free_fit), "free_choose": len(free_choose),
                                                            "neg_candidates": len(neg), "pos_F1": len(pos1), "pos_F2": len(pos2)}},
                                                     indent=1))
    print("chosen", chosen)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
