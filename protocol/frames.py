"""Stream frames (DESIGN §7): JSON text frames on ``/v1/streams/logs`` and ``/v1/streams/triggers``."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

PROTOCOL_VERSION = 1


class SubscribeFrame(BaseModel):
    type: Literal["subscribe"] = "subscribe"
    after: int = Field(default=0, ge=0)


class HelloFrame(BaseModel):
    type: Literal["hello"] = "hello"
    hub_id: str
    protocol: int = PROTOCOL_VERSION
    head_seq: int


class BatchFrame(BaseModel):
    """Records in seq order; ``through_seq`` is the cursor after this frame, which may lie past the
    last record shown when records of kinds the stream does not carry were passed over."""

    type: Literal["batch"] = "batch"
    records: list[dict[str, Any]]
    through_seq: int


class HeartbeatFrame(BaseModel):
    type: Literal["heartbeat"] = "heartbeat"
    head_seq: int


class ErrorFrame(BaseModel):
    type: Literal["error"] = "error"
    code: str
    message: str


ServerFrame = Annotated[
    HelloFrame | BatchFrame | HeartbeatFrame | ErrorFrame, Field(discriminator="type")
]
_server_frame = TypeAdapter(ServerFrame)


def parse_server_frame(data: bytes | str) -> HelloFrame | BatchFrame | HeartbeatFrame | ErrorFrame:
    """Parse one hub → client frame; raises ``pydantic.ValidationError`` on anything malformed."""
    return _server_frame.validate_json(data)
