"""Script trials: a candidate version of a connection's runtime script, run over recorded trigger events
with nothing reaching a service, and compared event by event with the runs that happened.

Each event runs through the candidate in the same engine, sandbox and limits as a live run. Its
``runAction``/``performQuery`` calls are resolved and validated exactly as a live call is (the same
fields, the same 422 details, against today's catalog and users), then answered without calling the
service: from the original run's call with the same operation and resolved fields (the first unused one,
in order), else by a stand-in — an action as if the service took it (204), a query as an empty list —
or, when the trial asks for ``live_queries``, by the service itself for queries (a query changes
nothing). Actions never run. Nothing a trial does is an ``api_call`` or a ``script_run``: the trial is one
``script_trial`` record, counted in no figure.

A trial runs at most ``TRIAL_CONCURRENCY`` events at a time, so live runs keep most of the engine.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any
import asyncio
import time
import uuid

from switchroom.hub.catalog import Catalog
from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.hub.runner import (DEFAULT_QUERY_LIMIT, OperationRequest, OperationRunner, query_answer,
                                   query_limit, raise_for)
from switchroom.hub.recorder import Recorder
from switchroom.hub.script_runs import script_version
from switchroom.hub.scripts import EngineBusy, ScriptEngine, ScriptJob, ScriptResult
from switchroom.hub.scripts.results import CallKind, ScriptError
from switchroom.hub.scripts.sandbox import check_script
from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN, TRIGGER_EVENT
from switchroom.protocol.ops import MAX_TRIAL_EVENTS, ScriptTrialRequest
from switchroom.protocol.ops_answers import (CallAnswerSource, TrialCall, TrialConsoleLine, TrialError, TrialFailed,
                                             TrialItem, TrialRun, TrialStarted, TrialSummary, TrialVerdict)
from switchroom.protocol.records import MAX_TRIAL_ITEMS, ScriptTrial, ScriptTrialItem
from switchroom.store import EventLog
from switchroom.store.eventlog import record_of
from switchroom.store.filters import FilterError, RecordFilter, parse_filter
from switchroom.store.related import LOOK_AHEAD

TRIAL_CONCURRENCY = 2
DEFAULT_LAST = 100
FAILED = ("error", "timeout", "oom")
STAND_INS: dict[CallKind, tuple[int, Any]] = {"action": (204, None), "query": (200, {"type": "list", "data": []})}
"""What a call gets when the original run made no such call (and a query is not performed live)."""

TrialLine = TrialStarted | TrialItem | TrialSummary | TrialFailed


@dataclass(frozen=True)
class RecordedCall:
    """One call an original run made, as its inbound ``api_call`` record kept it."""

    kind: CallKind
    op_id: str
    fields: dict[str, Any] | None
    status_code: int | None
    answer: Any
    """The Connect API answer the script got: a query's list, an error's body, None for a 204."""

    @property
    def whole(self) -> bool:
        """Whether the answer was kept whole (the log cuts a large body to text)."""
        return not isinstance(self.answer, str)


@dataclass(frozen=True)
class OriginalRun:
    record: dict[str, Any]
    calls: list[RecordedCall]


@dataclass(frozen=True)
class TrialPlan:
    trial_id: str
    request: ScriptTrialRequest
    actor: str
    events: list[dict[str, Any]]
    originals: dict[int, OriginalRun]
    capped: bool
    live_version: str | None


@dataclass
class ScriptTrials:
    engine: ScriptEngine
    catalog: Callable[[], Catalog]
    """The catalog in force now (it may be reloaded)."""
    users: Any
    runner: OperationRunner
    recorder: Recorder

    async def plan(self, request: ScriptTrialRequest, actor: str) -> TrialPlan:
        """Check the request and read the events it names with their original runs; a ``ConnectApiError``
        (404 unknown connection, 422 a script that does not compile or a filter that means nothing)."""
        connection = self.catalog().connection(request.connection_id)  # 404 when there is none
        if request.filter is not None and request.last is not None:
            raise ConnectApiError("invalid_parameters", "give filter or last, not both",
                                  [field_error("/last", "give filter or last, not both")])
        problem = await check_script(request.source)
        if problem is not None:
            message, line, column = problem
            where = f"line {line}, column {column}: " if line else ""
            raise ConnectApiError("invalid_parameters", f"the candidate script does not compile: {where}{message}",
                                  [field_error("/source", f"{where}{message}")])
        try:
            chosen = parse_filter(request.filter or "", RecordFilter(kinds=(TRIGGER_EVENT,), connection_id=connection.id))
        except FilterError as exc:
            raise ConnectApiError("invalid_parameters", f"filter: {exc}", [field_error("/filter", str(exc))]) from None
        chosen = replace(chosen, kinds=(TRIGGER_EVENT,), connection_id=connection.id)  # whatever the filter said
        wanted = request.last or (MAX_TRIAL_EVENTS if request.filter is not None else DEFAULT_LAST)
        events, capped, originals = await self.recorder.read(lambda log: _events_and_runs(log, chosen, wanted))
        live = connection.runtime_script
        return TrialPlan(uuid.uuid4().hex, request, actor, events, originals,
                         capped and request.last is None, script_version(live) if live else None)

    async def run(self, plan: TrialPlan) -> AsyncIterator[TrialLine]:
        """The trial's lines: started, one item per event in event order, then the summary (or an error)."""
        started = time.perf_counter()
        request = plan.request
        yield TrialStarted(trial_id=plan.trial_id, connection_id=request.connection_id, events=len(plan.events),
                           capped=plan.capped, script_version=script_version(request.source),
                           live_version=plan.live_version)
        slots = asyncio.Semaphore(TRIAL_CONCURRENCY)
        tasks = [asyncio.create_task(self._item(plan, n, event, slots)) for n, event in enumerate(plan.events, 1)]
        items: list[TrialItem] = []
        try:
            for task in tasks:
                item = await task
                items.append(item)
                yield item
        except EngineBusy as exc:
            yield TrialFailed(code="engine_busy", message=f"The trial stopped: {exc}")
            return
        finally:
            for task in tasks:
                task.cancel()
        yield await self._summary(plan, items, (time.perf_counter() - started) * 1000)

    async def _item(self, plan: TrialPlan, index: int, event: dict[str, Any], slots: asyncio.Semaphore) -> TrialItem:
        original = plan.originals.get(int(event["seq"]))
        async with slots:
            candidate = await self._candidate(plan, event, original)
        before = _original_run(original) if original is not None else None
        return TrialItem(index=index, trigger_event_id=int(event["seq"]), ts=event.get("ts"),
                         user_id=event.get("user_id"), verdict=verdict(before, candidate), original=before,
                         candidate=candidate)

    async def _candidate(self, plan: TrialPlan, event: dict[str, Any], original: OriginalRun | None) -> TrialRun:
        connection = self.catalog().connection(plan.request.connection_id)
        feature = next((f for f in connection.features if f.id == event.get("feature_id")), None)
        user_id = str(event.get("user_id", ""))
        user_connection = self.users.get(user_id, connection.id)
        job = ScriptJob(
            source=plan.request.source, trigger_id=str(event.get("trigger_id", "")),
            ingredients=event.get("ingredients") or {}, service_user_id=user_id,
            feature_name=feature.name if feature else "", user_feature_id=str(event.get("user_feature_id", "")),
            configuration=connection.configuration, timezone=user_connection.timezone if user_connection else "UTC",
        )
        calls = TrialCalls(self.runner, self.catalog(), connection.id, str(event.get("feature_id", "")), user_id,
                           job.user_feature_id, original.calls if original else [], plan.request.live_queries)
        result = await self.engine.run(job, calls.call)
        return _candidate_run(result, calls.made)

    async def _summary(self, plan: TrialPlan, items: list[TrialItem], duration_ms: float) -> TrialSummary:
        counts = {name: sum(item.verdict == name for item in items)
                  for name in ("fixed", "broken", "changed", "unchanged", "still_failing", "no_original")}
        notable = sorted((item for item in items if item.verdict in ("broken", "fixed", "changed")),
                         key=lambda item: ("broken", "fixed", "changed").index(item.verdict))
        request = plan.request
        record = ScriptTrial(
            trial_id=plan.trial_id, actor=plan.actor, reason=request.reason or None, connection_id=request.connection_id,
            script_version=script_version(request.source), live_version=plan.live_version, filter=request.filter,
            last=request.last, live_queries=request.live_queries, events=len(items), capped=plan.capped,
            outcome="broken" if counts["broken"] else "clean", **counts,
            items=[ScriptTrialItem(trigger_event_id=item.trigger_event_id, verdict=item.verdict)  # type: ignore[arg-type]
                   for item in notable[:MAX_TRIAL_ITEMS]],
            items_dropped=max(0, len(notable) - MAX_TRIAL_ITEMS), duration_ms=round(duration_ms, 2),
        )
        seq = self.recorder.record_with_seq(record)
        return TrialSummary(trial_id=plan.trial_id, seq=await seq, events=len(items), **counts,
                            duration_ms=round(duration_ms, 2))


