"""Section 11's table: what the opt-in mode adds per image in each timing design, for the code
before, with op_threads, and as shipped (pipeline_cost.py's JSON in before/, op-threads/, shipped/).

    python experiments/2026-12-01-attractiveness-cost/threads/summary.py > experiments/2026-12-01-attractiveness-cost/threads/summary.json
"""

import json
from pathlib import Path

import numpy as np

here = Path(__file__).parent
DESIGNS = {"b1": "3 predictors, image by image", "b10": "3 predictors, 10 images each in turn",
           "two": "2 predictors, 10 images each in turn"}  # fmt: skip
OPT = "bundle head, centre patch + joint descriptor head"
summary = {}
for state in ("before", "op-threads", "shipped"):
    runs = {}
    for design in DESIGNS:
        files = sorted(here.glob(f"{state}/pipeline_cost-ops-{design}-*.json"))
        per = [json.loads(f.read_text()) for f in files]
        runs[DESIGNS[design]] = {
            "adds_wall_ms": [p["per_image"][OPT]["adds_wall_ms"] for p in per],
            "adds_cpu_ms": [p["per_image"][OPT]["adds_cpu_ms"] for p in per],
            "no_attractiveness_wall_ms": [p["per_image"]["no attractiveness"]["wall_ms"] for p in per],
            "parts_inside_predict_ms": {k: round(float(np.median([p["descriptor_parts_inside_predict_ms"][k] for p in per])), 2)
                                        for k in per[0]["descriptor_parts_inside_predict_ms"]}}  # fmt: skip
    walls = [w for r in runs.values() for w in r["adds_wall_ms"]]
    summary[state] = {"designs": runs, "adds_wall_ms_median": float(np.median(walls)), "adds_wall_ms_max": max(walls)}
print(json.dumps(summary, indent=1))
