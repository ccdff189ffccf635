"""Stream frames (DESIGN §7): JSON text frames on ``/v1/streams/logs`` and ``/v1/streams/triggers``."""

from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1


class SubscribeFrame(BaseModel):
    type: Literal["subscribe"] = "subscribe"
    after: int = Field(default=0, ge=0, lt=1 << 63)  # a seq is a SQLite integer


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


class MalformedFrame(ValueError):
    """A frame that is not JSON, or not one of the frames of this protocol version."""


def parse_server_frame(data: bytes | str) -> HelloFrame | BatchFrame | HeartbeatFrame | ErrorFrame:
    """Parse one hub → client frame; raises ``MalformedFrame`` on anything malformed.

    Batch frames, which carry nearly all the bytes, are checked by hand (each record an object with an
    integer ``seq`` and a ``kind``) rather than through pydantic: validating every record's every field
    cost more than the rest of replication put together.
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
    records, through = raw.get("records"), raw.get("through_seq")
    if not isinstance(records, list) or not isinstance(through, int) or isinstance(through, bool):
        raise MalformedFrame("a batch needs a records list and an integer through_seq")
    for record in records:
        if not (isinstance(record, dict) and type(record.get("seq")) is int and isinstance(record.get("kind"), str)):
            raise MalformedFrame("every record needs an integer seq and a kind")
    return BatchFrame.model_construct(records=records, through_seq=through)
