"""The ops API under ``/v1/ops/`` (operator-token auth): what the dashboard and CLI ask the hub."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from switchroom.protocol.catalog import Connection, FeatureOperation, OperationKind
from switchroom.protocol.hub_info import HubList
from switchroom.protocol.ops_answers import (
    ConnectionDefinition, ConnectionStats, ConnectionStatsList, DefinitionFeature, DefinitionField, DefinitionOperation,
)

from switchroom.hub.auth import OperatorTokens
from switchroom.hub.catalog import Catalog
from switchroom.hub.errors import ConnectApiError, query_int
from switchroom.hub.peers import Peers
from switchroom.hub.recorder import Recorder
from switchroom.hub.script_runs import script_version
from switchroom.hub.users import UserConnections
from switchroom.store import connection_stats, iso_timestamp

DEFAULT_WINDOW_MINUTES = 15
MAX_WINDOW_MINUTES = 7 * 24 * 60


@dataclass
class OpsApi:
    catalog: Catalog
    users: UserConnections
    recorder: Recorder
    tokens: OperatorTokens
    peers: Peers

    def routes(self) -> list[Route]:
        return [Route("/v1/ops/connections", self.connections, methods=["GET"]),
                Route("/v1/ops/connections/{connection_id}", self.definition, methods=["GET"]),
                Route("/v1/ops/hubs", self.hubs, methods=["GET"])]

    async def hubs(self, request: Request) -> JSONResponse:
        """The hub processes serving this log: each one's id, URL, version, seconds up and since last seen
        (one, for a hub on its own SQLite file; every live one on a shared PostgreSQL database)."""
        try:
            self._authorize(request)
        except ConnectApiError as exc:
            return JSONResponse(exc.body.model_dump(), status_code=exc.status)
        return JSONResponse(HubList(data=await self.peers.live()).model_dump())

    async def connections(self, request: Request) -> JSONResponse:
        """Every connection with live stats over the last ``window_minutes`` (default 15): ``calls``,
        ``errors``, ``error_pct`` and ``p95_latency_ms`` of the Connect API calls the hub answered for it;
        ``out_calls`` and ``out_errors`` of the calls the hub made for it (to its services, trigger polls
        among them, and webhooks to the developer's backend)."""
        try:
            self._authorize(request)
            minutes = _window_minutes(request.query_params.get("window_minutes"))
        except ConnectApiError as exc:
            return JSONResponse(exc.body.model_dump(), status_code=exc.status)
        since = iso_timestamp(datetime.now(UTC) - timedelta(minutes=minutes))
        stats = await self.recorder.read(lambda log: connection_stats(log, since))
        return JSONResponse(ConnectionStatsList(
            window_minutes=minutes, data=[self._connection(cid, stats.get(cid)) for cid in self.catalog.connections],
        ).model_dump())

    async def definition(self, request: Request) -> JSONResponse:
        """How one connection is defined: features, every operation's fields with their visibility and
        value (or default), the connection-level configuration and the runtime script with its version."""
        try:
            self._authorize(request)
            connection = self.catalog.connections.get(request.path_params["connection_id"])
            if connection is None:
                raise ConnectApiError("not_found", "No such connection")
        except ConnectApiError as exc:
            return JSONResponse(exc.body.model_dump(), status_code=exc.status)
        return JSONResponse(connection_definition(self.catalog, connection).model_dump())

    def _connection(self, connection_id: str, stats: Any) -> ConnectionStats:
        connection = self.catalog.connections[connection_id]
        return ConnectionStats(
            id=connection.id,
            name=connection.name,
            features=[f.id for f in connection.features],
            enabled_users=self.users.enabled_count(connection.id),
            calls=stats.calls if stats else 0,
            errors=stats.errors if stats else 0,
            error_pct=round(100 * stats.error_share, 2) if stats else 0.0,
            p95_latency_ms=stats.p95_latency_ms if stats else None,
            out_calls=stats.out_calls if stats else 0,
            out_errors=stats.out_errors if stats else 0,
        )

    def _authorize(self, request: Request) -> str:
        return self.tokens.required(request.headers.get("authorization"))


def connection_definition(catalog: Catalog, connection: Connection) -> ConnectionDefinition:
    """A connection as an operator sees it; service keys and webhook secrets stay out."""
    script = connection.runtime_script
    return ConnectionDefinition(
        id=connection.id,
        name=connection.name,
        description=connection.description,
        configuration=connection.configuration,
        runtime_script=script,
        script_version=script_version(script) if script is not None else None,
        delivery="script" if script is not None else ("webhook" if connection.webhook_url else "none"),
        features=[
            DefinitionFeature(id=feature.id, name=feature.name, operations=[
                _operation(catalog, kind, entry)
                for kind, entries in (("trigger", feature.triggers), ("query", feature.queries),
                                      ("action", feature.actions))
                for entry in entries])
            for feature in connection.features
        ],
    )


def _operation(catalog: Catalog, kind: OperationKind, entry: FeatureOperation) -> DefinitionOperation:
    found = catalog.operation(kind, entry.ref)
    fields = found[1].fields if found else []
    return DefinitionOperation(
        kind=kind, id=entry.id, ref=entry.ref, label=found[1].label if found else entry.ref,
        fields=[
            DefinitionField(id=field.id, label=field.label, type=field.type, required=field.required,
                            visibility=entry.fields[field.id].visibility if field.id in entry.fields else "user",
                            value=entry.fields[field.id].value if field.id in entry.fields else None)
            for field in fields
        ],
    )


def _window_minutes(raw: str | None) -> int:
    return query_int(raw, "window_minutes", 1, MAX_WINDOW_MINUTES, DEFAULT_WINDOW_MINUTES)
