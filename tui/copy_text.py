"""What ``c`` and ``C`` put on the clipboard: a record as JSON, and a Connect API call as a ``curl``
command that repeats it.

The command names the service key as ``$SWITCHROOM_SERVICE_KEY``, never its value (the hub never
records it anyway). What the log kept of a call may not be all it was: a body cut to its recorded size,
or a secret the hub redacted; the caveats say so, for the dashboard to show beside the copy.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
import json
import re
import shlex

from switchroom.protocol.kinds import API_CALL

REDACTED = "[redacted]"
"""What the hub writes in place of a secret (``hub/redaction.py``)."""


def record_json(record: dict[str, Any]) -> str:
    """The record as indented JSON, its keys as the hub wrote them (ASCII only: control characters and
    any other non-ASCII character escaped, so that the pasted text is exactly what the record holds)."""
    return json.dumps(record, indent=2, ensure_ascii=True)


@dataclass(frozen=True)
class CurlCommand:
    text: str
    caveats: tuple[str, ...]
    """Why the command may not repeat the call exactly; empty when it does."""


def curl_command(record: dict[str, Any], hub_url: str) -> CurlCommand | None:
    """A ``curl`` command that makes the record's Connect API call again; None for any other record (an
    outbound call to a service, a webhook, a script run …)."""
    if record.get("kind") != API_CALL or record.get("direction") != "inbound":
        return None
    method, path = record.get("method"), record.get("path")
    if not isinstance(method, str) or not isinstance(path, str) or not path.startswith("/"):
        return None
    parts = ["curl", "-X", shlex.quote(method.upper()), shlex.quote(hub_url.rstrip("/") + _with_user(path, record)),
             '-H "IFTTT-Service-Key: $SWITCHROOM_SERVICE_KEY"']
    caveats: list[str] = []
    body = record.get("request_body")
    if body is not None:
        if isinstance(body, str):  # the hub keeps a body too large to record whole as its cut JSON text
            caveats.append("the request body was cut in the log: the command sends what was kept")
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=True, separators=(",", ":"))
        if REDACTED in text:
            caveats.append("a secret in the body was redacted in the log: put its value back before running it")
        parts += ["-H", shlex.quote("Content-Type: application/json"), "--data-raw", shlex.quote(text)]
    return CurlCommand(" ".join(parts), tuple(caveats))


_USER_IN_QUERY = re.compile(r"^/v2/connections/[^/?]+(?:/user_connection|/disable)?$")
"""The Connect API calls that name their user in the query (DESIGN §3); the log keeps the path without it."""


def _with_user(path: str, record: dict[str, Any]) -> str:
    """The call's path with its ``?user_id=`` again, where the Connect API takes the user there."""
    user = record.get("user_id")
    if isinstance(user, str) and user and _USER_IN_QUERY.match(path):
        return f"{path}?{urlencode({'user_id': user})}"
    return path
