"""Beyond one machine (DESIGN §11, §12): hubs on one PostgreSQL database, beside one hub on SQLite.

Prints, in one run:

- action runs/s through one hub on SQLite, one hub on PostgreSQL and three hubs on PostgreSQL (the load
  spread evenly over the hubs, as a balancer would), each with its hub CPU per run, and a check that every
  answered run is in the log and the log has no gap;
- PostgreSQL appends/s (``PostgresLog.append``: the counter row, the records, the notification) beside a
  raw COPY of the same rows into a bare table;
- what answering after the commit costs: one run's records appended and committed, on each backend;
- commit → stream delivery: a record appended to the database (as another hub would) until a dashboard's
  websocket on a hub receives it, p50 and p95.

It starts its own PostgreSQL cluster (``tests/support/postgres.py``; durable settings, the server's
defaults), the ``lights`` sample service, the hubs and load processes, and removes them after.

    .venv/bin/python benchmarks/scale_out.py [--seconds 10] [--concurrency 8]

Bars on the 2-core reference machine: three hubs ≥ 1,000 runs/s with every run logged and no gap; the
SQLite hub no slower than ``connect_api.py`` measured it; appends ≥ 20,000 records/s; delivery p95 ≤ 50 ms.
"""

from pathlib import Path
import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.connect_api import (  # noqa: E402  (after the path is set)
    CATALOG, KEY, SAMPLE_SERVER, TOKEN, enable_users, free_port, load, wait_up,
)
from switchroom.store.hub_log import open_hub_log  # noqa: E402
from switchroom.store.log_layouts import HUB_COLUMNS, RECORD_COLUMNS  # noqa: E402
from switchroom.store.postgres_log import PostgresLog  # noqa: E402
from tests.support.postgres import PostgresCluster, start_cluster  # noqa: E402

APPEND_BATCH = 500
"""Records per append in the appends figure: a hub's group commit under load is of this order."""


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(cluster: PostgresCluster | None) -> float:
    """CPU time so far of the database server: its postmaster and every process it started (the hubs'
    connections among them)."""
    if cluster is None:
        return 0.0
    postmaster = int((cluster.folder / "data" / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            if pid == postmaster or int(fields[1]) == postmaster:
                total += cpu_seconds(pid)
        except (OSError, ValueError):
            continue  # a process that ended meanwhile
    return total


def start_hubs(count: int, db: str, catalog: Path, env: dict[str, str]) -> tuple[list[str], list[subprocess.Popen[bytes]]]:
    urls, processes = [], []
    for _ in range(count):
        port = free_port()
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).with_name("switchroom-hub")), "serve", "--catalog", str(catalog), "--db", db,
             "--port", str(port), "--user-rate-limit", "0", "--poll-interval", "0"],
            env=env, stdout=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        wait_up(f"{url}/v1/health")
    return urls, processes


def runs_through(label: str, hub_count: int, db: str, catalog: Path, env: dict[str, str], seconds: float,
                 concurrency: int, cluster: PostgresCluster | None = None) -> None:
    """Action runs through ``hub_count`` hubs on ``db``: one load process per hub, each on its own hub."""
    urls, processes = start_hubs(hub_count, db, catalog, env)
    try:
        enable_users(urls[0])
        time.sleep(1.5)  # the other hubs follow the users (read afresh by each request anyway)
        log = open_hub_log(db)
        head_before = log.head_seq()
        results: multiprocessing.Queue[object] = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=load, args=(url, seconds, concurrency, n, results))
                   for n, url in enumerate(urls)]
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        server_before = server_cpu_seconds(cluster)
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        outcomes = [results.get() for _ in workers]
        elapsed = time.perf_counter() - started
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
        server_cpu = server_cpu_seconds(cluster) - server_before
        for worker in workers:
            worker.join()
        time.sleep(1.0)
        ok = sum(o[0] for o in outcomes)  # type: ignore[index]
        latencies = sorted(x for o in outcomes for x in o[2])  # type: ignore[index]
        [(logged,)] = log.execute("SELECT COUNT(*) FROM records WHERE seq > ? AND kind = 'api_call' "
                                  "AND direction = 'inbound' AND status_code = 204", (head_before,))
        [(count, head)] = log.execute("SELECT COUNT(*), MAX(seq) FROM records")
        log.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait()
    print(f"{label:<28} {ok / elapsed:>7,.0f} runs/s   p50 {1000 * statistics.median(latencies):5.1f} ms  "
          f"p95 {1000 * latencies[int(0.95 * (len(latencies) - 1))]:5.1f} ms   CPU a run: hubs {1000 * cpu / max(ok, 1):.2f} ms"
          + (f", database {1000 * server_cpu / max(ok, 1):.2f} ms   " if cluster else "   ")
          + 
          f"{'every run logged' if logged == ok else f'LOGGED {logged:,} OF {ok:,}'}, "
          f"{'no gap' if count == head else f'GAP: {count:,} records, head {head:,}'}")


