"""The Connect API (DESIGN §3): service-key authenticated, JSON in and out, every call recorded."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
import logging
import time
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.actions import ActionRequest, ActionRunner
from hub.catalog import Catalog
from hub.errors import ConnectApiError, field_error
from hub.recorder import Recorder
from hub.service_client import SERVICE_KEY_HEADER
from hub.users import UserConnections
from hub.wire_bodies import connection_body
from protocol import ApiCall, dumps, loads
from protocol.catalog import Connection, Service
from protocol.records import Op

log = logging.getLogger("switchroom.hub")


@dataclass
class CallContext:
    """What an inbound call was about, filled in by its handler as it learns it, for the record."""

    request_id: str
    op: Op = "other"
    op_id: str | None = None
    connection_id: str | None = None
    feature_id: str | None = None
    user_id: str | None = None
    user_feature_id: str | None = None
    request_body: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Request, CallContext], Awaitable[Response]]


@dataclass
class ConnectApi:
    catalog: Catalog
    users: UserConnections
    runner: ActionRunner
    recorder: Recorder

    def routes(self) -> list[Route]:
        return [
            Route("/v2/me", self._recorded(self.me), methods=["GET"]),
            Route("/v2/connections/{connection_id}", self._recorded(self.show_connection), methods=["GET"]),
            Route(
                "/v2/connections/{connection_id}/actions/{action_id}/run",
                self._recorded(self.run_action),
                methods=["POST"],
            ),
        ]

    # -- handlers ---------------------------------------------------------------------------------

    async def me(self, request: Request, ctx: CallContext) -> Response:
        service = self._authenticate(request)
        return JSONResponse({"type": "me", "service_id": service.id, "service_name": service.name})

    async def show_connection(self, request: Request, ctx: CallContext) -> Response:
        ctx.op, ctx.connection_id = "connection", request.path_params["connection_id"]
        connection = self._owned_connection(request, ctx.connection_id)
        user_id = request.query_params.get("user_id")
        ctx.user_id = user_id
        user_connection = self.users.get(user_id, connection.id) if user_id else None
        body = connection_body(
            self.catalog, connection, self.users.enabled_count(connection.id), user_connection, user_id is not None
        )
        return JSONResponse(body)

    async def run_action(self, request: Request, ctx: CallContext) -> Response:
        ctx.op, ctx.connection_id = "action", request.path_params["connection_id"]
        ctx.op_id = request.path_params["action_id"]
        self._owned_connection(request, ctx.connection_id)
        body = await _json_object(request)
        ctx.request_body = body
        ctx.user_id = _optional_str(body, "user_id", required=True)
        ctx.user_feature_id = _optional_str(body, "user_feature_id")
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise ConnectApiError("invalid_parameters", "'fields' must be an object",
                                  [field_error("/fields", "must be an object")])
        resolved = self.runner.resolve(
            ActionRequest(ctx.connection_id, ctx.op_id, ctx.user_id or "", ctx.user_feature_id, fields)
        )
        ctx.feature_id, ctx.user_feature_id = resolved.target.feature.id, resolved.user_feature_id
        ctx.extra["resolved_fields"] = resolved.fields
        result = await self.runner.perform(resolved, ctx.request_id)
        if result.ok:
            ctx.extra["skipped"] = result.skipped
            return Response(status_code=204)
        raise ConnectApiError(result.error_code or "service_error", result.error_message or "service call failed")  # type: ignore[arg-type]

    # -- auth -------------------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> Service:
        service = self.catalog.service_for_key(request.headers.get(SERVICE_KEY_HEADER))
        if service is None:
            raise ConnectApiError("unauthorized", f"Missing or wrong {SERVICE_KEY_HEADER} header")
        return service

    def _owned_connection(self, request: Request, connection_id: str) -> Connection:
        service = self._authenticate(request)
        connection = self.catalog.connection(connection_id)
        if connection.owner_service != service.id:
            raise ConnectApiError("forbidden", f"Connection '{connection_id}' belongs to another service")
        return connection

    # -- recording --------------------------------------------------------------------------------

    def _recorded(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: answer errors in the §3 shape and record the call, whatever happened."""

        async def endpoint(request: Request) -> Response:
            ctx = CallContext(request_id=request.headers.get("X-Request-ID") or uuid.uuid4().hex)
            started = time.perf_counter()
            error: ConnectApiError | None = None
            try:
                response = await handler(request, ctx)
            except ConnectApiError as exc:
                error = exc
            except Exception:  # never a traceback to the client; the log keeps it for operators
                log.exception("unhandled error in %s %s", request.method, request.url.path)
                error = ConnectApiError("internal_error", "Internal error")
            if error is not None:
                response = JSONResponse(error.body.model_dump(), status_code=error.status)
            response.headers["X-Request-ID"] = ctx.request_id
            self._record(request, ctx, response, error, started)
            return response

        return endpoint

    def _record(self, request: Request, ctx: CallContext, response: Response, error: ConnectApiError | None,
                started: float) -> None:
        response_body = error.body.model_dump() if error else (loads(response.body) if response.body else None)
        request_body = ctx.request_body
        if ctx.extra.get("resolved_fields") is not None:
            request_body = {**(request_body or {}), "resolved_fields": ctx.extra["resolved_fields"]}
        self.recorder.record(
            ApiCall(
                direction="inbound", method=request.method, path=request.url.path, op=ctx.op, op_id=ctx.op_id,
                connection_id=ctx.connection_id, feature_id=ctx.feature_id, user_id=ctx.user_id,
                user_feature_id=ctx.user_feature_id, status_code=response.status_code,
                skipped=bool(ctx.extra.get("skipped")),
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
                error_code=error.body.code if error else None, error_message=str(error) if error else None,
                request_body=request_body, response_body=_capped(response_body), source="api",
                request_id=ctx.request_id,
            ).model_dump(exclude_none=True)
        )


MAX_RECORDED_BODY = 8192


def _capped(body: Any) -> Any:
    """Bodies are kept in records up to a size; past it, a truncated text stands in."""
    if body is None:
        return None
    text = body if isinstance(body, str) else None
    if text is None:
        encoded = dumps(body)
        if len(encoded) <= MAX_RECORDED_BODY:
            return body
        text = encoded.decode(errors="replace")
    return text if len(text) <= MAX_RECORDED_BODY else text[:MAX_RECORDED_BODY] + "…[truncated]"


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = loads(raw) if raw else {}
    except ValueError:
        raise ConnectApiError("invalid_request", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ConnectApiError("invalid_request", "The request body must be a JSON object")
    return body


def _optional_str(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise ConnectApiError("invalid_parameters", f"'{key}' is required", [field_error(f"/{key}", "is required")])
        return None
    if not isinstance(value, str):
        raise ConnectApiError("invalid_parameters", f"'{key}' must be a string",
                              [field_error(f"/{key}", "must be a string")])
    return value
