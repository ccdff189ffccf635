"""Event-log records (DESIGN §7). On the wire a record is flat: body fields beside seq, ts, kind."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Direction = Literal["inbound", "outbound", "webhook"]
Source = Literal["api", "script", "rerun", "poll", "test"]
Op = Literal["action", "query", "trigger", "webhook", "connection", "user_connection", "other"]


class ApiCall(BaseModel):
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
    rerun_of: int | None = None
    request_id: str


def api_call_record(**fields: Any) -> dict[str, Any]:
    """An ``api_call`` record body as the hub writes it: the fields of ``ApiCall`` that are set.

    A plain dict on purpose: every action run writes two of these, and building and dumping the model
    costs more than the rest of the recording. Tests check that what the hub writes parses as ``ApiCall``.
    """
    return {"kind": "api_call", **{name: value for name, value in fields.items() if value is not None}}


class TriggerEvent(BaseModel):
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
    delivered_to: Literal["script", "webhook", "none"] = "none"
    request_id: str | None = None
