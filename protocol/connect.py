"""Connect API request and response bodies (DESIGN §3), as documented in the hub's OpenAPI.

The hub parses requests itself, so that every bad field gets its own 422 detail; these models are
the published shape of those bodies (unknown keys are allowed and ignored).
"""

from typing import Any, Literal

from pydantic import ConfigDict, Field

from switchroom.protocol.base import ProtocolModel


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


class NotificationResponse(_Body):
    type: Literal["notification"] = "notification"
    subscriptions: int = Field(description="how many subscriptions the hub polls now")


class MeResponse(_Body):
    type: Literal["me"] = "me"
    authentication_level: str
    service_id: str
    service_name: str


class ConnectionResponse(_Body):
    type: Literal["connection"] = "connection"
    id: str
    name: str
    description: str
    url: str
    enabled_count: int
    user_status: str | None
    services: list[dict[str, Any]]
    features: list[dict[str, Any]]
    user_connection: dict[str, Any] | None = None


class FieldOptionsResponse(_Body):
    type: Literal["field_options"] = "field_options"
    options: dict[str, list[dict[str, str]]]


class NextPage(_Body):
    cursor: str


class ListResponse(_Body):
    type: Literal["list"] = "list"
    data: list[Any]
    next: NextPage | None = None
