"""One V8 context for script runs (DESIGN §6), and the compile check for uploaded scripts.

A context is created and closed off the event loop (both take milliseconds), and driven from it with
``eval_cancelable`` only: no call here ever waits synchronously on an isolate that may be busy, so a
script stuck in a loop cannot stall the hub. Nothing but JSON strings and the console buffer (a
SharedArrayBuffer read as bytes) crosses the boundary.

A context serves one run at a time. The prelude hardens it when it is made (see prelude.js), so that after
a run that ended cleanly it can be scrubbed and serve another; the engine decides when (engine.py).
"""

from collections.abc import Callable
from concurrent.futures import Future
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TypeVar
import asyncio
import json
import queue
import secrets
import sys
import threading

from py_mini_racer import JSEvalException, init_mini_racer
from py_mini_racer._context import Context
from py_mini_racer._mini_racer import _make_context

from switchroom.hub.scripts.clock import zone_period, zone_tables
from switchroom.hub.scripts.results import LINE_OFFSET, ConsoleLine, Limits, compile_error

PRELUDE = "\n".join(
    resources.files("switchroom.hub.scripts").joinpath(name).read_text(encoding="utf-8") for name in ("moment.js", "prelude.js")
)
_LEVELS = ("log", "info", "warn", "error")
SOFT_MEMORY_SHARE = 4
"""A context whose heap, at its last garbage collection, held more than 1/SOFT_MEMORY_SHARE of the memory
cap is not reused, so no run starts with much less memory than a fresh context would give it."""
T = TypeVar("T")


class _V8Threads:
    """The threads that create and free isolates, started by the thread that initialises V8.

    V8 14 guards its code and dispatch tables with memory protection keys, a per-thread permission that
    a thread inherits from the one that starts it. Creating or freeing an isolate on a thread without it
    segfaults (in Isolate::InitializeBuiltinJSDispatchTable or Heap::StartTearDown), so these threads are
    started only once V8 is initialised, by the thread that initialised it. The isolates' own threads,
    which run the JavaScript, are started from these in turn.
    """

    def __init__(self, count: int) -> None:
        self._count = count
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._started = threading.Lock()

    def _start(self, count: int) -> None:
        init_mini_racer(ignore_duplicate_init=True)
        for n in range(count):
            threading.Thread(target=self._work, name=f"switchroom-v8-{n}", daemon=True).start()

    def _work(self) -> None:
        while True:
            future, function, args = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(*args))
                except BaseException as e:
                    future.set_exception(e)

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        if self._started.acquire(blocking=False):  # first use: start V8 and the threads (never released)
            threading.Thread(target=self._start, args=(self._count,), name="switchroom-v8-init", daemon=True).start()
        future: Future[T] = Future()
        self._jobs.put((future, function, args))
        return future


_v8_threads = _V8Threads(2)


def _new_context(loop: asyncio.AbstractEventLoop) -> tuple[ExitStack, Context]:
    """A bare context answering on ``loop``. mini-racer's public ``MiniRacer`` would also evaluate its own
    setTimeout shim here, a blocking hop through the loop that halves how fast this thread makes contexts;
    the prelude brings its own timers, so the engine uses the context underneath (pinned: mini-racer 0.14)."""
    stack = ExitStack()
    return stack, stack.enter_context(_make_context(loop))


def _free(stack: ExitStack) -> Future[None]:
    return _v8_threads.submit(stack.close)


def _prelude(bridge: str) -> str:
    """The prelude, evaluated inside a function so that only ``bridge``, a name a script cannot guess,
    reaches the bridge."""
    return f"const {bridge} = (() => {{\n{PRELUDE}\nreturn __sr;\n}})();\n"


async def _open(limits_json: str | None, zones_json: str | None = None) -> tuple[ExitStack, Context, str, object]:
    """A fresh context on the running loop with the prelude loaded (and initialised, given limits, with
    the time zone tables, given those), the name of its bridge, and what init returned.

    Never leaves a context to the garbage collector, which could free it on the wrong thread.
    """
    loop = asyncio.get_running_loop()
    made = asyncio.wrap_future(_v8_threads.submit(_new_context, loop))
    try:
        stack, racer = await asyncio.shield(made)
    except asyncio.CancelledError:
        made.add_done_callback(lambda f: f.cancelled() or f.exception() or _free(f.result()[0]))
        raise
    try:
        bridge = f"__sr_{secrets.token_hex(16)}"
        init = "0" if limits_json is None else f"{bridge}.init({json.dumps(limits_json)})"
        if zones_json is not None:
            init = f"{bridge}.zones({json.dumps(zones_json)}); {init}"
        return stack, racer, bridge, await racer.eval_cancelable(f"{_prelude(bridge)}{init}")
    except BaseException:
        _free(stack)
        raise


