"""Simulated users of the demo catalog: who enabled which connection, with what field values."""

from typing import Any
import random

from switchroom.hub.catalog import Catalog, feature_entries
from switchroom.protocol.catalog import Connection, Field, FieldConfig, UserConnection, UserFeature

DEMO_USERS = 300
ENABLE_SHARE = 0.6
CITIES = ["London", "Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Denver", "Perth"]
TIME_ZONES = ["Europe/London", "Europe/Lisbon", "Europe/Oslo", "Africa/Nairobi", "America/Lima", "Asia/Tokyo",
              "America/Denver", "Australia/Perth"]
SEARCHES = ["lofi", "jazz piano", "synthwave", "field recordings", "bossa nova", "drum and bass"]


def demo_user_id(n: int) -> str:
    return f"user-{n:03d}"


def demo_user_connections(catalog: Catalog, count: int = DEMO_USERS, seed: int = 11) -> list[UserConnection]:
    """Each user enables about 60% of the connections; most set their own values, some keep defaults.

    The first user enables every connection, so examples and tests have someone to call with.
    """
    rng = random.Random(seed)
    enabled = []
    for n in range(1, count + 1):
        for connection in catalog.connections.values():
            if n == 1 or rng.random() < ENABLE_SHARE:
                enabled.append(_user_connection(catalog, connection, n, rng))
    return enabled


def _user_connection(catalog: Catalog, connection: Connection, n: int, rng: random.Random) -> UserConnection:
    features = []
    for feature in connection.features:
        op_fields: dict[str, dict[str, Any]] = {}
        for kind, entry in feature_entries(feature):
            found = catalog.operation(kind, entry.ref)
            if found is not None:
                op_fields[entry.id] = _values(found[1].fields, entry.fields, n, rng)
        features.append(UserFeature(id=f"uf-{n:03d}-{feature.id}", feature_id=feature.id, op_fields=op_fields))
    return UserConnection(user_id=demo_user_id(n), connection_id=connection.id,
                          timezone=TIME_ZONES[n % len(TIME_ZONES)], user_features=features)


def user_connection_body(catalog: Catalog, connection: Connection, n: int, rng: random.Random) -> dict[str, Any]:
    """A ``PUT .../user_connection`` body (the wire's ``user_features``) with fresh values for user ``n``."""
    lists = {"trigger": ("user_feature_triggers", "feature_trigger_id"),
             "query": ("user_feature_queries", "feature_query_id"),
             "action": ("user_feature_actions", "feature_action_id")}
    user_features = []
    for feature in connection.features:
        body: dict[str, Any] = {"feature_id": feature.id}
        for kind, entry in feature_entries(feature):
            found = catalog.operation(kind, entry.ref)
            if found is None:
                continue
            list_key, id_key = lists[kind]
            values = _values(found[1].fields, entry.fields, n, rng)
            body.setdefault(list_key, []).append(
                {id_key: entry.id, "user_fields": [{"field_id": k, "value": v} for k, v in values.items()]}
            )
        user_features.append(body)
    return {"user_features": user_features}


def _values(fields: list[Field], configured: dict[str, FieldConfig], n: int, rng: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in fields:
        config = configured.get(field.id)
        if config is None or config.visibility != "user":
            continue
        if config.value is not None and rng.random() < 0.3:
            continue  # keeps the default
        values[field.id] = _value_for(field, n, rng)
    return values


def _value_for(field: Field, n: int, rng: random.Random) -> Any:
    if field.options:
        return rng.choice(field.options).value
    if field.id == "phone":
        return f"+1555{n:07d}"
    if field.id == "location":
        return rng.choice(CITIES)
    if field.id == "q":
        return rng.choice(SEARCHES)
    return f"{field.id}-{n}"
