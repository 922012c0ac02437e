"""Copy a run folder's record (config, command, data summary, metrics, results; no weights, no
images: grids of real faces stay in runs/, never in the repository) into
experiments/<date>-<name>/ so it can be committed.

    python benchmarks/record_run.py runs/anet-celeba_hq128 [--name anet-celeba_hq128]
    python benchmarks/record_run.py runs/age-framed-utkface128 --name age-framing/run   # into a record's folder
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
from pathlib import Path

from lnet_anet.engine.runs import machine

KEEP = ("eval.md", "eval.json", "data.json", "model.json", "patches.json", "localizer.json", "cascade.json", "preprocess.json",
        "train_config.json", "metrics.jsonl", ".hydra/config.yaml", ".hydra/overrides.yaml",
        "finetune/metrics.jsonl", "finetune/train_config.json", "pretrain/metrics.jsonl")  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Copy a run folder's record (no weights, no images) into "
                                             "experiments/<date>-<name>/.")  # fmt: skip
    ap.add_argument("run", type=Path, help="a run folder under runs/")
    ap.add_argument("--name", default=None, help="the record's name (default: the run folder's)")
    args = ap.parse_args(argv)
    if not any((args.run / rel).exists() for rel in KEEP):  # not a run: no empty record
        ap.error(f"{args.run}: no run record there (none of {', '.join(KEEP[:4])}, ...)")
    # the records live in experiments/ (this script moved to benchmarks/ with the others)
    out = Path(__file__).resolve().parents[1] / "experiments" / f"{dt.date.today().isoformat()}-{args.name or args.run.name}"
    out.mkdir(parents=True, exist_ok=True)
    for rel in KEEP:
        src = args.run / rel
        if src.exists():
            dst = out / rel.replace(".hydra/", "hydra-")
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    overrides = args.run / ".hydra" / "overrides.yaml"
    (out / "machine.json").write_text(json.dumps(machine(), indent=2))
    print(f"recorded {args.run} -> {out}" + ("" if overrides.exists() else " (no Hydra overrides found)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
