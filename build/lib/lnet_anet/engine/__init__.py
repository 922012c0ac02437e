"""The training engine shared by every stage (LNet, ANet, DLDL heads)."""

from lnet_anet.engine.config import TrainConfig
from lnet_anet.engine.trainer import Trainer

__all__ = ["TrainConfig", "Trainer"]
