"""Event-log records (DESIGN §7): one typed struct per kind, from which everything else about the kinds
follows (``protocol.kinds``: their names and streams; ``store.record_shape``: what the dashboard checks of
each field). On the wire a record is flat: its fields beside ``seq``, ``ts`` and ``kind``.

=================  ==========  =====================================================================
kind               stream      what it is (how it ended: the field in brackets)
=================  ==========  =====================================================================
``api_call``       logs        a call into the Connect API, out to a service or to a developer's
                               webhook (``error_code``)
``script_run``     logs        one run of a connection's runtime script for a trigger event (``status``)
``trigger_event``  triggers    one new item of a service's trigger for one user feature's
                               subscription (``delivered_to``)
``rerun``          logs        the audit of a rerun or replay: its request, each item, a bulk's
                               progress (``outcome``)
``script_trial``   logs        a candidate runtime script tried on recorded trigger events, nothing
                               reaching a service; counted in no figure (``outcome``)
=================  ==========  =====================================================================

The hub builds a record as its struct (``ApiCall(direction=..., ...)``) and hands it to its recorder,
which writes ``body_of(record)``: every field that is set, none that is None — absent on the wire and in
the log, as a reader of older logs expects. A reader of the log decodes a record into its struct
(``protocol.kinds.RECORD_TYPE``), or, facing an untrusted hub, checks its fields against the declarations
here (``store.record_shape``). Fields a reader does not know (``truncated``, ``unrecordable``: see
``hub.record_bodies``) pass through untouched.

A new kind is one more subclass of ``Record`` here, with its ``tag`` (the kind's name), ``stream`` and
``outcome_field``.
"""

from typing import Any, ClassVar, Literal

import msgspec

Direction = Literal["inbound", "outbound", "webhook"]
Source = Literal["api", "script", "rerun", "poll", "notification", "test"]
Op = Literal["action", "query", "trigger", "webhook", "notification", "connection", "user_connection", "other"]
Stream = Literal["logs", "triggers"]


class Record(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="kind"):
    """What every record has; ``seq`` and ``ts`` are given by the log as it stores the record."""

    stream: ClassVar[Stream]
    """The stream that carries this kind (``/v1/streams/<stream>``)."""
    outcome_field: ClassVar[str]
    """The field that says how a record of this kind ended (the filter language's ``code:``, the
    dashboard's failure groups)."""

    seq: int | None = None
    ts: str | None = None


class ApiCall(Record, tag="api_call", kw_only=True):
    """One call into the Connect API or out of the hub to a service or a developer backend.

    ``status_code`` is None when no answer arrived. A call the service *skipped* keeps its status
    (400 outbound, 204 inbound) with ``skipped`` true. ``error_code`` is the Connect API error code when
    it failed. ``resolved_fields`` (inbound runs) are the values the operation ran with, kept whole
    beside the size-capped bodies so the run can be repeated exactly.
    """

    stream = "logs"
    outcome_field = "error_code"

    direction: Direction
    method: str
    path: str
    op: Op | None = None
    op_id: str | None = None
    connection_id: str | None = None
    feature_id: str | None = None
    user_id: str | None = None
    user_feature_id: str | None = None
    status_code: int | None = None
    skipped: bool | None = None
    latency_ms: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    request_body: Any = None
    response_body: Any = None
    resolved_fields: dict[str, Any] | None = None
    source: Source
    script_run_id: str | None = None
    trigger_event_id: int | None = None
    rerun_of: int | None = None
    request_id: str


