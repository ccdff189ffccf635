"""The wire contract between hub and dashboard: the only package both sides import.

Its names are loaded on first use (PEP 562), so that importing one pydantic-free part of it — the batch
cutting in ``protocol.batches``, say — does not import pydantic and every model with it.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {
    "switchroom.protocol.catalog": ("Connection", "Feature", "Service", "UserConnection"),
    "switchroom.protocol.codec": ("dumps", "loads"),
    "switchroom.protocol.errors": ("ErrorBody", "ErrorDetail"),
    "switchroom.protocol.frames": ("PROTOCOL_VERSION", "BatchFrame", "ErrorFrame", "HeartbeatFrame", "HelloFrame", "ServerFrame",
                        "SubscribeFrame", "parse_server_frame"),
    "switchroom.protocol.records": ("ApiCall", "Direction", "Record", "Rerun", "ScriptRun", "ScriptRunCall",
                                    "ScriptRunError", "ScriptRunLine", "Source", "TriggerEvent", "body_of"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_HOME_OF)


def __getattr__(name: str) -> Any:
    if name not in _HOME_OF:
        raise AttributeError(f"module 'protocol' has no attribute {name!r}")
    value = getattr(import_module(_HOME_OF[name]), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # the names, for type checkers and editors
    from switchroom.protocol.catalog import Connection, Feature, Service, UserConnection  # noqa: F401
    from switchroom.protocol.codec import dumps, loads  # noqa: F401
    from switchroom.protocol.errors import ErrorBody, ErrorDetail  # noqa: F401
    from switchroom.protocol.frames import (PROTOCOL_VERSION, BatchFrame, ErrorFrame, HeartbeatFrame, HelloFrame, ServerFrame,
                                 SubscribeFrame, parse_server_frame)  # noqa: F401
    from switchroom.protocol.records import (ApiCall, Direction, Record, Rerun, ScriptRun, ScriptRunCall,
                                             ScriptRunError, ScriptRunLine, Source, TriggerEvent, body_of)  # noqa: F401