def appends(cluster: PostgresCluster, seconds: float) -> None:
    """Records/s through ``PostgresLog.append``, beside a raw COPY of the same rows into a bare table."""
    log = PostgresLog(cluster.database("appends"))
    body = {"kind": "api_call", "direction": "inbound", "method": "POST", "path": "/v2/connections/bench/actions/"
            "lights.change_color/run", "op": "action", "op_id": "lights.change_color", "connection_id": "bench",
            "feature_id": "f", "user_id": "user-001", "status_code": 204, "latency_ms": 3.2,
            "request_body": {"user_id": "user-001"}, "request_id": "0123456789abcdef0123456789abcdef"}
    written, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        log.append([body] * APPEND_BATCH)
        written += APPEND_BATCH
    appended = written / (time.perf_counter() - started)

    raw = PostgresLog(cluster.database("raw"))._conn  # a bare table of the same columns: no counter, no notify
    raw.execute("CREATE TABLE bare (LIKE records)")
    rows = HUB_COLUMNS.appended_rows([{"seq": 0, "ts": "2026-12-06T00:00:00.000Z", **body}] * APPEND_BATCH)
    copied, seq, started = 0, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        with raw.transaction(), raw.cursor().copy(f"COPY bare ({', '.join(RECORD_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                seq += 1
                copy.write_row((seq, *row[1:]))
        copied += APPEND_BATCH
    print(f"{'PostgreSQL appends':<28} {appended:>7,.0f} records/s  (batches of {APPEND_BATCH}; bar >= 20,000)   "
          f"raw COPY of the same rows: {copied / (time.perf_counter() - started):,.0f} records/s")


def commit_waits(cluster: PostgresCluster, workdir: Path) -> None:
    """What answering only after the commit costs a run: the wall time of appending (and committing) one
    run's two records, on each backend, one append at a time."""
    body = {"kind": "api_call", "direction": "inbound", "op": "action", "status_code": 204}
    figures = []
    for name, log in (("SQLite", open_hub_log(workdir / "commits.sqlite")),
                      ("PostgreSQL", open_hub_log(cluster.database("commits")))):
        waits = []
        for _ in range(2000):
            started = time.perf_counter()
            log.append([body, body])
            waits.append(1000 * (time.perf_counter() - started))
        log.close()
        waits.sort()
        figures.append(f"{name} p50 {statistics.median(waits):.2f} ms, p95 {waits[int(0.95 * (len(waits) - 1))]:.2f} ms")
    print(f"{'commit before the answer':<28} {';  '.join(figures)}  (one run's two records, one commit at a time)")


def delivery(cluster: PostgresCluster, catalog: Path, env: dict[str, str], seconds: float) -> None:
    """Commit → stream delivery: single records appended at 200/s by this process, as another hub would; the
    time from the start of each one's append (its commit is the append's end) until a websocket subscribed
    to a hub receives it."""
    db = cluster.database("delivery")
    urls, processes = start_hubs(1, db, catalog, env)
    log = PostgresLog(db)
    committed: dict[int, float] = {}
    received: dict[int, float] = {}

    def write() -> None:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            appending = time.perf_counter()  # the commit is in the append: counted from its start
            [record] = log.append([{"kind": "api_call", "direction": "inbound", "op": "bench"}])
            committed[record["seq"]] = appending
            time.sleep(0.005)

    async def follow(writer: threading.Thread) -> None:
        async with websockets.connect(urls[0].replace("http", "ws") + "/v1/streams/logs",
                                      additional_headers={"Authorization": f"Bearer {TOKEN}"}) as stream:
            await stream.send(json.dumps({"type": "subscribe", "after": log.head_seq()}))
            await stream.recv()  # hello
            writer.start()
            while writer.is_alive() or len(received) < len(committed):
                frame = json.loads(await asyncio.wait_for(stream.recv(), 10))
                now = time.perf_counter()
                for record in frame.get("records", []):
                    received[record["seq"]] = now

    try:
        asyncio.run(follow(threading.Thread(target=write)))
    finally:
        for process in processes:
            process.terminate()
            process.wait()
    waits = sorted(1000 * (received[seq] - committed[seq]) for seq in committed if seq in received)
    print(f"{'commit -> stream delivery':<28} p50 {statistics.median(waits):.1f} ms, "
          f"p95 {waits[int(0.95 * (len(waits) - 1))]:.1f} ms over {len(waits):,} records  (bar: p95 <= 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per load process")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="switchroom-bench-"))
    env = {**os.environ, "SWITCHROOM_SERVICE_KEY": KEY, "SWITCHROOM_TOKEN": TOKEN,
           "XDG_DATA_HOME": str(workdir / "data"), "PYTHONPATH": str(ROOT)}
    lights_port = free_port()
    lights_url = f"http://127.0.0.1:{lights_port}"
    catalog = workdir / "catalog.toml"
    catalog.write_text(CATALOG.format(lights_url=lights_url))
    lights = subprocess.Popen([sys.executable, "-c", SAMPLE_SERVER, KEY, str(lights_port)], env=env)
    cluster = start_cluster()
    try:
        wait_up(f"{lights_url}/ifttt/v1/status")
        print(f"{os.cpu_count()} cores; PostgreSQL with its default (durable) settings; {args.seconds:g} s a figure")
        runs_through("1 hub on SQLite", 1, str(workdir / "hub.sqlite"), catalog, env, args.seconds, args.concurrency)
        runs_through("1 hub on PostgreSQL", 1, cluster.database("one"), catalog, env, args.seconds, args.concurrency,
                     cluster)
        runs_through("3 hubs on PostgreSQL", 3, cluster.database("three"), catalog, env, args.seconds,
                     args.concurrency, cluster)
        appends(cluster, args.seconds)
        commit_waits(cluster, workdir)
        delivery(cluster, catalog, env, args.seconds)
    finally:
        cluster.stop()
        lights.terminate()
        lights.wait()


if __name__ == "__main__":
    main()
