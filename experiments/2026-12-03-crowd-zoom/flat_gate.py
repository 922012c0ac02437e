"""The frame try's gate (README.md, "Blank pictures"): flat_share of the tune sets' pictures, as
shipped and made x0.15 darker or x3 brighter (clipped, JPEG q95), beside generated face-free
pictures a user may have (blank, one colour, a page of text); then each tune picture over the gate
read through the Predictor (the embedded bundle): is any of them a face the frame try kept?

    PYTHONPATH=. python experiments/2026-12-03-crowd-zoom/flat_gate.py --gate 0.95 \\
        --out experiments/2026-12-03-crowd-zoom/tune/flat-gate.json

Sets: the face-filter study's sets of --part (collect.sets; tune: 2,000 UTKFace train chips, the
celeba_hq128 tune part, SCUT-FBP5500 folds 1-2, the WIDER tune part's face-free crops; the gate was
chosen on tune, val is the check after it shipped).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments" / "2026-12-03-face-filter"))
from collect import sets  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.preprocess import flat_share  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

COPIES = {"as shipped": lambda x: x, "x0.15": lambda x: (x * 0.15).astype(np.uint8),
          "x3": lambda x: np.clip(x.astype(np.float32) * 3, 0, 255).astype(np.uint8)}  # fmt: skip


def generated() -> dict[str, np.ndarray]:
    """Face-free pictures of the kinds a fresh-user trial found faces on (session 29)."""
    out = {f"gray {v}": np.full((480, 640, 3), v, np.uint8) for v in (0, 60, 128, 200, 245, 255)}
    out["blue"] = np.zeros((480, 640, 3), np.uint8) + np.array([0, 0, 255], np.uint8)
    page = np.full((480, 640, 3), 255, np.uint8)
    cv2.putText(page, "Minutes of the meeting, 3 December", (20, 240), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
    out["page, one line"] = page
    return out


def as_jpeg(x: np.ndarray) -> np.ndarray:
    _, buf = cv2.imencode(".jpg", cv2.cvtColor(x, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--gate", type=float, default=0.95)
    ap.add_argument("--work", type=Path, default=Path("runs/crowd-zoom"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    data = sets(args.part, datasets_root(), args.work)
    predictor = Predictor.load()
    out = {"part": args.part, "gate": args.gate, "sets": {}, "generated": {}}
    for name in ("utkface", "celeba_hq", "scut", "free"):
        for copy, make in COPIES.items():
            shares, over = [], []
            for path in data[name]["paths"]:
                x = make(cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB))
                shares.append(flat_share(x))
                if shares[-1] > args.gate:
                    faces = predictor.predict(as_jpeg(x) if copy != "as shipped" else x)["faces"]
                    over.append({"flat_share": round(shares[-1], 3), "faces": len(faces),  # no file names: data terms
                                 "frame_kept": bool(faces and faces[0].get("frame"))})  # fmt: skip
            shares = np.array(shares)
            out["sets"][f"{name} {copy}"] = {
                "pictures": len(shares), "max": round(float(shares.max()), 4),
                "p99": round(float(np.percentile(shares, 99)), 4), "over_gate": len(over),
                "over_gate_with_a_face": sum(o["faces"] > 0 for o in over),
                "over_gate_frame_kept": sum(o["frame_kept"] for o in over), "over": over[:20]}  # fmt: skip
            print(name, copy, {k: v for k, v in out["sets"][f"{name} {copy}"].items() if k != "over"}, flush=True)
    for name, x in generated().items():
        faces = predictor.predict(x)["faces"]
        out["generated"][name] = {"flat_share": round(flat_share(x), 4), "faces": len(faces),
                                  "frame_kept": bool(faces and faces[0].get("frame"))}  # fmt: skip
        print(name, out["generated"][name], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
