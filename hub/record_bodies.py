"""What a record may hold of a request or response body: all of it up to a size, then a cut text."""

from typing import Any

from switchroom.protocol import dumps

MAX_RECORDED_BODY = 8192


def capped(body: Any) -> Any:
    """``body`` itself when its JSON fits, else its JSON text cut at ``MAX_RECORDED_BODY`` characters.

    Bodies nested too deep to store inside a record (the JSON encoder stops at 254 levels) are kept as
    a note instead.
    """
    if body is None:
        return None
    if isinstance(body, str):
        text = body
    else:
        try:
            encoded = dumps([[[[body]]]])[4:-4]  # as deep as it will sit inside a record
        except (TypeError, ValueError):
            return "[body nested too deep or not JSON; not recorded]"
        if len(encoded) <= MAX_RECORDED_BODY:
            return body
        text = encoded.decode(errors="replace")
    return text if len(text) <= MAX_RECORDED_BODY else text[:MAX_RECORDED_BODY] + "…[truncated]"
