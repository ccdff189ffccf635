"""The Connect API (DESIGN §3): service-key authenticated, JSON in and out, every call recorded.

Bodies keep IFTTT Connect API v2's documented keys so its clients port over unchanged.
"""

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchroom.hub.auth import same_secret
from switchroom.hub.catalog import PLURALS, Catalog
from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.hub.inbound import CallContext, Handler, Unauthenticated, recorded
from switchroom.hub.rate_limit import UserRateLimit
from switchroom.hub.recorder import Recorder
from switchroom.hub.runner import (
    DEFAULT_QUERY_LIMIT, OperationRequest, OperationRunner, ResolvedOperation, query_answer, query_limit, raise_for,
)
from switchroom.hub.service_client import SERVICE_KEY_HEADER
from switchroom.hub.triggers import TriggerPipeline
from switchroom.hub.scripts.clock import zone_name
from switchroom.hub.user_config import parse_user_features
from switchroom.hub.users import UserConnections
from switchroom.hub.wire_bodies import connection_body, field_options_body
from switchroom.protocol import loads
from switchroom.protocol.catalog import Connection, OperationKind, Service, UserConnection
from switchroom.protocol.records import Op

KINDS: dict[str, OperationKind] = {plural: kind for kind, plural in PLURALS.items()}
MAX_BODY_BYTES = 1 << 20
MAX_NOTIFICATION_ITEMS = 1000


