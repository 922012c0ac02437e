"""End-to-end prediction speed: ms per 300x300 photo with one face, images/s on a folder.

    python benchmarks/bench_predict.py [--bundle FILE] [--threads 2] [--runs 10] [--rounds 3]
                                        [--n-images 32] [--batch-size 8] [--out DIR]

The photo is skimage.data.astronaut() (public domain, one face) resized to 300x300, given as an
array (decoding excluded) and as a JPEG file (decoding included); batch 1, torch threads set by
--threads (2 by default), CPU. Each case warms up, then runs `--runs` calls per round for
`--rounds` rounds; its figure is the median of the best round (the machine is shared: the best
round is the one least disturbed by other processes), with the process CPU time per call
alongside. The stage split (LNet, localizer, ANet + SVMs, age, attractiveness) is timed on ONE
thread as that thread's CPU time (time.thread_time), which other processes barely disturb.
Throughput: `predict_many` over a folder of --n-images generated JPEG scenes
(lnet_anet.data.synthetic, 240x320 to 480x640) with --batch-size, best of the rounds.

--bundle defaults to the embedded lnet_anet/assets/default.lnetanet; when there is none, a
random-weight bundle with the production architectures (build_bundle.random_bundle, preset
"default") is built in a temporary folder, and the results say so. With random weights the
localizer is held to exactly one face per image (threshold 0, max_faces 1), so the timing is
that of a one-face photo; a real bundle keeps its own settings and the faces found are reported.

Writes results.md and results.json to experiments/<YYYY-MM-DD>-predict/ (or --out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from lnet_anet.data.synthetic import render_scene, sample_face, sample_identity
from lnet_anet.engine.runs import machine
from lnet_anet.inference.build import random_bundle
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor

TARGET_MS = 50.0  # issue 18's target for the 300x300 photo, as README's table states it (11-24's was 60)
PHOTO_SIDE = 300


def photo() -> np.ndarray:
    from skimage import data

    side = PHOTO_SIDE
    return cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_AREA)


def time_calls(fn: Callable[[], object], runs: int, rounds: int) -> dict[str, float]:
    for _ in range(3):  # warm-up: allocator, oneDNN kernels, the localizer's window cache
        fn()
    best: tuple[float, float] | None = None
    for _ in range(rounds):
        wall, cpu = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        figure = (statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3)
        best = figure if best is None or figure[0] < best[0] else best
    return {"wall_ms": round(best[0], 2), "process_cpu_ms": round(best[1], 2)}


def thread_cpu_ms(fn: Callable[[], object], runs: int) -> float:
    """Median CPU time of the calling thread per call (run with torch on one thread)."""
    fn()
    times = []
    for _ in range(runs):
        c0 = time.thread_time()
        fn()
        times.append(time.thread_time() - c0)
    return round(statistics.median(times) * 1e3, 2)


@torch.inference_mode()
def stage_split(predictor: Predictor, image: np.ndarray, runs: int) -> dict[str, float]:
    """One-thread CPU ms of each stage for one image and its first face."""
    from lnet_anet.data.transforms import crop_resize
    from lnet_anet.lnet.multiscale import place

    b, p = predictor.bundle, predictor.bundle.preprocessing
    lnet = predictor._lnet  # the first scale's canvas, as Predictor._detect_at places it
    canvas, _ = place(image, lnet.input_size, lnet.scales[0], lnet.resize, lnet.zoom_out_canvas, lnet.zoom_in_canvas)
    norm = lambda img, s: torch.from_numpy(  # noqa: E731
        ((img.astype(np.float32) - np.array(s["mean"]) * 255) / (np.array(s["std"]) * 255))
        .astype(np.float32).transpose(2, 0, 1).copy()
    )[None]  # fmt: skip
    x = norm(canvas, p["lnet"])
    response = b.lnet(x)["response"][0].numpy()
    size = tuple(p["lnet"]["input_size"])
    box = next(predictor.locate_many([image], kind="region"))[0][0]
    out = {
        "lnet": thread_cpu_ms(lambda: b.lnet(x), runs),
        "localizer": thread_cpu_ms(lambda: predictor.localizer(response, size), runs),
        "anet_svm": thread_cpu_ms(
            lambda: b.svm.average_over_patches(
                b.anet.patch_features(
                    image,
                    box,
                    p["anet"]["enlarge"],
                    p["anet"]["canonical_size"],
                    p["anet"]["stride"],
                ).numpy()
            ),
            runs,
        ),  # fmt: skip
    }
    if predictor.cascade is not None:  # LNet_s on the face's region
        first = [predictor.localizer(response, size)]
        out["lnet_s"] = thread_cpu_ms(lambda: predictor.cascade.refine(b.lnet, x, first), runs)
    for name in ("age", "attractiveness"):
        net = getattr(b, name)
        if net is None:
            continue
        if p[name].get("input") == "anet_features":  # reads the ANet feature: a tiny MLP
            feature = torch.zeros(1, b.anet.feature_dim)
            out[name] = thread_cpu_ms(lambda net=net, f=feature: net.head.predict(net(f)["logits"]), runs)
            continue
        s = p[name]["image_size"]
        crop, _, _ = crop_resize(image, np.asarray(box, np.float64), (s, s))
        y = norm(crop, p[name])
        out[name] = thread_cpu_ms(lambda net=net, y=y: net.head.predict(net(y)["logits"]), runs)
    out["sum"] = round(sum(out.values()), 2)
    return out


def make_folder(folder: Path, n: int, seed: int = 0) -> list[Path]:
    sizes = [(240, 320), (300, 300), (480, 640), (360, 480)]
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        h, w = sizes[i % len(sizes)]
        person = sample_identity(rng, i)
        image, _, _ = render_scene(sample_face(person, rng), (w, h), rng)
        path = folder / f"{i:03d}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def throughput(predictor: Predictor, paths: list[Path], batch_size: int, rounds: int) -> dict:
    records = list(predictor.predict_many(paths, batch_size))  # warm-up
    best = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in predictor.predict_many(paths, batch_size):
            pass
        seconds = time.perf_counter() - t0
        best = seconds if best is None or seconds < best else best
    faces = [len(r["faces"]) for r in records]
    return {
        "images": len(paths),
        "batch_size": batch_size,
        "seconds": round(best, 3),
        "images_per_s": round(len(paths) / best, 2),
        "faces_per_image": round(float(np.mean(faces)), 2),
        "errors": sum(r["error"] is not None for r in records),
    }


def write_results(out: Path, results: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    e2e, split, thr = results["latency"], results["stage_cpu_ms_1thread"], results["throughput"]
    lines = [
        f"# End-to-end prediction speed ({results['date']})",
        "",
        f"Command: `{results['command']}`  ",
        f"Bundle: {results['bundle']['description']} (bundle {results['bundle'].get('identity')}, "
        f"model {results['bundle'].get('model')})",
        "",
        f"**{results['bundle']['note']}**" if results["bundle"]["note"] else "",
        "",
        f"## One {PHOTO_SIDE}x{PHOTO_SIDE} photo with one face, batch 1 "
        f"(target <= {TARGET_MS:.0f} ms with {results['config']['threads']} threads)",
        "",
        "| input | wall ms (median of best round) | process CPU ms | faces found |",
        "|---|---|---|---|",
    ]
    for name, row in e2e.items():
        lines.append(
            f"| {name} | {row['wall_ms']} | {row['process_cpu_ms']} | {results['faces_found']} |"
        )
    lines += [
        "",
        "Stage split, CPU ms of one thread (torch on 1 thread; robust to other load):",
        "",
        "| " + " | ".join(split) + " |",
        "|" + "---|" * len(split),
        "| " + " | ".join(str(v) for v in split.values()) + " |",
        "",
        f"## Throughput: folder of {results['config']['n_images']} generated JPEG scenes "
        f"(batch size {results['config']['batch_size_folder']}, best of the rounds)",
        "",
        "| torch threads | images/s | seconds | faces per image | errors |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {t['images_per_s']} | {t['seconds']} | {t['faces_per_image']} | {t['errors']} |"
        for name, t in thr.items()
    ]
    lines += [
        "",
    ]
    load, cores = results["machine"]["load_average"][0], results["machine"]["cores"]
    if load > cores:
        lines += [
            f"**Caveat:** the machine was shared (1-minute load average {load:.1f} on {cores} "
            "cores). With more torch threads than free cores, OpenMP threads wait on each other "
            "at every op, so the multi-thread wall times above measure that contention rather "
            "than the pipeline; the one-thread CPU figures are the ones to compare across runs.",
            "",
        ]
    lines += [
        "## Machine",
        "",
        "| key | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in results["machine"].items()]
    lines += [f"| load_average_at_end | {results['load_average_at_end']} |", ""]
    (out / "results.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n-images", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    command = shlex.join(["python", "benchmarks/bench_predict.py", *(argv or sys.argv[1:])])
    today = dt.date.today().isoformat()
    out = args.out or Path(__file__).resolve().parents[1] / "experiments" / f"{today}-predict"

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bundle_path, random_weights = args.bundle, False
        if bundle_path is None and DEFAULT_BUNDLE.is_file():
            bundle_path = DEFAULT_BUNDLE
        if bundle_path is None:
            bundle_path = random_bundle(tmp / "random.lnetanet", preset="default", max_faces=1)
            random_weights = True
        predictor = Predictor.load(bundle_path)
        if random_weights:
            predictor.localizer.threshold, predictor.localizer.max_faces = 0.0, 1
        from lnet_anet.inference.bundle import describe

        description = describe(bundle_path)
        image = photo()
        jpeg = tmp / "photo.jpg"
        cv2.imwrite(str(jpeg), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        start = machine()
        faces_found = len(predictor.predict(image)["faces"])
        n = args.threads
        latency = {
            f"array (no decoding), {n} threads": time_calls(
                lambda: predictor.predict(image), args.runs, args.rounds
            ),
            f"JPEG file, {n} threads": time_calls(
                lambda: predictor.predict(jpeg), args.runs, args.rounds
            ),
        }
        # One thread as well: on a machine whose cores are busy with other work, two OpenMP
        # threads wait on each other at every op and the figure above says more about the load.
        torch.set_num_threads(1)
        latency["array (no decoding), 1 thread"] = time_calls(
            lambda: predictor.predict(image), args.runs, args.rounds
        )
        split = stage_split(predictor, image, args.runs)
        torch.set_num_threads(args.threads)
        folder = tmp / "folder"
        folder.mkdir()
        paths = make_folder(folder, args.n_images)
        thr = {
            f"{n} threads": throughput(predictor, paths, args.batch_size, max(1, args.rounds // 2))
        }
        torch.set_num_threads(1)
        thr["1 thread"] = throughput(predictor, paths, args.batch_size, max(1, args.rounds // 2))
        torch.set_num_threads(n)

    note = (
        "No embedded bundle (lnet_anet/assets/default.lnetanet) yet: these figures are for a "
        "RANDOM-WEIGHT bundle with the production architectures (lnet_lite0 at 300, anet_lite0 "
        "160/16, lite0_dldl at 128 for age and attractiveness), one face per image forced."
        if random_weights
        else ""
    )
    results = {
        "date": today,
        "command": command,
        "config": {
            "threads": args.threads,
            "runs": args.runs,
            "rounds": args.rounds,
            "photo": f"skimage astronaut resized to {PHOTO_SIDE}x{PHOTO_SIDE}",
            "batch_size_folder": args.batch_size,
            "n_images": args.n_images,
            "preprocessing": predictor.bundle.preprocessing,
        },  # fmt: skip
        "bundle": {
            "path": None if random_weights else str(bundle_path),
            "random_weights": random_weights,
            "identity": predictor.bundle.identity,  # as predict's records say "bundle" and "model"
            "model": predictor.model_identity,
            "description": description,
            "note": note,
        },  # fmt: skip
        "faces_found": faces_found,
        "latency": latency,
        "target_ms": TARGET_MS,
        "stage_cpu_ms_1thread": split,
        "throughput": thr,
        "machine": start,
        "load_average_at_end": list(os.getloadavg()),
    }
    write_results(out, results)
    print(json.dumps({k: results[k] for k in ("latency", "stage_cpu_ms_1thread", "throughput")}))
    print(f"wrote {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
