"""The dashboard's data layer on a generated 1M-record cache: indexer speed and the summary queries.

    .venv/bin/python benchmarks/dashboard.py [--records 1000000] [--keep PATH] [--runs 30]

Builds a cache file (``build_cache``: a day of realistic records written straight into an EventLog
replica), runs the indexer over it and prints how long that took per 1M records, then times (p50/p95
over ``--runs``): the per-feature breakdown (bar: < 20 ms, DESIGN §11) with its EXPLAIN QUERY PLAN, the
grouped failures, filtered counts and windows (near both ends and in the middle, free text included)
and the Connections pane's stats.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
import argparse
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from switchroom.store.eventlog import EventLog, iso_timestamp  # noqa: E402

CONNECTIONS = {
    "evening-glow": ("glow", "dim"), "porch-welcome": ("welcome", "goodbye"), "rain-alert": ("alert", "digest"),
    "video-digest": ("digest", "highlights"), "weather-brief": ("brief", "storm"),
    "message-relay": ("relay", "archive"),
}
OPS = ("lights.change_color", "messages.send", "videos.list_new", "weather.forecast")
INBOUND = {204: 62, 200: 14, 422: 6, 429: 3, 502: 6, 504: 2, 401: 1}
ERROR_CODES = {401: "unauthorized", 422: "invalid_parameters", 429: "rate_limited", 502: "service_error",
               504: "service_timeout"}
WORDS = ("blue", "red", "porch", "kitchen", "rain", "storm", "hello", "sunset", "coffee", "garage")
BATCH = 20_000


def build_cache(path: Path, count: int, seed: int = 1) -> None:
    """A replica cache of ``count`` records spread over the day before now: about 82 % api_calls
    (inbound and outbound, codes 204/200/422/429/502/504, skipped ones), 9 % script runs (some errors,
    timeouts and an oom now and then), 9 % trigger events; written as the cache writer writes them, in batches."""
    rng = random.Random(seed)
    log = EventLog(path, replica=True)
    start = datetime.now(UTC) - timedelta(days=1)
    step = 86_400 / count
    for low in range(1, count + 1, BATCH):
        rows = [_row(rng, seq, iso_timestamp(start + timedelta(seconds=seq * step)))
                for seq in range(low, min(count, low + BATCH - 1) + 1)]
        log.replicate_rows(rows, rows[-1][0])
    log.close()


def _row(rng: random.Random, seq: int, ts: str) -> tuple[int, str, str]:
    """A record as a cache stores it: seq, kind, text."""
    connection = rng.choice(tuple(CONNECTIONS))
    feature = rng.choice(CONNECTIONS[connection])
    user = f"user-{rng.randint(1, 300):03d}"
    op = OPS[hash(connection) % len(OPS)]
    roll = rng.random()
    if roll < 0.09:
        body = _script_run(rng, connection, feature, user, op)
        return seq, "script_run", orjson.dumps({"seq": seq, "ts": ts, **body}).decode()
    if roll < 0.18:
        body = {"kind": "trigger_event", "trigger_id": op, "connection_id": connection, "feature_id": feature,
                "user_id": user, "user_feature_id": f"uf-{user}-{feature}", "trigger_identity": f"{user}:{feature}",
                "meta_id": f"{seq:x}", "ingredients": {"text": " ".join(rng.sample(WORDS, 3))},
                "delivered_to": "script"}
        return seq, "trigger_event", orjson.dumps({"seq": seq, "ts": ts, **body}).decode()
    inbound = rng.random() < 0.6
    status: int | None = rng.choices(tuple(INBOUND), tuple(INBOUND.values()))[0]
    skipped = False
    error = ERROR_CODES.get(status or 0)
    if not inbound:
        status = {502: 503, 504: None}.get(status, status)  # what the service answered
        skipped = status == 422
        status = 400 if skipped else status
        error = None if skipped else error
    latency = round(rng.lognormvariate(3.2, 0.6) if status != 504 and status is not None else 10_000.0, 2)
    body = {"kind": "api_call", "direction": "inbound" if inbound else "outbound", "method": "POST",
            "path": f"/v2/connections/{connection}/actions/{op}/run", "op": "action", "op_id": op,
            "connection_id": connection, "feature_id": feature, "user_id": user, "user_feature_id": f"uf-{user}",
            "status_code": status, "skipped": skipped, "latency_ms": latency, "source": "api",
            "request_body": {"user_id": user, "fields": {"color": rng.choice(WORDS)}}, "request_id": f"{seq:032x}",
            **({"error_code": error, "error_message": f"{error} for {user}"} if error else {})}
    return seq, "api_call", orjson.dumps({"seq": seq, "ts": ts, **body}).decode()


def _script_run(rng: random.Random, connection: str, feature: str, user: str, op: str) -> dict[str, object]:
    status = rng.choices(("ok", "error", "timeout", "oom"), (88, 8, 3, 1))[0]
    error = {"message": "TypeError: cannot read properties of undefined (reading 'temp')", "line": 7,
             "column": 12} if status == "error" else None
    return {"kind": "script_run", "script_run_id": f"run-{rng.getrandbits(48):x}", "connection_id": connection,
            "feature_id": feature, "user_id": user, "user_feature_id": f"uf-{user}", "op_id": op,
            "status": status, "duration_ms": 10_000.0 if status == "timeout" else round(rng.uniform(2, 40), 2),
            "time_limit_ms": 10_000.0, "error": error,
            "console": [{"level": "log", "text": f"checking {rng.choice(WORDS)}"}], "script_version": "v3"}


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """p50 and p95 of ``runs`` calls of ``action``, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(0.95 * len(times)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the cache at this path and keep it")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "cache.sqlite"
        if not path.exists():
            started = time.perf_counter()
            build_cache(path, args.records)
            print(f"built {args.records:,} records in {time.perf_counter() - started:.1f} s")
        report(path, args.runs)


def report(path: Path, runs: int) -> None:
    indexing(path)
    log = EventLog(path, replica=True)
    try:
        queries(log, runs)
    finally:
        log.close()


def indexing(path: Path) -> None:
    """Run the dashboard's indexer (its own process) over the cache while a stand-in replication writer
    in this process stores 2,000-record batches at up to 10,000 records/s (DESIGN §11 live ingest);
    print the indexer's speed (its counts, then the entries and search text it builds behind them) and how long the
    writer's transactions took, alone for 15 s first and then beside the indexer."""
    from switchroom.store.analytics.derived import ENTRIES_CURSOR, Indexer
    from switchroom.tui.indexing import IndexRunner

    cache = EventLog(path, replica=True)
    head = cache.head_seq()
    cache.close()
    indexer = Indexer(path)
    indexed = indexer.cursor()
    indexer.close()
    if indexed >= head:
        return
    alone: list[float] = []
    done = threading.Event()
    writer = threading.Thread(target=_live_writer, args=(path, head, done, alone))
    writer.start()
    time.sleep(15)
    done.set()
    writer.join()
    done = threading.Event()
    waits: list[float] = []
    caught_up = threading.Event()
    runner = IndexRunner(path, on_progress=lambda cursor: caught_up.set() if cursor >= head else None)
    writer = threading.Thread(target=_live_writer, args=(path, head, done, waits))
    writer.start()
    started = time.perf_counter()
    runner.start()
    caught_up.wait()
    elapsed = time.perf_counter() - started
    while not _rolled_up(path):
        time.sleep(0.05)
    rolled_elapsed = time.perf_counter() - started
    while _cursor(path, ENTRIES_CURSOR) < head:
        time.sleep(0.05)
    text_elapsed = time.perf_counter() - started
    done.set()
    writer.join()
    runner.stop()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"indexer: {head:,} records in {elapsed:.1f} s = {elapsed * 1_000_000 / head:.1f} s per 1M "
          f"({head / elapsed:,.0f} records/s; its process used {cpu.ru_utime + cpu.ru_stime:.1f} s of CPU, "
          f"peak RSS {cpu.ru_maxrss / 1024:.0f} MB)")
    print(f"ten minutes and hours, rolled up from the minutes once every record is counted: all in {rolled_elapsed:.1f} s")
    print(f"entries and search text, built behind the counts: every record's in {text_elapsed:.1f} s "
          f"({head / text_elapsed:,.0f} records/s)")
    for name, times in (("alone", alone), ("beside the indexer", waits)):
        times.sort()
        print(f"live writer {name}: {len(times)} batches of 2,000 records, transaction p50 "
              f"{statistics.median(times):.1f} ms, p95 {times[int(0.95 * len(times)) - 1]:.1f} ms, max {times[-1]:.1f} ms")


