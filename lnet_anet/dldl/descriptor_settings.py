"""The face descriptor's settings and install hint (lnet_anet.dldl.descriptor), importable without
torch, dlib or ONNX Runtime: predict's and fit_descriptor_head's --help name them in a fraction of a
second."""

from __future__ import annotations

REFINES = ("map", "hog")  # how the 5 landmarks are placed: a map fitted on LNet's box, or dlib's HOG detector
PRECISIONS = ("int8", "fp32")  # the ported network on ONNX Runtime, quantized or not
DEFAULT_SETTINGS = {"refine": "map", "precision": "int8"}  # FaceDescriptor's defaults
# How to add the `descriptor` extra, into the environment lnet_anet runs in
INSTALL = ("pip install dlib-bin face_recognition_models==0.3.0 with the pip of lnet_anet's environment "
           "(.venv/bin/pip after make install; in a clone, pip install -e '.[descriptor]' does the same)")

__all__ = ["DEFAULT_SETTINGS", "INSTALL", "PRECISIONS", "REFINES"]
