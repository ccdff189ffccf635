"""The hub's OpenAPI document (``GET /openapi.json``), built from the protocol models so it cannot drift
from them.

Every HTTP route the app serves is an operation here (tests/hub/test_openapi.py compares the two, both
ways), and every answer's schema is a protocol model's: the Connect API's in ``protocol.connect``, the ops
API's in ``protocol.ops_answers``, the hub's own in ``protocol.hub_info``, errors ``ErrorBody``, records read
off their structs (``protocol.records``). Requests are described as the hub validates them, answers as it
serializes them (``PublishedJsonSchema``).

OpenAPI 3.1 has no websocket operation, so the streams are not paths: the document names them under the
extension ``x-websocket-streams``, path → what each carries, its auth, the frames each side sends (their
schemas under ``components``) and the close codes.
"""

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter

from switchroom.hub.streams import CLOSE_CODES, HEARTBEAT_SECONDS, STREAMS, SUBSCRIBE_TIMEOUT
from switchroom.protocol import BatchFrame, ErrorBody, ErrorFrame, HeartbeatFrame, HelloFrame, SubscribeFrame
from switchroom.protocol.base import SCHEMA_REF, PublishedJsonSchema
from switchroom.protocol.connect import (
    ConnectionResponse,
    FieldOptionsResponse,
    ListResponse,
    MeResponse,
    NotificationRequest,
    NotificationResponse,
    PerformQueryRequest,
    RunActionRequest,
    TestTriggerRequest,
    UserConnectionRequest,
)
from switchroom.protocol.hub_info import Health, HubList, OpenApiDocument
from switchroom.protocol.kinds import RECORD_TYPE
from switchroom.hub.script_trial_api import JSON_LINES
from switchroom.protocol.ops import ReplayRequest, RerunRequest, ScriptTrialRequest
from switchroom.protocol.ops_answers import (
    CatalogReloaded,
    ConnectionDefinition,
    ConnectionStatsList,
    RecordsPage,
    RerunBulk,
    ReplayPosted,
    RerunPosted,
    RerunStarted,
    TrialLine,
)
from switchroom.protocol.records import CUT_RECORD, record_json_schemas
from switchroom.store.filters import MAX_FILTER_CHARS

Auth = Literal["serviceKey", "operatorToken"] | None


JSON = "application/json"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    description: str
    body: Any = None
    """The answer's type (a model, or a union of them; ``str`` for text); None: no body."""
    headers: tuple[str, ...] = ()
    media_type: str = JSON


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    auth: Auth
    answers: dict[int, Answer]
    errors: tuple[int, ...] = ()
    body: Any = None
    """The request body's type; None: the operation takes none."""
    params: tuple[dict[str, Any], ...] = ()


_HEADERS = {
    "X-Request-ID": {"description": "the request's id: the caller's X-Request-ID, else one the hub made up; its "
                                    "api_call record carries it", "schema": {"type": "string"}},
    "Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "string"}},
    "Idempotent-Replayed": {"description": "true: this is the answer given before to this Idempotency-Key; "
                                           "nothing ran again", "schema": {"const": "true"}},
}
_CONNECT_ERRORS = {
    400: "invalid_request: the body is not a JSON object, or larger than 1 MiB",
    401: "unauthorized: missing or wrong IFTTT-Service-Key",
    403: "forbidden: the connection belongs to another service",
    404: "not_found: no such connection or operation",
    408: "request_timeout: the request's headers or body did not arrive in time",
    422: "invalid_parameters: one detail per bad field, with a JSON pointer",
    429: "rate_limited: see Retry-After",
    502: "service_error: the service answered with an error",
    504: "service_timeout: the service did not answer in time",
}
_OPS_ERRORS = {
    400: "invalid_request: the body is not a JSON object, or an Idempotency-Key is missing",
    401: "unauthorized: missing or wrong operator token",
    404: "not_found: no such connection, record or bulk rerun",
    408: _CONNECT_ERRORS[408],
    409: "not_rerunnable, already_rerun, or conflict (an interrupted request's Idempotency-Key; a catalog reload "
         "while other hubs serve the database)",
    422: _CONNECT_ERRORS[422] + " (a catalog reload: one per problem of the file, its parameter the file)",
}


def _path(name: str, description: str | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, **({"description": description} if description else {}),
            "schema": {"type": "string", "minLength": 1}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_CONNECTION = _path("connection_id")
_TYPE = _path("type_id", "the operation's full id, e.g. lights.change_color")
_KIND = {"name": "kind", "in": "path", "required": True, "schema": {"enum": ["triggers", "queries", "actions"]}}
_BULK = _path("bulk_id", "the id a bulk rerun's 202 answer gave")
_REQUEST_ID = {"name": "X-Request-ID", "in": "header", "required": False, "schema": {"type": "string"},
               "description": "the caller's id for this request (at most 128 printable characters, else the hub "
                              "makes one up), kept in its api_call record"}
_IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    "description": "required unless dry_run: the same key is answered the same and never runs "
                                   "twice (reruns and replays share one key space)"}
