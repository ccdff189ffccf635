"""What the ops API answers (DESIGN §9–10), as the hub's OpenAPI document publishes it; the requests are
in ``protocol.ops``. The hub builds most of these answers through the models; those it writes by hand for
speed (a page of records, a bulk rerun's items) are checked against the document by the tests."""

from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

from switchroom.protocol.base import SCHEMA_REF, AnswerModel
from switchroom.protocol.catalog import FieldType, OperationKind
from switchroom.protocol.records import SERVED_RECORD

Outcome = Literal["ok", "failed", "refused"]
BulkState = Literal["running", "finished", "cancelled", "interrupted"]
Delivery = Literal["script", "webhook"]

RecordJson = Annotated[dict[str, Any], WithJsonSchema({"$ref": SCHEMA_REF.format(name=SERVED_RECORD)})]
"""A record as the log stores it; its schema comes from the record structs (``protocol.records``)."""


class ConnectionStats(AnswerModel):
    id: str
    name: str
    features: list[str] = Field(description="the ids of its features")
    enabled_users: int
    calls: int = Field(description="inbound Connect API calls the hub answered for it in the window")
    errors: int = Field(description="of those, the ones answered with an error")
    error_pct: float
    p95_latency_ms: float | None = Field(description="null without calls")
    out_calls: int = Field(description="calls the hub made for it: to its services (trigger polls among them) "
                                       "and webhooks to the developer's backend")
    out_errors: int


class ConnectionStatsList(AnswerModel):
    type: Literal["list"] = "list"
    window_minutes: int
    data: list[ConnectionStats]


class DefinitionField(AnswerModel):
    id: str
    label: str
    type: FieldType
    required: bool
    visibility: Literal["developer", "user"]
    value: Any = Field(description="the developer's value, or a user field's default (null: none)")


class DefinitionOperation(AnswerModel):
    kind: OperationKind
    id: str = Field(description="the feature's id for it (feature_trigger_id, …)")
    ref: str = Field(description="the service's operation, e.g. lights.change_color")
    label: str
    fields: list[DefinitionField]


class DefinitionFeature(AnswerModel):
    id: str
    name: str
    operations: list[DefinitionOperation]


class ConnectionDefinition(AnswerModel):
    """How a connection is defined, as an operator sees it; service keys stay out."""

    type: Literal["connection_definition"] = "connection_definition"
    id: str
    name: str
    description: str
    configuration: dict[str, Any]
    runtime_script: str | None = Field(description="its source; null without one")
    script_version: str | None = Field(description="what script runs record as their script_version")
    delivery: Literal["script", "webhook", "none"] = Field(description="where its trigger events go")
    features: list[DefinitionFeature]


class RecordsNext(AnswerModel):
    after: int = Field(description="ask again with this as `after`")


class RecordsPage(AnswerModel):
    type: Literal["list"] = "list"
    head_seq: int = Field(description="the log's last seq when the page was read")
    data: list[RecordJson] = Field(description="the records the filter shows, oldest first")
    next: RecordsNext | None = Field(default=None, description="absent once the page reached the head")


class RerunPlan(AnswerModel):
    """A dry run: what a rerun request would do. A filter's plan carries its bound (``through_seq``,
    ``as_of``): the bulk that sends it back runs exactly the calls counted."""

    type: Literal["rerun_plan"] = "rerun_plan"
    count: int = Field(description="calls that would be rerun")
    refused: dict[str, int] = Field(description="calls that would not be, by reason (not_rerunnable, already_rerun)")
    api_call_ids: list[int] = Field(description="the first 1,000 of the calls that would be rerun")
    through_seq: int | None = Field(default=None, description="a filter's plan: the last seq it read")
    as_of: str | None = Field(default=None, description="a filter's plan: the time its relative times count back from")


class RerunItem(AnswerModel):
    """How one call's rerun (or one event's replay) went."""

    original: int = Field(description="the seq of the call rerun or the trigger event replayed")
    outcome: Outcome
    status_code: int | None = None
    api_call_id: int | None = Field(default=None, description="the seq of the new api_call")
    error_code: str | None = None
    message: str | None = None


class RerunAnswer(RerunItem):
    type: Literal["rerun"] = "rerun"


class RerunBulk(AnswerModel):
    """A bulk rerun: its state and counts; its item results on ``GET /v1/ops/reruns/{id}``."""

    type: Literal["rerun_bulk"] = "rerun_bulk"
    id: str
    state: BulkState
    total: int
    done: int
    ok: int
    failed: int
    refused: int
    items_after: int | None = Field(default=None, description="status only: how many items were left out before")
    items: list[RerunItem] | None = Field(default=None, description="status only: item results in the order they "
                                                                    "finished, past the first items_after")
    refused_before_start: dict[str, int] | None = Field(
        default=None, description="the start's answer only: calls the plan refused, by reason")


class RerunBulkId(AnswerModel):
    """The answer repeated, after a hub restart, for a key whose bulk had started: the bulk's id alone."""

    type: Literal["rerun_bulk"] = "rerun_bulk"
    id: str


