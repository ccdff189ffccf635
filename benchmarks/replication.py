"""Replication: how fast a dashboard copies a hub's event-log backlog into an empty cache.

Builds a hub database of N api_call records (default 1,000,000), starts a real hub on it, and runs the
dashboard's replicator (real websocket, real cache file) until the cache holds them all. Prints
records/s end to end, beside a raw insert of the same rows into an empty cache file with the cache's
schema and pragmas, by the cache's own insert path, in the same run (the ceiling for the cache
writer, without network or decoding); then the CPU time per record of the hub and of each of the
dashboard side's threads, and the load average (the machine is shared: other work lowers every rate,
the CPU per record much less). Last, the dashboard's key press → repaint latency while it ingests
10,000 records/s live (``benchmarks/ingest_latency.py``, run for ``--latency-seconds``; 0 skips it).

    .venv/bin/python benchmarks/replication.py [--records 1000000] [--hub-db /tmp/repl-hub-1m.sqlite]

The bars (DESIGN §11): ≥ 100,000 records/s end to end; key → repaint p95 ≤ 100 ms at 10,000 records/s.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
import argparse
import asyncio
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from switchroom.store import EventLog  # noqa: E402
from switchroom.store.log_layouts import TEXT_COLUMNS  # noqa: E402
from switchroom.tui.replication import Replicator  # noqa: E402

TOKEN = "bench-token"
BATCH = 50_000


def fake_call(rng: random.Random, n: int) -> dict[str, object]:
    status = rng.choices([204, 200, 422, 502, 504], weights=[70, 15, 6, 7, 2])[0]
    return {
        "kind": "api_call", "direction": rng.choice(["inbound", "outbound"]), "method": "POST",
        "path": "/v2/connections/evening-glow/actions/lights.change_color/run", "op": "action",
        "op_id": "lights.change_color", "connection_id": rng.choice(["evening-glow", "porch-welcome", "rain-alert"]),
        "feature_id": "glow", "user_id": f"user-{rng.randint(1, 300):03d}", "user_feature_id": "uf-001-glow",
        "status_code": status, "latency_ms": round(rng.uniform(5, 80), 2), "source": "api",
        "request_body": {"user_id": "user-001", "fields": {"color": "blue"}}, "request_id": f"{n:032x}",
    }


def build_hub_db(path: Path, count: int) -> list[dict[str, object]]:
    rng = random.Random(1)
    log = EventLog(path)
    log.ensure_hub_id()
    sample: list[dict[str, object]] = []
    for start in range(0, count, BATCH):
        records = log.append([fake_call(rng, n) for n in range(start, min(count, start + BATCH))])
        if not sample:
            sample = records
    log.close()
    return sample


@contextmanager
def served_hub(db: Path, workdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A real hub (demo catalog, no demo traffic) serving the log in ``db``; its process and URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "SWITCHROOM_TOKEN": TOKEN, "SWITCHROOM_SERVICE_KEY": "k",
           "XDG_DATA_HOME": str(workdir / "data")}
    hub = subprocess.Popen([str(Path(sys.executable).with_name("switchroom-hub")), "serve", "--demo",
                            "--traffic-rate", "0", "--db", str(db), "--port", str(port)],
                           env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield hub, url
    finally:
        hub.terminate()
        hub.wait()


def raw_insert(path: Path, hub_db: Path) -> float:
    """Store the same rows, already as the cache stores them (seq, kind, text), 2,000 to a transaction, into an empty cache
    file with the cache's schema and settings, the way the cache writer does (``replicate_rows``: records
    and cursor in one transaction, many rows to a statement): the ceiling for the writer, with no network
    and no decoding. Only the inserts are timed, not reading the rows from the hub's file."""
    source = sqlite3.connect(hub_db)
    target = EventLog(path, replica=True)
    columns = ", ".join(TEXT_COLUMNS)
    elapsed, count, after = 0.0, 0, 0
    while rows := source.execute(f"SELECT {columns} FROM records WHERE seq > ? ORDER BY seq LIMIT 2000",
                                 (after,)).fetchall():
        after = rows[-1][0]
        started = time.perf_counter()
        target.replicate_rows(rows, after)
        elapsed += time.perf_counter() - started
        count += len(rows)
    target.close()
    source.close()
    return count / elapsed


