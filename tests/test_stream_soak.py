"""A flaky link: 100 cuts while the dashboard's replicator copies a 200k-record log from a real hub.

Between the replicator and the hub sits a TCP proxy that cuts the link over and over — closing the hub's
side first, the dashboard's side first, or resetting both — while the hub streams a 200,000-record
backlog and live demo traffic on top. In the end the cache holds exactly the hub's records, none
missing, none twice.
"""

from pathlib import Path
import asyncio
import random
import socket
import struct

import httpx

from hub.streams import LOG_KINDS
from store import EventLog
from tests.hubproc import start_hub
from tui.cache import Cache
from tui.replication import LinkState, Replicator

BACKLOG = 200_000
CUTS = 100
CUT_KINDS = ("hub side first", "dashboard side first", "reset")


class CuttingProxy:
    """Forwards TCP from a local port to ``target_port``; ``cut()`` severs every open link."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._server: asyncio.Server | None = None

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
        self._links.add(link)
        try:
            await asyncio.gather(_pipe(client_reader, hub_writer), _pipe(hub_reader, client_writer))
        finally:
            self._links.discard(link)
            for writer in link:
                writer.close()

    def cut(self, kind: str) -> int:
        """Sever the open links the way ``kind`` says; how many there were."""
        links = [link for link in self._links if not any(writer.is_closing() for writer in link)]
        for client_writer, hub_writer in links:
            order = {"hub side first": (hub_writer, client_writer),
                     "dashboard side first": (client_writer, hub_writer)}.get(kind, (client_writer, hub_writer))
            for writer in order:
                if kind == "reset":  # RST, not FIN: as when a NAT or an SSH hop drops the connection
                    sock = writer.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort() if kind == "reset" else writer.close()
        return len(links)

    async def stop(self) -> None:
        self.cut("reset")
        if self._server:
            self._server.close()
            await self._server.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def build_backlog(path: Path) -> None:
    log = EventLog(path)
    log.ensure_hub_id()
    for start in range(0, BACKLOG, 50_000):
        log.append([{"kind": "api_call", "direction": "inbound", "method": "POST", "path": "/v2/x", "op": "action",
                     "connection_id": "evening-glow", "status_code": 204, "request_id": f"backlog-{n}"}
                    for n in range(start, start + 50_000)])
    log.close()


async def test_a_hundred_cuts_lose_and_repeat_nothing(tmp_path: Path) -> None:
    db = tmp_path / "hub.sqlite"
    build_backlog(db)
    hub = start_hub(tmp_path / "hub", db=db, traffic_rate=100)
    proxy = CuttingProxy(int(hub.url.rsplit(":", 1)[1]))
    await proxy.start()
    caches: list[Cache] = []
    links: list[LinkState] = []
    replicator = Replicator(f"http://127.0.0.1:{proxy.port}", hub.token, tmp_path / "cache", caches.append,
                            lambda new, through: None, links.append)
    task = asyncio.create_task(replicator.run())
    rng = random.Random(7)
    cuts = 0
    try:
        while cuts < CUTS:
            await asyncio.sleep(rng.uniform(0.02, 0.25))
            if proxy.cut(rng.choice(CUT_KINDS)):
                cuts += 1
        head = httpx.get(f"{hub.url}/v1/health").json()["head_seq"]
        async with asyncio.timeout(90):  # the link stays up now: the cache catches up
            while not caches or await caches[-1].read(lambda log: log.cursor()) < head:
                await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await proxy.stop()
        hub.stop()

    # A cut can land on a link that was closing anyway (the health check's, say): most, not all, count.
    assert sum(state.name == "reconnecting" for state in links) >= CUTS * 0.9
    assert len({cache.hub_id for cache in caches}) == 1
    cache = EventLog(caches[-1].path)
    hub_log = EventLog(db)
    cursor = cache.cursor()
    assert cursor >= head > BACKLOG
    assert cache.integrity_ok()
    cached = cache.execute("SELECT seq, body FROM records ORDER BY seq")
    kinds = ", ".join(f"'{kind}'" for kind in LOG_KINDS)  # trigger events have their own stream
    original = hub_log.execute(f"SELECT seq, body FROM records WHERE seq <= ? AND kind IN ({kinds}) ORDER BY seq",
                               (cursor,))
    assert [seq for seq, _ in cached[:BACKLOG]] == list(range(1, BACKLOG + 1))
    assert len(cached) == len({seq for seq, _ in cached})
    assert cached == original  # none missing, none twice, each exactly as the hub has it


async def test_a_hub_restored_from_an_older_copy_gets_a_fresh_cache(tmp_path: Path) -> None:
    """Same hub id, shorter log: the cache's cursor is past the hub's end. The cache is set aside (kept for
    a look) and the hub's log copied afresh, so no record of the lost future mixes with the new ones."""
    db, backup = tmp_path / "hub.sqlite", tmp_path / "backup.sqlite"
    log = EventLog(db)
    log.ensure_hub_id()
    log.append([{"kind": "api_call", "request_id": f"old-{n}"} for n in range(100)])
    log.conn.execute(f"VACUUM INTO '{backup}'")
    log.append([{"kind": "api_call", "request_id": f"lost-{n}"} for n in range(50)])
    log.close()

    caches: list[Cache] = []
    token = "restore-token"
    replicator = Replicator("http://127.0.0.1:1", token, tmp_path / "cache", caches.append, lambda *_: None,
                            lambda state: None)

    async def replicate_until(hub_url: str, cursor: int, opened: int) -> None:
        """Replicate until ``opened`` caches were opened in all and the last holds ``cursor``."""
        replicator.hub_url = hub_url
        task = asyncio.create_task(replicator.run())
        try:
            async with asyncio.timeout(30):
                while (len(caches) < opened or caches[-1].closed
                       or await caches[-1].read(lambda log: log.cursor()) < cursor):
                    await asyncio.sleep(0.05)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    hub = start_hub(tmp_path / "first", db=db, token=token)
    try:
        await replicate_until(hub.url, 150, opened=1)
    finally:
        hub.stop()
    backup.replace(db)
    for stale in (db.with_name("hub.sqlite-wal"), db.with_name("hub.sqlite-shm")):
        stale.unlink(missing_ok=True)
    hub = start_hub(tmp_path / "second", db=db, token=token)
    try:
        await replicate_until(hub.url, 100, opened=2)
    finally:
        hub.stop()

    [aside] = (tmp_path / "cache" / "hubs").glob("*.ahead-of-hub-*.sqlite")
    assert EventLog(aside).cursor() == 150
    fresh = EventLog(caches[-1].path)
    assert [r["request_id"] for r in fresh.read_after(0, 1000)] == [f"old-{n}" for n in range(100)]
