"""Counts of the further faces a candidate rule would drop, per set and label, from diagnose.py's
output (runs/split-faces/tune.json) -> summary.json beside this file.

    python experiments/2026-12-04-split-faces/summarise.py runs/split-faces/tune.json
"""

import json
import sys
from pathlib import Path

import pandas as pd

results = json.loads(Path(sys.argv[1]).read_text())
rows = pd.concat([pd.DataFrame(v["rows"]) for v in results.values()])
rules = {f"centre inside {g} x a stronger face's box": rows[f"centre_in_{g}"] for g in ("1", "1.25", "1.5")}
rules |= {f"centre inside 1.5 x, and under {s} of its side": rows["centre_in_1.5"] & (rows["size_ratio"] < s)
          for s in (0.4, 0.5, 0.6)}  # fmt: skip
rules |= {f"IoMin over {t}": rows["iomin"] > t for t in (0.3, 0.5)}
summary = {"images": {k: {"n": v["images"], "faces_per_image": round(v["faces_per_image"], 4),
                          "share_over_one_face": round(v["share_over_one"], 4)} for k, v in results.items()},
           "further_faces": {f"{s} {'true' if f else 'false'}": int(n) for (s, f), n in rows.groupby(["set", "face"]).size().items()},
           "dropped": {name: {f"{s} {'true' if f else 'false'}": int(n) for (s, f), n in rows.assign(x=x).groupby(["set", "face"]).x.sum().items()}
                       for name, x in rules.items()}}  # fmt: skip
out = Path(__file__).with_name("summary.json")
out.write_text(json.dumps(summary, indent=1))
print(json.dumps(summary, indent=1))
