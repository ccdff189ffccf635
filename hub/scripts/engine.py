"""The script engine (DESIGN §6): a bounded pool that runs each runtime script in a sandboxed V8 context.

A run is a sequence of short steps, each an ``eval_cancelable`` followed by a drain of what the script
asked for (host calls, timers) once its microtasks have run. The host answers and timers come back as
further steps; the run ends when the script's body has settled and nothing it started is pending, when
it throws, or at the wall-time limit.

A context costs several milliseconds of CPU to make, so it may serve more than one run, under one rule:
only after a run that ended ``ok`` with nothing pending, which the prelude then scrubbed (its built-ins
were frozen when it was made, its global object is put back as it was, its own state reset; see
prelude.js), and at most MAX_RUNS_PER_CONTEXT times. A context whose run timed out, ran out of memory,
failed, was cancelled, or could not be scrubbed is closed, never reused, and so is one whose heap grew
past a quarter of the memory cap. Contexts are made ahead of need (``warm`` of them) and kept after clean
runs (up to one per run slot); a trigger storm queues for the run slots rather than creating contexts
without bound.
"""

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
import asyncio
import json
import logging
import os
import time

from py_mini_racer import JSEvalException

from switchroom.hub.scripts.clock import epoch_ms, zone_name, zone_period, zone_tables
from switchroom.hub.scripts.results import (
    CallKind, HostCall, Limits, ScriptCall, ScriptError, ScriptJob, ScriptResult, Status, compile_error,
    runtime_error,
)
from switchroom.hub.scripts.sandbox import Sandbox

log = logging.getLogger(__name__)

_CALL_KINDS: tuple[CallKind, ...] = ("action", "query")
MAX_RUNS_PER_CONTEXT = 100
"""Clean runs a context may serve before it is closed and replaced by a fresh one."""


class EngineBusy(Exception):
    """The run queue is full; the run was not accepted."""


class _NotScrubbed(Exception):
    """The context refused to start a run: it was not fresh, nor scrubbed after a clean run."""


class ScriptEngine:
    """Runs scripts with at most ``max_concurrent`` at a time; up to ``max_queue`` more wait their turn.
    ``warm`` contexts (``max_concurrent`` by default) are made ahead of need; contexts clean runs leave
    are kept for the next runs, up to ``max(warm, max_concurrent)``."""

    def __init__(self, limits: Limits | None = None, max_concurrent: int = 4, max_queue: int = 10_000,
                 warm: int | None = None) -> None:
        self.limits = limits or Limits()
        self._slots = asyncio.Semaphore(max_concurrent)
        self._max_queue = max_queue
        self._waiting = 0
        self._running = 0
        warm = max_concurrent if warm is None else warm
        self._contexts = _Contexts(self.limits, warm, max(warm, max_concurrent))

    @property
    def queue_depth(self) -> int:
        """Runs accepted and waiting for a slot."""
        return self._waiting

    @property
    def running(self) -> int:
        return self._running

    async def run(self, job: ScriptJob, call: HostCall) -> ScriptResult:
        """Run ``job`` once; ``call`` performs its runAction/performQuery calls. Raises EngineBusy when the
        queue is full; every other outcome, a broken script included, is a ScriptResult."""
        if self._waiting >= self._max_queue:
            raise EngineBusy(f"{self._waiting} script runs are already waiting")
        queued = time.perf_counter()
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._running += 1
        try:
            started = time.perf_counter()
            for fresh in (False, True):
                sandbox = await self._contexts.take(fresh)
                reusable = False
                try:
                    run = _Run(sandbox, job, call, self.limits)
                    try:
                        status, error, calls = await run.execute()
                    except _NotScrubbed:  # not expected: the engine offers only contexts a clean run left
                        log.error("script run: a context refused a run (fresh: %s); closed", fresh)
                        continue
                    console, dropped = sandbox.console()
                    reusable = run.reusable
                finally:
                    self._contexts.give_back(sandbox, reusable)
                return ScriptResult(
                    status, _ms_since(started), error, console, calls, dropped, (started - queued) * 1000,
                    sandbox.runs,
                )
            return ScriptResult("error", _ms_since(started), ScriptError("The engine could not start the run"))
        finally:
            self._running -= 1
            self._slots.release()

    async def aclose(self) -> None:
        """Close the contexts kept ready. Runs still going are not waited for."""
        await self._contexts.aclose()


