"""Three hubs on one PostgreSQL database behind a real load balancer (HAProxy), as docs/scale-out.md
deploys them: a dashboard that reconnects through it to whichever hub misses and repeats nothing, and a
hub killed mid-traffic loses no run a client saw answered and leaves no gap."""

from collections.abc import Iterator
from pathlib import Path
import asyncio
import random
import secrets
import signal
import time

import httpx
import pytest

from switchroom.protocol.kinds import LOG_STREAM_KINDS
from switchroom.store import EventLog
from switchroom.store.hub_log import open_hub_log
from switchroom.tui.cache import Cache
from switchroom.tui.replication import LinkState, Replicator
from tests.support.balancer import Balancer, start_balancer
from tests.support.hubproc import RunningHub
from tests.support.proxies import LinkProxy, cut_repeatedly, reconnects
from tests.support.sample_services import SampleServices
from tests.support.traffic import RunTraffic
from tests.support.triggers import key, start
from tests.support.waiting import eventually

CUTS = 100
USER = "balanced-user"


@pytest.fixture
def balanced(services: SampleServices, postgres_url: str,
             tmp_path: Path) -> Iterator[tuple[list[RunningHub], Balancer]]:
    """Three hubs (one token, one database) and a balancer in front; USER has evening-glow enabled."""
    token = secrets.token_urlsafe(16)
    hubs = [start(services, tmp_path / name, "--user-rate-limit", "0", db=postgres_url, enable=False, token=token)
            for name in "abc"]
    balancer = start_balancer(tmp_path / "balancer", [hub.url for hub in hubs])
    enabled = httpx.put(f"{balancer.url}/v2/connections/evening-glow/user_connection", params={"user_id": USER},
                        json={"user_features": [{"feature_id": "glow"}]}, headers=key(hubs[0]))
    assert enabled.status_code == 200, enabled.text
    yield hubs, balancer
    balancer.stop()
    for hub in hubs:
        hub.stop()


async def test_a_dashboard_cut_off_a_hundred_times_behind_the_balancer_ends_with_the_databases_log(
        balanced: tuple[list[RunningHub], Balancer], services: SampleServices, postgres_url: str,
        tmp_path: Path) -> None:
    hubs, balancer = balanced
    traffic = RunTraffic(balancer.url, services.service_key, USER, rate=100).start()
    proxy = LinkProxy(balancer.port)  # between the dashboard and the balancer: where the link is cut
    await proxy.start()
    caches: list[Cache] = []
    links: list[LinkState] = []
    replicator = Replicator(proxy.url, hubs[0].token, tmp_path / "cache", caches.append, lambda new, through: None,
                            links.append)
    task = asyncio.create_task(replicator.run())
    try:
        await cut_repeatedly(proxy, links, CUTS, random.Random(20), max_pause_s=0.1)
        traffic.stop()
        database = open_hub_log(postgres_url)
        head = database.head_seq()

        async def caught_up() -> bool:
            return bool(caches) and await caches[-1].read(lambda log: log.cursor()) >= head

        await eventually(caught_up, f"the cache to catch up with the database's head, {head}", timeout=60, every=0.1)
    finally:
        traffic.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await proxy.stop()

    assert reconnects(links) >= CUTS
    assert len({cache.hub_id for cache in caches}) == 1  # every hub names the same hub id: one cache throughout
    assert len(traffic.answered()) > 500
    cache = EventLog(caches[-1].path)
    cursor = cache.cursor()
    cached = cache.execute("SELECT seq, body FROM records ORDER BY seq")
    kinds = ", ".join(f"'{kind}'" for kind in LOG_STREAM_KINDS)
    original = database.execute(f"SELECT seq, body FROM records WHERE seq <= ? AND kind IN ({kinds}) ORDER BY seq",
                                (cursor,))
    assert cursor >= head and len(cached) == len({seq for seq, _ in cached})
    assert cached == original  # none missing, none twice, each exactly as the database has it


def test_a_hub_killed_mid_traffic_loses_no_answered_run_and_leaves_no_gap(
        balanced: tuple[list[RunningHub], Balancer], services: SampleServices, postgres_url: str) -> None:
    hubs, balancer = balanced
    victim, survivors = hubs[1], [hubs[0], hubs[2]]
    through_balancer = RunTraffic(balancer.url, services.service_key, USER, rate=150, threads=6).start()
    direct = [RunTraffic(hub.url, services.service_key, USER, rate=20, threads=1).start() for hub in survivors]
    time.sleep(2.0)
    killed_at = time.monotonic()
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    time.sleep(3.0)
    for traffic in (through_balancer, *direct):
        traffic.stop()

    database = open_hub_log(postgres_url)
    [(count, head)] = database.execute("SELECT COUNT(*), MAX(seq) FROM records")
    assert count == head  # no gap: every seq from 1 to the head is there
    logged = {request_id for (request_id,) in database.execute(
        "SELECT json_extract(body, '$.request_id') FROM records WHERE kind = 'api_call' AND direction = 'inbound'")}
    answered = [a for traffic in (through_balancer, *direct) for a in traffic.answered()]
    assert len(answered) > 500
    assert [a.request_id for a in answered if a.request_id not in logged] == []  # every answered run is logged
    for traffic in direct:  # the other hubs went on: no pause of a second in their answers around the kill
        around = [a.at for a in traffic.answered() if killed_at - 1 <= a.at <= killed_at + 2]
        assert around and max(b - a for a, b in zip(around, around[1:])) < 1.0, around
    after = [a for a in through_balancer.answered() if a.at > killed_at]
    assert after and min(a.at for a in after) - killed_at < 1.0  # the balancer's clients too
