"""Trigger events delivered to a connection's runtime script (DESIGN §6), and the ``script_run`` records.

A script's ``runAction``/``performQuery`` take the Connect API's own path: the same look-up, field
resolution and validation as an HTTP call, the same outbound call and records, tagged with the run's
``script_run_id`` and ``source: script``. Each is recorded as an inbound ``api_call`` as if the script
had called the Connect API (with the resolved fields, so it can be rerun), and the script gets the
answer that call would have had: ``{statusCode, responseBody}``. Script calls are not rate limited:
they are the platform's own.

A call still in flight when its run ends (a timeout) is let finish, so that what reached the service
is recorded; the run does not wait for it.
"""

from dataclasses import dataclass
from typing import Any
import asyncio
import hashlib
import logging
import time
import uuid

from switchroom.hub.catalog import PLURALS, Catalog
from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.hub.inbound import CallContext, call_record
from switchroom.hub.record_bodies import MAX_STACK, cut, cut_id
from switchroom.hub.recorder import Recorder
from switchroom.hub.runner import (
    DEFAULT_QUERY_LIMIT, OperationRequest, OperationRunner, ResolvedOperation, query_answer, query_limit, raise_for,
)
from switchroom.hub.scripts import EngineBusy, ScriptEngine, ScriptJob, ScriptResult
from switchroom.hub.scripts.results import CallKind, ScriptError
from switchroom.hub.triggers import FiredEvent
from switchroom.hub.users import UserConnections
from switchroom.protocol import ScriptRun, ScriptRunCall, ScriptRunError, ScriptRunLine

log = logging.getLogger("switchroom.hub")

VERBS = {"action": "run", "query": "perform"}


def script_version(source: str) -> str:
    """A short content hash: which version of a script a run used."""
    return hashlib.sha256(source.encode()).hexdigest()[:12]


@dataclass
class ScriptRuns:
    engine: ScriptEngine
    users: UserConnections
    runner: OperationRunner
    recorder: Recorder

    async def run(self, event: FiredEvent) -> ScriptRun:
        """Run the connection's script for ``event``; record the ``script_run`` and give it back."""
        sub = event.subscription
        t = sub.target
        source = t.connection.runtime_script or ""
        user_connection = self.users.get(sub.user_id, t.connection.id)
        job = ScriptJob(
            source=source, trigger_id=t.entry.ref, ingredients=event.ingredients, service_user_id=sub.user_id,
            feature_name=t.feature.name, user_feature_id=sub.user_feature_id,
            configuration=t.connection.configuration,
            timezone=user_connection.timezone if user_connection else "UTC",
        )
        calls = _ScriptCalls(t.catalog, self.runner, self.recorder, sub, uuid.uuid4().hex)
        try:
            result = await self.engine.run(job, calls.call)
        except EngineBusy as exc:
            result = ScriptResult("error", 0.0, ScriptError(f"Not run: {exc}"))
        made = await calls.made()
        body = ScriptRun(
            script_run_id=calls.script_run_id, connection_id=t.connection.id, feature_id=t.feature.id,
            user_id=sub.user_id, user_feature_id=sub.user_feature_id, op_id=t.entry.ref,
            trigger_event_id=event.seq, status=result.status, duration_ms=round(result.duration_ms, 2),
            queued_ms=round(result.queued_ms, 2), time_limit_ms=self.engine.limits.wall_time_s * 1000,
            error=_recorded_error(result.error),
            console=[ScriptRunLine(line.level, line.text) for line in result.console],
            console_dropped=result.console_dropped, calls=made, script_version=script_version(source),
            source=event.source,
        )
        self.recorder.record(body)
        return body


def _recorded_error(error: ScriptError | None) -> ScriptRunError | None:
    """A run's error as its record keeps it: the script chose its name, message and stack, so each is cut."""
    if error is None:
        return None
    return ScriptRunError(message=cut(error.message) or "", stack=cut(error.stack, MAX_STACK), line=error.line,
                          column=error.column)


