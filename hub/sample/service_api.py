"""What every sample service shares: the Service API wire (DESIGN §4) around its own operations.

A sample service declares its actions, queries and triggers (:class:`Action`, :class:`Query`,
:class:`Trigger`) and :func:`service_app` serves them: the ``IFTTT-Service-Key`` check on every
route, fault injection on the action, query and trigger routes, IFTTT's ``{"errors": [...]}``
bodies, body and field checks (bad input is a 400, never a 500), query paging with opaque cursors,
the ``X-Request-ID`` echo, and two hooks for demos and tests: ``GET/POST /_faults`` (read or change
the fault injection while it runs) and ``POST /_events/{trigger}`` (make a trigger item appear).
"""

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
import asyncio
import base64
import hashlib
import hmac
import json

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.feeds import TriggerFeed

SERVICE_KEY_HEADER = "IFTTT-Service-Key"
REQUEST_ID_HEADER = "X-Request-ID"
DEFAULT_LIMIT = 50
_MAX_IDENTITY = 200
_MAX_REQUEST_ID = 200

FieldCheck = Callable[[Mapping[str, Any]], dict[str, Any]]


class ServiceApiError(Exception):
    """An answer other than success, sent as ``{"errors": [{"message", "status"?}]}``."""

    def __init__(self, status_code: int, message: str, skip: bool = False) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.skip = skip


