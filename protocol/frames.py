"""Stream frames (DESIGN §7): JSON text frames on ``/v1/streams/logs`` and ``/v1/streams/triggers``."""

from typing import Annotated, Any, Literal

import orjson
from pydantic import Field, TypeAdapter, ValidationError

from switchroom.protocol.base import ProtocolModel
from switchroom.protocol.batches import MalformedFrame, batch_contents

PROTOCOL_VERSION = 1


class SubscribeFrame(ProtocolModel):
    type: Literal["subscribe"] = "subscribe"
    after: int = Field(default=0, ge=0, lt=1 << 63)  # a seq is a SQLite integer


class HelloFrame(ProtocolModel):
    type: Literal["hello"] = "hello"
    hub_id: str
    protocol: int = PROTOCOL_VERSION
    head_seq: int


class BatchFrame(ProtocolModel):
    """Records in seq order; ``through_seq`` is the cursor after this frame, which may lie past the
    last record shown when records of kinds the stream does not carry were passed over."""

    type: Literal["batch"] = "batch"
    records: list[dict[str, Any]]
    through_seq: int


class HeartbeatFrame(ProtocolModel):
    type: Literal["heartbeat"] = "heartbeat"
    head_seq: int


class ErrorFrame(ProtocolModel):
    type: Literal["error"] = "error"
    code: str
    message: str


ServerFrame = Annotated[
    HelloFrame | BatchFrame | HeartbeatFrame | ErrorFrame, Field(discriminator="type")
]
_server_frame = TypeAdapter(ServerFrame)


def parse_server_frame(data: bytes | str) -> HelloFrame | BatchFrame | HeartbeatFrame | ErrorFrame:
    """Parse one hub → client frame; raises ``MalformedFrame`` on anything malformed.

    Batch frames, which carry nearly all the bytes, are checked by hand (``batch_contents``).
    """
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedFrame(f"not JSON: {exc}") from None
    if isinstance(raw, dict) and raw.get("type") == "batch":
        return _batch(raw)
    try:
        return _server_frame.validate_python(raw)
    except ValidationError as exc:
        raise MalformedFrame(str(exc)) from None


def _batch(raw: dict[str, Any]) -> BatchFrame:
    records, through = batch_contents(raw)
    return BatchFrame.model_construct(records=records, through_seq=through)
