"""Running an action the way the Connect API does: find it, resolve its fields, call the service.

This is the one path every action run takes — from the Connect API, and later from scripts and
reruns — so resolution, validation and recording are the same whoever asks.
"""

from dataclasses import dataclass, field
from typing import Any

from hub.catalog import Catalog, FeatureOpRef
from hub.errors import ConnectApiError, field_error
from hub.recorder import Recorder
from hub.resolution import resolve_fields
from hub.service_client import ServiceClient, ServiceResult
from hub.users import UserConnections
from protocol import ApiCall
from protocol.records import Source


@dataclass(frozen=True)
class ActionRequest:
    connection_id: str
    action_id: str
    user_id: str
    user_feature_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedAction:
    """An action run as resolved: exactly what was sent, enough to run it again."""

    target: FeatureOpRef
    user_id: str
    user_feature_id: str
    fields: dict[str, Any]


@dataclass
class ActionRunner:
    catalog: Catalog
    users: UserConnections
    services: ServiceClient
    recorder: Recorder

    def resolve(self, request: ActionRequest) -> ResolvedAction:
        """Find the feature action and the user's feature, and resolve the fields; 4xx on failure."""
        connection = self.catalog.connection(request.connection_id)
        targets = self.catalog.feature_ops(connection, "action", request.action_id)
        if not targets:
            raise ConnectApiError("not_found", f"Connection '{connection.id}' has no action '{request.action_id}'")
        user_connection = self.users.get(request.user_id, connection.id)
        if user_connection is None or user_connection.status != "enabled":
            raise ConnectApiError(
                "invalid_parameters",
                f"User '{request.user_id}' has not enabled connection '{connection.id}'",
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
                f"No enabled user feature of '{request.user_id}' has action '{request.action_id}'",
                [field_error(pointer, "no enabled user feature with this action")],
            )
        user_feature = candidates[0]
        target = by_feature[user_feature.feature_id]
        fields = resolve_fields(
            target.operation, target.entry.fields, user_feature.op_fields.get(target.entry.id, {}), request.fields
        )
        return ResolvedAction(target, request.user_id, user_feature.id, fields)

    async def perform(self, action: ResolvedAction, request_id: str, source: Source = "api") -> ServiceResult:
        """Call the service and record the outbound call."""
        t = action.target
        result = await self.services.run_action(
            t.service, t.operation.id, action.fields, {"id": action.user_id, "timezone": "UTC"}, request_id
        )
        self.recorder.record(
            ApiCall(
                direction="outbound", method=result.method, path=f"{t.service.id}:{result.path}",
                op="action", op_id=t.entry.ref, connection_id=t.connection.id, feature_id=t.feature.id,
                user_id=action.user_id, user_feature_id=action.user_feature_id,
                status_code=result.status_code, skipped=result.skipped, latency_ms=result.latency_ms,
                error_code=result.error_code, error_message=result.error_message,
                request_body=result.request_body, response_body=result.response_body,
                source=source, request_id=request_id,
            ).model_dump(exclude_none=True)
        )
        return result

