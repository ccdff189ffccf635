"""The script engine (DESIGN §6): a bounded pool that runs each runtime script in a fresh V8 context.

A run is a sequence of short steps, each an ``eval_cancelable`` followed by a drain of what the script
asked for (host calls, timers) once its microtasks have run. The host answers and timers come back as
further steps; the run ends when the script's body has settled and nothing it started is pending, when
it throws, or at the wall-time limit. Every context is closed after its run, whatever the outcome, so
nothing a script leaves behind (globals, prototypes, timers, an ``await`` loop) can reach another run.

Contexts cost a few milliseconds to create, so a few are kept warm, created ahead of need; a trigger
storm queues for the run slots rather than creating contexts without bound.
"""

from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
import asyncio
import json
import logging
import time

from py_mini_racer import JSEvalException

from hub.scripts.clock import epoch_ms, offset_table, zone_name
from hub.scripts.results import (
    CallKind, HostCall, Limits, ScriptCall, ScriptError, ScriptJob, ScriptResult, Status, compile_error,
    runtime_error,
)
from hub.scripts.sandbox import Sandbox

log = logging.getLogger(__name__)

_CALL_KINDS: tuple[CallKind, ...] = ("action", "query")


class EngineBusy(Exception):
    """The run queue is full; the run was not accepted."""


class ScriptEngine:
    """Runs scripts with at most ``max_concurrent`` at a time; up to ``max_queue`` more wait their turn."""

    def __init__(self, limits: Limits | None = None, max_concurrent: int = 4, max_queue: int = 10_000,
                 warm: int | None = None) -> None:
        self.limits = limits or Limits()
        self._slots = asyncio.Semaphore(max_concurrent)
        self._max_queue = max_queue
        self._waiting = 0
        self._running = 0
        self._contexts = _WarmContexts(self.limits, max_concurrent if warm is None else warm)

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
            sandbox = await self._contexts.take()
            try:
                status, error, calls = await _Run(sandbox, job, call, self.limits).execute()
                console, dropped = sandbox.console()
            finally:
                self._contexts.discard(sandbox)
            return ScriptResult(
                status, _ms_since(started), error, console, calls, dropped, (started - queued) * 1000,
            )
        finally:
            self._running -= 1
            self._slots.release()

    async def aclose(self) -> None:
        """Close the warm contexts. Runs still going are not waited for."""
        await self._contexts.aclose()


class _WarmContexts:
    """Fresh contexts made ahead of need, so a run rarely waits for one."""

    def __init__(self, limits: Limits, target: int) -> None:
        self._limits = limits
        self._target = target
        self._ready: asyncio.Queue[Sandbox | BaseException] = asyncio.Queue()
        self._creating: set[asyncio.Task[Sandbox]] = set()
        self._closing: set[Future[None]] = set()
        self._takers = 0

    async def take(self) -> Sandbox:
        self._takers += 1
        try:
            self._refill()
            item = await self._ready.get()
        finally:
            self._takers -= 1
        self._refill()
        if isinstance(item, BaseException):
            raise item
        return item

    def discard(self, sandbox: Sandbox) -> None:
        closing = sandbox.close()
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    def _refill(self) -> None:
        while self._ready.qsize() + len(self._creating) < self._target + self._takers:
            task = asyncio.create_task(Sandbox.open(self._limits))
            self._creating.add(task)
            task.add_done_callback(self._created)

    def _created(self, task: asyncio.Task[Sandbox]) -> None:
        self._creating.discard(task)
        if not task.cancelled():
            self._ready.put_nowait(task.exception() or task.result())

    async def aclose(self) -> None:
        self._target = 0
        await asyncio.gather(*self._creating, return_exceptions=True)
        while not self._ready.empty():
            item = self._ready.get_nowait()
            if isinstance(item, Sandbox):
                self.discard(item)
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

    async def execute(self) -> tuple[Status, ScriptError | None, list[ScriptCall]]:
        try:
            async with asyncio.timeout(self.limits.wall_time_s):
                status, error = await self._drive()
        except TimeoutError:
            status, error = "timeout", None
        except (JSEvalException, ValueError) as e:
            # Only a script that tampers with the built-ins the prelude relies on gets here.
            status, error = "error", ScriptError(f"The script broke its runtime: {e}")
        finally:
            for task in self._pending.values():
                task.cancel()
            for timer in self._timers.values():
                timer.cancel()
        if status != "ok" and self.sandbox.out_of_memory:
            status, error = "oom", None
        return status, error, [ScriptCall(**c) for c in self.calls]

    async def _drive(self) -> tuple[Status, ScriptError | None]:
        try:
            report = await self.sandbox.step(f"__sr.start({json.dumps(json.dumps(self._globals()))})")
        except JSEvalException as e:
            if self.sandbox.out_of_memory:
                raise
            return "error", compile_error(str(e), self.job.source)
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

    def _globals(self) -> dict[str, Any]:
        job = self.job
        now = job.now or datetime.now(UTC)
        zone = zone_name(job.timezone)
        return {
            "source": job.source,
            "now": epoch_ms(now),
            "zone": offset_table(zone, now.astimezone(UTC).date()),
            "zoneName": zone,
            "trigger": {"id": job.trigger_id, "ingredients": job.ingredients},
            "connection": {
                "serviceUserId": job.service_user_id, "currentFeatureName": job.feature_name,
                "userFeatureId": job.user_feature_id, "configuration": job.configuration,
            },
        }

    def _absorb(self, report: dict[str, Any]) -> tuple[Status, ScriptError | None] | None:
        """Act on a drain report; the run's end when it has one."""
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
        if len(self.calls) >= self.limits.max_calls or not isinstance(body, dict) or call_id in self._pending:
            self._events.put_nowait(f"__sr.fail({call_id}, 'call refused')")
            return
        record = {"kind": kind, "op_id": op_id, "body": body, "status_code": None}
        self.calls.append(record)
        self._pending[call_id] = asyncio.create_task(self._perform(call_id, record))

    async def _perform(self, call_id: int, record: dict[str, Any]) -> None:
        """Make one host call; its answer (or failure) is queued before the call stops counting as pending."""
        try:
            status_code, response = await self.host(record["kind"], record["op_id"], record["body"])
            status_code = int(status_code)
            step = f"__sr.settle({call_id}, {status_code}, {json.dumps(json.dumps(response))})"
            record["status_code"] = status_code
        except Exception:
            log.exception("script run: the host call %s %s failed", record["kind"], record["op_id"])
            step = f"__sr.fail({call_id}, {json.dumps(record['kind'] + ' failed in the hub')})"
        self._events.put_nowait(step)
        del self._pending[call_id]

    def _fire(self, timer_id: int) -> None:
        del self._timers[timer_id]
        self._events.put_nowait(f"__sr.fire({timer_id})")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000
