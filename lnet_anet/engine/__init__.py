"""The training engine shared by every stage (LNet, ANet, DLDL heads)."""

__all__ = ["TrainConfig", "Trainer"]


def __getattr__(name):
    # Lazy, so that a command needing one small module of the engine (e.g. engine.signals, which
    # predict uses) does not import the Trainer and its data loaders (~0.2 s of every start).
    if name == "TrainConfig":
        from lnet_anet.engine.config import TrainConfig

        return TrainConfig
    if name == "Trainer":
        from lnet_anet.engine.trainer import Trainer

        return Trainer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