@dataclass
class ConnectApi:
    catalog: Catalog
    users: UserConnections
    runner: OperationRunner
    triggers: TriggerPipeline
    recorder: Recorder
    rate_limiter: UserRateLimit
    unauthenticated: Unauthenticated

    def routes(self) -> list[Route]:
        def route(path: str, handler: Handler, method: str) -> Route:
            return Route(path, recorded(self.recorder, handler, self.unauthenticated), methods=[method])

        base = "/v2/connections/{connection_id}"
        return [
            route("/v2/me", self.me, "GET"),
            route(base, self.show_connection, "GET"),
            route(f"{base}/user_connection", self.put_user_connection, "PUT"),
            route(f"{base}/disable", self.disable, "POST"),
            route(base + "/{kind:str}/{type_id:str}/field_options", self.field_options, "GET"),
            route(base + "/actions/{type_id:str}/run", self.run_action, "POST"),
            route(base + "/queries/{type_id:str}/perform", self.perform_query, "POST"),
            route(base + "/triggers/{type_id:str}/test", self.test_trigger, "POST"),
            route("/v1/notifications", self.notifications, "POST"),
        ]

    # -- identity and connections -----------------------------------------------------------------

    async def me(self, request: Request, ctx: CallContext) -> Response:
        service = self._authenticate(request)
        return JSONResponse({"type": "me", "authentication_level": "service", "service_id": service.id,
                             "service_name": service.name})

    async def show_connection(self, request: Request, ctx: CallContext) -> Response:
        catalog, connection = self._connection(request, ctx, "connection")
        ctx.user_id = request.query_params.get("user_id")
        if ctx.user_id:
            await self.users.fresh(ctx.user_id, connection.id)
        return JSONResponse(self._connection_body(catalog, connection, ctx.user_id))

    async def put_user_connection(self, request: Request, ctx: CallContext) -> Response:
        catalog, connection = self._connection(request, ctx, "user_connection")
        ctx.user_id = _query_user_id(request)
        body = ctx.request_body = await json_object(request)
        existing = await self.users.fresh(ctx.user_id, connection.id)
        user_features = parse_user_features(catalog, connection, body, existing)
        self.users.put(UserConnection(user_id=ctx.user_id, connection_id=connection.id, status="enabled",
                                      timezone=_timezone(body, existing), user_features=user_features))
        return JSONResponse(self._connection_body(catalog, connection, ctx.user_id))

    async def disable(self, request: Request, ctx: CallContext) -> Response:
        catalog, connection = self._connection(request, ctx, "user_connection")
        ctx.user_id = _query_user_id(request)
        existing = await self.users.fresh(ctx.user_id, connection.id)
        if existing is None:
            raise ConnectApiError("invalid_parameters", f"User '{ctx.user_id}' has not enabled '{connection.id}'",
                                  [field_error("/user_id", "the user has not enabled this connection")])
        self.users.put(existing.model_copy(update={"status": "disabled"}))
        return JSONResponse(self._connection_body(catalog, connection, ctx.user_id))

    async def field_options(self, request: Request, ctx: CallContext) -> Response:
        catalog, connection = self._connection(request, ctx, "other")
        kind = KINDS.get(request.path_params["kind"])
        ctx.op_id = request.path_params["type_id"]
        targets = catalog.feature_ops(connection, kind, ctx.op_id) if kind else []
        if not targets:
            raise ConnectApiError("not_found", f"Connection '{connection.id}' has no {request.path_params['kind']} "
                                               f"'{ctx.op_id}'")
        return JSONResponse(field_options_body(targets[0].operation, targets[0].entry))

    # -- operations -------------------------------------------------------------------------------

    async def run_action(self, request: Request, ctx: CallContext) -> Response:
        run = await self._resolve(request, ctx, "action")
        result = await self.runner.run_action(run, ctx.request_id)
        raise_for(result)
        ctx.skipped = result.skipped
        return Response(status_code=204)

    async def perform_query(self, request: Request, ctx: CallContext) -> Response:
        run = await self._resolve(request, ctx, "query")
        body = ctx.request_body or {}
        limit = query_limit(body.get("limit", DEFAULT_QUERY_LIMIT))
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise ConnectApiError("invalid_parameters", "'cursor' must be a string",
                                  [field_error("/cursor", "must be a string")])
        result = await self.runner.perform_query(run, limit, cursor, ctx.request_id)
        raise_for(result)
        return JSONResponse(query_answer(result))

    async def test_trigger(self, request: Request, ctx: CallContext) -> Response:
        run = await self._resolve(request, ctx, "trigger", allow_fields=False)
        result = await self.triggers.test(run, ctx.request_id)
        raise_for(result)
        return Response(status_code=204)

    async def notifications(self, request: Request, ctx: CallContext) -> Response:
        """Realtime API: a service says some subscriptions have new data; the hub polls them now."""
        ctx.op = "notification"
        self._authenticate(request)
        services = {s.id for s in self.catalog.services_for_key(request.headers.get(SERVICE_KEY_HEADER))}
        body = ctx.request_body = await json_object(request)
        items = _notification_items(body.get("data"))
        return JSONResponse({"type": "notification", "subscriptions": self.triggers.notify(services, items)})

    async def _resolve(self, request: Request, ctx: CallContext, kind: OperationKind,
                       allow_fields: bool = True) -> ResolvedOperation:
        ctx.op = kind
        catalog, connection = self._connection(request, ctx, kind)
        ctx.op_id = request.path_params["type_id"]
        body = ctx.request_body = await json_object(request)
        ctx.user_id = _string(body, "user_id", required=True)
        ctx.user_feature_id = _string(body, "user_feature_id")
        fields = body.get("fields") if allow_fields else None
        if fields is not None and not isinstance(fields, dict):
            raise ConnectApiError("invalid_parameters", "'fields' must be an object",
                                  [field_error("/fields", "must be an object")])
        if ctx.user_id:
            await self.users.fresh(ctx.user_id, connection.id)
        run = self.runner.resolve(OperationRequest(connection.id, kind, ctx.op_id, ctx.user_id or "",
                                                   ctx.user_feature_id, fields or {}), catalog)
        await self._check_rate(run.user_id, connection.id)  # after resolution: only real users get buckets
        ctx.feature_id, ctx.user_feature_id, ctx.resolved_fields = (
            run.target.feature.id, run.user_feature_id, run.fields
        )
        return run

    # -- helpers ----------------------------------------------------------------------------------

    def _authenticate(self, request: Request, catalog: Catalog | None = None) -> Service:
        service = (catalog or self.catalog).service_for_key(request.headers.get(SERVICE_KEY_HEADER))
        if service is None:
            raise ConnectApiError("unauthorized", f"Missing or wrong {SERVICE_KEY_HEADER} header")
        return service

    def _connection(self, request: Request, ctx: CallContext, op: Op) -> tuple[Catalog, Connection]:
        """The connection named in the path, if the caller's key is its owner's, and the catalog as it is
        now, which the rest of the request uses whatever reload happens meanwhile.

        Only a verified call is recorded against the connection, so that nobody without its key can
        move its numbers.
        """
        ctx.op = op
        catalog = self.catalog.snapshot()
        self._authenticate(request, catalog)
        connection = catalog.connection(request.path_params["connection_id"])
        owner = catalog.services[connection.owner_service]
        if not same_secret(owner.service_key, request.headers.get(SERVICE_KEY_HEADER, "")):
            raise ConnectApiError("forbidden", f"Connection '{connection.id}' belongs to another service")
        ctx.connection_id = connection.id
        return catalog, connection

    def _connection_body(self, catalog: Catalog, connection: Connection, user_id: str | None) -> dict[str, Any]:
        user_connection = self.users.get(user_id, connection.id) if user_id else None
        return connection_body(catalog, connection, self.users.enabled_count(connection.id),
                               user_connection, user_id is not None)

    async def _check_rate(self, user_id: str, connection_id: str) -> None:
        retry_after = await self.rate_limiter.retry_after(user_id, connection_id)
        if retry_after is not None:
            raise ConnectApiError("rate_limited", f"Too many requests for this user; retry in {retry_after} s",
                                  headers={"Retry-After": str(retry_after)})


