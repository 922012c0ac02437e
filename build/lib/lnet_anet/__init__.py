"""lnet_anet: face attributes in the wild.

Pipeline: data -> LNet (localize) -> ANet (features) -> heads (SVMs, DLDL) -> predict.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "Predictor", "create_model", "list_models"]


def __getattr__(name):
    # Lazy so that `import lnet_anet` stays cheap (no torch import for the CLI's --help).
    if name == "Predictor":
        from lnet_anet.inference.predictor import Predictor

        return Predictor
    if name in ("create_model", "list_models"):
        from lnet_anet.models import registry

        return getattr(registry, name)
    raise AttributeError(name)
