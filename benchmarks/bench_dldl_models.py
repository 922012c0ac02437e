"""Size and speed of the DLDL-v2 models: parameters, MACs, float32 size on disk, ms per face.

    python benchmarks/bench_dldl_models.py [--threads 2] [--device cpu] [--out DIR]

MACs are counted with forward hooks on every Conv2d and Linear (multiply-accumulates of those
layers only; BatchNorm, activations and pooling are left out, as is usual) and cross-checked
against torch.utils.flop_counter.FlopCounterMode (which counts 2 FLOPs per MAC). Size on disk
is the state dict (parameters and BN buffers) saved as a float32 safetensors file. Speed:
eval mode, torch.inference_mode, median wall time over repeats after warm-up, at batch 1 and
batch 32, divided by the batch size. On a shared machine wall time depends on the other
processes, so each case is also timed on ONE thread by the CPU time that thread consumed
(time.thread_time): a contention-robust figure (cpu1t columns). ThinAgeNet/TinyAgeNet use the paper's 224x224 input;
lite0_dldl is timed at 224 and at 128 (the UTKFace copy here is 128 px). Weights are random
(pretrained="none"): they do not change the speed.

Writes results.md and results.json to experiments/<YYYY-MM-DD>-dldl-models/ (or --out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from safetensors.torch import save_file
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lnet_anet.metrics.age import to_markdown
from lnet_anet.models import create_model

# (model name, input size): the paper's 224 for the VGG nets; lite0 at 224 and 128.
CASES = (
    ("thin_age_net", 224),
    ("tiny_age_net", 224),
    ("lite0_dldl", 224),
    ("lite0_dldl", 128),
)
BATCHES = (1, 32)


def count_macs(model: nn.Module, size: int) -> int:
    """Multiply-accumulates of one image through every Conv2d and Linear, via forward hooks."""
    total = 0

    def conv_hook(m: nn.Conv2d, inputs, out: torch.Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += out[0].numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m: nn.Linear, inputs, out: torch.Tensor) -> None:
        nonlocal total
        total += out[0].numel() * m.in_features

    handles = [
        m.register_forward_hook(conv_hook if isinstance(m, nn.Conv2d) else linear_hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    try:
        with torch.inference_mode():
            model(torch.zeros(1, 3, size, size))
    finally:
        for h in handles:
            h.remove()
    return total


def count_flops(model: nn.Module, size: int) -> int:
    """FLOPs of one image as torch's FlopCounterMode sees them (conv + matmul ops)."""
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(torch.zeros(1, 3, size, size))
    return int(counter.get_total_flops())