_AFTER = {"type": "integer", "minimum": 0}
_RUN_ERRORS = (400, 401, 403, 404, 408, 422, 429, 502, 504)
_CONNECTION_BASE = "/v2/connections/{connection_id}"


def _connect(method: str, path: str, summary: str, answers: dict[int, Answer], errors: tuple[int, ...], *,
             body: Any = None, params: tuple[dict[str, Any], ...] = ()) -> Operation:
    """A Connect API operation: service-key auth; every answer carries X-Request-ID."""
    return Operation(method, path, summary, "connect", "serviceKey", answers, errors, body, (*params, _REQUEST_ID))


def _ok(body: Any, description: str = "OK", *headers: str) -> dict[int, Answer]:
    return {200: Answer(description, body, headers)}


_DONE = {204: Answer("Done")}
_USER_ID = _query("user_id", {"type": "string", "minLength": 1}, "the user")

OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/v1/health", "Whether the hub is up, which log it serves, and its script engine's load",
              "hub", None, _ok(Health)),
    Operation("get", "/openapi.json", "This document", "hub", None, _ok(OpenApiDocument)),
    Operation("get", "/metrics", "The hub's figures in the Prometheus text format: requests by route and status, "
              "action runs, service calls, script runs, stream subscribers, the log head, trigger polls "
              "(docs/operations.md). `--metrics-port` serves it alone, without a token", "hub", "operatorToken",
              {200: Answer("Prometheus text exposition format", str, media_type=PROMETHEUS_TEXT)}, (401,)),
    _connect("get", "/v2/me", "Who the service key belongs to", _ok(MeResponse), (401,)),
    _connect("get", _CONNECTION_BASE, "Show a connection (with a user's status and configuration when named)",
             _ok(ConnectionResponse), (401, 403, 404), params=(_CONNECTION, _USER_ID)),
    _connect("put", f"{_CONNECTION_BASE}/user_connection",
             "Enable or reconfigure a user's connection; replaces the whole configuration", _ok(ConnectionResponse),
             (400, 401, 403, 404, 408, 422), body=UserConnectionRequest,
             params=(_CONNECTION, {**_USER_ID, "required": True})),
    _connect("post", f"{_CONNECTION_BASE}/disable", "Disable a user's connection", _ok(ConnectionResponse),
             (401, 403, 404, 422), params=(_CONNECTION, {**_USER_ID, "required": True})),
    _connect("get", _CONNECTION_BASE + "/{kind}/{type_id}/field_options", "Options of an operation's choice fields",
             _ok(FieldOptionsResponse), (401, 403, 404), params=(_CONNECTION, _KIND, _TYPE)),
    _connect("post", _CONNECTION_BASE + "/actions/{type_id}/run", "Run an action for a user", _DONE, _RUN_ERRORS,
             body=RunActionRequest, params=(_CONNECTION, _TYPE)),
    _connect("post", _CONNECTION_BASE + "/queries/{type_id}/perform", "Perform a query for a user",
             _ok(ListResponse), _RUN_ERRORS, body=PerformQueryRequest, params=(_CONNECTION, _TYPE)),
    _connect("post", _CONNECTION_BASE + "/triggers/{type_id}/test",
             "Send a test trigger event through the pipeline", _DONE, _RUN_ERRORS, body=TestTriggerRequest,
             params=(_CONNECTION, _TYPE)),
    _connect("post", "/v1/notifications",
             "Realtime API: the service has new trigger data; the hub polls the subscriptions named",
             _ok(NotificationResponse), (400, 401, 408, 422), body=NotificationRequest),
    Operation("get", "/v1/ops/connections",
              "Connections with live stats: calls, errors, error_pct and p95_latency_ms of the inbound Connect API "
              "calls the hub answered; out_calls and out_errors of the calls it made for the connection (to "
              "services, trigger polls among them, and webhooks)", "ops", "operatorToken", _ok(ConnectionStatsList),
              (401, 422), params=(_query("window_minutes", {"type": "integer", "minimum": 1, "maximum": 10080},
                                         "the window the stats cover (default 15)"),)),
    Operation("get", "/v1/ops/connections/{connection_id}",
              "How a connection is defined: features, fields with visibility and value, configuration, runtime "
              "script and its version", "ops", "operatorToken", _ok(ConnectionDefinition), (401, 404),
              params=(_CONNECTION,)),
    Operation("post", "/v1/ops/catalog/reload",
              "Read the catalog file (--catalog) again and serve it, as SIGHUP does: what changed, and each runtime "
              "script's version before and after. A file with problems is refused with them (as start-up lists "
              "them, scripts with file:line:column) and the catalog stays; runs begun before a reload finish on "
              "the old catalog", "ops", "operatorToken", _ok(CatalogReloaded), (401, 409, 422)),
    Operation("get", "/v1/ops/hubs", "The hub processes serving this log (every live one, where hubs share a "
              "PostgreSQL database), and which one answered", "ops", "operatorToken", _ok(HubList), (401,)),
    Operation("get", "/v1/ops/records",
              "Records of the event log that a filter shows (the filter language; every kind unless `kind:` "
              "says), oldest first, a page at a time: go on from `next.after` until it is absent. A page reads "
              "at most 200,000 seqs, so it may hold fewer than `limit` records and still have a `next`",
              "ops", "operatorToken", _ok(RecordsPage), (401, 422),
              params=(_query("filter", {"type": "string", "maxLength": MAX_FILTER_CHARS},
                             "e.g. 'conn:rain-alert status:5xx since:1h'"),
                      _query("after", _AFTER, "the seq to go on after (default 0)"),
                      _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000},
                             "records a page holds at most (default 100)"))),
    Operation("post", "/v1/ops/reruns",
              "Rerun a failed action call, or every one a filter shows (200 for one, 202 for a bulk; dry_run "
              "counts)", "ops", "operatorToken",
              {200: Answer("A dry run's plan, or the rerun of one call (a rerun that failed again is still a 200)",
                           RerunPosted, ("Idempotent-Replayed",)),
               202: Answer("A bulk rerun started; follow it at /v1/ops/reruns/{id}", RerunStarted,
                           ("Idempotent-Replayed",))},
              (400, 401, 404, 408, 409, 422), body=RerunRequest, params=(_IDEMPOTENCY_KEY,)),
    Operation("get", "/v1/ops/reruns/{bulk_id}",
              "A bulk rerun's progress and per-item results (those past the first `after`, in the order they "
              "finished)", "ops", "operatorToken", _ok(RerunBulk), (401, 404, 422),
              params=(_BULK, _query("after", _AFTER, "how many items the caller has already (default 0)"))),
    Operation("post", "/v1/ops/reruns/{bulk_id}/cancel", "Cancel a bulk rerun: what has not started does not",
              "ops", "operatorToken", _ok(RerunBulk, "Its state once it has stopped"), (401, 404), params=(_BULK,)),
    Operation("post", "/v1/ops/replays",
              "Replay a trigger event through its connection's runtime script (or webhook), waiting for the "
              "delivery; dry_run only checks", "ops", "operatorToken",
              _ok(ReplayPosted, "A dry run's plan, or how the replay went", "Idempotent-Replayed"),
              (400, 401, 404, 408, 409, 422), body=ReplayRequest, params=(_IDEMPOTENCY_KEY,)),
    Operation("post", "/v1/ops/script-trials",
              "Try a candidate runtime script on a connection's recorded trigger events, nothing reaching a "
              "service: its calls are resolved as live ones and answered from the original runs' calls or by "
              "stand-ins. The answer is JSON lines as events are tried: trial_started, a trial_item per event "
              "(the original run beside the candidate's, with a verdict), then trial_summary once the "
              "script_trial record is in the log", "ops", "operatorToken",
              {200: Answer("JSON lines, one a line: each of these", TrialLine, media_type=JSON_LINES)},
              (400, 401, 404, 408, 422), body=ScriptTrialRequest),
)
_TAGS = [
    {"name": "connect", "description": "The Connect API, shaped like IFTTT's Connect API v2 (service key)"},
    {"name": "ops", "description": "What the dashboard and CLI ask the hub (operator token)"},
    {"name": "hub", "description": "The hub itself, for anyone"},
    {"name": "streams", "description": "The event log's websocket streams (operator token). OpenAPI has no "
                                       "websocket operation: they are described under x-websocket-streams"},
]
_STREAM_FRAMES = {"subscribe": SubscribeFrame, "hello": HelloFrame, "batch": BatchFrame, "heartbeat": HeartbeatFrame,
                  "error": ErrorFrame}


