"""Do two prediction runs agree? Compares two JSON Lines files of `python -m lnet_anet.predict --json`.

    python -m lnet_anet.predict IMAGES --json > before.jsonl     # at the old revision
    python -m lnet_anet.predict IMAGES --json > after.jsonl      # at the new one
    python benchmarks/compare_outputs.py before.jsonl after.jsonl [--tol 1e-4]

Same records in the same order, the same keys and strings, every number within --tol. Prints
the largest difference; exit status 0 when they agree, 1 when not (naming the first field that
differs)."""

from __future__ import annotations

import argparse
import json
import sys


def differences(a, b, path: str = ""):
    """(path, a, b) of every differing leaf; numbers as |a - b| > 0 for the caller's tolerance."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            yield path, sorted(a), sorted(b)
            return
        for key in a:
            yield from differences(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path} (length)", len(a), len(b)
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from differences(x, y, f"{path}[{i}]")
    elif isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        if a != b:
            yield path, a, b
    elif a != b:
        yield path, a, b


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    before = [json.loads(line) for line in open(args.before)]
    after = [json.loads(line) for line in open(args.after)]
    if not before or len(before) != len(after):
        print(f"records: {len(before)} before, {len(after)} after", file=sys.stderr)
        return 1
    worst = 0.0
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        for path, x, y in differences(a, b):
            if isinstance(x, int | float) and isinstance(y, int | float):
                worst = max(worst, abs(x - y))
                if abs(x - y) <= args.tol:
                    continue
            print(f"record {i} ({a.get('image')}): {path}: {x!r} -> {y!r}", file=sys.stderr)
            return 1
    print(f"{len(before)} records agree; largest numeric difference {worst:g} (tolerance {args.tol:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
