"""Round 3 of RULE.md on the tune part: the face verifier rescues the strongest candidate of an
image the shipped localizer returns no face for. Writes round3/rescue.json.

    python experiments/2026-12-02-face-verifier/rescue.py runs/face-verifier/tune.npz --out experiments/2026-12-02-face-verifier/round3
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from choose import SHIPPED_T, op_recall, per_image, wider_truth  # noqa: E402

from lnet_anet.data.readers.detection import hash_part  # noqa: E402
from lnet_anet.inference.upright import UprightHead  # noqa: E402

CS, T_LOW, P_HI = (0.01, 0.1, 1.0), (0.0, 0.2, 0.4), (0.5, 0.7, 0.9, 0.95, 0.99)
SOURCES = ("wider", "free", "celeba", "utk")


def kept(d: dict, src: str, p: np.ndarray | None, t_low: float, p_hi: float) -> np.ndarray:
    """Candidates returned: score > shipped threshold; in an image with none, its strongest
    candidate when score > t_low and P > p_hi."""
    score, image = d[f"{src}_score"], d[f"{src}_image"]
    keep = score > SHIPPED_T
    if p is None:
        return keep
    has = np.zeros(int(image.max()) + 1 if len(image) else 0, bool)
    has[image[keep]] = True
    top = d[f"{src}_rank"] == 0
    return keep | (top & ~has[image] & (score > t_low) & (p > p_hi))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("npz", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    d = dict(np.load(args.npz))
    half = hash_part(d["wider_names"], 0.5, seed="lnet_anet-face-verifier-v1")
    fit_img, choose_img = np.flatnonzero(half == "tune"), np.flatnonzero(half == "val")
    truth = [wider_truth(d["wider_names"])[i] for i in choose_img]
    free_half = hash_part(d["free_names"], 0.5, seed="lnet_anet-face-verifier-v1")
    free_fit, free_choose = np.flatnonzero(free_half == "tune"), np.flatnonzero(free_half == "val")
    n_al = {s: int(d[f"{s}_n_images"]) for s in ("celeba", "utk")}

    def top1(src, imgs):
        return d[f"{src}_feature"][np.isin(d[f"{src}_image"], imgs) & (d[f"{src}_rank"] == 0)]

    neg = d["free_feature"][np.isin(d["free_image"], free_fit)]
    pos1 = np.concatenate([top1("celeba", np.arange(0, n_al["celeba"], 2)), top1("utk", np.arange(0, n_al["utk"], 2))])
    pos2 = np.concatenate([pos1, top1("wider", fit_img)])

    def figures(keep):
        found = {s: float(np.mean([np.any(keep[s] & (d[f"{s}_image"] == i)) for i in range(1, n_al[s], 2)]))
                 for s in ("celeba", "utk")}
        return {"op_recall": op_recall(per_image(d, "wider", keep["wider"], d["wider_score"], choose_img), truth),
                "found_celeba": found["celeba"], "found_utk": found["utk"],
                "free_fa": float((keep["free"] & np.isin(d["free_image"], free_choose)).sum() / len(free_choose))}

    shipped = figures({s: kept(d, s, None, 0, 0) for s in SOURCES})
    print("shipped", json.dumps({k: round(v, 4) for k, v in shipped.items()}))
    rows = []
    for fit_name, pos in (("F1", pos1), ("F2", pos2)):
        for c in CS:
            head = UprightHead.fit(np.concatenate([pos, neg]), np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)], c=c)
            p = {s: head.probability(d[f"{s}_feature"]) for s in SOURCES}
            for t_low in T_LOW:
                for p_hi in P_HI:
                    row = {"fit": fit_name, "C": c, "t_low": t_low, "p_hi": p_hi,
                           **figures({s: kept(d, s, p[s], t_low, p_hi) for s in SOURCES})}
                    row["qualifies"] = bool(row["free_fa"] <= shipped["free_fa"] + 0.01 + 1e-9
                                            and row["op_recall"] >= shipped["op_recall"] - 1e-9
                                            and row["found_celeba"] >= shipped["found_celeba"] - 1e-9)
                    rows.append(row)
                    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    ok = [r for r in rows if r["qualifies"]]
    chosen = None
    if ok:
        best = max(r["found_utk"] for r in ok)
        near = [r for r in ok if r["found_utk"] >= best - 0.002]
        chosen = sorted(near, key=lambda r: (r["free_fa"], -r["p_hi"], -r["t_low"], r["C"]))[0]
        chosen = chosen | {"ships": chosen["found_utk"] >= shipped["found_utk"] + 0.01}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rescue.json").write_text(json.dumps({"shipped": shipped, "rows": rows, "chosen": chosen}, indent=1))
    print("chosen", chosen)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