def _cursor(path: Path, name: str) -> int:
    from switchroom.store.analytics.derived import derived_path

    conn = sqlite3.connect(f"file:{derived_path(path)}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT seq FROM derived_cursors WHERE name = ?", (name,)).fetchone()
    finally:
        conn.close()
    return row[0] if row else 0


def _rolled_up(path: Path) -> bool:
    """Whether every ten minutes before the newest record's is rolled up (``derived_counts.roll_up``)."""
    from switchroom.store.analytics.derived import derived_path
    from switchroom.store.analytics.derived_counts import WIDTH, rolled_up

    conn = sqlite3.connect(f"file:{derived_path(path)}?mode=ro", uri=True)
    try:
        [(newest,)] = conn.execute("SELECT MAX(bucket) FROM derived_minutes").fetchall()
        return rolled_up(conn)[0] >= newest[:WIDTH["t"]]
    finally:
        conn.close()


def _live_writer(path: Path, head: int, done: threading.Event, waits: list[float]) -> None:
    """Batches like the replication writer's, into a table of the same shape as the cache's ``record_texts``
    beside it (the same file, so the same lock), which is dropped afterwards: the cache measured stays as built."""
    rng = random.Random(2)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_live AS SELECT * FROM record_texts WHERE 0")
    conn.execute("CREATE INDEX IF NOT EXISTS bench_live_kind ON bench_live (kind, seq)")
    seq = head
    while not done.wait(0.2):
        rows = [_row(rng, n, iso_timestamp(datetime.now(UTC))) for n in range(seq + 1, seq + 2001)]
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO bench_live VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")
        waits.append((time.perf_counter() - started) * 1000)
        seq += 2000
    conn.execute("DROP TABLE bench_live")
    conn.close()


