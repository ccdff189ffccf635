"""Event-log records (DESIGN §7). On the wire a record is flat: body fields beside seq, ts, kind."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Direction = Literal["inbound", "outbound", "webhook"]
Source = Literal["api", "script", "rerun", "poll", "test"]
Op = Literal["action", "query", "trigger", "webhook", "connection", "user_connection", "other"]


class ApiCall(BaseModel):
    """One call into the Connect API or out of the hub to a service or a developer backend.

    ``status_code`` is None when the call was *skipped* (the service answered SKIP) or never got an
    answer; ``skipped`` tells which. ``error_code`` is the Connect API error code when it failed.
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
    source: Source = "api"
    script_run_id: str | None = None
    rerun_of: int | None = None
    request_id: str
