"""The access log: one line per HTTP request and per websocket, written by one ASGI middleware.

A line says the method (``WEBSOCKET`` for a stream), the path with its query, the status (101 for a
websocket that was accepted, with its close code beside), the time taken in milliseconds (for a websocket:
how long it stayed open), the request id and the client's address, at level INFO on the logger
``switchroom.access``; ``hub/log_output.py`` writes it as text or as JSON with those as keys.

No secret reaches a line: the target is the path as sent (never a header), with the value of any query
parameter whose name says secret replaced, then every known key and token of the hub replaced wherever it
appears (``hub/redaction.py``), and cut to ``MAX_LOGGED_TARGET`` characters.

The middleware also chooses the request's id (``hub/request_ids.py``), answers it in ``X-Request-ID``, and
counts the request for ``/metrics``. It is on the path of every Connect API call, so it is plain ASGI and
does little: with the access log off (``--log-level warning``) a request costs it a clock read, a look
for its id among the headers, one header added to the answer and a counter increment.
"""

from collections.abc import Callable
from urllib.parse import unquote_plus
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchroom.hub.redaction import REDACTED, Redactor, secret_name
from switchroom.hub.request_ids import SCOPE_KEY, chosen_request_id

ACCESS_LOGGER = "switchroom.access"
MAX_LOGGED_TARGET = 1000
WEBSOCKET = "WEBSOCKET"
"""The method an access line and the request counter give a websocket."""

CountRequest = Callable[[Scope, str, int], None]
"""Told of each finished request: its scope, method and status."""


class AccessLog:
    def __init__(self, app: ASGIApp, redactor: Redactor, count: CountRequest) -> None:
        self.app = app
        self.redactor = redactor
        self.count = count
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = scope[SCOPE_KEY] = chosen_request_id(scope["headers"])
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        status = 0
        close_code: int | None = None

        async def send_noting(message: Message) -> None:
            nonlocal status, close_code
            sent = message["type"]
            if sent == "http.response.start" or sent == "websocket.http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            elif sent == "websocket.accept":
                status = 101
            elif sent == "websocket.close":  # after the client's own close, its code is the one that tells
                status = status or 403  # closed unaccepted: uvicorn's 403
                close_code = message.get("code", 1000) if close_code is None else close_code
            await send(message)

        async def receive_noting() -> Message:  # a websocket's: the client's close code
            nonlocal close_code
            message = await receive()
            if message["type"] == "websocket.disconnect" and close_code is None:
                close_code = message.get("code", 1005)
            return message

        try:
            await self.app(scope, receive if kind == "http" else receive_noting, send_noting)
        except BaseException:
            status = status or 500  # unanswered: Starlette's outermost handler answers 500
            raise
        finally:
            method = scope["method"] if kind == "http" else WEBSOCKET
            self.count(scope, method, status)
            if self.log.isEnabledFor(logging.INFO):
                self._line(scope, method, status, (time.perf_counter() - started) * 1000, request_id, close_code)

    def _line(self, scope: Scope, method: str, status: int, ms: float, request_id: str,
              close_code: int | None) -> None:
        target = self._logged_target(scope)
        client = scope.get("client")
        address = client[0] if client else "-"
        fields = {"method": method, "path": target, "status": status, "duration_ms": round(ms, 2),
                  "request_id": self._shown_id(request_id), "client": address}
        closed = ""
        if close_code is not None:
            fields["close_code"] = close_code
            closed = f" close={close_code}"
        self.log.info("%s %s %d %.2fms%s client=%s request_id=%s", method, target, status, ms, closed, address,
                      fields["request_id"], extra={"fields": fields})

    def _shown_id(self, request_id: str) -> str:
        """The request id as logged: a caller's X-Request-ID that holds a secret of the hub's is not shown."""
        return REDACTED if self.redactor.text(request_id) != request_id else request_id

    def _logged_target(self, scope: Scope) -> str:
        """The request's path and query as the access log shows them: no secrets, no control characters,
        at most ``MAX_LOGGED_TARGET`` characters."""
        raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        query: bytes = scope.get("query_string", b"")
        target = "/".join(self._alone(segment) for segment in raw.decode("latin-1").split("/"))
        if query:
            target += "?" + self._query_without_secrets(query.decode("latin-1"))
        target = self.redactor.text(target)
        if "%" in target or "+" in target:  # a secret written with other escapes than the redactor knows
            decoded = unquote_plus(target)
            if (cleaned := self.redactor.text(decoded)) != decoded:
                target = cleaned
        if not target.isprintable():
            target = target.encode("unicode_escape").decode("ascii")
        if len(target) > MAX_LOGGED_TARGET:
            target = target[:MAX_LOGGED_TARGET] + "…"
        return target


    def _query_without_secrets(self, query: str) -> str:
        """A raw query string with the value of each parameter whose name says secret (``token``,
        ``api_key``, ``service_key``, …), or that is a secret of the hub's, replaced by the redaction marker."""
        parts = query.split("&")
        for n, part in enumerate(parts):
            name, equals, value = part.partition("=")
            if equals and (secret_name(unquote_plus(name)) or self._alone(value) == REDACTED):
                parts[n] = f"{self._alone(name)}={REDACTED}"
            elif not equals:
                parts[n] = self._alone(part)
        return "&".join(parts)

    def _alone(self, part: str) -> str:
        """``part`` of a path or query, or the marker when it is, decoded or not, one of the hub's secrets
        (a short secret is found only where it stands alone, as here)."""
        for form in (part, unquote_plus(part)):
            if form and self.redactor.text(form) == REDACTED:
                return REDACTED
        return part

