"""The hub's catalog: services and connections, with the look-ups the Connect API needs.

The hub serves one ``Catalog`` object for its whole life; a reload (``hub.catalog_reload``) makes it take
another's services and connections at once. What must not change half-way (a request, a run, a trigger
event on its way to its script) works on a ``snapshot``, which a reload leaves alone: every ``FeatureOpRef``
holds the snapshot it was resolved in.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
import copy
import hashlib

import orjson

from switchroom.hub.auth import same_secret
from switchroom.hub.errors import ConnectApiError
from switchroom.protocol.catalog import Connection, Feature, FeatureOperation, Operation, OperationKind, Service


@dataclass(frozen=True)
class FeatureOpRef:
    """A feature's use of a service operation, resolved: what to call and how it is configured."""

    connection: Connection
    feature: Feature
    entry: FeatureOperation
    service: Service
    operation: Operation
    kind: OperationKind
    catalog: "Catalog" = field(compare=False, repr=False)
    """The catalog it was resolved in, unchanged by later reloads: what the rest of its run uses (the
    connection's owner service, the operations its script calls)."""


PLURALS: dict[OperationKind, str] = {"trigger": "triggers", "query": "queries", "action": "actions"}
"""How each kind of operation is named in catalog files and Connect API paths."""


def feature_entries(feature: Feature) -> Iterator[tuple[OperationKind, FeatureOperation]]:
    """Every trigger, query and action of a feature, with its kind."""
    kinds: tuple[tuple[OperationKind, list[FeatureOperation]], ...] = (
        ("trigger", feature.triggers), ("query", feature.queries), ("action", feature.actions)
    )
    for kind, entries in kinds:
        for entry in entries:
            yield kind, entry


class Catalog:
    def __init__(self, services: list[Service], connections: list[Connection]) -> None:
        self.services = {s.id: s for s in services}
        self.connections = {c.id: c for c in connections}
        self.generation = 0
        """How many times this catalog took another's place (``take``): what was built from it is stale
        once this moves."""

    def take(self, other: "Catalog") -> None:
        """Serve ``other``'s services and connections from now on. Both are replaced in one step of the
        event loop, so no request sees half of each, and replaced rather than changed (these dicts are never
        written to), so a ``snapshot`` taken before keeps the old ones."""
        self.services, self.connections = other.services, other.connections
        self.generation += 1

    def snapshot(self) -> "Catalog":
        """The catalog as it is now, which later reloads leave alone: what one request or run works on."""
        return copy.copy(self)

    def fingerprint(self) -> str:
        """A digest of everything the catalog says (its service keys among it): hubs that share a database
        must serve the same catalog (``hub.peers``)."""
        whole = [[s.model_dump(mode="json") for _, s in sorted(self.services.items())],
                 [c.model_dump(mode="json") for _, c in sorted(self.connections.items())]]
        return hashlib.sha256(orjson.dumps(whole, option=orjson.OPT_SORT_KEYS)).hexdigest()

    def connection(self, connection_id: str) -> Connection:
        try:
            return self.connections[connection_id]
        except KeyError:
            raise ConnectApiError("not_found", f"No connection '{connection_id}'") from None

    def service_for_key(self, key: str | None) -> Service | None:
        if not key:
            return None
        return next((s for s in self.services.values() if same_secret(s.service_key, key)), None)

    def services_for_key(self, key: str | None) -> list[Service]:
        """Every service with this key (a deployment may give several services one key)."""
        return [s for s in self.services.values() if key and same_secret(s.service_key, key)]

    def operation(self, kind: OperationKind, ref: str) -> tuple[Service, Operation] | None:
        service_id, _, slug = ref.partition(".")
        service = self.services.get(service_id)
        if service is None:
            return None
        ops = {"trigger": service.triggers, "query": service.queries, "action": service.actions}[kind]
        op = next((o for o in ops if o.id == slug), None)
        return (service, op) if op else None

    def feature_ops(self, connection: Connection, kind: OperationKind, ref: str) -> list[FeatureOpRef]:
        """Every place in the connection's features that uses operation ``ref``, in feature order."""
        found = self.operation(kind, ref)
        if found is None:
            return []
        service, operation = found
        snapshot = self.snapshot()
        return [
            FeatureOpRef(connection, feature, entry, service, operation, kind, snapshot)
            for feature in connection.features
            for entry_kind, entry in feature_entries(feature)
            if entry_kind == kind and entry.ref == ref
        ]