def openapi_document(version: str) -> dict[str, Any]:
    schemas, components = _schemas()
    return {
        "openapi": "3.1.0",
        "info": {"title": "Switchroom hub", "version": version,
                 "description": "The Connect API (shaped like IFTTT's Connect API v2), the ops API, and, under "
                                "x-websocket-streams, the event log's websocket streams."},
        "tags": _TAGS,
        "components": {"schemas": components, "securitySchemes": {
            "serviceKey": {"type": "apiKey", "in": "header", "name": "IFTTT-Service-Key"},
            "operatorToken": {"type": "http", "scheme": "bearer",
                              "description": "an operator token: SWITCHROOM_TOKEN, or one the hub's config names"},
        }},
        "paths": _paths(schemas),
        "x-websocket-streams": _streams(schemas),
    }


_Schemas = dict[Any, dict[str, Any]]
"""Each type's schema: of what the hub reads for validation, of what it sends for serialization."""


def _schemas() -> tuple[_Schemas, dict[str, Any]]:
    """The schema of every type the document names, and the components they refer to (records among them)."""
    reads = [*(o.body for o in OPERATIONS if o.body is not None), SubscribeFrame]
    sends = [*(a.body for o in OPERATIONS for a in o.answers.values() if a.body is not None), ErrorBody,
             *(frame for frame in _STREAM_FRAMES.values() if frame is not SubscribeFrame)]
    reads, sends = list(dict.fromkeys(reads)), list(dict.fromkeys(sends))  # once each, in the document's order
    assert not set(reads) & set(sends), f"read and sent alike: {set(reads) & set(sends)}"
    inputs = [(t, "validation", TypeAdapter(t)) for t in reads] + [(t, "serialization", TypeAdapter(t)) for t in sends]
    by_type, definitions = TypeAdapter.json_schemas(inputs, ref_template=SCHEMA_REF.replace("{name}", "{model}"),
                                                    schema_generator=PublishedJsonSchema)
    components = definitions.get("$defs", {})
    records = record_json_schemas(SCHEMA_REF)
    same_names = set(components) & set(records)
    assert not same_names, f"a model and a record struct share a schema name: {same_names}"
    return {key: schema for (key, _), schema in by_type.items()}, {**components, **records}


