"""Reading a ``PUT .../user_connection`` body (IFTTT's ``user_features`` list) into user features.

The body replaces the user's whole configuration. Each user feature names a feature of the
connection; its ``user_feature_triggers`` / ``_queries`` / ``_actions`` give values for the user
fields of that feature's operations. Developer fields cannot be set by users. Every problem is a
422 detail with a JSON pointer into the body.
"""

from typing import Any
import secrets

from switchroom.hub.catalog import Catalog
from switchroom.hub.errors import ConnectApiError, field_error
from switchroom.hub.resolution import value_problem
from switchroom.protocol import ErrorDetail
from switchroom.protocol.catalog import Connection, Feature, FeatureOperation, Operation, OperationKind, UserConnection, UserFeature

_OP_LISTS: tuple[tuple[str, str, str, OperationKind], ...] = (
    ("user_feature_triggers", "feature_trigger_id", "triggers", "trigger"),
    ("user_feature_queries", "feature_query_id", "queries", "query"),
    ("user_feature_actions", "feature_action_id", "actions", "action"),
)


def parse_user_features(catalog: Catalog, connection: Connection, body: dict[str, Any],
                        existing: UserConnection | None) -> list[UserFeature]:
    problems: list[ErrorDetail] = []
    raw = body.get("user_features")
    if not isinstance(raw, list):
        raise ConnectApiError("invalid_parameters", "'user_features' must be a list",
                              [field_error("/user_features", "must be a list")])
    known_ids = {uf.id for uf in existing.user_features} if existing else set()
    features = {f.id: f for f in connection.features}
    parsed: list[UserFeature] = []
    for n, item in enumerate(raw):
        user_feature = _user_feature(catalog, features, item, f"/user_features/{n}", known_ids, problems)
        if user_feature is None:
            continue
        if any(uf.id == user_feature.id for uf in parsed):
            problems.append(field_error(f"/user_features/{n}/id", "names the same user feature as an earlier entry"))
        parsed.append(user_feature)
    if problems:
        raise ConnectApiError("invalid_parameters", "The user connection is invalid", problems)
    return parsed


def _user_feature(catalog: Catalog, features: dict[str, Feature], item: Any, pointer: str, known_ids: set[str],
                  problems: list[ErrorDetail]) -> UserFeature | None:
    if not isinstance(item, dict):
        problems.append(field_error(pointer, "must be an object"))
        return None
    feature = features.get(str(item.get("feature_id")))
    if feature is None:
        problems.append(field_error(f"{pointer}/feature_id", "not a feature of this connection"))
        return None
    uf_id = item.get("id")
    if uf_id is not None and (not isinstance(uf_id, str) or uf_id not in known_ids):
        problems.append(field_error(f"{pointer}/id", "not one of this user's features; omit it for a new one"))
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(field_error(f"{pointer}/enabled", "must be true or false"))
    op_fields: dict[str, dict[str, Any]] = {}
    for list_key, id_key, attribute, kind in _OP_LISTS:
        entries = {e.id: e for e in getattr(feature, attribute)}
        listed = item.get(list_key, [])
        if not isinstance(listed, list):
            problems.append(field_error(f"{pointer}/{list_key}", "must be a list"))
            continue
        for m, op_item in enumerate(listed):
            where = f"{pointer}/{list_key}/{m}"
            op_id = op_item.get(id_key) if isinstance(op_item, dict) else None
            entry = entries.get(op_id) if isinstance(op_id, str) else None
            if entry is None:
                problems.append(field_error(f"{where}/{id_key}", f"not one of feature '{feature.id}''s {attribute}"))
                continue
            found = catalog.operation(kind, entry.ref)
            assert found is not None  # the catalog was checked when it was loaded
            op_fields[entry.id] = _user_fields(found[1], entry, op_item.get("user_fields", []), where, problems)
    return UserFeature(
        id=uf_id if isinstance(uf_id, str) else f"uf_{secrets.token_hex(8)}",
        feature_id=feature.id, enabled=enabled is not False, op_fields=op_fields,
    )


def _user_fields(operation: Operation, entry: FeatureOperation, raw: Any, pointer: str,
                 problems: list[ErrorDetail]) -> dict[str, Any]:
    if not isinstance(raw, list):
        problems.append(field_error(f"{pointer}/user_fields", "must be a list of {field_id, value}"))
        return {}
    values: dict[str, Any] = {}
    for n, item in enumerate(raw):
        where = f"{pointer}/user_fields/{n}"
        field_id = item.get("field_id") if isinstance(item, dict) else None
        field = operation.field(field_id) if isinstance(field_id, str) else None
        config = entry.fields.get(field_id) if isinstance(field_id, str) else None
        if field is None:
            problems.append(field_error(f"{where}/field_id", f"{entry.ref} has no such field"))
        elif config is None or config.visibility != "user":
            problems.append(field_error(f"{where}/field_id", f"'{field_id}' is not a field users set"))
        elif (message := value_problem(field, item.get("value"))) is not None:
            problems.append(field_error(f"{where}/value", message))
        else:
            values[field.id] = item["value"]
    return values
