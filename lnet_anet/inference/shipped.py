"""Where the files that ship inside the package are (lnet_anet/assets), importable without torch,
so that a command's --help names its defaults in a fraction of a second."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEFAULT_BUNDLE = ASSETS / "default.lnetanet"  # the embedded bundle: Predictor.load() with no path reads it

__all__ = ["ASSETS", "DEFAULT_BUNDLE"]
