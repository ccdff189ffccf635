"""``kill -9`` of the real dashboard 20 times while it copies a 200k-record backlog.

Every time, the cache it leaves passes SQLite's integrity check and holds exactly the records up to its
cursor (records and cursor are committed together); the next start resumes from there, and in the end
the cache holds the hub's log, none missing, none twice.

Every kill lands mid-ingest by construction, whatever the machine's speed: the dashboards reach the hub
through a proxy that paces what the hub sends and lets each link carry only a slice of the backlog, so no
killed dashboard can have reached the end.
"""

from pathlib import Path
import fcntl
import os
import pty
import random
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time

import pytest

from switchroom.store import EventLog
from switchroom.store.hub_log import open_hub_log
from tests.support.hubproc import hub_db, start_hub
from tests.support.proxies import proxy_in_thread
from tests.support.backlog import BACKLOG, build_backlog

KILLS = 20
LINK_BUDGET = 1 << 20  # bytes a link carries from the hub: a few batches of the backlog's ~40 MB, at least one
LINK_PACE = 4 << 20  # bytes a second: a slice takes a quarter of a second to arrive


def dashboard(hub_url: str, token: str, cache_dir: Path, screen: bytearray | None = None) -> subprocess.Popen[bytes]:
    """``switchroom --hub`` in a pseudo-terminal of its own; the tail of its screen output is kept in
    ``screen`` when given."""
    main, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    command = [str(Path(sys.executable).with_name("switchroom")), "--hub", hub_url, f"--token={token}",
               "--cache-dir", str(cache_dir)]
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower,
                               env={**os.environ, "TERM": "xterm-256color"}, start_new_session=True)
    os.close(follower)
    threading.Thread(target=_drain, args=(main, screen if screen is not None else bytearray()), daemon=True).start()
    return process


def _drain(fd: int, screen: bytearray) -> None:
    try:
        while chunk := os.read(fd, 65536):
            screen.extend(chunk)
            del screen[:-4096]
    except OSError:
        pass
    finally:
        os.close(fd)


def wait_for_progress(cache_dir: Path, past: int, process: subprocess.Popen[bytes], screen: bytearray,
                      timeout: float = 60.0) -> None:
    """Until the cache's cursor moves past ``past``: the moment to kill. The cache is only looked at
    (read-only), never written; a dashboard that exits or makes no progress fails the test with what it
    showed."""
    deadline = time.monotonic() + timeout
    cursor = 0
    while (cursor := stream_cursor(cache_dir)) <= past:
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(
                f"the dashboard made no progress past {past} in {timeout:.0f} s (cursor {cursor}, exit code "
                f"{process.poll()}); its screen ended with {bytes(screen[-1500:])!r}")
        time.sleep(0.02)


def stream_cursor(cache_dir: Path) -> int:
    """The cache's log-stream cursor, read-only (0 before there is a cache with one)."""
    files = list((cache_dir / "hubs").glob("*.sqlite"))
    if not files:
        return 0
    conn = sqlite3.connect(f"file:{files[0]}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT seq FROM cursors WHERE name = 'stream'").fetchone()
        return row[0] if row else 0
    except sqlite3.OperationalError:  # not made yet
        return 0
    finally:
        conn.close()


def cache_state(cache_dir: Path) -> tuple[int, int, int]:
    """(cursor, records, highest seq) of the one cache file, after checking its integrity."""
    files = list((cache_dir / "hubs").glob("*.sqlite"))
    if not files:
        return 0, 0, 0
    [path] = files
    log = EventLog(path)
    try:
        assert log.integrity_ok(), "a killed dashboard left a damaged cache"
        [(count, highest)] = log.execute("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM records")
        return log.cursor(), count, highest
    finally:
        log.close()


@pytest.mark.skipif(sys.platform != "linux", reason="a pseudo-terminal and SIGKILL")
@pytest.mark.timeout(240)
def test_kill_9_mid_ingest_leaves_a_sound_cache_that_resumes_without_a_gap(tmp_path: Path) -> None:
    db = tmp_path / "hub.sqlite"
    build_backlog(db)
    [(backlog_bytes,)] = open_hub_log(hub_db(db)).execute("SELECT SUM(LENGTH(body)) FROM records")
    assert KILLS * LINK_BUDGET < backlog_bytes  # so no killed dashboard can have copied it all
    hub = start_hub(tmp_path / "hub", db=db)
    cache_dir = tmp_path / "cache"
    rng = random.Random(9)
    cursors = []
    try:
        with proxy_in_thread(int(hub.url.rsplit(":", 1)[1]), budget_bytes=LINK_BUDGET,
                             bytes_per_second=LINK_PACE) as proxy:
            for _ in range(KILLS):
                screen = bytearray()
                process = dashboard(proxy.url, hub.token, cache_dir, screen)
                try:
                    wait_for_progress(cache_dir, cursors[-1] if cursors else 0, process, screen)  # it is ingesting
                    time.sleep(rng.uniform(0.0, 0.2))
                finally:  # killed here, also when it made no progress: no dashboard outlives the test
                    process.kill()
                    process.wait()
                cursor, count, highest = cache_state(cache_dir)
                assert count == highest == cursor  # exactly the records up to the cursor: no gap, no extra
                assert not cursors or cursor > cursors[-1]
                cursors.append(cursor)
        screen = bytearray()
        process = dashboard(hub.url, hub.token, cache_dir, screen)
        try:
            deadline = time.monotonic() + 120
            while (cursor := cache_state(cache_dir)[0]) < BACKLOG:
                assert time.monotonic() < deadline and process.poll() is None, (
                    f"the dashboard stopped at {cursor} (exit code {process.poll()}); its screen ended with "
                    f"{bytes(screen[-1500:])!r}; the hub's log ends with {hub.log_path.read_text()[-1500:]!r}")
                time.sleep(0.5)
        finally:
            process.kill()
            process.wait()
    finally:
        hub.stop()

    # Every kill landed mid-ingest: after the cache moved on, before the end it could not reach.
    assert all(0 < cursor < BACKLOG for cursor in cursors), cursors
    [path] = (cache_dir / "hubs").glob("*.sqlite")
    cache, hub_log = EventLog(path), open_hub_log(hub_db(db))
    assert cache.execute("SELECT seq, body FROM records ORDER BY seq") == hub_log.execute(
        "SELECT seq, body FROM records ORDER BY seq")