def _paths(schemas: _Schemas) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation, schemas)
    return paths


def _operation(operation: Operation, schemas: _Schemas) -> dict[str, Any]:
    connect = operation.auth == "serviceKey"
    responses = {str(status): _answer(answer, schemas, ("X-Request-ID",) if connect else ())
                 for status, answer in operation.answers.items()}
    for status in operation.errors:
        error = Answer((_CONNECT_ERRORS if connect else _OPS_ERRORS)[status], ErrorBody,
                       ("Retry-After",) if status == 429 else ())
        responses[str(status)] = _answer(error, schemas, ("X-Request-ID",) if connect else ())
    built: dict[str, Any] = {"summary": operation.summary, "tags": [operation.tag],
                             "security": [{operation.auth: []}] if operation.auth else [],
                             "parameters": list(operation.params), "responses": responses}
    if operation.body is not None:
        built["requestBody"] = {"required": True, "content": {"application/json": {"schema": schemas[operation.body]}}}
    return built


def _answer(answer: Answer, schemas: _Schemas, headers: tuple[str, ...]) -> dict[str, Any]:
    built: dict[str, Any] = {"description": answer.description}
    if answer.body is not None:
        schema = {"type": "string"} if answer.body is str else schemas[answer.body]
        built["content"] = {answer.media_type: {"schema": schema}}
    named = (*headers, *answer.headers)
    if named:
        built["headers"] = {name: _HEADERS[name] for name in named}
    return built


def _streams(schemas: _Schemas) -> dict[str, Any]:
    """Each websocket stream: what it carries, and the frames of its protocol (DESIGN §7)."""
    return {path: {
        "summary": f"The event log's records of kind {', '.join(kinds)}: the backlog after the client's cursor, "
                   "then live, nothing skipped and nothing repeated",
        "description": "A websocket (GET with Upgrade) with `Authorization: Bearer <operator token>`. Frames are "
                       f"JSON text. The client sends one subscribe frame within {SUBSCRIBE_TIMEOUT:g} s; the hub "
                       "answers hello (a new hub_id: start the cache over), then batch frames, each with the "
                       "through_seq the client's cursor moves to (past records of kinds this stream does not "
                       f"carry), and a heartbeat with the head seq when nothing new came for {HEARTBEAT_SECONDS:g} s. "
                       "Before closing, the hub sends an error frame saying why.",
        "security": [{"operatorToken": []}],
        "kinds": list(kinds),
        "client_frames": {"subscribe": schemas[SubscribeFrame]},
        "server_frames": {name: schemas[frame] if frame is not BatchFrame else _batch_of(kinds, schemas[frame])
                          for name, frame in _STREAM_FRAMES.items() if frame is not SubscribeFrame},
        "close_codes": {str(code): why for code, why in CLOSE_CODES.items()},
    } for path, kinds in STREAMS.items()}


def _batch_of(kinds: tuple[str, ...], batch: dict[str, Any]) -> dict[str, Any]:
    """The batch frame, its records narrowed to the kinds a stream carries (or kept only in part)."""
    names = (*(RECORD_TYPE[kind].__name__ for kind in kinds), CUT_RECORD)
    records = [{"$ref": SCHEMA_REF.format(name=name)} for name in names]
    return {"allOf": [batch, {"properties": {"records": {"items": {
        "required": ["seq", "ts", "kind"], "anyOf": records}}}}]}
