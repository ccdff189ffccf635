"""The base of the protocol's models."""

from pydantic import BaseModel, ConfigDict


class ProtocolModel(BaseModel):
    """A model whose validators are built the first time it is used, not when it is imported: the
    dashboard imports many models it never validates with, and building them all cost a tenth of its
    start."""

    model_config = ConfigDict(defer_build=True)
