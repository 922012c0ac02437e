"""Markers for tests that need an optional extra of pyproject.toml."""

import importlib.util

import pytest

# the `descriptor` extra: dlib's face-recognition network needs both packages
needs_dlib = pytest.mark.skipif(
    importlib.util.find_spec("dlib") is None or importlib.util.find_spec("face_recognition_models") is None,
    reason="dlib-bin and face_recognition_models are not installed (the `descriptor` extra)",
)
