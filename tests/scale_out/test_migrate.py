"""``switchroom-hub migrate``: a hub's SQLite log copied into PostgreSQL with its seqs, hub id, users, seen
marks and rerun state; a dashboard's cache of the old hub goes on from its cursor against the new one."""

from pathlib import Path
import asyncio
import subprocess
import time
import uuid

import httpx

from switchroom.protocol.kinds import LOG_STREAM_KINDS
from switchroom.store import EventLog
from switchroom.store.hub_log import open_hub_log
from switchroom.tui.cache import Cache
from switchroom.tui.replication import Replicator
from tests.support.hub_calls import assert_error, inbound, post_run, rerun
from tests.support.hubproc import bare_env, hub_command, start_hub
from tests.support.sample_services import SampleServices
from tests.support.triggers import USER, key, notify, start
from tests.support.waiting import eventually


def replicate(url: str, token: str, cache_dir: Path, through: int) -> list[Cache]:
    """Run a dashboard's replicator against ``url`` until its cache's cursor reaches ``through``."""
    caches: list[Cache] = []

    async def run() -> None:
        replicator = Replicator(url, token, cache_dir, caches.append, lambda new, seq: None, lambda state: None)
        task = asyncio.create_task(replicator.run())

        async def there() -> bool:
            return bool(caches) and await caches[-1].read(lambda log: log.cursor()) >= through

        try:
            await eventually(there, f"the cache at {through}", timeout=30)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
    return caches


def migrate(source: Path, target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*hub_command(), "migrate", "--from", str(source), "--to", target],
                          capture_output=True, text=True, env=bare_env(), timeout=120)


def test_a_migrated_hub_keeps_its_history_state_and_dashboards(
        services: SampleServices, postgres_url: str, tmp_path: Path) -> None:
    db = tmp_path / "hub.sqlite"
    token = "migration-token"
    old = start(services, tmp_path / "old", db=db, token=token)
    try:
        enabled = httpx.put(f"{old.url}/v2/connections/evening-glow/user_connection", params={"user_id": USER},
                            json={"user_features": [{"feature_id": "glow"}]}, headers=key(old))
        assert enabled.status_code == 200
        assert notify(old, {"user_id": USER}).status_code == 200  # baseline polls: seen marks
        services.post("lights", "/_faults", {"error_rate": 1.0, "error_status": 503})
        try:
            failed = [post_run(old, {"user_id": USER}) for _ in range(3)]
        finally:
            services.post("lights", "/_faults", {"error_rate": 0.0})
        originals = [inbound(old, f.request.headers["X-Request-ID"])["seq"] for f in failed]
        idempotency_key = uuid.uuid4().hex
        answered = rerun(old, {"api_call_id": originals[0]}, key=idempotency_key)
        assert answered.status_code == 200
        hub_id = httpx.get(f"{old.url}/v1/health").json()["hub_id"]
        head = httpx.get(f"{old.url}/v1/health").json()["head_seq"]
        [cache] = replicate(old.url, token, tmp_path / "cache", head)[-1:]
        seen_before = EventLog(db).execute("SELECT COUNT(*) FROM trigger_seen")[0][0]
    finally:
        old.stop()
    assert seen_before > 0

    copied = migrate(db, postgres_url)
    assert copied.returncode == 0, copied.stderr
    assert f"hub id {hub_id}" in copied.stdout and "records 1 to" in copied.stdout

    new = start(services, tmp_path / "new", db=postgres_url, enable=False, token=token)
    try:
        health = httpx.get(f"{new.url}/v1/health").json()
        assert health["hub_id"] == hub_id and health["head_seq"] >= head
        again = rerun(new, {"api_call_id": originals[0]}, key=idempotency_key)
        assert again.json() == answered.json() and again.headers["Idempotent-Replayed"] == "true"
        assert_error(rerun(new, {"api_call_id": originals[0]}), 409, "already_rerun")
        assert rerun(new, {"api_call_id": originals[1]}).json()["outcome"] == "ok"  # the others still rerun
        shown = httpx.get(f"{new.url}/v2/connections/evening-glow", params={"user_id": USER}, headers=key(new))
        assert shown.json()["user_status"] == "enabled"
        database = open_hub_log(postgres_url)
        assert database.execute("SELECT COUNT(*) FROM trigger_seen") == [(seen_before,)]
        new_head = database.head_seq()
        caches = replicate(new.url, token, tmp_path / "cache", new_head)
    finally:
        new.stop()
    assert [c.path for c in caches] == [cache.path]  # the same cache file, gone on from its cursor
    kinds = ", ".join(f"'{kind}'" for kind in LOG_STREAM_KINDS)
    assert EventLog(cache.path).execute("SELECT seq, body FROM records ORDER BY seq") == database.execute(
        f"SELECT seq, body FROM records WHERE kind IN ({kinds}) AND seq <= ? ORDER BY seq", (new_head,))

    refused = migrate(db, postgres_url)  # a database that holds a log is never written over
    assert refused.returncode != 0 and "already holds a log" in refused.stderr


def test_a_log_still_being_written_is_not_migrated(postgres_url: str, tmp_path: Path) -> None:
    db = tmp_path / "busy.sqlite"
    hub = start_hub(tmp_path / "busy", db=db, traffic_rate=200)
    try:
        while EventLog(db).head_seq() < 200:  # its demo traffic is being written
            time.sleep(0.1)
        refused = migrate(db, postgres_url)
    finally:
        hub.stop()
    assert refused.returncode != 0 and "is still being written" in refused.stderr and "stop its hub" in refused.stderr
    assert open_hub_log(postgres_url).head_seq() == 0  # nothing was copied
    copied = migrate(db, postgres_url)  # once the hub has stopped
    assert copied.returncode == 0, copied.stderr
    assert open_hub_log(postgres_url).head_seq() == EventLog(db).head_seq()
