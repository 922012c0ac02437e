"""Benchmark: ANet dense (interweaved) features vs patch-by-patch forward, plus training cost.

Dense: `ANet.dense_features(image, stride)` on one 300x300 image, patch 128, stride 16 ->
11 x 11 = 121 patches. Baselines on the same patches: a loop of single-patch forwards
("patch-by-patch") and one batched forward of all crops. Reports best-of-rounds ms, speedups
and the max abs difference of the features. Training: fwd+bwd ms of a batch of 64 128-px
patches (whole net, and with the trunk's early stages or all of it frozen). The machine is shared, so every timing is the
best of several rounds.

    .venv/bin/python benchmarks/bench_anet_dense.py [--pretrained package] [--rounds 3]

Writes experiments/<YYYY-MM-DD>-anet-dense/results.{md,json}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from lnet_anet.models.anet import ANet, anet_lite0


def best_ms(fn, rounds: int, repeats: int) -> float:
    """Best over `rounds` of the mean time of `repeats` calls (after one warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best * 1000


def crops_of(image: torch.Tensor, patch: int, stride: int) -> torch.Tensor:
    _, _, h, w = image.shape
    return torch.stack(
        [image[0, :, y : y + patch, x : x + patch]
         for y in range(0, h - patch + 1, stride) for x in range(0, w - patch + 1, stride)]
    )  # fmt: skip


def bench_dense(model: ANet, size: int, stride: int, rounds: int) -> dict:
    torch.manual_seed(0)
    image = torch.rand(1, 3, size, size) * 2 - 1  # normalised pixels lie in [-1, 1]
    crops = crops_of(image, model.patch_size, stride)
    with torch.inference_mode():
        dense = model.dense_features(image, stride)
        ny, nx = dense.shape[1:3]
        batched = model(crops)["features"].view(1, ny, nx, -1)
        single = torch.cat([model(c[None])["features"] for c in crops]).view(1, ny, nx, -1)
        dense_ms = best_ms(lambda: model.dense_features(image, stride), rounds, 5)
        batched_ms = best_ms(lambda: model(crops), rounds, 2)
        single_ms = best_ms(lambda: [model(c[None]) for c in crops], rounds, 1)
    return {
        "image_size": size, "stride": stride, "patch_size": model.patch_size,
        "num_patches": ny * nx, "grid": [ny, nx],
        "dense_ms": dense_ms, "patch_by_patch_ms": single_ms, "batched_crops_ms": batched_ms,
        "speedup_vs_patch_by_patch": single_ms / dense_ms,
        "speedup_vs_batched_crops": batched_ms / dense_ms,
        "max_abs_diff_vs_patch_by_patch": float((dense - single).abs().max()),
        "max_abs_diff_vs_batched_crops": float((dense - batched).abs().max()),
        "max_abs_feature": float(single.abs().max()),
    }  # fmt: skip


# (name, frozen_stages): trunk stages 0-3 are the stem and blocks 0, 1, 2.
VARIANTS = (("whole_net", 0), ("stem_blocks01_frozen", 3), ("trunk_frozen", 4))


def cpu_ms(fn, rounds: int) -> float:
    """Best over rounds of the process CPU time of one call (all threads): less sensitive than
    wall time to other jobs on a shared machine; wall ~ cpu / threads when nothing competes."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best * 1000


def bench_train_step(pretrained: str, batch: int, rounds: int) -> dict:
    torch.manual_seed(0)
    x = torch.rand(batch, 3, 128, 128) * 2 - 1
    y = (torch.rand(batch, 40) > 0.5).float()
    out: dict = {"batch": batch, "variants": {}}
    for name, frozen in VARIANTS:
        model = anet_lite0(pretrained=pretrained, frozen_stages=frozen).train()

        def step(model=model):
            loss = F.binary_cross_entropy_with_logits(model(x)["attributes"], y)
            model.zero_grad(set_to_none=True)
            loss.backward()

        wall = best_ms(step, rounds, 1)
        cpu = cpu_ms(step, rounds)
        out["variants"][name] = {
            "frozen_stages": frozen,
            "fwd_bwd_wall_ms": wall,
            "fwd_bwd_cpu_ms": cpu,
            # 24k faces at this batch size, compute only, from the wall time
            "epoch_24k_min": wall * (24000 / batch) / 60000,
        }
    return out


def machine() -> dict:
    return {
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average_at_end": list(os.getloadavg()),
    }


def write_results(out_dir: Path, results: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    d, t, m = results["dense"], results.get("train"), results["machine"]
    lines = [
        "# ANet dense (interweaved) features vs patch-by-patch forward",
        "",
        f"Command: `{results['command']}`  ",
        f"Date: {results['date']}  ",
        f"Machine: {m['processor']}, {m['cpu_count']} cores (shared with other jobs; load "
        f"average at the end {m['load_average_at_end'][0]:.1f}), torch {m['torch']} with "
        f"{m['torch_threads']} threads. Every time is the best of {results['config']['rounds']} "
        "rounds.",
        "",
        f"Config: trunk weights `{results['config']['pretrained']}`, "
        f"{d['image_size']}x{d['image_size']} random image, patch {d['patch_size']}, stride "
        f"{d['stride']} -> {d['grid'][0]} x {d['grid'][1]} = {d['num_patches']} patches, eval.",
        "",
        "| method | ms per image | speedup of dense | max abs diff to dense |",
        "|---|---|---|---|",
        f"| dense_features (one pass) | {d['dense_ms']:.1f} | 1.0x | - |",
        f"| patch by patch (loop of batch-1 forwards) | {d['patch_by_patch_ms']:.1f} | "
        f"{d['speedup_vs_patch_by_patch']:.1f}x | {d['max_abs_diff_vs_patch_by_patch']:.2e} |",
        f"| all crops in one batched forward | {d['batched_crops_ms']:.1f} | "
        f"{d['speedup_vs_batched_crops']:.1f}x | {d['max_abs_diff_vs_batched_crops']:.2e} |",
        "",
        f"Largest feature magnitude: {d['max_abs_feature']:.3f}.",
    ]
    if t:
        lines += [
            "",
            f"## Training cost (batch of {t['batch']} patches of 128 px, fwd+bwd)",
            "",
            "Wall ms: best of the rounds on the shared machine. CPU ms: process CPU time summed "
            "over threads (wall ~ CPU / threads when nothing competes for the cores).",
            "",
            "| variant | frozen_stages | wall ms per batch | CPU ms per batch | "
            "epoch of 24k faces (wall, compute only) |",
            "|---|---|---|---|---|",
        ]
        for name, v in t["variants"].items():
            lines.append(
                f"| {name} | {v['frozen_stages']} | {v['fwd_bwd_wall_ms']:.0f} | "
                f"{v['fwd_bwd_cpu_ms']:.0f} | {v['epoch_24k_min']:.1f} min |"
            )
    (out_dir / "results.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pretrained", default="package", help="trunk weights: package | none | path")
    ap.add_argument("--size", type=int, default=300)
    ap.add_argument("--stride", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-batch", type=int, default=64, help="0 skips the training timing")
    ap.add_argument("--out", type=Path, default=None, help="default experiments/<date>-anet-dense")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    today = dt.date.today().isoformat()
    out_dir = args.out or Path(__file__).resolve().parents[1] / "experiments" / f"{today}-anet-dense"

    model = anet_lite0(pretrained=args.pretrained).eval()
    results = {
        "date": today,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "config": vars(args) | {"out": str(out_dir), "model": "anet_lite0"},
        "dense": bench_dense(model, args.size, args.stride, args.rounds),
    }
    if args.train_batch:
        results["train"] = bench_train_step(args.pretrained, args.train_batch, args.rounds)
    results["machine"] = machine()
    write_results(out_dir, results)
    print(json.dumps({k: results[k] for k in ("dense", "train") if k in results}, indent=2))
    print(f"wrote {out_dir}/results.md and results.json")


if __name__ == "__main__":
    main()
