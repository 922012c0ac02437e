"""Model families, one module each; `create_model(name)` builds any registered one."""

from lnet_anet.models.registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