class ReplayPlan(AnswerModel):
    type: Literal["replay_plan"] = "replay_plan"
    count: Literal[1] = 1
    trigger_event_id: int
    delivered_to: Delivery


class ReplayAnswer(RerunItem):
    type: Literal["replay"] = "replay"
    delivered_to: Delivery
    script_run_id: str | None = Field(default=None, description="the new script run, when delivered to the script")


class IdChanges(AnswerModel):
    added: list[str]
    removed: list[str]
    changed: list[str]


class ScriptVersions(AnswerModel):
    connection_id: str
    old_version: str | None = Field(description="what its runs recorded as script_version before the reload "
                                                "(null: it had no script, or was not in the catalog)")
    new_version: str | None = Field(description="what new runs record (null: it has no script now, or was removed)")


class CatalogReloaded(AnswerModel):
    """A catalog reload that took effect (``POST /v1/ops/catalog/reload``): what changed. New requests and
    runs use the new catalog; those begun before finish on the old one."""

    type: Literal["catalog_reload"] = "catalog_reload"
    file: str = Field(description="the catalog file read: the hub's --catalog")
    changed: bool = Field(description="false: the file says what the hub served already")
    connections: IdChanges = Field(description="connection ids (changed: anything in its definition, its "
                                               "script among it)")
    services: IdChanges = Field(description="service ids (changed: anything, its key or address among it)")
    scripts: list[ScriptVersions] = Field(description="every connection with a runtime script before or after, "
                                                      "its version before and after (the same when unchanged)")


RerunPosted = Annotated[RerunPlan | RerunAnswer, Field(discriminator="type")]
"""``POST /v1/ops/reruns`` with 200: a dry run's plan, or the rerun of one call."""
RerunStarted = RerunBulk | RerunBulkId
"""``POST /v1/ops/reruns`` with 202: a bulk rerun started."""
ReplayPosted = Annotated[ReplayPlan | ReplayAnswer, Field(discriminator="type")]
"""``POST /v1/ops/replays`` with 200: a dry run's plan, or the replay."""


TrialVerdict = Literal["fixed", "broken", "changed", "unchanged", "still_failing", "no_original"]
"""How a candidate's run of one event compares with the original run: ``fixed`` (was error, timeout or
oom, now ok), ``broken`` (was ok, now not), ``changed`` (same outcome, other calls or fields),
``unchanged``, ``still_failing`` (failed before and now, its calls alike), ``no_original`` (the event
had no script run to compare with)."""
CallAnswerSource = Literal["original", "stand_in", "live", "refused"]


class TrialCall(AnswerModel):
    kind: Literal["action", "query"]
    op_id: str
    fields: dict[str, Any] | None = Field(description="as resolved; null when resolution refused the call")
    status_code: int | None
    answered_by: CallAnswerSource | None = Field(default=None, description=(
        "the candidate's calls only: the original run's same call, a stand-in (an action: 204; a query: an "
        "empty list), the service itself (live_queries), or the hub's refusal (a 4xx of resolution)"))


class TrialConsoleLine(AnswerModel):
    level: str
    text: str


class TrialError(AnswerModel):
    message: str
    line: int | None = None
    column: int | None = None


class TrialRun(AnswerModel):
    status: Literal["ok", "error", "timeout", "oom"]
    error: TrialError | None = None
    duration_ms: float | None = None
    calls: list[TrialCall]
    console: list[TrialConsoleLine]
    script_run_id: str | None = Field(default=None, description="the original run's id (null: the candidate's)")
    seq: int | None = Field(default=None, description="the original run's seq in the log")


class TrialStarted(AnswerModel):
    type: Literal["trial_started"] = "trial_started"
    trial_id: str
    connection_id: str
    events: int = Field(description="how many trigger events the trial runs")
    capped: bool = Field(description="true: more events matched than a trial runs (the newest were taken)")
    script_version: str = Field(description="the candidate's version (a content hash)")
    live_version: str | None = Field(description="the version the connection runs now (null: no script)")


class TrialItem(AnswerModel):
    type: Literal["trial_item"] = "trial_item"
    index: int = Field(description="1 for the first event tried, up to events")
    trigger_event_id: int
    ts: str | None
    user_id: str | None
    verdict: TrialVerdict
    original: TrialRun | None
    candidate: TrialRun


class TrialSummary(AnswerModel):
    type: Literal["trial_summary"] = "trial_summary"
    trial_id: str
    seq: int = Field(description="the trial's script_trial record")
    events: int
    fixed: int
    broken: int
    changed: int
    unchanged: int
    still_failing: int
    no_original: int
    duration_ms: float


class TrialFailed(AnswerModel):
    type: Literal["error"] = "error"
    code: str
    message: str


TrialLine = Annotated[TrialStarted | TrialItem | TrialSummary | TrialFailed, Field(discriminator="type")]
"""One line of a script trial's answer (JSON lines): started, an item per event, then the summary."""
