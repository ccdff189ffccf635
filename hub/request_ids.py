"""Each request's id: the client's ``X-Request-ID`` when it sent a usable one, else one the hub makes up.

The access log chooses it once per request (``hub/access_log.py``) and keeps it in the ASGI scope, so that
the access log line, the ``X-Request-ID`` answer header and the request's ``api_call`` records (and the
outbound calls it makes, which carry it to the service) all name the same id.
"""

from collections.abc import Iterable
import uuid

from starlette.types import Scope

REQUEST_ID_HEADER = b"x-request-id"
SCOPE_KEY = "switchroom.request_id"
MAX_REQUEST_ID = 128


def chosen_request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The id of a request with these (ASGI, lower-cased) headers: the client's when it is 1 to
    ``MAX_REQUEST_ID`` printable characters, else a new one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            given = value.decode("latin-1")
            if 0 < len(given) <= MAX_REQUEST_ID and given.isprintable():
                return given
            break
    return uuid.uuid4().hex


def request_id(scope: Scope) -> str:
    """The id chosen for the request of ``scope`` (chosen here if nothing chose it yet)."""
    found = scope.get(SCOPE_KEY)
    if found is None:
        found = scope[SCOPE_KEY] = chosen_request_id(scope.get("headers", ()))
    return found
