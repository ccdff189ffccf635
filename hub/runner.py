"""Running a connection's trigger, query or action the way the Connect API does.

This is the one path every run takes — from the Connect API, and later from scripts and reruns —
so look-up, field resolution, validation and recording are the same whoever asks.
"""

from dataclasses import dataclass, field
from typing import Any
import hashlib

from switchroom.hub.catalog import Catalog, FeatureOpRef
from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.hub.record_bodies import capped, cut
from switchroom.hub.recorder import Recorder
from switchroom.hub.resolution import resolve_fields
from switchroom.hub.service_client import ServiceClient, ServiceResult
from switchroom.hub.users import UserConnections
from switchroom.protocol import ApiCall
from switchroom.protocol.catalog import OperationKind
from switchroom.protocol.records import Source


@dataclass(frozen=True)
class OperationRequest:
    connection_id: str
    kind: OperationKind
    op_id: str
    user_id: str
    user_feature_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedOperation:
    """A run as resolved: exactly what is sent, enough to run it again."""

    target: FeatureOpRef
    user_id: str
    user_feature_id: str
    fields: dict[str, Any]

    @property
    def trigger_identity(self) -> str:
        """A stable id for this user feature's subscription to this trigger."""
        key = f"{self.target.connection.id}/{self.user_feature_id}/{self.target.entry.id}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass
class OperationRunner:
    catalog: Catalog
    users: UserConnections
    services: ServiceClient
    recorder: Recorder

    def resolve(self, request: OperationRequest, catalog: Catalog | None = None) -> ResolvedOperation:
        """Find the feature operation and the user's feature, and resolve the fields; 4xx on failure.
        ``catalog``: a snapshot to resolve in (a script's calls use the one its run started in); default,
        the catalog the hub serves now."""
        catalog = catalog or self.catalog
        connection = catalog.connection(request.connection_id)
        targets = catalog.feature_ops(connection, request.kind, request.op_id)
        if not targets:
            raise ConnectApiError("not_found", f"Connection '{connection.id}' has no {request.kind} '{request.op_id}'")
        user_connection = self.users.get(request.user_id, connection.id)
        if user_connection is None or user_connection.status != "enabled":
            raise ConnectApiError(
                "invalid_parameters", f"User '{request.user_id}' has not enabled connection '{connection.id}'",
                [field_error("/user_id", "the user has not enabled this connection")],
            )
        by_feature = {t.feature.id: t for t in targets}
        candidates = [
            uf for uf in user_connection.user_features
            if uf.enabled and uf.feature_id in by_feature
            and (request.user_feature_id is None or uf.id == request.user_feature_id)
        ]
        if not candidates:
            pointer = "/user_feature_id" if request.user_feature_id else "/user_id"
            raise ConnectApiError(
                "invalid_parameters",
                f"No enabled user feature of '{request.user_id}' has {request.kind} '{request.op_id}'",
                [field_error(pointer, f"no enabled user feature with this {request.kind}")],
            )
        user_feature = candidates[0]
        target = by_feature[user_feature.feature_id]
        fields = resolve_fields(
            target.operation, target.entry.fields, user_feature.op_fields.get(target.entry.id, {}), request.fields
        )
        return ResolvedOperation(target, request.user_id, user_feature.id, fields)

    async def run_action(self, run: ResolvedOperation, request_id: str, source: Source = "api",
                         script_run_id: str | None = None) -> ServiceResult:
        result = await self.services.run_action(
            run.target.service, run.target.operation.id, run.fields, _user(run), request_id
        )
        self._record_outbound(run, result, request_id, source, script_run_id)
        return result

    async def perform_query(self, run: ResolvedOperation, limit: int, cursor: str | None, request_id: str,
                            source: Source = "api", script_run_id: str | None = None) -> ServiceResult:
        result = await self.services.perform_query(
            run.target.service, run.target.operation.id, run.fields, limit, cursor, request_id
        )
        self._record_outbound(run, result, request_id, source, script_run_id)
        return result

    async def poll_trigger(self, run: ResolvedOperation, limit: int, request_id: str,
                           source: Source = "poll") -> ServiceResult:
        result = await self.services.poll_trigger(
            run.target.service, run.target.operation.id, run.trigger_identity, run.fields, limit, _user(run),
            request_id,
        )
        self._record_outbound(run, result, request_id, source)
        return result

    def _record_outbound(self, run: ResolvedOperation, result: ServiceResult, request_id: str, source: Source,
                         script_run_id: str | None = None) -> None:
        t = run.target
        self.recorder.record(
            ApiCall(
                direction="outbound", method=result.method, path=f"{t.service.id}:{result.path}",
                op=t.kind, op_id=t.entry.ref, connection_id=t.connection.id, feature_id=t.feature.id,
                user_id=run.user_id, user_feature_id=run.user_feature_id,
                status_code=result.status_code, skipped=result.skipped, latency_ms=result.latency_ms,
                error_code=result.error_code, error_message=cut(result.error_message),
                request_body=capped(result.request_body), response_body=capped(result.response_body),
                source=source, script_run_id=script_run_id, request_id=request_id,
            )
        )


def _user(run: ResolvedOperation) -> dict[str, str]:
    return {"id": run.user_id, "timezone": "UTC"}


MAX_QUERY_LIMIT = 1000
DEFAULT_QUERY_LIMIT = 50


def query_limit(value: Any) -> int:
    """A query's ``limit`` as the Connect API accepts it; 422 otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUERY_LIMIT:
        raise ConnectApiError("invalid_parameters", f"'limit' must be a whole number from 1 to {MAX_QUERY_LIMIT}",
                              [field_error("/limit", f"must be a whole number from 1 to {MAX_QUERY_LIMIT}")])
    return value


def raise_for(result: ServiceResult) -> None:
    """A failed service call as the Connect API error it answers with."""
    if result.error_code is not None:
        raise ConnectApiError(result.error_code, result.error_message or "service call failed")


def query_answer(result: ServiceResult) -> dict[str, Any]:
    """A performed query's Connect API answer: ``{type: "list", data, next?: {cursor}}``."""
    payload = result.response_body if isinstance(result.response_body, dict) else {}
    data = payload.get("data") if isinstance(payload.get("data"), list) else []
    answer: dict[str, Any] = {"type": "list", "data": data}
    if isinstance(payload.get("cursor"), str) and payload["cursor"]:
        answer["next"] = {"cursor": payload["cursor"]}
    return answer
