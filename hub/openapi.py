"""The hub's OpenAPI document, built from the protocol models so it cannot drift from them."""

from typing import Any

from pydantic import BaseModel

from switchroom.protocol import ErrorBody
from switchroom.protocol.ops import ReplayRequest, RerunRequest
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
from switchroom.store.filters import MAX_FILTER_CHARS

_MODELS: list[type[BaseModel]] = [
    ErrorBody, MeResponse, ConnectionResponse, FieldOptionsResponse, ListResponse, RunActionRequest,
    PerformQueryRequest, TestTriggerRequest, UserConnectionRequest, NotificationRequest, NotificationResponse,
    RerunRequest, ReplayRequest,
]
_ERRORS = {
    "400": "invalid_request: the body is not a JSON object",
    "401": "unauthorized: missing or wrong IFTTT-Service-Key",
    "403": "forbidden: the connection belongs to another service",
    "404": "not_found: no such connection or operation",
    "408": "request_timeout: the request's headers or body did not arrive in time",
    "422": "invalid_parameters: one detail per bad field, with a JSON pointer",
    "429": "rate_limited: see Retry-After",
    "502": "service_error: the service answered with an error",
    "504": "service_timeout: the service did not answer in time",
}


def openapi_document(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Switchroom hub", "version": version,
                 "description": "The Connect API (shaped like IFTTT's Connect API v2) and the ops API."},
        "components": {"schemas": _schemas(), "securitySchemes": {
            "serviceKey": {"type": "apiKey", "in": "header", "name": "IFTTT-Service-Key"},
            "operatorToken": {"type": "http", "scheme": "bearer"},
        }},
        "paths": _paths(),
    }


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in _MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(summary: str, ok: dict[str, Any], errors: list[str], *, body: str | None = None,
               params: list[dict[str, Any]] | None = None, user_id_query: str | None = None) -> dict[str, Any]:
    parameters = list(params or [])
    if user_id_query:
        parameters.append({"name": "user_id", "in": "query", "required": user_id_query == "required",
                           "schema": {"type": "string", "minLength": 1}})
    responses = dict(ok)
    for status in errors:
        responses[status] = {"description": _ERRORS[status],
                             "content": {"application/json": {"schema": _ref("ErrorBody")}}}
    operation: dict[str, Any] = {"summary": summary, "security": [{"serviceKey": []}], "parameters": parameters,
                                 "responses": responses}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return operation


_OPS_ERRORS = {**_ERRORS, "401": "unauthorized: missing or wrong operator token",
               "404": "not_found: no such connection, record or bulk rerun",
               "409": "not_rerunnable, already_rerun, or conflict (an interrupted request's Idempotency-Key)"}


def _ops(summary: str, required: list[str], errors: list[str], *, body: str | None = None,
         params: list[dict[str, Any]] | None = None, ok_status: str = "200",
         extra_ok: dict[str, str] | None = None) -> dict[str, Any]:
    """An ops API operation: operator-token auth, a JSON object answer with ``required`` keys."""
    answer = {"content": {"application/json": {"schema": {"type": "object", "required": required}}}}
    responses: dict[str, Any] = {ok_status: {"description": "OK", **answer}}
    for status, description in (extra_ok or {}).items():
        responses[status] = {"description": description, **answer}
    for status in errors:
        responses[status] = {"description": _OPS_ERRORS[status],
                             "content": {"application/json": {"schema": _ref("ErrorBody")}}}
    operation: dict[str, Any] = {"summary": summary, "security": [{"operatorToken": []}],
                                 "parameters": list(params or []), "responses": responses}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return operation


def _json(name: str, description: str = "OK") -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {"schema": _ref(name)}}}}