class _Contexts:
    """Contexts ready for a run: fresh ones made ahead of need, and ones scrubbed after a clean run.

    Fresh ones are made so that ``warm`` are ready once the runs going give theirs back; up to ``keep``
    are kept ready. A run that finds none waits for one made for it (or given back first). The most
    recently used context is taken first, the one whose code V8 has compiled most recently.
    """

    def __init__(self, limits: Limits, warm: int, keep: int) -> None:
        self._limits = limits
        self._warm = warm
        self._keep = keep
        self._ready: list[Sandbox] = []
        self._waiters: deque[asyncio.Future[Sandbox]] = deque()
        self._creating: set[asyncio.Task[Sandbox]] = set()
        self._in_use = 0
        self._closing: set[Future[None]] = set()
        self._closed = False

    async def take(self, fresh: bool = False) -> Sandbox:
        """A context for a run; with ``fresh``, a new one made for it, never one that served a run."""
        if fresh:
            sandbox = await Sandbox.open(self._limits)
            self._in_use += 1
        elif self._ready:
            sandbox = self._ready.pop()
            self._in_use += 1
        else:
            waiter: asyncio.Future[Sandbox] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            self._refill()
            try:
                sandbox = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    self._in_use -= 1  # handed over just as the run was cancelled: still unused
                    self._offer(waiter.result())
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self._refill()
        return sandbox

    def give_back(self, sandbox: Sandbox, reusable: bool) -> None:
        """Return a context after a run: kept for another only when the run left it ``reusable``."""
        self._in_use -= 1
        if reusable and sandbox.runs < MAX_RUNS_PER_CONTEXT:
            self._offer(sandbox)
        else:
            self._close(sandbox)
        self._refill()

    def _offer(self, sandbox: Sandbox) -> None:
        """A context ready for a run: to the first run waiting, else kept up to ``keep``, else closed."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(sandbox)
                self._in_use += 1
                return
        if len(self._ready) < self._keep and not self._closed:
            self._ready.append(sandbox)
        else:
            self._close(sandbox)

    def _close(self, sandbox: Sandbox) -> None:
        closing = sandbox.close()
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    def _refill(self) -> None:
        """Make contexts for the runs waiting, and enough that ``warm`` will be ready once the runs going
        give theirs back (none once closed)."""
        warm = 0 if self._closed else self._warm
        wanted = max(len(self._waiters), warm - len(self._ready) - self._in_use)
        while len(self._creating) < wanted:
            task = asyncio.create_task(Sandbox.open(self._limits))
            self._creating.add(task)
            task.add_done_callback(self._created)

    def _created(self, task: asyncio.Task[Sandbox]) -> None:
        self._creating.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            self._offer(task.result())
            return
        while self._waiters:  # a run waiting for a context gets the failure rather than waiting for ever
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)
                return
        log.error("script engine: could not make a context", exc_info=error)

    async def aclose(self) -> None:
        """Close the contexts kept ready; from now on a context is made only for a run that asks."""
        self._closed = True
        await asyncio.gather(*self._creating, return_exceptions=True)
        while self._ready:
            self._close(self._ready.pop())
        # Freed before the loop goes: a context's last callbacks are delivered to it.
        await asyncio.gather(*(asyncio.wrap_future(f) for f in list(self._closing)), return_exceptions=True)


@dataclass
class _Run:
    """One run's lifecycle in its sandbox: start, steps, and the outcome."""

    sandbox: Sandbox
    job: ScriptJob
    host: HostCall
    limits: Limits
    calls: list[dict[str, Any]] = field(default_factory=list)
    _events: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    _pending: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    _timers: dict[int, asyncio.TimerHandle] = field(default_factory=dict)
    _scrubbed: bool = False
    reusable: bool = False
    """Set by execute(): the run ended ok and left its context fit for another (see the module's rule)."""

    async def execute(self) -> tuple[Status, ScriptError | None, list[ScriptCall]]:
        now = self.job.now or datetime.now(UTC)
        period = zone_period(now)
        # The time zone tables of another period than the context holds: before the clock starts, since
        # working them out (once per period) is no part of the script's time.
        zones = None if self.sandbox.zone_period == period else await zone_tables(period)
        try:
            async with asyncio.timeout(self.limits.wall_time_s):
                status, error = await self._drive(now, zones, period)
        except TimeoutError:
            status, error = "timeout", None
        except (JSEvalException, ValueError) as e:
            # A bridge call failed or its report made no sense: not expected, the built-ins it uses are
            # frozen or its own, but the context is not trusted either way.
            status, error = "error", ScriptError(f"The script broke its runtime: {e}")
        finally:
            for task in self._pending.values():
                task.cancel()
            for timer in self._timers.values():
                timer.cancel()
        if status != "ok" and self.sandbox.out_of_memory:
            status, error = "oom", None
        self.reusable = (
            status == "ok" and self._scrubbed and not self.sandbox.out_of_memory and not self.sandbox.memory_high
        )
        return status, error, [ScriptCall(**c) for c in self.calls]

    async def _drive(self, now: datetime, zones: str | None, period: int) -> tuple[Status, ScriptError | None]:
        try:
            first = await self.sandbox.start(self._globals(now), zones, period)
        except JSEvalException as e:
            if self.sandbox.out_of_memory:
                raise
            return "error", compile_error(str(e), self.job.source)
        if first is None:
            raise _NotScrubbed
        report = first
        while True:
            if self.sandbox.out_of_memory:  # the memory cap stopped microtasks that ran after the step
                return "oom", None
            if len(report) > self._report_cap:
                return "error", ScriptError("The script asked the hub for more than a run may")
            parsed = json.loads(report)
            if not isinstance(parsed, dict):
                raise ValueError("the drain report is not an object")
            ended = self._absorb(parsed)
            if ended is not None:
                return ended
            report = await self.sandbox.step(await self._events.get())

    @property
    def _report_cap(self) -> int:
        """The most a drain can legitimately hold: every call with the largest body, plus room for timers."""
        return self.limits.max_calls * (self.limits.max_body_bytes + 1024) + 64 * 1024

    def _globals(self, now: datetime) -> dict[str, Any]:
        job = self.job
        seed = os.urandom(16)  # Math.random's, fresh for every run
        return {
            "source": job.source,
            "now": epoch_ms(now),
            "zone": zone_name(job.timezone),
            "seed": [int.from_bytes(seed[i:i + 4], "little") for i in range(0, 16, 4)],
            "trigger": {"id": job.trigger_id, "ingredients": job.ingredients},
            "connection": {
                "serviceUserId": job.service_user_id, "currentFeatureName": job.feature_name,
                "userFeatureId": job.user_feature_id, "configuration": job.configuration,
            },
        }

    def _absorb(self, report: dict[str, Any]) -> tuple[Status, ScriptError | None] | None:
        """Act on a drain report; the run's end when it has one."""
        self._scrubbed = report.get("reusable") is True
        requests = report.get("out")
        for request in requests if isinstance(requests, list) else []:
            self._request(request)
        outcome = report.get("outcome")
        if not isinstance(outcome, dict):
            return None
        if outcome.get("status") == "error":
            e = outcome.get("error") or {}
            return "error", runtime_error(str(e.get("name") or ""), str(e.get("message") or ""), _text(e.get("stack")))
        if not self._pending and not self._timers and self._events.empty():
            return "ok", None
        return None

    def _request(self, request: Any) -> None:
        """One thing the script asked for. Checked here again: the context is untrusted."""
        match request:
            case ["call", int(call_id), str(kind), str(op_id), str(body)] if kind in _CALL_KINDS:
                self._start_call(call_id, kind, op_id, body)
            case ["timer", int(timer_id), int(delay) | float(delay)] if (
                timer_id not in self._timers and len(self._timers) < self.limits.max_timers
            ):
                loop = asyncio.get_running_loop()
                self._timers[timer_id] = loop.call_later(max(delay, 1) / 1000, self._fire, timer_id)
            case ["clear", int(timer_id)] if timer_id in self._timers:
                self._timers.pop(timer_id).cancel()
            case _:
                log.debug("script run: ignored a malformed request from the context: %.200r", request)

    def _start_call(self, call_id: int, kind: CallKind, op_id: str, body_json: str) -> None:
        try:
            body = json.loads(body_json) if len(body_json) <= self.limits.max_body_bytes else None
        except ValueError:
            body = None
        if (len(self.calls) >= self.limits.max_calls or not isinstance(body, dict) or call_id in self._pending
                or len(op_id) > self.limits.max_id_chars):
            self._events.put_nowait(self.sandbox.code("fail", call_id, "call refused"))
            return
        record = {"kind": kind, "op_id": op_id, "body": body, "status_code": None}
        self.calls.append(record)
        self._pending[call_id] = asyncio.create_task(self._perform(call_id, record))

    async def _perform(self, call_id: int, record: dict[str, Any]) -> None:
        """Make one host call; its answer (or failure) is queued before the call stops counting as pending."""
        try:
            status_code, response = await self.host(record["kind"], record["op_id"], record["body"])
            status_code = int(status_code)
            step = self.sandbox.code("settle", call_id, status_code, json.dumps(response))
            record["status_code"] = status_code
        except Exception:
            log.exception("script run: the host call %s %s failed", record["kind"], record["op_id"])
            step = self.sandbox.code("fail", call_id, record["kind"] + " failed in the hub")
        self._events.put_nowait(step)
        del self._pending[call_id]

    def _fire(self, timer_id: int) -> None:
        del self._timers[timer_id]
        self._events.put_nowait(self.sandbox.code("fire", timer_id))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000