def queries(log: EventLog, runs: int) -> None:
    from switchroom.store.analytics.aggregates import counts_query
    from switchroom.store.analytics.breakdowns import breakdowns, feature_breakdown
    from switchroom.store.analytics.connection_summaries import connection_summaries
    from switchroom.store.analytics.failures import failure_groups
    from switchroom.store.filters import parse_filter
    from switchroom.store.analytics.record_windows import Anchor, count_matches, window

    [(newest,)] = log.execute("SELECT ts FROM records ORDER BY seq DESC LIMIT 1")
    now = datetime.fromisoformat(newest.replace("Z", "+00:00"))
    windows = {"1h": iso_timestamp(now - timedelta(hours=1, seconds=17.5)),
               "24h": iso_timestamp(now - timedelta(days=1, seconds=17.5)), "all": None}
    for name, since in windows.items():
        p50, p95 = timed(lambda: feature_breakdown(log, "glow", since, connection_id="evening-glow"), runs)
        print(f"breakdown, one feature, {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (bar < 20 ms)")
    p50, p95 = timed(lambda: breakdowns(log, windows["24h"]), runs)
    print(f"breakdowns, every feature, 24h: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print("EXPLAIN QUERY PLAN of the breakdown's sums, its minutes and its ten minutes and hours:")
    where = {"kind": "api_call", "feature_id": "glow", "connection_id": "evening-glow"}
    for span, low in (("m", windows["24h"][:16]), ("h", windows["24h"][:13])):
        sql, params = counts_query(span, low, None, ("status_code", "skipped"), where)
        for row in log.execute(f"EXPLAIN QUERY PLAN {sql}", params):
            print("   ", row[-1])
    for name, since in windows.items():
        p50, p95 = timed(lambda: failure_groups(log, since), runs)
        print(f"failure groups, {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(failure_groups(log, since))} groups)")
    for name in ("1h", "24h"):
        p50, p95 = timed(lambda: connection_summaries(log, windows[name], iso_timestamp(now), 40), runs)
        print(f"connection stats, {name}, 40-point sparklines: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    for text in ("", "status:5xx", "feature:glow code:504", "conn:rain-alert since:1h", "kind:script_run code:timeout",
                 "garage", "kind:all sunset coffee", "user:user-042 status:4xx"):
        record_filter = parse_filter(text, now=now)
        p50, p95 = timed(lambda: count_matches(log, record_filter), max(3, runs // 3))
        matches = count_matches(log, record_filter)
        print(f"filter {text or '(none)'!r}: {matches.total:,} matches; count p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        for where, offset in (("oldest", 0), ("middle", matches.total // 2), ("newest", matches.total - 50)):
            p50, p95 = timed(lambda: window(log, record_filter, matches, max(0, offset), 50), max(3, runs // 3))
            print(f"    50-row window at the {where}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        middle = window(log, record_filter, matches, matches.total // 2, 1)
        if middle:
            anchor = Anchor(matches.total // 2, middle[0]["seq"])
            p50, p95 = timed(lambda: window(log, record_filter, matches, anchor.offset + 50, 50, anchor),
                             max(3, runs // 3))
            print(f"    a page down from there (50 rows, from an anchor): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    app_figures(log)


def app_figures(log: EventLog) -> None:
    """Time to first screen, log jumps and peak RSS of the app opened on this cache (bars: < 1 s,
    < 250 MB), measured in a process of its own by ``benchmarks/app_startup.py``."""
    print("the app on this cache (its hub gone, browsing offline):")
    subprocess.run([sys.executable, str(Path(__file__).with_name("app_startup.py")), str(log.path)], check=True)


if __name__ == "__main__":
    main()
