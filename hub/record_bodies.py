"""What a record may hold of a request or response body: all of it up to a size, then a cut text."""

from typing import Any

from protocol import dumps

MAX_RECORDED_BODY = 8192


def capped(body: Any) -> Any:
    """``body`` itself when its JSON fits, else its JSON text cut at ``MAX_RECORDED_BODY`` characters."""
    if body is None:
        return None
    if isinstance(body, str):
        text = body
    else:
        encoded = dumps(body)
        if len(encoded) <= MAX_RECORDED_BODY:
            return body
        text = encoded.decode(errors="replace")
    return text if len(text) <= MAX_RECORDED_BODY else text[:MAX_RECORDED_BODY] + "…[truncated]"
