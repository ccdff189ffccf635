"""Catalog objects (DESIGN §2): services with their operations, and connections wiring them."""

from typing import Any, Literal

from pydantic import ConfigDict, Field as PydField

from switchroom.protocol.base import ProtocolModel

FieldType = Literal["text", "text_area", "select", "checkbox_multi", "number", "datetime", "location"]
OperationKind = Literal["trigger", "query", "action"]


class CatalogModel(ProtocolModel):
    """Catalog objects are read from files people write: an unknown key is a mistake, not noise."""

    model_config = ConfigDict(extra="forbid")


class FieldOption(CatalogModel):
    label: str
    value: str


class Field(CatalogModel):
    id: str
    label: str
    type: FieldType = "text"
    required: bool = False
    options: list[FieldOption] | None = None


class Operation(CatalogModel):
    """A trigger, query or action of a service; ``id`` is its slug within the service."""

    id: str
    label: str
    fields: list[Field] = PydField(default_factory=list)
    ingredients: list[str] = PydField(default_factory=list)

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)


class Service(ProtocolModel):
    id: str
    name: str
    base_url: str
    service_key: str = PydField(repr=False)
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    triggers: list[Operation] = PydField(default_factory=list)
    queries: list[Operation] = PydField(default_factory=list)
    actions: list[Operation] = PydField(default_factory=list)


class FieldConfig(CatalogModel):
    """Developer fields carry the developer's value (hidden from users); user fields a default."""

    visibility: Literal["developer", "user"]
    value: Any = None


class FeatureOperation(CatalogModel):
    """One trigger, query or action inside a feature; ``ref`` is the full id, e.g. ``lights.change_color``."""

    id: str
    ref: str
    fields: dict[str, FieldConfig] = PydField(default_factory=dict)


class Feature(CatalogModel):
    id: str
    name: str
    triggers: list[FeatureOperation] = PydField(default_factory=list)
    queries: list[FeatureOperation] = PydField(default_factory=list)
    actions: list[FeatureOperation] = PydField(default_factory=list)


class ConnectionEntry(CatalogModel):
    """A connection as a catalog file describes it: everything but its id, the key it is filed under."""

    name: str
    description: str = ""
    owner_service: str
    features: list[Feature] = PydField(default_factory=list)
    configuration: dict[str, Any] = PydField(default_factory=dict)
    runtime_script: str | None = None
    webhook_url: str | None = None


class Connection(ConnectionEntry):
    """A connection of the hub's catalog: its file entry (``runtime_script`` holding the script's source
    once read) and its id."""

    model_config = ConfigDict(extra="ignore")
    id: str


class UserFeature(ProtocolModel):
    """A user's copy of a feature; ``op_fields`` holds the user's field values per feature
    operation id (the wire's ``user_feature_actions[].user_fields`` and friends)."""

    id: str
    feature_id: str
    enabled: bool = True
    op_fields: dict[str, dict[str, Any]] = PydField(default_factory=dict)


class UserConnection(ProtocolModel):
    user_id: str
    connection_id: str
    status: Literal["enabled", "disabled", "pending"] = "enabled"
    timezone: str = "UTC"
    """The user's IANA time zone: what a runtime script's ``Meta.currentUserTime`` shows."""
    user_features: list[UserFeature] = PydField(default_factory=list)