@dataclass(frozen=True)
class Action:
    """``check`` turns actionFields into checked fields; ``run`` acts and returns the affected record's id."""

    slug: str
    check: FieldCheck
    run: Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Query:
    """``rows`` gives the whole, stable result for checked queryFields; paging is done for it."""

    slug: str
    check: FieldCheck
    rows: Callable[[dict[str, Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Trigger:
    slug: str
    check: FieldCheck
    feed: TriggerFeed


_Op = TypeVar("_Op", Action, Query, Trigger)


def errors_response(status_code: int, message: str, status: str | None = None,
                    headers: Mapping[str, str] | None = None) -> JSONResponse:
    """IFTTT's error body; ``status="SKIP"`` (with 400) tells the hub the action was skipped, not failed."""
    error: dict[str, str] = {"message": message}
    if status:
        error["status"] = status
    return JSONResponse({"errors": [error]}, status_code=status_code, headers=headers)


def no_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The check of an operation without fields: whatever was sent is ignored."""
    return {}


def required_text(fields: Mapping[str, Any], name: str, max_length: int = 500) -> str:
    value = fields.get(name)
    if value is None or value == "":
        raise ServiceApiError(400, f"Missing required field '{name}'")
    if not isinstance(value, str) or not value.strip():
        raise ServiceApiError(400, f"Field '{name}' must be non-empty text")
    if len(value) > max_length:
        raise ServiceApiError(400, f"Field '{name}' is longer than {max_length} characters")
    return value


def required_choice(fields: Mapping[str, Any], name: str, choices: Sequence[str]) -> str:
    value = fields.get(name)
    if value is None or value == "":
        raise ServiceApiError(400, f"Missing required field '{name}'")
    if not isinstance(value, str) or value not in choices:
        raise ServiceApiError(400, f"Field '{name}' must be one of: {', '.join(choices)}")
    return value


def service_app(name: str, service_key: str, faults: Faults, *, actions: Sequence[Action] = (),
                queries: Sequence[Query] = (), triggers: Sequence[Trigger] = ()) -> Starlette:
    """A real HTTP app serving these operations; ``name`` is what error messages call the service."""
    api = _ServiceApi(name, service_key, faults, actions, queries, triggers)
    return Starlette(
        routes=[
            Route("/ifttt/v1/status", api.status, methods=["GET"]),
            Route("/ifttt/v1/actions/{slug}", api.action, methods=["POST"]),
            Route("/ifttt/v1/queries/{slug}", api.query, methods=["POST"]),
            Route("/ifttt/v1/triggers/{slug}", api.trigger, methods=["POST"]),
            Route("/_faults", api.fault_settings, methods=["GET", "POST"]),
            Route("/_events/{slug}", api.event, methods=["POST"]),
            Route("/_calls", api.calls_received, methods=["GET"]),
        ],
        middleware=[Middleware(_EchoRequestId)],
        exception_handlers={ServiceApiError: _error_answer, HTTPException: _http_error_answer},
    )


class _ServiceApi:
    def __init__(self, name: str, service_key: str, faults: Faults, actions: Sequence[Action],
                 queries: Sequence[Query], triggers: Sequence[Trigger]) -> None:
        self._name = name
        self._key = service_key.encode()
        self._faults = faults
        self._actions = {action.slug: action for action in actions}
        self._queries = {query.slug: query for query in queries}
        self._triggers = {trigger.slug: trigger for trigger in triggers}
        self._calls: Counter[str] = Counter()
        """Calls of the Service API received, as ``kind/slug`` (a trigger's, per identity too)."""

    async def status(self, request: Request) -> JSONResponse:
        self._authorize(request)
        return JSONResponse({"data": {"status": "ok"}})

    async def action(self, request: Request) -> JSONResponse:
        action = self._operation(request, self._actions, "action")
        self._calls[f"action/{action.slug}"] += 1
        outcome = await self._inject_faults()
        fields = action.check(_object_at(await _json_object(request), "actionFields"))
        if outcome == "skip":
            raise ServiceApiError(400, f"{self._name} skipped {action.slug} (injected SKIP)", skip=True)
        return JSONResponse({"data": [{"id": action.run(fields)}]})

    async def query(self, request: Request) -> JSONResponse:
        query = self._operation(request, self._queries, "query")
        self._calls[f"query/{query.slug}"] += 1
        await self._inject_faults()  # a skip roll counts as ok: SKIP is an action's answer only
        body = await _json_object(request)
        fields = query.check(_object_at(body, "queryFields"))
        return JSONResponse(_page(query.rows(fields), _limit(body), _optional_text(body, "cursor"),
                                  _cursor_scope(query.slug, fields)))

    async def trigger(self, request: Request) -> JSONResponse:
        trigger = self._operation(request, self._triggers, "trigger")
        await self._inject_faults()  # a skip roll counts as ok, as for queries
        body = await _json_object(request)
        identity = _identity(body)
        self._calls[f"trigger/{trigger.slug}"] += 1
        self._calls[f"trigger/{trigger.slug}/{identity}"] += 1
        fields = trigger.check(_object_at(body, "triggerFields"))
        user_id = _optional_text(_object_at(body, "user"), "id")
        return JSONResponse({"data": trigger.feed.poll(identity, fields, user_id, _limit(body))})

    async def calls_received(self, request: Request) -> JSONResponse:
        """How many calls of each operation this service received (``kind/slug``, and a trigger's per
        ``kind/slug/identity``): what a test counts to see whether a hub called it, and how often."""
        self._authorize(request)
        return JSONResponse({"data": dict(self._calls)})

    async def fault_settings(self, request: Request) -> JSONResponse:
        self._authorize(request)
        if request.method == "POST":
            try:
                self._faults.update(await _json_object(request))
            except ValueError as exc:
                raise ServiceApiError(400, str(exc)) from None
        return JSONResponse(self._faults.as_dict())

    async def event(self, request: Request) -> JSONResponse:
        """Adds a trigger item; answers ``{data: [{trigger_identity, item}]}``, one per identity it reached."""
        trigger = self._operation(request, self._triggers, "trigger")
        body = await _json_object(request, empty_is_object=True)
        try:
            added = trigger.feed.add(_optional_text(body, "trigger_identity"), _optional_text(body, "user_id"),
                                     _object_at(body, "ingredients"))
        except ValueError as exc:
            raise ServiceApiError(400, str(exc)) from None
        except LookupError as exc:
            raise ServiceApiError(404, str(exc)) from None
        return JSONResponse({"data": [{"trigger_identity": identity, "item": item} for identity, item in added]})

    def _authorize(self, request: Request) -> None:
        given = request.headers.get(SERVICE_KEY_HEADER, "").encode()
        if not hmac.compare_digest(given, self._key):
            raise ServiceApiError(401, "Invalid service key")

    def _operation(self, request: Request, operations: Mapping[str, _Op], kind: str) -> _Op:
        self._authorize(request)
        slug = request.path_params["slug"]
        if slug not in operations:
            raise ServiceApiError(404, f"{self._name} has no {kind} '{slug[:100]}'")
        return operations[slug]

    async def _inject_faults(self) -> str:
        """Waits the injected latency, then answers an injected error here; else ``"skip"`` or ``"ok"``."""
        if self._faults.latency_ms:
            await asyncio.sleep(self._faults.latency_ms / 1000)
        if self._faults.in_outage():
            raise ServiceApiError(self._faults.error_status, f"{self._name} is down (injected outage)")
        outcome = self._faults.roll()
        if outcome == "error":
            raise ServiceApiError(self._faults.error_status, f"{self._name} failed (injected error)")
        return outcome


async def _json_object(request: Request, empty_is_object: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if empty_is_object and not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ServiceApiError(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ServiceApiError(400, "The request body must be a JSON object")
    return body


def _object_at(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ServiceApiError(400, f"'{key}' must be an object")
    return value


def _optional_text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ServiceApiError(400, f"'{key}' must be a string")
    return value


def _identity(body: Mapping[str, Any]) -> str:
    identity = _optional_text(body, "trigger_identity")
    if not identity:
        raise ServiceApiError(400, "Missing required 'trigger_identity'")
    if len(identity) > _MAX_IDENTITY:
        raise ServiceApiError(400, f"'trigger_identity' is longer than {_MAX_IDENTITY} characters")
    return identity


def _limit(body: Mapping[str, Any]) -> int:
    limit = body.get("limit")
    if limit is None:
        return DEFAULT_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ServiceApiError(400, "'limit' must be a whole number, at least 0")
    return limit


def _page(rows: list[dict[str, Any]], limit: int, cursor: str | None, scope: str) -> dict[str, Any]:
    """``limit`` rows from where ``cursor`` points, and a cursor for the rest while rows remain."""
    start = _cursor_offset(cursor, scope, len(rows)) if cursor else 0
    end = start + limit
    page: dict[str, Any] = {"data": rows[start:end]}
    if end < len(rows):
        page["cursor"] = base64.urlsafe_b64encode(f"{end}:{scope}".encode()).decode().rstrip("=")
    return page


def _cursor_scope(slug: str, fields: Mapping[str, Any]) -> str:
    """Ties a cursor to the query and fields it was made for, so it cannot page another result."""
    canonical = json.dumps([slug, fields], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _cursor_offset(cursor: str, scope: str, total: int) -> int:
    try:
        offset_text, cursor_scope = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")
        offset = int(offset_text)
    except ValueError:  # bad base64, bytes that are not UTF-8, wrong shape, not a number
        offset, cursor_scope = -1, ""
    if cursor_scope != scope or not 0 <= offset <= total:
        raise ServiceApiError(400, "'cursor' is not a cursor this query gave out")
    return offset


async def _error_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceApiError)
    return errors_response(exc.status_code, exc.message, "SKIP" if exc.skip else None)


async def _http_error_answer(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405, in the same errors body as everything else."""
    assert isinstance(exc, HTTPException)
    return errors_response(exc.status_code, exc.detail, headers=exc.headers)


class _EchoRequestId:
    """Sends the caller's ``X-Request-ID`` (optional) back on the answer, so both sides' logs line up."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = Headers(scope=scope).get(REQUEST_ID_HEADER) if scope["type"] == "http" else None
        if not request_id or len(request_id) > _MAX_REQUEST_ID:
            await self._app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self._app(scope, receive, send_with_id)
