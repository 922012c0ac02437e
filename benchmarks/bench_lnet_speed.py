"""LNet speed: milliseconds per image for the network plus the localizer (target <= 35 ms).

    python benchmarks/bench_lnet_speed.py [--threads 2] [--runs 20] [--rounds 6] [--out DIR]

Batch 1, eval mode, gradient-free, CPU, 300x300 input unless a case says otherwise. Each case
runs in a fresh Python process (its own thread pool and OpenMP settings), builds the model
(random weights: they do not change the speed), warms up, then times `--runs` images per round
for `--rounds` rounds; a round's figure is its median, and the case's figure the best round (the
machine is shared, so the best round is the one least disturbed by other processes). Time per
image covers the forward pass and the Localizer on its response map (threshold 0: every peak is
worked through, the slowest path), with the embedded bundle's other localizer settings. Cases: the production LNet (conf/experiment/lnet_cpu.yaml:
224x224 input, the 300x300 image resized first, stride-8 averaged attribute map) with torch.inference_mode or
no_grad, channels_last memory format, OpenMP's passive wait policy (idle threads sleep instead of
spinning, which matters when other processes want the cores) and one thread; the same net at
300x300 input; and the stride-16 attribute-map LNet. Every case also reports the process's CPU time per image (time.process_time):
on one thread it is the whole cost and barely depends on other processes, the figure to compare
across runs on a busy machine; with spinning threads it also counts the spinning.

Writes results.md and results.json to experiments/<YYYY-MM-DD>-lnet-speed/ (or --out).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_MS = 35.0
# The embedded bundle's LNet (conf/experiment/lnet_cpu.yaml) and the paper-like one before it.
PRODUCTION = {"stride": 8, "neck_channels": 64, "face_tag": True, "response": "attributes", "face_pool": "max",
              "tune_last_stage": False}
ATTRIBUTE_MAPS = {"stride": 16, "neck_channels": 256}
# name: (network input side, model kwargs, grad mode, channels_last, threads (None: --threads),
# OMP_WAIT_POLICY). The 300x300 image is resized to the input side first (about 0.1 ms, untimed).
CASES: dict[str, tuple[int, dict, str, bool, int | None, str | None]] = {
    "production: input 224, stride 8": (224, PRODUCTION, "inference_mode", False, None, None),
    "production, no_grad": (224, PRODUCTION, "no_grad", False, None, None),
    "production, channels_last": (224, PRODUCTION, "inference_mode", True, None, None),
    "production, OMP passive": (224, PRODUCTION, "inference_mode", False, None, "PASSIVE"),
    "production, 1 thread": (224, PRODUCTION, "inference_mode", False, 1, None),
    "production at input 300": (300, PRODUCTION, "inference_mode", False, None, None),
    "attribute maps, stride 16, input 224": (224, ATTRIBUTE_MAPS, "inference_mode", False, None, None),
    # The LNet_o -> LNet_s cascade (lnet_anet.lnet.cascade): a second pass on the best face's region.
    "production + LNet_s at 224, one face": (224, {**PRODUCTION, "cascade_input": 224}, "inference_mode", False, None, None),
    "production + LNet_s at 160, one face": (224, {**PRODUCTION, "cascade_input": 160}, "inference_mode", False, None, None),
}


def bundle_localizer() -> dict:
    """The embedded bundle's localizer settings (lnet_anet/assets/default.lnetanet)."""
    from lnet_anet.inference.bundle import read_header
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE

    return dict(read_header(DEFAULT_BUNDLE)[1]["preprocessing"]["localizer"])


