"""The localizer's _best_window_means rewritten (commit 24a03e7) against the one before it (HEAD~ when
run at 24a03e7; pass the old commit as argv[1]): the records of 250 files (150 WIDER train photos,
100 UTKFace chips, seeded sample) compared byte for byte, then a 300 x 300 photo timed, the two
alternating, 40 calls each (median ms). Run from the repository root:

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-07-window-means-speed/same_and_faster.py 24a03e7~
"""
import glob, json, random, subprocess, sys, time, types
import numpy as np
from lnet_anet.lnet import localizer as L
from lnet_anet.inference.predictor import Predictor
src = subprocess.run(["git", "show", f"{sys.argv[1] if len(sys.argv) > 1 else 'HEAD'}:lnet_anet/lnet/localizer.py"], capture_output=True, text=True, check=True).stdout
old_mod = types.ModuleType("old_localizer"); sys.modules["old_localizer"] = old_mod; exec(compile(src, "old_localizer", "exec"), old_mod.__dict__)
new_bwm, old_bwm = L._best_window_means, old_mod._best_window_means
random.seed(0)
paths = sorted(glob.glob("/work/shared/datasets/wider_face_train/WIDER_train/images/*/*.jpg"))
paths = random.sample(paths, 150) + random.sample(sorted(glob.glob("/work/shared/datasets/utkface128/UTKFace/*.jpg")), 100)
p = Predictor.load()
out = {}
for name, f in (("new", new_bwm), ("old", old_bwm)):
    L._best_window_means = f
    out[name] = [json.dumps(r, sort_keys=True) for r in p.predict_many(paths)]
same = sum(a == b for a, b in zip(out["new"], out["old"]))
print("identical records", same, "of", len(paths))
# timing: the 300x300 photo, alternating
import statistics
ts = {"new": [], "old": []}
from PIL import Image
from skimage.data import astronaut
Image.fromarray(astronaut()).resize((300, 300)).save("/tmp/astro300.jpg", quality=95)  # the bench_speed photo
for _ in range(3): p.predict("/tmp/astro300.jpg")
for k in range(40):
    for name, f in (("new", new_bwm), ("old", old_bwm)) if k % 2 == 0 else (("old", old_bwm), ("new", new_bwm)):
        L._best_window_means = f
        t = time.perf_counter(); p.predict("/tmp/astro300.jpg"); ts[name].append(time.perf_counter() - t)
print({k: round(1000 * statistics.median(v), 1) for k, v in ts.items()})