class Sandbox:
    """A context with the prelude loaded: one run at a time, and another only after a clean one."""

    def __init__(self, stack: ExitStack, racer: Context, console: memoryview, bridge: str, zone_period: int) -> None:
        self._stack = stack
        self._racer = racer
        self._console = console
        self._bridge = bridge
        self._drain = f"{bridge}.drain()"
        self.runs = 0
        """Runs started in this context."""
        self.zone_period = zone_period
        """The period whose time zone tables the context holds (clock.py)."""

    @classmethod
    async def open(cls, limits: Limits) -> "Sandbox":
        """A new sandbox answering on the running loop; the isolate is made off the loop."""
        settings = json.dumps({
            "consoleBytes": limits.console_bytes, "consoleLines": limits.console_lines,
            "maxCalls": limits.max_calls, "maxBodyBytes": limits.max_body_bytes, "maxIdChars": limits.max_id_chars, "maxErrorChars": limits.max_error_chars, "maxCompileChars": limits.max_compile_chars, "maxTimers": limits.max_timers,
            "lineOffset": LINE_OFFSET,
        })
        period = zone_period(datetime.now(UTC))
        stack, racer, bridge, console = await _open(settings, await zone_tables(period))
        assert isinstance(console, memoryview)
        racer.set_hard_memory_limit(limits.memory_bytes)
        racer.set_soft_memory_limit(limits.memory_bytes // SOFT_MEMORY_SHARE)
        return cls(stack, racer, console, bridge, period)

    def code(self, function: str, *args: Any) -> str:
        """The code that calls the bridge's ``function`` with ``args`` (JSON values)."""
        return f"{self._bridge}.{function}({', '.join(json.dumps(arg) for arg in args)})"

    async def start(self, run: dict[str, Any], zones: str | None, period: int) -> str | None:
        """Start a run (``run`` is the prelude's start() input) and return the first drain; None, having
        run nothing, when the context is neither fresh nor scrubbed after a clean run. ``zones``, when
        given, are the time zone tables of ``period`` (clock.py), which the context holds from then on."""
        self.runs += 1
        started, report = await self._eval_and_drain(self.code("start", json.dumps(run), zones))
        if started is not True:
            return None
        self.zone_period = period
        return str(report)

    async def step(self, code: str) -> str:
        """Evaluate ``code``, then drain what the script asked for once the microtasks it started have run."""
        return str((await self._eval_and_drain(code))[1])

    async def _eval_and_drain(self, code: str) -> tuple[object, object]:
        """Both evaluations are queued at once (the isolate runs them in order), saving a round trip."""
        done, report = await asyncio.gather(
            self._racer.eval_cancelable(code), self._racer.eval_cancelable(self._drain),
            return_exceptions=True,
        )
        for outcome in (done, report):
            if isinstance(outcome, BaseException):
                raise outcome
        return done, report

    @property
    def out_of_memory(self) -> bool:
        return self._racer.was_hard_memory_limit_reached()

    @property
    def memory_high(self) -> bool:
        """The heap held more than the soft limit at the last garbage collection."""
        return self._racer.was_soft_memory_limit_reached()

    def console(self) -> tuple[list[ConsoleLine], int]:
        """The console lines written so far, and how many were dropped. Safe while the script runs."""
        view = self._console
        used = min(int.from_bytes(view[0:4], sys.byteorder, signed=True), len(view) - 8)
        dropped = int.from_bytes(view[4:8], sys.byteorder, signed=True)
        data = bytes(view[8:8 + max(used, 0)])
        lines, pos = [], 0
        while pos + 5 <= len(data):
            level, length = data[pos], int.from_bytes(data[pos + 1:pos + 5], "little")
            text = data[pos + 5:pos + 5 + length].decode("utf-8", "replace")
            lines.append(ConsoleLine(_LEVELS[level] if level < len(_LEVELS) else "log", text))
            pos += 5 + length
        return lines, max(dropped, 0)

    def close(self) -> Future[None]:
        """Stop whatever JavaScript still runs and free the isolate, off the loop (it takes a millisecond)."""
        self._console.release()
        return _free(self._stack)


async def check_script(source: str) -> tuple[str, int | None, int | None] | None:
    """None when ``source`` compiles as a runtime script, else (message, line, column) of the first error.

    Compiles the script exactly as a run does, without running it, in a throwaway context.
    """
    stack, racer, bridge, _ = await _open(None)
    try:
        await racer.eval_cancelable(f"{bridge}.compile({json.dumps(source)}); 0")
    except JSEvalException as e:
        error = compile_error(str(e), source)
        return error.message, error.line, error.column
    finally:
        _free(stack)
    return None
