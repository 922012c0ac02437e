"""Heads on top of ANet features: per-attribute linear SVMs (svm) and DLDL-v2 label
distributions (label_distribution)."""

from lnet_anet.heads.svm import LinearSVMHead, fit_linear_svms

__all__ = ["LinearSVMHead", "fit_linear_svms"]