def time_case(
    size: int,
    model_kwargs: dict,
    grad_mode: str,
    channels_last: bool,
    threads: int,
    runs: int,
    rounds: int,
) -> dict[str, object]:
    """Time one case in this process (a fresh one: see main)."""
    import torch

    from lnet_anet.lnet.cascade import Cascade
    from lnet_anet.lnet.localizer import Localizer
    from lnet_anet.models import create_model

    model_kwargs = dict(model_kwargs)
    second = model_kwargs.pop("cascade_input", None)

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    model = create_model("lnet_lite0", pretrained="none", **model_kwargs).eval()
    x = torch.randn(1, 3, size, size)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    localizer = Localizer(**{**bundle_localizer(), "threshold": 0.0, "stride": model_kwargs["stride"]})
    mode = torch.inference_mode if grad_mode == "inference_mode" else torch.no_grad
    cascade = None if second is None else Cascade(localizer=localizer, context=2.0, input_size=second)

    def one_image() -> None:
        with mode():
            response = model(x)["response"][0]
        found = localizer(response, size)
        if cascade is not None:
            with mode():
                cascade.refine(model, x, [found[:1]])

    for _ in range(5):  # warm-up: allocator, oneDNN kernels, the localizer's window cache
        one_image()
    wall, cpu, net = [], [], []
    for _ in range(rounds):
        w, c = [], []
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            one_image()
            w.append(time.perf_counter() - t0)
            c.append(time.process_time() - c0)
        wall.append(statistics.median(w) * 1e3)
        cpu.append(statistics.median(c) * 1e3)
        with mode():  # the network alone, to split the total
            t0 = time.perf_counter()
            for _ in range(max(1, runs // 3)):
                model(x)
            net.append((time.perf_counter() - t0) / max(1, runs // 3) * 1e3)
    with mode():
        response = model(x)["response"][0]
    loc = []
    for _ in range(runs):
        t0 = time.perf_counter()
        localizer(response, size)
        loc.append((time.perf_counter() - t0) * 1e3)
    return {
        "ms_per_image_best_round": min(wall),
        "ms_per_image_worst_round": max(wall),
        "ms_network_best_round": min(net),
        "ms_localizer_median": statistics.median(loc),
        "cpu_ms_per_image_best_round": min(cpu),
        "map": list(response.shape),
        "torch": torch.__version__,
        "localizer": repr(localizer),
    }


def run_case(name: str, threads: int, runs: int, rounds: int) -> dict[str, object]:
    """Run a case in a fresh interpreter with its OpenMP environment; return its figures."""
    size, model_kwargs, grad_mode, channels_last, case_threads, wait_policy = CASES[name]
    threads = case_threads or threads
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    env.pop("OMP_WAIT_POLICY", None)
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
    spec = json.dumps([size, model_kwargs, grad_mode, channels_last, threads, runs, rounds])
    proc = subprocess.run(
        [sys.executable, __file__, "--child", spec],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"case {name!r} failed:\n{proc.stderr[-3000:]}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "input": size,
        "model": model_kwargs,
        "grad_mode": grad_mode,
        "channels_last": channels_last,
        "threads": threads,
        "omp_wait_policy": wait_policy or "default",
        **figures,
    }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else platform.processor()."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict[str, object]:
    return {
        "processor": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def to_markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# LNet speed (network + localizer, batch 1, CPU)",
        "",
        f"Command: `{result['command']}`  ",
        f"Date: {result['date']}  ",
        f"Machine: {m['cpu_model']} ({m['processor']}), {m['cpu_count']} cores, "
        f"torch {result['torch']}  ",
        f"Load average before / after: {result['load_before']} / {result['load_after']}  ",
        f"Config: {json.dumps(result['config'])}",
        "",
        f"Target: <= {TARGET_MS:g} ms per 300x300 image with {result['config']['threads']} "
        "threads.",
        "",
        "| case | input | map | threads | OMP wait | ms/image (best round) | worst round | "
        "network ms | localizer ms | CPU ms/image |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["cases"].items():
        lines.append(
            f"| {name} | {r['input']} | {r['map'][0]}x{r['map'][1]} | {r['threads']} | "
            f"{r['omp_wait_policy']} | {r['ms_per_image_best_round']:.1f} | "
            f"{r['ms_per_image_worst_round']:.1f} | {r['ms_network_best_round']:.1f} | "
            f"{r['ms_localizer_median']:.2f} | {r['cpu_ms_per_image_best_round']:.1f} |"
        )
    lines += ["", result["note"], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20, help="images per round")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--cases", nargs="*", default=list(CASES), help="subset of case names")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", help=argparse.SUPPRESS)  # internal: time one case, print JSON
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(time_case(*json.loads(args.child))))
        return {}
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        ap.error(f"unknown cases {unknown}; known: {list(CASES)}")
    today = dt.date.today().isoformat()
    out = args.out or Path(__file__).resolve().parents[1] / "experiments" / f"{today}-lnet-speed"
    load_before = [round(v, 2) for v in os.getloadavg()]
    cases = {}
    for name in args.cases:
        r = run_case(name, args.threads, args.runs, args.rounds)
        cases[name] = r
        print(
            f"{name:32s} {r['ms_per_image_best_round']:8.1f} ms/image "
            f"(net {r['ms_network_best_round']:.1f}, localizer {r['ms_localizer_median']:.2f}, "
            f"CPU {r['cpu_ms_per_image_best_round']:.1f})",
            flush=True,
        )
    first = next(iter(cases.values()))
    result = {
        "date": today,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "config": {
            "threads": args.threads,
            "runs": args.runs,
            "rounds": args.rounds,
            "batch": 1,
            "model": "lnet_lite0",
            "weights": "random (speed only)",
            "localizer": first["localizer"],
        },
        "machine": machine(),
        "torch": first["torch"],
        "load_before": load_before,
        "load_after": [round(v, 2) for v in os.getloadavg()],
        "target_ms": TARGET_MS,
        "cases": cases,
        "note": (
            "Best round = the least disturbed of the rounds: the machine is shared with other "
            "jobs (see the load averages), so wall times are upper bounds of what the code "
            "costs. CPU ms/image is the process's CPU time: on 1 thread the whole cost, with "
            "2 threads it includes OpenMP's spin-waiting (the default wait policy spins)."
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "results.md").write_text(to_markdown(result))
    print(f"wrote {out / 'results.md'}")
    return result


if __name__ == "__main__":
    main()