def safetensors_bytes(model: nn.Module) -> int:
    state = {
        k: (v.float() if v.is_floating_point() else v).contiguous()
        for k, v in model.state_dict().items()
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.safetensors"
        save_file(state, str(path))
        return path.stat().st_size


def ms_per_face(
    model: nn.Module, size: int, batch: int, repeats: int, device: torch.device
) -> dict[str, float]:
    x = torch.randn(batch, 3, size, size, device=device)

    def run() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model(x)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    with torch.inference_mode():
        for _ in range(1 if batch > 1 else 5):  # warm-up: allocator, kernel selection
            run()
        times = [run() for _ in range(repeats)]
    per_face = [1000 * t / batch for t in times]
    return {"median": statistics.median(per_face), "min": min(per_face), "runs": len(times)}


def cpu_ms_per_face_one_thread(model: nn.Module, size: int, batch: int, repeats: int) -> float:
    """Median CPU time per face consumed by the calling thread with torch on one thread:
    unlike wall time it barely moves when other processes compete for the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    x = torch.randn(batch, 3, size, size)
    try:
        with torch.inference_mode():
            model(x)  # warm-up
            times = []
            for _ in range(repeats):
                t0 = time.thread_time()
                model(x)
                times.append(time.thread_time() - t0)
    finally:
        torch.set_num_threads(threads)
    return 1000 * statistics.median(times) / batch


def machine(device: torch.device) -> dict[str, object]:
    info: dict[str, object] = {
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }
    cpuinfo = Path("/proc/cpuinfo")  # platform.processor() is often empty on Linux
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                 if ln.startswith("model name")]  # fmt: skip
        if names:
            info["cpu_model"] = names[0]
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    if hasattr(os, "getloadavg"):
        info["load_average_at_start"] = [round(v, 2) for v in os.getloadavg()]
    return info


def bench(args: argparse.Namespace) -> dict[str, object]:
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    info = machine(device)
    rows = []
    for name, size in CASES:
        kwargs = {"pretrained": "none"} if name == "lite0_dldl" else {}
        model = create_model(name, **kwargs).eval()
        params = sum(p.numel() for p in model.parameters())
        row: dict[str, object] = {
            "model": name,
            "input": size,
            "params": params,
            "params_M": round(params / 1e6, 3),
            "MMACs": round(count_macs(model, size) / 1e6, 1),
            "MMACs_flopcounter": round(count_flops(model, size) / 2e6, 1),
            "disk_MB": round(safetensors_bytes(model) / 1e6, 3),
        }
        model.to(device)
        for batch in BATCHES:
            repeats = args.repeats if batch == 1 else max(3, args.repeats // 4)
            timing = ms_per_face(model, size, batch, repeats, device)
            row[f"ms_per_face_b{batch}"] = round(timing["median"], 2)
            row[f"ms_per_face_b{batch}_min"] = round(timing["min"], 2)
            if device.type == "cpu":
                cpu = cpu_ms_per_face_one_thread(model, size, batch, max(3, repeats // 2))
                row[f"cpu1t_ms_per_face_b{batch}"] = round(cpu, 2)
        print(json.dumps(row), flush=True)
        rows.append(row)
    if hasattr(os, "getloadavg"):
        info["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    return {
        "date": dt.date.today().isoformat(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "config": {
            "threads": args.threads,
            "device": args.device,
            "repeats_batch1": args.repeats,
            "repeats_batch32": max(3, args.repeats // 4),
            "batches": list(BATCHES),
            "cases": [list(c) for c in CASES],
            "mac_counting": "forward hooks on Conv2d + Linear (per image); "
            "MMACs_flopcounter = FlopCounterMode FLOPs / 2",
            "timing": "eval + inference_mode, median wall time per face after warm-up",
            "cpu1t": "CPU time of the calling thread per face, torch on 1 thread (median)",
            "weights": "random (pretrained='none'); speed does not depend on them",
        },
        "machine": info,
        "results": rows,
    }


def write_report(result: dict[str, object], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    cfg, info = result["config"], result["machine"]
    columns = ["model", "input", "params", "MMACs", "MMACs_flopcounter", "disk_MB",
               "ms_per_face_b1", "ms_per_face_b32", "cpu1t_ms_per_face_b1",
               "cpu1t_ms_per_face_b32"]  # fmt: skip
    table = pd.DataFrame(result["results"])
    table = table[[c for c in columns if c in table]]
    text = [
        f"# DLDL-v2 model sizes and speed ({result['date']})",
        "",
        f"Command: `{result['command']}`",
        "",
        to_markdown(table, digits=2),
        "- params: trainable parameters; disk_MB: float32 safetensors of the state dict "
        "(parameters + BatchNorm buffers), 10^6 bytes.",
        f"- MACs: {cfg['mac_counting']}.",
        f"- Speed: {cfg['timing']}; {cfg['threads']} threads on {cfg['device']}; batch 1 over "
        f"{cfg['repeats_batch1']} runs, batch 32 over {cfg['repeats_batch32']} runs.",
        f"- cpu1t columns: {cfg['cpu1t']}; robust to other processes on the machine, unlike "
        "the wall times (see the load averages below).",
        f"- Weights: {cfg['weights']}.",
        "",
        *_contention_note(info),
        "## Machine",
        "",
        to_markdown({k: str(v) for k, v in info.items()}),
    ]
    (out / "results.md").write_text("\n".join(text))


def _contention_note(info: dict[str, object]) -> list[str]:
    """A warning line when other processes loaded the machine beyond its cores while timing."""
    loads = [*info.get("load_average_at_start", []), *info.get("load_average_at_end", [])]
    cores = info.get("cpu_count") or 1
    if not loads or max(loads) <= cores:
        return []
    return [
        f"**Caveat:** the machine was shared while timing (1-minute load average up to "
        f"{max(loads):.1f} on {cores} cores), so the wall-time columns are inflated and noisy, "
        "batch 1 most of all; the cpu1t columns are the figures to compare.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs at batch 1")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = bench(args)
    out = args.out or Path(__file__).resolve().parents[1] / "experiments" / f"{result['date']}-dldl-models"
    write_report(result, out)
    print(f"wrote {out / 'results.md'} and results.json")


if __name__ == "__main__":
    main()
