"""Shared by the collect_*_ablations scripts: read the variants' run results, write the record."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

from lnet_anet.data import runs_root
from lnet_anet.engine.runs import machine

RUNS = runs_root()


def finished_runs(variants: dict[str, tuple[str, str]]) -> Iterator[tuple[str, str, dict]]:
    """(label, command, eval.json) of each variant whose run folder has its results."""
    for label, (folder, command) in variants.items():
        path = RUNS / folder / "eval.json"
        if not path.exists():
            print(f"skipping {label}: {path} not found")
            continue
        yield label, command, json.loads(path.read_text())


def parse_args(doc: str) -> argparse.Namespace:
    """The collect scripts' command line: no options, --help prints their docstring."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()


def write_record(name: str, rows: list[dict], lines: list[str]) -> None:
    """experiments/<date>-<name>/results.json (rows + machine) and results.md (lines). Exits
    with status 2, writing nothing, when no variant has finished (no empty record)."""
    if not rows:
        raise SystemExit(f"error: no finished run of any variant under {RUNS.resolve()}: nothing recorded")
    out = Path(__file__).resolve().parents[1] / "experiments" / f"{dt.date.today().isoformat()}-{name}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"rows": rows, "machine": machine()}, indent=2))
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print((out / "results.md").read_text())


if __name__ == "__main__":  # trial 85: `--help` printed nothing and exited 0
    raise SystemExit("benchmarks/ablation_records.py is a helper module, not a command: run "
                     "benchmarks/collect_anet_ablations.py or collect_lnet_ablations.py (each has --help)")
