"""Catalog objects rendered in the Connect API's documented shapes (IFTTT Connect API v2 keys)."""

from typing import Any

from switchroom.hub.catalog import Catalog
from switchroom.protocol.catalog import (
    Connection,
    Feature,
    FeatureOperation,
    Operation,
    OperationKind,
    UserConnection,
    UserFeature,
)


def connection_body(catalog: Catalog, connection: Connection, enabled_count: int,
                    user_connection: UserConnection | None, user_named: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "connection",
        "id": connection.id,
        "name": connection.name,
        "description": connection.description,
        "url": f"/connections/{connection.id}",
        "enabled_count": enabled_count,
        "user_status": (user_connection.status if user_connection else "never_enabled") if user_named else None,
        "services": _services(catalog, connection),
        "features": [_feature(f) for f in connection.features],
    }
    if user_connection is not None:
        body["user_connection"] = _user_connection(catalog, connection, user_connection)
    return body


def field_options_body(operation: Operation, entry: FeatureOperation) -> dict[str, Any]:
    """The options of the choice fields a user sets for this feature operation (not the developer's)."""
    return {
        "type": "field_options",
        "options": {
            f.id: [o.model_dump() for o in f.options or []]
            for f in operation.fields
            if f.type in ("select", "checkbox_multi") and _user_visible(entry, f.id)
        },
    }


def _user_visible(entry: FeatureOperation, field_id: str) -> bool:
    config = entry.fields.get(field_id)
    return config is not None and config.visibility == "user"


def _services(catalog: Catalog, connection: Connection) -> list[dict[str, Any]]:
    used: dict[str, set[str]] = {}
    for feature in connection.features:
        for entry in (*feature.triggers, *feature.queries, *feature.actions):
            service_id, _, slug = entry.ref.partition(".")
            used.setdefault(service_id, set()).add(slug)
    bodies = []
    for service_id, slugs in used.items():
        service = catalog.services[service_id]
        bodies.append({
            "service_id": service.id,
            "service_name": service.name,
            "is_primary": service.id == connection.owner_service,
            "triggers": [_operation(service.id, o) for o in service.triggers if o.id in slugs],
            "queries": [_operation(service.id, o) for o in service.queries if o.id in slugs],
            "actions": [_operation(service.id, o) for o in service.actions if o.id in slugs],
        })
    return bodies


def _operation(service_id: str, operation: Operation) -> dict[str, Any]:
    return {
        "id": f"{service_id}.{operation.id}",
        "label": operation.label,
        "fields": [f.model_dump(exclude_none=True) for f in operation.fields],
        "ingredients": operation.ingredients,
    }


def _feature(feature: Feature) -> dict[str, Any]:
    return {
        "id": feature.id,
        "title": feature.name,
        "fields": [],
        "feature_triggers": [_feature_op(e, "trigger_id") for e in feature.triggers],
        "feature_queries": [_feature_op(e, "query_id") for e in feature.queries],
        "feature_actions": [_feature_op(e, "action_id") for e in feature.actions],
    }


def _feature_op(entry: FeatureOperation, ref_key: str) -> dict[str, Any]:
    """Only user-visible fields are shown; developer fields and their values stay hidden."""
    return {
        "id": entry.id,
        ref_key: entry.ref,
        "fields": [
            {"id": field_id, "default_value": config.value}
            for field_id, config in entry.fields.items()
            if config.visibility == "user"
        ],
    }


def _user_connection(catalog: Catalog, connection: Connection, user_connection: UserConnection) -> dict[str, Any]:
    features = {f.id: f for f in connection.features}
    return {
        "status": user_connection.status,
        "user_features": [
            _user_feature(catalog, features[uf.feature_id], uf)
            for uf in user_connection.user_features
            if uf.feature_id in features
        ],
    }


def _user_feature(catalog: Catalog, feature: Feature, user_feature: UserFeature) -> dict[str, Any]:
    def entries(ops: list[FeatureOperation], id_key: str, kind: OperationKind) -> list[dict[str, Any]]:
        return [
            {
                "id": f"{user_feature.id}.{op.id}",
                id_key: op.id,
                "user_fields": [
                    {"field_id": field_id, "field_type": _field_type(catalog, kind, op, field_id), "value": value}
                    for field_id, value in user_feature.op_fields.get(op.id, {}).items()
                ],
            }
            for op in ops
        ]

    return {
        "id": user_feature.id,
        "feature_id": user_feature.feature_id,
        "enabled": user_feature.enabled,
        "user_fields": [],
        "user_feature_triggers": entries(feature.triggers, "feature_trigger_id", "trigger"),
        "user_feature_queries": entries(feature.queries, "feature_query_id", "query"),
        "user_feature_actions": entries(feature.actions, "feature_action_id", "action"),
    }


def _field_type(catalog: Catalog, kind: OperationKind, entry: FeatureOperation, field_id: str) -> str:
    found = catalog.operation(kind, entry.ref)
    field = found[1].field(field_id) if found else None
    return field.type if field else "text"
