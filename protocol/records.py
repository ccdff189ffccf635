"""Event-log records (DESIGN §7). On the wire a record is flat: body fields beside seq, ts, kind."""

from typing import Any, Literal

from pydantic import ConfigDict

from switchroom.protocol.base import ProtocolModel

Direction = Literal["inbound", "outbound", "webhook"]
Source = Literal["api", "script", "rerun", "poll", "notification", "test"]
Op = Literal["action", "query", "trigger", "webhook", "notification", "connection", "user_connection", "other"]


class ApiCall(ProtocolModel):
    """One call into the Connect API or out of the hub to a service or a developer backend.

    ``status_code`` is None when no answer arrived. A call the service *skipped* keeps its status
    (400 outbound, 204 inbound) with ``skipped`` true. ``error_code`` is the Connect API error code when
    it failed. ``resolved_fields`` (inbound runs) are the values the operation ran with, kept whole
    beside the size-capped bodies so the run can be repeated exactly.
    """

    model_config = ConfigDict(extra="allow")

    kind: Literal["api_call"] = "api_call"
    seq: int | None = None
    ts: str | None = None
    direction: Direction
    method: str
    path: str
    op: Op = "other"
    op_id: str | None = None
    connection_id: str | None = None
    feature_id: str | None = None
    user_id: str | None = None
    user_feature_id: str | None = None
    status_code: int | None = None
    skipped: bool = False
    latency_ms: float = 0.0
    error_code: str | None = None
    error_message: str | None = None
    request_body: Any = None
    response_body: Any = None
    resolved_fields: dict[str, Any] | None = None
    source: Source = "api"
    script_run_id: str | None = None
    trigger_event_id: int | None = None
    rerun_of: int | None = None
    request_id: str


def api_call_record(**fields: Any) -> dict[str, Any]:
    """An ``api_call`` record body as the hub writes it: the fields of ``ApiCall`` that are set.

    A plain dict on purpose: every action run writes two of these, and building and dumping the model
    costs more than the rest of the recording. Tests check that what the hub writes parses as ``ApiCall``.
    """
    return {"kind": "api_call", **{name: value for name, value in fields.items() if value is not None}}


class TriggerEvent(ProtocolModel):
    """One new item from a service's trigger, for one user feature's subscription."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["trigger_event"] = "trigger_event"
    seq: int | None = None
    ts: str | None = None
    trigger_id: str
    connection_id: str
    feature_id: str
    user_id: str
    user_feature_id: str
    trigger_identity: str
    meta_id: str
    ingredients: dict[str, Any]
    source: Source = "poll"
    """How the item was found: an interval ``poll``, a realtime ``notification``, or a trigger ``test``."""
    delivered_to: Literal["script", "webhook", "none"] = "none"
    request_id: str | None = None


class ScriptError(ProtocolModel):
    message: str
    stack: str | None = None
    line: int | None = None
    column: int | None = None


class ConsoleLine(ProtocolModel):
    level: Literal["log", "info", "warn", "error"]
    text: str


class ScriptRunCall(ProtocolModel):
    """A runAction/performQuery a run made: its Connect API answer and its inbound ``api_call`` record
    (``api_call_id`` is that record's seq; ``request_id`` links the outbound call too)."""

    kind: Literal["action", "query"]
    op_id: str
    request_id: str
    status_code: int | None = None
    api_call_id: int | None = None


class ScriptRun(ProtocolModel):
    """One run of a connection's runtime script for one trigger event (DESIGN §6)."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["script_run"] = "script_run"
    seq: int | None = None
    ts: str | None = None
    script_run_id: str
    connection_id: str
    feature_id: str
    user_id: str
    user_feature_id: str
    op_id: str
    """The trigger that fired (``service.trigger``)."""
    trigger_event_id: int | None = None
    status: Literal["ok", "error", "timeout", "oom"]
    duration_ms: float
    queued_ms: float = 0.0
    time_limit_ms: float
    error: ScriptError | None = None
    console: list[ConsoleLine] = []
    console_dropped: int = 0
    calls: list[ScriptRunCall] = []
    script_version: str
    source: Source = "poll"
