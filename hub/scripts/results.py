"""What goes into a script run and what comes out of it (DESIGN §6), as plain dataclasses.

The hub turns a ``ScriptResult`` into a ``script_run`` record (DESIGN §7); ``dataclasses.asdict`` gives
the JSON-ready body.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
import re

Status = Literal["ok", "error", "timeout", "oom"]
CallKind = Literal["action", "query"]

HostCall = Callable[[CallKind, str, dict[str, Any]], Awaitable[tuple[int, Any]]]
"""``call(kind, op_id, body) -> (status_code, response_body)``: how a script's runAction/performQuery
reach the hub. The answer must be JSON-serialisable; raising makes the script's promise reject."""

# The user's script is compiled as the body of an AsyncFunction, whose source text (per the spec's
# CreateDynamicFunction) is "async function anonymous(__sr\n) {\n" + body, so body line 1 is line 3.
LINE_OFFSET = 2
_FRAME = re.compile(r"script\.js:(\d+):(\d+)")
_ENGINE_FRAME = re.compile(r"\n\s+at (?:Object\.\w+ \()?<anonymous>:\d+:\d+\)?(?=\n|$)")


@dataclass(frozen=True)
class Limits:
    """Per-run limits: wall time, V8 heap (mini-racer's hard limit), console output (the rest is dropped
    and counted), runAction/performQuery calls, the length of each id and the size of each body, and
    pending timers."""

    wall_time_s: float = 10.0
    memory_bytes: int = 64 * 1024 * 1024
    console_bytes: int = 64 * 1024
    console_lines: int = 1000
    max_calls: int = 50
    max_body_bytes: int = 64 * 1024
    max_id_chars: int = 200
    max_error_chars: int = 16 * 1024
    max_compile_chars: int = 64 * 1024
    """Of a pattern given as text to RegExp, match, matchAll or search, or code given to eval or a Function
    constructor, what a run may compile (parsing takes memory outside the V8 heap)."""
    """Of a thrown error's name, message and stack, each, what the context reports (the rest is cut)."""
    max_timers: int = 1000


@dataclass(frozen=True)
class ScriptJob:
    """One run's input: the script and the globals it sees."""

    source: str
    trigger_id: str
    ingredients: dict[str, Any] = field(default_factory=dict)
    service_user_id: str = ""
    feature_name: str = ""
    user_feature_id: str = ""
    configuration: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    now: datetime | None = None
    """The time Meta.currentUserTime shows (an aware datetime); the current time when None."""


@dataclass(frozen=True)
class ScriptError:
    message: str
    stack: str | None = None
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class ConsoleLine:
    level: Literal["log", "info", "warn", "error"]
    text: str


@dataclass(frozen=True)
class ScriptCall:
    """One runAction/performQuery the host performed; ``status_code`` is None when it got no answer
    (the host call raised, or the run ended first)."""

    kind: CallKind
    op_id: str
    body: dict[str, Any]
    status_code: int | None


@dataclass(frozen=True)
class ScriptResult:
    status: Status
    duration_ms: float
    error: ScriptError | None = None
    console: list[ConsoleLine] = field(default_factory=list)
    calls: list[ScriptCall] = field(default_factory=list)
    console_dropped: int = 0
    """Console lines left out because the run reached its line or byte limit."""
    queued_ms: float = 0.0
    context_run: int = 1
    """Which run this was in its V8 context: 1 in a fresh context, n after n - 1 clean runs in it."""


def runtime_error(name: str, message: str, stack: str | None) -> ScriptError:
    """A thrown error, with the line and column of its innermost frame in the user's script."""
    text = f"{name}: {message}" if name and message else name or message
    if stack is None:
        return ScriptError(text)
    frame = _FRAME.search(stack)
    user_stack = _FRAME.sub(lambda m: f"script.js:{int(m[1]) - LINE_OFFSET}:{m[2]}", _ENGINE_FRAME.sub("", stack))
    if frame is None:
        return ScriptError(text, user_stack)
    return ScriptError(text, user_stack, int(frame[1]) - LINE_OFFSET, int(frame[2]))


def compile_error(message: str, source: str) -> ScriptError:
    """A SyntaxError from compiling ``source``, from mini-racer's message, which reads
    ``<file>:<line>: SyntaxError: <text>`` then the source line and a caret under the column.

    An error found past the script's end (an unclosed block) is placed just after its last character.
    """
    lines = message.split("\n")
    head = re.match(r"[^\n]*?:(\d+): (.*)", lines[0])
    if head is None:
        return ScriptError(lines[0])
    line = int(head[1]) - LINE_OFFSET
    caret = lines[2].find("^") if len(lines) > 2 else -1
    source_lines = source.split("\n")
    if line > len(source_lines):
        return ScriptError(head[2], None, len(source_lines), len(source_lines[-1]) + 1)
    return ScriptError(head[2], None, line, caret + 1 if caret >= 0 else None)
