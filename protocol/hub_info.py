"""What a hub answers about itself: its health (``GET /v1/health``, for anyone), the hub processes that serve
its log (``GET /v1/ops/hubs``) and its OpenAPI document (``GET /openapi.json``)."""

from typing import Any, Literal

from pydantic import ConfigDict, Field

from switchroom.protocol.base import AnswerModel, ProtocolModel


class HubProcess(AnswerModel):
    """A hub process serving this log, as anyone may see it (``/v1/health`` leaves its URL out)."""

    process_id: str = Field(description="this process's id, new at every start")
    version: str = Field(description="the Switchroom version it runs")
    up_s: float = Field(description="seconds since it started")
    seen_s_ago: float = Field(description="seconds since it last said it is alive (0 for a hub on its own SQLite file)")
    this: bool = Field(description="whether it is the hub that answered")


class ListedHub(HubProcess):
    url: str = Field(description="where it listens (a hub listening on every address names its host)")


class HubList(AnswerModel):
    """Every hub process seen lately on this log: one for a hub on its own SQLite file, every live one where
    hubs share a PostgreSQL database."""

    type: Literal["list"] = "list"
    data: list[ListedHub]


class ScriptsHealth(AnswerModel):
    running: int = Field(description="runtime-script runs under way")
    queue_depth: int = Field(description="runs waiting for a slot")
    time_limit_s: float = Field(description="the wall-time limit of one run")


class Health(AnswerModel):
    """The hub is up; which log it serves (a new ``hub_id`` tells a dashboard to start its cache over) and how
    far that log goes."""

    status: Literal["ok"] = "ok"
    hub_id: str
    head_seq: int = Field(description="the last seq committed")
    hubs: list[HubProcess]
    scripts: ScriptsHealth


class OpenApiDocument(ProtocolModel):
    """The hub's OpenAPI 3.1 document; only its outline here, for the document describes itself."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    openapi: str = Field(pattern=r"^3\.1\.\d+$")
    info: dict[str, Any]
    paths: dict[str, dict[str, Any]]
    components: dict[str, Any]
    websocket_streams: dict[str, Any] = Field(
        alias="x-websocket-streams", description="the websocket streams, which OpenAPI has no operation for")