class ScriptRunError(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Why a script run failed; ``line`` and ``column`` point into the script's source when known."""

    message: str
    stack: str | None = None
    line: int | None = None
    column: int | None = None


class ScriptRunLine(msgspec.Struct):
    """A line a script wrote to its console."""

    level: Literal["log", "info", "warn", "error"]
    text: str


class ScriptRunCall(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A runAction/performQuery a run made: its Connect API answer and its inbound ``api_call`` record
    (``api_call_id`` is that record's seq; ``request_id`` links the outbound call too)."""

    kind: Literal["action", "query"]
    op_id: str
    request_id: str
    status_code: int | None = None
    api_call_id: int | None = None


class ScriptRun(Record, tag="script_run", kw_only=True):
    """One run of a connection's runtime script for one trigger event (DESIGN §6)."""

    stream = "logs"
    outcome_field = "status"

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
    queued_ms: float
    time_limit_ms: float
    error: ScriptRunError | None = None
    console: list[ScriptRunLine]
    console_dropped: int
    calls: list[ScriptRunCall]
    script_version: str
    source: Source


class TriggerEvent(Record, tag="trigger_event", kw_only=True):
    """One new item from a service's trigger, for one user feature's subscription."""

    stream = "triggers"
    outcome_field = "delivered_to"

    trigger_id: str
    connection_id: str
    feature_id: str
    user_id: str
    user_feature_id: str
    trigger_identity: str
    meta_id: str
    ingredients: dict[str, Any]
    source: Source
    """How the item was found: an interval ``poll``, a realtime ``notification``, or a trigger ``test``."""
    delivered_to: Literal["script", "webhook", "none"]
    request_id: str | None = None


class Rerun(Record, tag="rerun", kw_only=True):
    """The audit of a rerun (DESIGN §9) or a replay, by ``phase``: ``requested`` (committed before anything
    runs, with the request's idempotency key and its ``original`` or ``filter``), ``item`` (one call rerun
    or one event replayed, and its ``outcome``), ``bulk`` (a bulk's progress and ``state``)."""

    stream = "logs"
    outcome_field = "outcome"

    phase: Literal["requested", "item", "bulk"]
    actor: str
    reason: str | None = None
    idempotency_key: str | None = None
    bulk_id: str | None = None
    fields: dict[str, Any] | None = None
    """The field overrides the rerun ran with."""
    force: bool | None = None
    original: int | None = None
    """The seq of the call rerun or the trigger event replayed."""
    filter: str | None = None
    replay: bool | None = None
    connection_id: str | None = None
    feature_id: str | None = None
    user_id: str | None = None
    op_id: str | None = None
    outcome: Literal["ok", "failed", "refused"] | None = None
    status_code: int | None = None
    api_call_id: int | None = None
    """The seq of the new ``api_call`` an item ran."""
    error_code: str | None = None
    message: str | None = None
    delivered_to: str | None = None
    script_run_id: str | None = None
    state: Literal["running", "finished", "cancelled", "interrupted"] | None = None
    total: int | None = None
    done: int | None = None
    ok: int | None = None
    failed: int | None = None
    refused: int | None = None


def body_of(record: Record) -> dict[str, Any]:
    """``record`` as the plain JSON object the log stores: its kind and the fields that are not None."""
    return msgspec.to_builtins(record)


CUT_RECORD = "CutRecord"
SERVED_RECORD = "Record"


def record_json_schemas(ref_template: str) -> dict[str, dict[str, Any]]:
    """JSON Schemas of records as a hub serves them, named as ``ref_template`` (``"…/{name}"``) refers to them:
    one per kind, read off its struct, with the structs those hold; ``CutRecord``, a record kept only in
    part; and ``Record``, any of these, with the ``seq``, ``ts`` and ``kind`` that every record served has."""
    kinds = Record.__subclasses__()
    _, schemas = msgspec.json.schema_components(kinds, ref_template=ref_template)
    schemas[CUT_RECORD] = {
        "title": CUT_RECORD,
        "description": "A record kept only in part: cut to fit (``truncated``: every text and list shortened, or "
                       "only its short top-level fields kept) or not storable as it was made (``unrecordable``: its "
                       "plain top-level fields); either says why. Its kind may be ``unknown``.",
        "type": "object",
        "properties": {"kind": {"type": "string"}, "truncated": {"type": "string"}, "unrecordable": {"type": "string"}},
        "required": ["kind"],
        "anyOf": [{"required": ["truncated"]}, {"required": ["unrecordable"]}],
    }
    schemas[SERVED_RECORD] = {
        "title": SERVED_RECORD,
        "description": "A record of the event log, flat: its body's fields beside seq, ts and kind. "
                       "Fields a reader does not know may be present.",
        "type": "object",
        "required": ["seq", "ts", "kind"],
        "properties": {"seq": {"type": "integer", "minimum": 1}, "ts": {"type": "string"}, "kind": {"type": "string"}},
        "anyOf": [{"$ref": ref_template.format(name=name)} for name in (*(k.__name__ for k in kinds), CUT_RECORD)],
    }
    return schemas


class ScriptTrialItem(msgspec.Struct, kw_only=True):
    trigger_event_id: int
    verdict: Literal["fixed", "broken", "changed"]


class ScriptTrial(Record, tag="script_trial", kw_only=True):
    """A script trial (``POST /v1/ops/script-trials``): a candidate version of a connection's runtime script
    run over recorded trigger events with nothing reaching a service. Its runs are not script runs and
    count in no figure; this record keeps what it found: the counts, and the events it fixed, broke or
    changed (at most ``MAX_TRIAL_ITEMS`` of them, broken first)."""

    stream = "logs"
    outcome_field = "outcome"

    trial_id: str
    actor: str
    reason: str | None = None
    connection_id: str
    script_version: str
    """The candidate's version."""
    live_version: str | None = None
    """The version the connection ran when the trial was made."""
    filter: str | None = None
    last: int | None = None
    live_queries: bool
    events: int
    capped: bool
    outcome: Literal["clean", "broken"]
    """``broken`` when an event that succeeded before fails with the candidate."""
    fixed: int
    broken: int
    changed: int
    unchanged: int
    still_failing: int
    no_original: int
    items: list[ScriptTrialItem]
    items_dropped: int = 0
    duration_ms: float


MAX_TRIAL_ITEMS = 500
