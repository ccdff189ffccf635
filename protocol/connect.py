"""Connect API request and response bodies (DESIGN §3), as documented in the hub's OpenAPI.

The hub parses requests itself, so that every bad field gets its own 422 detail; the request models are
the published shape of those bodies (unknown keys are allowed and ignored). The answers keep IFTTT's keys
(``hub.wire_bodies`` writes them); the tests check what the hub sends against these models.
"""

from typing import Any, Literal

from pydantic import ConfigDict, Field

from switchroom.protocol.base import AnswerModel, ProtocolModel
from switchroom.protocol import catalog
from switchroom.protocol.catalog import FieldOption, FieldType


class _Body(ProtocolModel):
    model_config = ConfigDict(extra="allow")


class RunActionRequest(_Body):
    user_id: str = Field(min_length=1)
    user_feature_id: str | None = None
    fields: dict[str, Any] | None = Field(default=None, description="temporary overrides of any field of the action")


class PerformQueryRequest(RunActionRequest):
    limit: int = Field(default=50, ge=1, le=1000)
    cursor: str | None = None


class TestTriggerRequest(_Body):
    user_id: str = Field(min_length=1)
    user_feature_id: str | None = None


class UserFieldValue(_Body):
    field_id: str
    value: Any = None


class UserFeatureOperation(_Body):
    feature_trigger_id: str | None = None
    feature_query_id: str | None = None
    feature_action_id: str | None = None
    user_fields: list[UserFieldValue] = Field(default_factory=list)


class UserFeatureBody(_Body):
    id: str | None = Field(default=None, description="omit for a new user feature")
    feature_id: str
    enabled: bool = True
    user_fields: list[UserFieldValue] = Field(default_factory=list)
    user_feature_triggers: list[UserFeatureOperation] = Field(default_factory=list)
    user_feature_queries: list[UserFeatureOperation] = Field(default_factory=list)
    user_feature_actions: list[UserFeatureOperation] = Field(default_factory=list)


class UserConnectionRequest(_Body):
    user_features: list[UserFeatureBody]
    timezone: str | None = Field(default=None, description="the user's IANA time zone (kept when omitted)")


class NotificationItem(_Body):
    trigger_identity: str | None = Field(default=None, min_length=1, max_length=200)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)


class NotificationRequest(_Body):
    """Realtime API: each item names one subscription (``trigger_identity``) or a user's subscriptions."""

    data: list[NotificationItem] = Field(min_length=1, max_length=1000)


class NotificationResponse(AnswerModel):
    type: Literal["notification"] = "notification"
    subscriptions: int = Field(description="how many subscriptions the hub polls now")


class MeResponse(AnswerModel):
    type: Literal["me"] = "me"
    authentication_level: Literal["service"] = "service"
    service_id: str
    service_name: str


class ServiceOperationShown(AnswerModel):
    """A trigger, query or action of a service that the connection uses."""

    id: str = Field(description="its full id, e.g. lights.change_color")
    label: str
    fields: list[catalog.Field]
    ingredients: list[str]


class ConnectionService(AnswerModel):
    service_id: str
    service_name: str
    is_primary: bool = Field(description="whether it owns the connection")
    triggers: list[ServiceOperationShown]
    queries: list[ServiceOperationShown]
    actions: list[ServiceOperationShown]


class FeatureFieldDefault(AnswerModel):
    """A field the user sets, with its default (developer fields are not shown)."""

    id: str
    default_value: Any


class FeatureTriggerShown(AnswerModel):
    id: str = Field(description="the feature_trigger_id")
    trigger_id: str
    fields: list[FeatureFieldDefault]


class FeatureQueryShown(AnswerModel):
    id: str = Field(description="the feature_query_id")
    query_id: str
    fields: list[FeatureFieldDefault]


class FeatureActionShown(AnswerModel):
    id: str = Field(description="the feature_action_id")
    action_id: str
    fields: list[FeatureFieldDefault]


class ConnectionFeature(AnswerModel):
    id: str
    title: str
    fields: list[Any] = Field(max_length=0, description="always empty: a feature's fields are its operations'")
    feature_triggers: list[FeatureTriggerShown]
    feature_queries: list[FeatureQueryShown]
    feature_actions: list[FeatureActionShown]


class UserFieldShown(AnswerModel):
    field_id: str
    field_type: FieldType
    value: Any


class UserFeatureTriggerShown(AnswerModel):
    id: str
    feature_trigger_id: str
    user_fields: list[UserFieldShown]


class UserFeatureQueryShown(AnswerModel):
    id: str
    feature_query_id: str
    user_fields: list[UserFieldShown]


class UserFeatureActionShown(AnswerModel):
    id: str
    feature_action_id: str
    user_fields: list[UserFieldShown]


class UserFeatureShown(AnswerModel):
    id: str = Field(description="the user_feature_id")
    feature_id: str
    enabled: bool
    user_fields: list[Any] = Field(max_length=0, description="always empty: the values are per operation")
    user_feature_triggers: list[UserFeatureTriggerShown]
    user_feature_queries: list[UserFeatureQueryShown]
    user_feature_actions: list[UserFeatureActionShown]


class UserConnectionShown(AnswerModel):
    status: Literal["enabled", "disabled", "pending"]
    user_features: list[UserFeatureShown]


class ConnectionResponse(AnswerModel):
    type: Literal["connection"] = "connection"
    id: str
    name: str
    description: str
    url: str
    enabled_count: int
    user_status: Literal["enabled", "disabled", "pending", "never_enabled"] | None = Field(
        description="the named user's status; null when no user is named")
    services: list[ConnectionService]
    features: list[ConnectionFeature]
    user_connection: UserConnectionShown | None = Field(default=None, description="when the named user has one")


class FieldOptionsResponse(AnswerModel):
    type: Literal["field_options"] = "field_options"
    options: dict[str, list[FieldOption]] = Field(description="per choice field the user sets: its options")


class NextPage(AnswerModel):
    cursor: str


class ListResponse(AnswerModel):
    type: Literal["list"] = "list"
    data: list[Any] = Field(description="the rows the service answered")
    next: NextPage | None = None
