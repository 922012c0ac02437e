"""Diagnostic: the lone face's share of the picture when the lone-face zoom-in runs, and the faces it adds."""
import csv, json, sys, collections, glob, random
import numpy as np
from PIL import Image
from lnet_anet import Predictor
from lnet_anet.inference import predictor as P
log = []
orig = P.Predictor._zoom_in_again
def wrapped(self, read, found, originals, analyses, read_at, maps, checks, refused=frozenset()):
    before = [list(f) for f in found]
    out = orig(self, read, found, originals, analyses, read_at, maps, checks, refused)
    for k, (b, a) in enumerate(zip(before, out)):
        if len(b) == 1:
            H, W = read[k].shape[:2]
            r = np.asarray(b[0][0], float)
            x0, y0, x1, y1 = max(r[0], 0), max(r[1], 0), min(r[2], W), min(r[3], H)
            log.append({"H": H, "W": W, "region": [float(v) for v in r], "h_share": (y1 - y0) / H, "w_share": (x1 - x0) / W,
                        "area_share": (x1 - x0) * (y1 - y0) / (H * W), "added": len(a) - 1,
                        "added_boxes": [[float(v) for v in f[0]] for f in a if f is not b[0] and not np.array_equal(f[0], b[0][0])]})
    return out
P.Predictor._zoom_in_again = wrapped
p = Predictor.load()
which = sys.argv[1]
if which == "wider":
    rows = list(csv.DictReader(open("runs/lnet-wild/choose.csv")))
    files = sorted({r["path"] for r in rows})
else:
    files = [p for p in open(f"runs/upright/fit-{which}-train.txt").read().split() if p]
    files = files[: int(sys.argv[2])]
out = []
for f in files:
    n0 = len(log)
    rec = p.predict(f)
    for e in log[n0:]:
        e["file"] = f; e["scale"] = rec["width"] / e["W"]
        out.append(e)
json.dump(out, open(f"/tmp/gate/{which}.json", "w"))
print(which, len(files), "files;", len(out), "lone zooms;", sum(e["added"] > 0 for e in out), "added faces in", )
