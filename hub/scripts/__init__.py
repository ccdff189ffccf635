"""Runtime scripts (DESIGN §6): JavaScript run once per trigger event in a sandboxed V8 context (fresh, or
reused only after a clean run that left nothing behind)."""

from switchroom.hub.scripts.engine import EngineBusy, ScriptEngine
from switchroom.hub.scripts.results import (
    ConsoleLine, HostCall, Limits, ScriptCall, ScriptError, ScriptJob, ScriptResult, Status,
)
from switchroom.hub.scripts.sandbox import check_script

__all__ = [
    "ConsoleLine", "EngineBusy", "HostCall", "Limits", "ScriptCall", "ScriptEngine", "ScriptError", "ScriptJob",
    "ScriptResult", "Status", "check_script",
]
