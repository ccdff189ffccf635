"""Deadlines for slow clients: a request's line and headers, and then its body, must each arrive within
the hub's ``--request-timeout``, or the client is answered 408 ``request_timeout`` and its connection is
closed. Without them, a client that sends half a request holds a connection (and a task) for good.

The head's deadline lives in the HTTP protocol (uvicorn only times out idle keep-alive connections, not
a head that never ends), which also caps the head's size at ``MAX_REQUEST_HEAD`` bytes; the body's is an
ASGI middleware around ``receive``, so every route that reads a body gets it.
"""

from asyncio import TimerHandle, Transport
import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from switchroom.hub.errors import ConnectApiError
from switchroom.protocol import ErrorBody, dumps

MAX_REQUEST_HEAD = 64 * 1024
"""Bytes of request line and headers together (the path included)."""


class _HeadTooLarge(Exception):
    pass


def deadline_protocol(timeout: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, closing a connection whose request head does not arrive in ``timeout``
    seconds (from the connection, or from the first byte of the next request on it)."""

    class DeadlineProtocol(HttpToolsProtocol):
        _head_deadline: TimerHandle | None = None
        _head_bytes = 0
        _head_too_large = False

        def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._await_head()

        def data_received(self, data: bytes) -> None:
            if self._head_deadline is None and (self.cycle is None or self.cycle.response_complete):
                self._await_head()  # the next request's first bytes (uvicorn's keep-alive timer stops here)
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes = 0
            if self._head_deadline is None:
                self._await_head()

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value))
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._head_arrived()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_arrived()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            if not self._head_too_large:
                super().send_400_response(msg)
                return
            self._answer(400, ErrorBody(code="invalid_request",
                                        message=f"The request line and headers are larger than {MAX_REQUEST_HEAD} "
                                                "bytes"))

        def _count(self, size: int) -> None:
            self._head_bytes += size
            if self._head_bytes > MAX_REQUEST_HEAD:
                self._head_too_large = True
                raise _HeadTooLarge  # the parser stops; uvicorn answers through send_400_response

        def _await_head(self) -> None:
            if not self.transport.is_closing():
                self._head_deadline = self.loop.call_later(timeout, self._head_late)

        def _head_arrived(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _head_late(self) -> None:
            self._head_deadline = None
            if not self.transport.is_closing():
                self._answer(408, ErrorBody(code="request_timeout",
                                            message=f"The request's headers did not arrive within {timeout:g} s"))

        def _answer(self, status: int, body: ErrorBody) -> None:
            content = dumps(body.model_dump())
            self.transport.write(
                f"HTTP/1.1 {status} {'Request Timeout' if status == 408 else 'Bad Request'}\r\n"
                f"content-type: application/json\r\ncontent-length: {len(content)}\r\nconnection: close\r\n\r\n"
                .encode() + content)
            self.transport.close()

    return DeadlineProtocol


class BodyDeadline:
    """ASGI middleware: a request's body must have arrived ``timeout`` seconds after its headers did;
    past that, reading it raises a 408 ``ConnectApiError`` (answered with ``Connection: close``)."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        body_done = False

        async def receive_by_deadline() -> Message:
            nonlocal body_done
            if body_done:  # after the body, receive only ever waits for a disconnect: no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise ConnectApiError("request_timeout", f"The request body did not arrive within {self.timeout:g} s",
                                      headers={"Connection": "close"}) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, receive_by_deadline, send)