@dataclass
class TrialCalls:
    """The host side of one candidate run's calls: resolved as live, answered without a service."""

    runner: OperationRunner
    catalog: Catalog
    connection_id: str
    feature_id: str
    """The triggering feature's."""
    user_id: str
    user_feature_id: str
    recorded: list[RecordedCall]
    live_queries: bool
    made: list[TrialCall] = field(default_factory=list)
    _used: set[int] = field(default_factory=set)

    async def call(self, kind: CallKind, op_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        fields: dict[str, Any] | None = None
        try:
            run = self.runner.resolve(OperationRequest(self.connection_id, kind, op_id, self.user_id,
                                                       self._user_feature(kind, op_id, body), _fields(body)),
                                      self.catalog)
        except ConnectApiError as exc:  # as a live call is refused: the same status and details
            status, answer, source = exc.status, exc.body.model_dump(), "refused"
        else:
            fields = run.fields
            status, answer, source = await self._answer(kind, op_id, run, body)
        self.made.append(TrialCall(kind=kind, op_id=op_id, fields=fields, status_code=status, answered_by=source))
        return status, answer

    async def _answer(self, kind: CallKind, op_id: str, run: Any, body: dict[str, Any]
                      ) -> tuple[int, Any, CallAnswerSource]:
        for n, call in enumerate(self.recorded):
            if n not in self._used and (call.kind, call.op_id, call.fields) == (kind, op_id, run.fields) and call.whole:
                self._used.add(n)
                return call.status_code or 500, call.answer, "original"
        if kind == "query" and self.live_queries:
            return (*await self._performed(run, body), "live")
        status, answer = STAND_INS[kind]
        return status, answer, "stand_in"

    async def _performed(self, run: Any, body: dict[str, Any]) -> tuple[int, Any]:
        """The query performed on its service, unrecorded: the answer a live call would have had."""
        try:
            limit = query_limit(body.get("limit", DEFAULT_QUERY_LIMIT))
            cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            result = await self.runner.services.perform_query(run.target.service, run.target.operation.id,
                                                              run.fields, limit, cursor, uuid.uuid4().hex)
            raise_for(result)
        except ConnectApiError as exc:
            return exc.status, exc.body.model_dump()
        return 200, query_answer(result)

    def _user_feature(self, kind: CallKind, op_id: str, body: dict[str, Any]) -> str | None:
        """The call's user feature as a live run chooses it: the one it names; else the triggering one when
        its feature has this operation; else the user's first that does (None)."""
        given = body.get("user_feature_id")
        if isinstance(given, str) and given:
            return given
        connection = self.catalog.connection(self.connection_id)
        own = any(t.feature.id == self.feature_id for t in self.catalog.feature_ops(connection, kind, op_id))
        return self.user_feature_id if own else None


def verdict(original: TrialRun | None, candidate: TrialRun) -> TrialVerdict:
    if original is None:
        return "no_original"
    failed_before, failed_now = original.status in FAILED, candidate.status in FAILED
    if failed_before and not failed_now:
        return "fixed"
    if failed_now and not failed_before:
        return "broken"
    if _call_plan(original) != _call_plan(candidate):
        return "changed"
    return "still_failing" if failed_now else "unchanged"


def _call_plan(run: TrialRun) -> list[tuple[str, str, Any]]:
    """What a run asked for: each call's operation and resolved fields, in order."""
    return [(call.kind, call.op_id, call.fields) for call in run.calls]


def _events_and_runs(log: EventLog, chosen: RecordFilter, wanted: int
                     ) -> tuple[list[dict[str, Any]], bool, dict[int, OriginalRun]]:
    """The newest ``wanted`` trigger events the filter shows (oldest first), whether more matched, and
    each one's first script run with the calls it made."""
    where, params = chosen.where()
    rows = log.execute(f"SELECT body FROM records WHERE {where} ORDER BY seq DESC LIMIT ?", [*params, wanted + 1])
    events = [record_of(body) for (body,) in rows[:wanted]][::-1]
    if not events:
        return [], False, {}
    seqs = {int(event["seq"]) for event in events}
    runs: dict[int, dict[str, Any]] = {}
    for (body,) in log.execute("SELECT body FROM records WHERE kind = ? AND connection_id = ? AND seq BETWEEN ? AND ? "
                               "ORDER BY seq", [SCRIPT_RUN, chosen.connection_id, min(seqs), max(seqs) + LOOK_AHEAD]):
        run = record_of(body)
        event = run.get("trigger_event_id")
        if event in seqs and event not in runs and run.get("source") != "rerun":
            runs[event] = run
    call_ids = [c["api_call_id"] for run in runs.values() for c in run.get("calls") or []
                if isinstance(c, dict) and isinstance(c.get("api_call_id"), int)]
    calls: dict[int, dict[str, Any]] = {}
    for start in range(0, len(call_ids), 500):
        chunk = call_ids[start:start + 500]
        for (body,) in log.execute(f"SELECT body FROM records WHERE kind = ? AND seq IN ({', '.join('?' * len(chunk))})",
                                   [API_CALL, *chunk]):
            call = record_of(body)
            calls[int(call["seq"])] = call
    originals = {event: OriginalRun(run, [_recorded(entry, calls.get(entry.get("api_call_id")))
                                          for entry in run.get("calls") or [] if isinstance(entry, dict)])
                 for event, run in runs.items()}
    return events, len(rows) > wanted, originals


def _recorded(entry: dict[str, Any], call: dict[str, Any] | None) -> RecordedCall:
    """A run's call with what its record kept: resolved fields, status and the answer the script got."""
    status = entry.get("status_code")
    if call is None:
        return RecordedCall(entry.get("kind", "action"), str(entry.get("op_id", "")), None, status, "")
    return RecordedCall(entry.get("kind", "action"), str(entry.get("op_id", "")), call.get("resolved_fields"),
                        status, call.get("response_body"))


def _original_run(original: OriginalRun) -> TrialRun:
    record = original.record
    error = record.get("error") if isinstance(record.get("error"), dict) else None
    return TrialRun(
        status=record.get("status", "error"), duration_ms=record.get("duration_ms"),
        error=TrialError(message=str(error.get("message", "")), line=error.get("line"), column=error.get("column"))
        if error else None,
        calls=[TrialCall(kind=call.kind, op_id=call.op_id, fields=call.fields, status_code=call.status_code)
               for call in original.calls],
        console=[TrialConsoleLine(level=str(line.get("level", "log")), text=str(line.get("text", "")))
                 for line in record.get("console") or [] if isinstance(line, dict)],
        script_run_id=record.get("script_run_id"), seq=record.get("seq"),
    )


def _candidate_run(result: ScriptResult, calls: list[TrialCall]) -> TrialRun:
    error: ScriptError | None = result.error
    return TrialRun(
        status=result.status, duration_ms=round(result.duration_ms, 2),
        error=TrialError(message=error.message, line=error.line, column=error.column) if error else None,
        calls=calls, console=[TrialConsoleLine(level=line.level, text=line.text) for line in result.console],
    )


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise ConnectApiError("invalid_parameters", "'fields' must be an object",
                              [field_error("/fields", "must be an object")])
    return fields


async def lines_of(trials: ScriptTrials, plan: TrialPlan) -> AsyncIterator[bytes]:
    """The trial's answer as JSON lines."""
    async for line in trials.run(plan):
        yield line.model_dump_json().encode() + b"\n"

