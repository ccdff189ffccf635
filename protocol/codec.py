"""JSON in and out, in one place, so both sides encode the wire the same way (and fast)."""

from typing import Any

import orjson
from pydantic import BaseModel


def dumps(value: BaseModel | Any) -> bytes:
    """Encode a model (without its unset optional fields) or plain JSON data."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=True)
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    """Decode JSON text; raises ``ValueError`` (orjson.JSONDecodeError) on bad input."""
    return orjson.loads(data)
