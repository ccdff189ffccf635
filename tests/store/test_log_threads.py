"""One writer thread and pools of reader threads around a log file (``store.log_threads``), as the hub's
recorder and the dashboard's cache use them."""

from pathlib import Path
import threading

from switchroom.store import EventLog
from switchroom.store.log_threads import READER, LogThreads


def body(n: int) -> dict[str, object]:
    return {"kind": "api_call", "ts": "2026-11-26T10:00:00.000Z", "n": n}


async def test_reads_on_every_pool_see_what_the_writer_committed(tmp_path: Path) -> None:
    threads = LogThreads(EventLog(tmp_path / "log.sqlite", check_same_thread=False), "test",
                         {READER: 2, "summaries": 1})
    try:
        stored = await threads.write(lambda log: log.append([body(1), body(2)]))
        assert [r["seq"] for r in stored] == [1, 2]
        for pool in (READER, "summaries"):
            assert await threads.read(lambda log: log.head_seq(), pool) == 2
        on_thread = await threads.read(lambda log: threading.current_thread().name)
        assert on_thread.startswith("test-reader")
        assert threads.read_soon(lambda log: len(log.read_after(0, 10)), "summaries").result() == 2
    finally:
        threads.close()


def test_writes_queued_before_close_are_committed(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    threads = LogThreads(EventLog(path, check_same_thread=False), "test", {READER: 1})
    for n in range(50):
        threads.write_soon(lambda log, n=n: log.append([body(n)]))
    threads.close()
    assert [r["n"] for r in EventLog(path).read_after(0, 100)] == list(range(50))