class _ScriptCalls:
    """The host side of one run's runAction/performQuery calls, resolved in the catalog its trigger event
    was (a reload while the run goes on does not change what it calls)."""

    def __init__(self, catalog: Catalog, runner: OperationRunner, recorder: Recorder, sub: ResolvedOperation,
                 script_run_id: str) -> None:
        self._catalog, self._runner, self._recorder, self._sub = catalog, runner, recorder, sub
        self.script_run_id = script_run_id
        self._calls: list[tuple[ScriptRunCall, asyncio.Task[asyncio.Future[int]]]] = []

    async def call(self, kind: CallKind, op_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        entry = ScriptRunCall(kind=kind, op_id=cut_id(op_id) or "", request_id=uuid.uuid4().hex)
        answer: asyncio.Future[tuple[int, Any]] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._perform(entry, body, answer))
        self._calls.append((entry, task))
        return await asyncio.shield(answer)  # the run may end; the call still finishes and is recorded

    async def made(self) -> list[ScriptRunCall]:
        """The calls made so far, with the seqs of those already answered."""
        for entry, task in self._calls:
            if task.done() and not task.cancelled() and task.exception() is None:
                entry.api_call_id = await task.result()
        return [entry for entry, _ in self._calls]

    async def _perform(self, entry: ScriptRunCall, body: dict[str, Any],
                       answer: "asyncio.Future[tuple[int, Any]]") -> "asyncio.Future[int]":
        sub = self._sub
        connection = sub.target.connection
        ctx = CallContext(request_id=entry.request_id, op=entry.kind, op_id=entry.op_id,
                          connection_id=connection.id, user_id=sub.user_id, request_body=body)
        started = time.perf_counter()
        error: ConnectApiError | None = None
        try:
            status, response = await self._connect_api_call(entry.kind, entry.op_id, body, ctx)
        except ConnectApiError as exc:
            error = exc
        except Exception:  # a fault of the hub's own: the script sees a 500, the operator the traceback
            log.exception("a script's %s %s failed in the hub", entry.kind, entry.op_id)
            error = ConnectApiError("internal_error", "Internal error")
        if error is not None:
            status, response = error.status, error.body.model_dump()
        entry.status_code = status
        path = f"/v2/connections/{connection.id}/{PLURALS[entry.kind]}/{entry.op_id}/{VERBS[entry.kind]}"
        seq = self._recorder.record_with_seq(
            call_record("POST", path, ctx, status, error, response, started, "script", self.script_run_id)
        )
        if not answer.done():
            answer.set_result((status, response))
        return seq

    async def _connect_api_call(self, kind: CallKind, op_id: str, body: dict[str, Any],
                                ctx: CallContext) -> tuple[int, Any]:
        sub = self._sub
        fields = body.get("fields", {})
        if not isinstance(fields, dict):
            raise ConnectApiError("invalid_parameters", "'fields' must be an object",
                                  [field_error("/fields", "must be an object")])
        user_feature_id = body.get("user_feature_id")
        if not isinstance(user_feature_id, str) or not user_feature_id:
            user_feature_id = self._default_user_feature(kind, op_id)
        run = self._runner.resolve(OperationRequest(sub.target.connection.id, kind, op_id, sub.user_id,
                                                    user_feature_id, fields), self._catalog)
        ctx.feature_id, ctx.user_feature_id, ctx.resolved_fields = run.target.feature.id, run.user_feature_id, run.fields
        if kind == "action":
            result = await self._runner.run_action(run, ctx.request_id, "script", self.script_run_id)
            raise_for(result)
            ctx.skipped = result.skipped
            return 204, None
        limit = query_limit(body.get("limit", DEFAULT_QUERY_LIMIT))
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise ConnectApiError("invalid_parameters", "'cursor' must be a string",
                                  [field_error("/cursor", "must be a string")])
        result = await self._runner.perform_query(run, limit, cursor, ctx.request_id, "script", self.script_run_id)
        raise_for(result)
        return 200, query_answer(result)

    def _default_user_feature(self, kind: CallKind, op_id: str) -> str | None:
        """The triggering user feature when its feature has this operation; else the user's first that does."""
        sub = self._sub
        targets = self._catalog.feature_ops(sub.target.connection, kind, op_id)
        return sub.user_feature_id if any(t.feature.id == sub.target.feature.id for t in targets) else None
