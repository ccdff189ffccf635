"""A flaky link: 100 cuts while the dashboard's replicator copies a 200k-record log from a real hub.

Between the replicator and the hub sits a TCP proxy that cuts the link over and over — closing the hub's
side first, the dashboard's side first, or resetting both, each time at a random point of a live link —
while the hub streams a 200,000-record backlog and live demo traffic on top. In the end the cache holds
exactly the hub's records, none missing, none twice.
"""

from pathlib import Path
import asyncio
import random

import httpx
import pytest

from switchroom.protocol.kinds import LOG_STREAM_KINDS
from switchroom.store import EventLog
from switchroom.store.hub_log import open_hub_log
from tests.support.hubproc import hub_db, start_hub
from tests.support.postgres import on_postgres
from tests.support.backlog import BACKLOG, build_backlog
from tests.support.proxies import LinkProxy, cut_repeatedly, reconnects
from tests.support.waiting import eventually
from switchroom.tui.cache import Cache
from switchroom.tui.replication import LinkState, Replicator

CUTS = 100


async def test_a_hundred_cuts_lose_and_repeat_nothing(tmp_path: Path) -> None:
    db = tmp_path / "hub.sqlite"
    build_backlog(db)
    hub = start_hub(tmp_path / "hub", db=db, traffic_rate=100)
    proxy = LinkProxy(int(hub.url.rsplit(":", 1)[1]))
    await proxy.start()
    caches: list[Cache] = []
    links: list[LinkState] = []
    replicator = Replicator(proxy.url, hub.token, tmp_path / "cache", caches.append, lambda new, through: None,
                            links.append)
    task = asyncio.create_task(replicator.run())
    try:
        await cut_repeatedly(proxy, links, CUTS, random.Random(7), max_pause_s=0.25)  # at random points of the stream
        head = httpx.get(f"{hub.url}/v1/health").json()["head_seq"]

        async def caught_up() -> bool:  # the link stays up now: the cache catches up
            return bool(caches) and await caches[-1].read(lambda log: log.cursor()) >= head

        await eventually(caught_up, f"the cache to catch up with the hub's head, {head}", timeout=90, every=0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await proxy.stop()
        hub.stop()

    assert reconnects(links) >= CUTS  # every cut was noticed (waited for above)
    assert len({cache.hub_id for cache in caches}) == 1
    cache = EventLog(caches[-1].path)
    hub_log = open_hub_log(hub_db(db))
    cursor = cache.cursor()
    assert cursor >= head > BACKLOG
    assert cache.integrity_ok()
    cached = cache.execute("SELECT seq, body FROM records ORDER BY seq")
    kinds = ", ".join(f"'{kind}'" for kind in LOG_STREAM_KINDS)  # trigger events have their own stream
    original = hub_log.execute(f"SELECT seq, body FROM records WHERE seq <= ? AND kind IN ({kinds}) ORDER BY seq",
                               (cursor,))
    assert [seq for seq, _ in cached[:BACKLOG]] == list(range(1, BACKLOG + 1))
    assert len(cached) == len({seq for seq, _ in cached})
    assert cached == original  # none missing, none twice, each exactly as the hub has it


@pytest.mark.skipif(on_postgres(), reason="restores a SQLite file from its copy")
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

        async def there() -> bool:
            return (len(caches) >= opened and not caches[-1].closed
                    and await caches[-1].read(lambda log: log.cursor()) >= cursor)

        try:
            await eventually(there, f"{opened} caches opened, the last at cursor {cursor}", timeout=30)
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
