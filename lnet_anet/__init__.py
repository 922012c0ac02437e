"""lnet_anet: face attributes in the wild.

Pipeline: data -> LNet (localize) -> ANet (features) -> heads (SVMs, DLDL) -> predict.
"""

__version__ = "0.1.0"


def _register_config_resolvers() -> None:
    """${lnet_anet.asset:NAME}: a file shipped in lnet_anet/assets, as an absolute path, so that
    the configs name the embedded bundle from any working directory (or an installed wheel)."""
    from pathlib import Path

    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("lnet_anet.asset"):
        OmegaConf.register_new_resolver("lnet_anet.asset", lambda name: str(Path(__file__).parent / "assets" / name))


_register_config_resolvers()

__all__ = ["__version__", "FaceTracker", "Predictor", "create_model", "list_models"]


def __getattr__(name):
    # Lazy so that `import lnet_anet` stays cheap (no torch import for the CLI's --help).
    if name == "Predictor":
        from lnet_anet.inference.predictor import Predictor

        return Predictor
    if name == "FaceTracker":
        from lnet_anet.inference.tracking import FaceTracker

        return FaceTracker
    if name in ("create_model", "list_models"):
        from lnet_anet.models import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'lnet_anet' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