_NO_CONTENT = {"204": {"description": "Done"}}
_PATH = {"in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
_CONNECTION = {"name": "connection_id", **_PATH}
_TYPE = {"name": "type_id", **_PATH}
_KIND = {"name": "kind", "in": "path", "required": True, "schema": {"enum": ["triggers", "queries", "actions"]}}
_RUN_ERRORS = ["400", "401", "403", "404", "422", "429", "502", "504"]


def _paths() -> dict[str, Any]:
    base = "/v2/connections/{connection_id}"
    return {
        "/v2/me": {"get": _operation("Who the service key belongs to", _json("MeResponse"), ["401"])},
        base: {"get": _operation("Show a connection (with a user's status and configuration when named)",
                                 _json("ConnectionResponse"), ["401", "403", "404"], params=[_CONNECTION],
                                 user_id_query="optional")},
        f"{base}/user_connection": {"put": _operation(
            "Enable or reconfigure a user's connection; replaces the whole configuration",
            _json("ConnectionResponse"), ["400", "401", "403", "404", "422"], body="UserConnectionRequest",
            params=[_CONNECTION], user_id_query="required")},
        f"{base}/disable": {"post": _operation(
            "Disable a user's connection", _json("ConnectionResponse"), ["401", "403", "404", "422"],
            params=[_CONNECTION], user_id_query="required")},
        base + "/{kind}/{type_id}/field_options": {"get": _operation(
            "Options of an operation's choice fields", _json("FieldOptionsResponse"), ["401", "403", "404"],
            params=[_CONNECTION, _KIND, _TYPE])},
        base + "/actions/{type_id}/run": {"post": _operation(
            "Run an action for a user", _NO_CONTENT, _RUN_ERRORS, body="RunActionRequest",
            params=[_CONNECTION, _TYPE])},
        base + "/queries/{type_id}/perform": {"post": _operation(
            "Perform a query for a user", _json("ListResponse"), _RUN_ERRORS, body="PerformQueryRequest",
            params=[_CONNECTION, _TYPE])},
        base + "/triggers/{type_id}/test": {"post": _operation(
            "Send a test trigger event through the pipeline", _NO_CONTENT, _RUN_ERRORS, body="TestTriggerRequest",
            params=[_CONNECTION, _TYPE])},
        "/v1/notifications": {"post": _operation(
            "Realtime API: the service has new trigger data; the hub polls the subscriptions named",
            _json("NotificationResponse"), ["400", "401", "422"], body="NotificationRequest")},
        "/v1/ops/connections": {"get": _ops(
            "Connections with live stats: calls, errors, error_pct and p95_latency_ms of the inbound Connect API "
            "calls the hub answered; out_calls and out_errors of the calls it made for the connection (to "
            "services, trigger polls among them, and webhooks)", ["type", "window_minutes", "data"], ["401", "422"],
            params=[{"name": "window_minutes", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 10080}}])},
        "/v1/ops/connections/{connection_id}": {"get": _ops(
            "How a connection is defined: features, fields with visibility and value, configuration, runtime "
            "script and its version", ["type", "id", "name", "features", "runtime_script"], ["401", "404"],
            params=[_CONNECTION])},
        "/v1/ops/hubs": {"get": _ops(
            "The hub processes serving this log (every live one, where hubs share a PostgreSQL database): "
            "process_id, url, version, up_s, seen_s_ago, and which one answered", ["type", "data"], ["401"])},
        "/v1/ops/records": {"get": _ops(
            "Records of the event log that a filter shows (the filter language; every kind unless `kind:` "
            "says), oldest first, a page at a time: go on from `next.after` until it is absent. A page reads "
            "at most 200,000 seqs, so it may hold fewer than `limit` records and still have a `next`",
            ["type", "head_seq", "data"], ["401", "422"],
            params=[{"name": "filter", "in": "query", "required": False,
                     "schema": {"type": "string", "maxLength": MAX_FILTER_CHARS}},
                    {"name": "after", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}])},
        "/v1/ops/reruns": {"post": _ops(
            "Rerun a failed action call, or every one a filter shows (200 for one, 202 for a bulk; dry_run "
            "counts)", ["type"], ["400", "401", "404", "409", "422"], body="RerunRequest", ok_status="200",
            extra_ok={"202": "A bulk rerun started; follow it at /v1/ops/reruns/{id}"},
            params=[{"name": "Idempotency-Key", "in": "header", "required": False,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 200}}])},
        "/v1/ops/reruns/{bulk_id}": {"get": _ops(
            "A bulk rerun's progress and per-item results (those past the first `after`, in the order they "
            "finished)", ["type", "id", "state", "total", "items"], ["401", "404", "422"],
            params=[{"name": "bulk_id", **_PATH}, {"name": "after", "in": "query", "required": False,
                                                    "schema": {"type": "integer", "minimum": 0}}])},
        "/v1/ops/reruns/{bulk_id}/cancel": {"post": _ops(
            "Cancel a bulk rerun: what has not started does not", ["type", "id", "state"], ["401", "404"],
            params=[{"name": "bulk_id", **_PATH}])},
        "/v1/ops/replays": {"post": _ops(
            "Replay a trigger event through its connection's runtime script (or webhook), waiting for the "
            "delivery; dry_run only checks", ["type"], ["400", "401", "404", "409", "422"], body="ReplayRequest",
            params=[{"name": "Idempotency-Key", "in": "header", "required": False,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 200}}])},
    }
