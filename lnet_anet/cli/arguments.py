"""argparse types the commands share: each raises argparse.ArgumentTypeError with the reason,
which argparse prints as a usage error (exit 2)."""

from __future__ import annotations

import argparse
import math


def int_in(low: int, high: int | None = None):
    """An argparse type: an integer (1e8 and 100_000_000 spellings too) in [low, high] (high None:
    no upper bound)."""

    def parse(text: str) -> int:
        try:
            value = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not (math.isfinite(value) and value == int(value)):
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
        if high is None and int(value) < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {text}")
        if high is not None and not low <= int(value) <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {text}")
        return int(value)

    parse.__name__ = "integer"
    return parse


def finite_float(text: str) -> float:
    """An argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value