async def json_object(request: Request) -> dict[str, Any]:
    raw = await _body(request)
    try:
        body = loads(raw) if raw.strip() else {}
    except ValueError:
        raise ConnectApiError("invalid_request", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ConnectApiError("invalid_request", "The request body must be a JSON object")
    return body


async def _body(request: Request) -> bytes:
    """The request body, refused past ``MAX_BODY_BYTES`` without reading the rest."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ConnectApiError("invalid_request", f"The request body is larger than {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ConnectApiError("invalid_request", f"The request body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _string(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise ConnectApiError("invalid_parameters", f"'{key}' is required", [field_error(f"/{key}", "is required")])
        return None
    if not isinstance(value, str) or not value:
        raise ConnectApiError("invalid_parameters", f"'{key}' must be a non-empty string",
                              [field_error(f"/{key}", "must be a non-empty string")])
    return value


def _notification_items(data: Any) -> list[dict[str, str]]:
    """``data`` of a notification: objects each naming a ``trigger_identity`` or a ``user_id``."""
    if not isinstance(data, list) or not 1 <= len(data) <= MAX_NOTIFICATION_ITEMS:
        raise ConnectApiError("invalid_parameters", f"'data' must be a list of 1 to {MAX_NOTIFICATION_ITEMS} items",
                              [field_error("/data", f"must be a list of 1 to {MAX_NOTIFICATION_ITEMS} items")])
    items, problems = [], []
    for n, item in enumerate(data):
        named = {k: item[k] for k in ("trigger_identity", "user_id") if isinstance(item, dict) and k in item}
        if len(named) == 1 and all(isinstance(v, str) and 0 < len(v) <= 200 for v in named.values()):
            items.append(named)
        else:
            problems.append(field_error(f"/data/{n}", "must be {\"trigger_identity\": …} or {\"user_id\": …}"))
    if problems:
        raise ConnectApiError("invalid_parameters", "Some notification items are not valid", problems)
    return items


def _query_user_id(request: Request) -> str:
    user_id = request.query_params.get("user_id")
    if not user_id:
        raise ConnectApiError("invalid_parameters", "'user_id' is required",
                              [field_error("/user_id", "is required (query parameter)")])
    return user_id


def _timezone(body: dict[str, Any], existing: UserConnection | None) -> str:
    """The user's time zone: ``timezone`` in the body (an IANA name), else what was stored, else UTC."""
    value = body.get("timezone")
    if value is None:
        return existing.timezone if existing else "UTC"
    if not isinstance(value, str) or zone_name(value) != value:
        raise ConnectApiError("invalid_parameters", "'timezone' must be an IANA time zone name",
                              [field_error("/timezone", "must be an IANA time zone name, e.g. Europe/London")])
    return value
