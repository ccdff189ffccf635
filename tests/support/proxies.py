"""A TCP proxy on the loopback between a dashboard and a hub, for tests that need to control the link.

``cut()`` severs every open link the way a flaky network does; ``budget_bytes`` lets each link carry at
most that many bytes from the hub and then holds it open and silent, so a test knows by construction
how far a dashboard can get; ``bytes_per_second`` paces what the hub sends, so a dashboard is still
receiving when the test acts.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
import asyncio
import random
import socket
import struct
import threading

from tests.support.waiting import eventually

if TYPE_CHECKING:
    from switchroom.tui.link import LinkState

CUT_KINDS = ("hub side first", "dashboard side first", "reset")
CHUNK = 16384


class LinkProxy:
    """Forwards TCP from a local port to ``target_port`` on 127.0.0.1."""

    def __init__(self, target_port: int, *, budget_bytes: int | None = None,
                 bytes_per_second: float | None = None) -> None:
        self.target_port = target_port
        self.budget_bytes = budget_bytes
        self.bytes_per_second = bytes_per_second
        self.port = 0
        self._links: dict[tuple[asyncio.StreamWriter, asyncio.StreamWriter], bytes] = {}  # → first bytes sent
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _link(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            hub_reader, hub_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        link = (client_writer, hub_writer)
        self._links[link] = b""
        try:
            await asyncio.gather(self._upstream(link, client_reader, hub_writer),
                                 self._downstream(hub_reader, client_writer))
        finally:
            self._links.pop(link, None)
            for writer in link:
                writer.close()

    async def _upstream(self, link: tuple[asyncio.StreamWriter, asyncio.StreamWriter], reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if link in self._links and len(self._links[link]) < 64:
                    self._links[link] += data[:64]
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _downstream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        budget = self.budget_bytes
        try:
            while data := await reader.read(CHUNK if self.bytes_per_second else 65536):
                if budget is not None:
                    data, budget = data[:budget], budget - len(data[:budget])
                if data:
                    writer.write(data)
                    await writer.drain()
                if budget == 0:  # spent: the link stays open, and what the hub sends goes nowhere
                    while await reader.read(65536):
                        pass
                    break
                if self.bytes_per_second:
                    await asyncio.sleep(len(data) / self.bytes_per_second)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def cut(self, kind: str) -> int:
        """Sever the open links the way ``kind`` says; how many of them carried a stream."""
        links = [(link, first) for link, first in self._links.items()
                 if not any(writer.is_closing() for writer in link)]
        for (client_writer, hub_writer), _ in links:
            order = {"hub side first": (hub_writer, client_writer),
                     "dashboard side first": (client_writer, hub_writer)}.get(kind, (client_writer, hub_writer))
            for writer in order:
                if kind == "reset":  # RST, not FIN: as when a NAT or an SSH hop drops the connection
                    sock = writer.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort() if kind == "reset" else writer.close()
        return sum(first.startswith(b"GET /v1/streams/") for _, first in links)

    async def stop(self) -> None:
        self.cut("reset")
        if self._server:
            self._server.close()
            await self._server.wait_closed()


@contextmanager
def proxy_in_thread(target_port: int, **options: float | int | None) -> Iterator[LinkProxy]:
    """A ``LinkProxy`` running on an event loop of its own, for tests that block."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="link-proxy", daemon=True)
    thread.start()
    proxy = LinkProxy(target_port, **options)  # type: ignore[arg-type]
    asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(timeout=10)
    try:
        yield proxy
    finally:
        asyncio.run_coroutine_threadsafe(proxy.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def reconnects(links: "list[LinkState]") -> int:
    """How many times a replicator's link went to reconnecting, among the states it reported."""
    return sum(state.name == "reconnecting" for state in links)


async def cut_repeatedly(proxy: LinkProxy, links: "list[LinkState]", cuts: int, rng: random.Random,
                         max_pause_s: float) -> None:
    """Cut the link ``cuts`` times, each at a random moment (up to ``max_pause_s`` in) of a live link — the
    cut before it noticed, the link up again — and return once the last one is noticed and the link is
    live again. ``links`` is what the replicator reports."""
    done = 0
    while done <= cuts:
        await eventually(lambda: reconnects(links) >= done and links and links[-1].name == "live",
                         lambda: f"cut {done}: the link back up, after {reconnects(links)} reconnects; "
                                 f"last states {links[-3:]}", timeout=30)
        if done == cuts:
            return
        await asyncio.sleep(rng.uniform(0.0, max_pause_s))
        if proxy.cut(rng.choice(CUT_KINDS)):
            done += 1
