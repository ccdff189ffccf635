"""Bodies of the ops API (DESIGN §9–10) that are documented in the hub's OpenAPI."""

from typing import Any

from pydantic import Field

from switchroom.protocol.base import ProtocolModel

MAX_REASON_CHARS = 1000
"""How long a rerun's or replay's reason may be (the dashboard's box stops there too)."""


class RerunRequest(ProtocolModel):
    """Rerun one failed action call (``api_call_id``) or every one a ``filter`` shows (the dashboard's
    filter language). Anything but a dry run needs an ``Idempotency-Key`` header."""

    api_call_id: int | None = Field(default=None, description="the seq of the call to rerun")
    filter: str | None = Field(default=None, description="e.g. 'feature:glow status:5xx since:1h'")
    fields: dict[str, Any] = Field(default_factory=dict, description="field values to send instead")
    reason: str = Field(default="", max_length=MAX_REASON_CHARS, description="kept in the audit record")
    dry_run: bool = Field(default=False, description="only count what would be rerun")
    force: bool = Field(default=False, description="also rerun calls that succeeded or were rerun before")
    rate: float = Field(default=500.0, gt=0, le=20000, description="a bulk's reruns started per second, at most")
    through_seq: int | None = Field(default=None, ge=0, description=(
        "with as_of, the bound of the dry run this bulk confirms: only calls up to this seq are read, so "
        "the bulk runs exactly what was counted (failures since are not swept in)"))
    as_of: str | None = Field(default=None, description=(
        "the dry run's as_of: relative times in the filter (since:1h) are counted back from it"))


class ReplayRequest(ProtocolModel):
    """Replay one trigger event through its connection's runtime script (or webhook). Anything but a dry
    run needs an ``Idempotency-Key`` header (the same key space as reruns')."""

    trigger_event_id: int = Field(description="the seq of the trigger event to replay")
    reason: str = Field(default="", max_length=MAX_REASON_CHARS, description="kept in the audit record")
    dry_run: bool = Field(default=False, description="only check that it would be replayed")
    force: bool = Field(default=False, description="also replay events delivered successfully or replayed before")


MAX_TRIAL_EVENTS = 10_000
"""The most recorded trigger events one script trial runs through its candidate."""
MAX_TRIAL_SOURCE_CHARS = 64 * 1024
"""A candidate script's size, at most (what the script engine compiles)."""


class ScriptTrialRequest(ProtocolModel):
    """Run a candidate version of a connection's runtime script over recorded trigger events, nothing
    reaching a service: its calls are resolved and validated as live ones, and answered from what the
    original run's same calls got, else by a stand-in (queries for real when ``live_queries``; actions
    never). Give ``filter`` or ``last`` (neither: the last 100 events)."""

    connection_id: str = Field(min_length=1, max_length=64)
    source: str = Field(max_length=MAX_TRIAL_SOURCE_CHARS, description="the candidate script's JavaScript")
    filter: str | None = Field(default=None, description=(
        "which of the connection's trigger events, in the filter language, e.g. 'since:24h user:user-001' "
        f"(the newest {MAX_TRIAL_EVENTS:,} that match)"))
    last: int | None = Field(default=None, ge=1, le=MAX_TRIAL_EVENTS, description="the last N trigger events")
    live_queries: bool = Field(default=False, description=(
        "perform the candidate's queries against their services for real (a query changes nothing); actions "
        "never run"))
    reason: str = Field(default="", max_length=MAX_REASON_CHARS, description="kept in the trial's record")