def thread_cpu() -> dict[str, float]:
    """CPU seconds so far of each of this process's threads, by Python thread name."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    ticks = os.sysconf("SC_CLK_TCK")
    seconds: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name), "other")
        name = "event loop" if name == "MainThread" else name.rsplit("_", 1)[0]
        seconds[name] = seconds.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def replicate(hub_url: str, cache_dir: Path, count: int) -> tuple[float, dict[str, float]]:
    """Records/s end to end, and the dashboard side's CPU seconds by thread while it ran."""
    done = asyncio.Event()
    state = {"through": 0}
    threads: dict[str, float] = {}

    def on_ingest(added: int, through_seq: int) -> None:
        state["through"] = through_seq
        if through_seq >= count:
            threads.update(thread_cpu())  # before the cache closes and its threads end
            done.set()

    replicator = Replicator(hub_url, TOKEN, cache_dir, lambda cache: None, on_ingest, lambda link: None)
    before = thread_cpu()
    started = time.perf_counter()
    task = asyncio.create_task(replicator.run())
    waiting = asyncio.create_task(done.wait())
    await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
    if task.done():  # the replicator gave up: say why rather than wait for ever
        waiting.cancel()
        raise RuntimeError(f"the replicator stopped at seq {state['through']}") from task.exception()
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert replicator.cache is not None
    # The demo hub may append a few records of its own (trigger polls) while the backlog streams.
    stored = await replicator.cache.read(
        lambda log: log.execute("SELECT COUNT(*), MAX(seq) FROM records WHERE seq <= ?", (count,))[0]
    )
    replicator.cache.close()
    assert stored == (count, count), f"cache holds {stored} of the backlog, expected {count}"
    return count / elapsed, {name: cpu - before.get(name, 0.0) for name, cpu in threads.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--hub-db", type=Path, help="keep the built hub database here and reuse it in later runs "
                        "(a copy is served, so every run starts from the same backlog)")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="switchroom-repl-"))
    hub_db = workdir / "hub.sqlite"
    t0 = time.perf_counter()
    if args.hub_db is not None and args.hub_db.exists():
        kept = EventLog(args.hub_db)
        head = kept.head_seq()
        kept.close()
        assert head == args.records, f"{args.hub_db} holds {head} records, not {args.records:,}"
        print(f"hub database:       {args.records:,} records reused from {args.hub_db}")
    else:
        build_hub_db(args.hub_db or hub_db, args.records)
        print(f"hub database:       {args.records:,} records built in {time.perf_counter() - t0:.1f} s")
    if args.hub_db is not None:
        shutil.copyfile(args.hub_db, hub_db)

    with served_hub(hub_db, workdir) as (hub, hub_url):
        hub_cpu_before = process_cpu(hub.pid)
        load_before = os.getloadavg()[0]
        rate, threads = asyncio.run(replicate(hub_url, workdir / "cache", args.records))
        hub_cpu = process_cpu(hub.pid) - hub_cpu_before
    try:
        raw = raw_insert(workdir / "raw.sqlite", hub_db)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # a 1M-record run leaves about 2 GB behind otherwise
    per_record = 1e6 / args.records
    print(f"replication:        {rate:,.0f} records/s end to end, hub → websocket → cache  (bar: >= 100,000/s)")
    print(f"raw insert:         {raw:,.0f} records/s, the same rows into the same schema and pragmas, the cache's "
          "own insert path, no network, no decoding")
    print(f"CPU per record:     hub {hub_cpu * per_record:.1f} µs; dashboard "
          + ", ".join(f"{name} {cpu * per_record:.1f} µs" for name, cpu in sorted(threads.items(), key=lambda i: -i[1])
                      if cpu * per_record >= 0.05))
    print(f"load average:       {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after "
          f"({os.cpu_count()} cores; other work on the machine lowers every figure)")
    if args.latency_seconds > 0:
        latency = Path(__file__).with_name("ingest_latency.py")
        subprocess.run([sys.executable, str(latency), "--seconds", str(args.latency_seconds)], check=True)


if __name__ == "__main__":
    main()
