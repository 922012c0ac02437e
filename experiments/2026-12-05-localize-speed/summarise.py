"""The timing runs of run.sh as one table (medians of the two turns of each tree): summary.md."""

import json
import statistics
import sys
from pathlib import Path

folder = Path(sys.argv[1])
rows = {}
for tree in ("before", "after"):
    runs = [json.loads(p.read_text()) for p in sorted(folder.glob(f"{tree}-*.json"))]
    loc = [json.loads(p.read_text()) for p in sorted(folder.glob(f"localize-{tree}-*.json"))]
    rows[tree] = {name: {what: statistics.median(r["photos"][name][what] for r in runs) for what in ("locate_ms", "predict_ms")}
                  | {"faces": runs[0]["photos"][name]["faces"],
                     "locate_ms_bench": statistics.median(r["results"][name]["after"]["median_ms"] for r in loc),
                     "mtcnn_ms": statistics.median(r["results"][name]["mtcnn"]["median_ms"] for r in loc)}
                  for name in runs[0]["photos"]}  # fmt: skip
    rows[tree]["folder"] = statistics.median(r["folder"]["photos_per_s"] for r in runs)
print("| photo | faces | localization ms, before / after (timing.py) | same, bench_localize_speed | MTCNN ms (same runs) "
      "| predict ms, before / after |")
print("|---|---|---|---|---|---|")
for name in rows["before"]:
    if name == "folder":
        continue
    b, a = rows["before"][name], rows["after"][name]
    print(f"| {name} | {a['faces']} | {b['locate_ms']:.1f} / **{a['locate_ms']:.1f}** | {b['locate_ms_bench']:.1f} / "
          f"**{a['locate_ms_bench']:.1f}** | {b['mtcnn_ms']:.1f} / {a['mtcnn_ms']:.1f} | {b['predict_ms']:.1f} / **{a['predict_ms']:.1f}** |")
print(f"\nFolder of WIDER photos (predict_many, files, decode included): {rows['before']['folder']:.1f} -> "
      f"**{rows['after']['folder']:.1f}** photos/s")
