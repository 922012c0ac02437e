"""The disclosed probe of RULE.md (tune data only): how much of the picture a lone face's region
spans when the lone-face zoom-in runs, and what that reading adds, with the shipped bundle.

    PYTHONPATH=. python experiments/2026-12-07-lone-zoom-room/probe.py   # -> probe.json (~3 min)

Sets: the WIDER choose half (runs/lnet-wild/choose.csv, from experiments/2026-12-02-lnet-wild/wild.py
labels) and the first 200 files of the upright head's train-part lists (runs/upright, from
experiments/2026-12-01-upright/lists.py). An added region counts as "true" when a labelled face's
centre (not don't-care) lies inside it: a rough count, not the benchmark's scoring.
"""

import collections
import csv
import json
from pathlib import Path

import numpy as np

from lnet_anet.inference import predictor as P

OUT = Path(__file__).with_name("probe.json")
log: list[dict] = []
_original = P.Predictor._zoom_in_again


def _logged(self, read, found, originals, analyses, read_at, maps, checks, refused=frozenset()):
    before = [list(f) for f in found]
    after = _original(self, read, found, originals, analyses, read_at, maps, checks, refused)
    for k, (was, now) in enumerate(zip(before, after, strict=True)):
        if len(was) == 1:
            h, w = read[k].shape[:2]
            r = np.asarray(was[0][0], float)
            x0, y0, x1, y1 = max(r[0], 0), max(r[1], 0), min(r[2], w), min(r[3], h)
            log.append({"w_share": (x1 - x0) / w, "h_share": (y1 - y0) / h, "width": w,
                        "added": [[float(v) for v in f[0]] for f in now if f is not was[0]]})  # fmt: skip
    return after


def main() -> None:
    P.Predictor._zoom_in_again = _logged
    predictor = P.Predictor.load()
    labels = collections.defaultdict(list)
    for row in csv.DictReader(open("runs/lnet-wild/choose.csv")):
        labels[row["path"]].append(([float(row[k]) for k in ("x0", "y0", "x1", "y1")], row["dont_care"] == "1"))
    sets = {"wider-choose": sorted(labels)}
    for name in ("utkface", "celeba_hq128"):
        sets[name] = [p for p in Path(f"runs/upright/fit-{name}-train.txt").read_text().split() if p][:200]
    out = {}
    for name, files in sets.items():
        zooms = []
        for path in files:
            start = len(log)
            record = predictor.predict(path)
            for e in log[start:]:
                scale = record["width"] / e["width"]
                e["true"] = sum(any(b[0] * scale <= (g[0] + g[2]) / 2 <= b[2] * scale and b[1] * scale <= (g[1] + g[3]) / 2 <= b[3] * scale
                                    for g, dont_care in labels.get(path, []) if not dont_care) for b in e["added"])  # fmt: skip
                zooms.append(e)
        both = np.array([min(e["w_share"], e["h_share"]) for e in zooms])
        added = np.array([len(e["added"]) for e in zooms])
        true = np.array([e["true"] for e in zooms])
        out[name] = {"files": len(files), "lone_zooms": len(zooms), "zooms_adding": int((added > 0).sum()),
                     "added": int(added.sum()), "added_true": int(true.sum()),
                     "by_s": {str(s): {"zooms_skipped": int((both >= s).sum()), "added_lost": int(added[both >= s].sum()),
                                       "added_true_lost": int(true[both >= s].sum())} for s in (0.5, 0.6, 0.7, 0.8)}}  # fmt: skip
        print(name, json.dumps(out[name]))
    OUT.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
