"""Bulk rerun throughput: 10,000 failed action calls rerun in one bulk, end to end.

Starts, each in its own process: the ``lights`` sample service, and a hub over a one-connection catalog
(the same as ``benchmarks/connect_api.py``, no rate limit). With the service in an outage, load
processes run the action 10,000 times (each a 502, recorded); the service is restored; then one bulk
rerun of everything the filter ``feature:f status:502 dir:inbound`` shows starts at the highest rate
the API allows, and the clock runs from the POST until the bulk's final progress record (state
``finished``) is in the hub's log. It then checks that every item was recorded (an audit record and a
new inbound call each), and prints reruns/s, the hub's CPU time over the bulk, and Sidekiq's figure
for comparison. ``--profile`` profiles the hub's event loop during the bulk and prints the hottest calls.

    .venv/bin/python benchmarks/reruns.py [--calls 10000] [--profile]

The aim (issue 7): be in the league of Sidekiq, which retried 100,000 dead jobs in 7.9 s (12.7k/s).
"""

from pathlib import Path
import argparse
import asyncio
import os
import pstats
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import aiohttp
import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from connect_api import CATALOG, KEY, RUN, SAMPLE_SERVER, TOKEN, enable_users, free_port, wait_up  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FILTER = "feature:f status:502 dir:inbound"
MAX_RATE = 20_000
SIDEKIQ = (100_000, 7.9)
PROFILED_HUB = """
import cProfile, signal, sys
from switchroom.hub.cli import main
profile, path = cProfile.Profile(), sys.argv[1]
signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
signal.signal(signal.SIGUSR2, lambda *_: (profile.disable(), profile.dump_stats(path)))
main(sys.argv[2:])
"""
"""The hub, profiled from SIGUSR1 to SIGUSR2 (its event loop's thread: the writer thread is not in it)."""
LOAD_CONCURRENCY = 32
USERS = 200


async def fail_calls(hub_url: str, calls: int) -> int:
    """Run the action ``calls`` times while the service is out; how many answered 502."""
    failed = 0
    connector = aiohttp.TCPConnector(limit=LOAD_CONCURRENCY)
    async with aiohttp.ClientSession(hub_url, headers={"IFTTT-Service-Key": KEY}, connector=connector) as http:
        numbers = iter(range(calls))

        async def worker() -> None:
            nonlocal failed
            for n in numbers:
                async with http.post(RUN, json={"user_id": f"user-{n % USERS:03d}"}) as response:
                    await response.read()
                    failed += response.status == 502

        await asyncio.gather(*(worker() for _ in range(LOAD_CONCURRENCY)))
    return failed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_finished(db: Path, bulk_id: str, timeout: float = 600.0) -> dict[str, object]:
    """Poll the hub's log (read-only, so the hub does no extra work) for the bulk's last progress record."""
    deadline = time.monotonic() + timeout
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT json_extract(body, '$.state'), json_extract(body, '$.done'), ts FROM records "
                "WHERE kind = 'rerun' AND json_extract(body, '$.phase') = 'bulk' "
                "AND json_extract(body, '$.bulk_id') = ? AND json_extract(body, '$.state') != 'running' "
                "ORDER BY seq DESC LIMIT 1", (bulk_id,)).fetchone()
            if row:
                return {"state": row[0], "done": row[1], "ts": row[2]}
            time.sleep(0.02)
    raise SystemExit("the bulk did not finish in time")


def count(db: Path, sql: str, *params: object) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute(sql, params).fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="profile the hub during the bulk (slower) and print it")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="switchroom-bench-"))
    env = {**os.environ, "SWITCHROOM_SERVICE_KEY": KEY, "SWITCHROOM_TOKEN": TOKEN,
           "XDG_DATA_HOME": str(workdir / "data"), "PYTHONPATH": str(ROOT)}
    lights_port, hub_port = free_port(), free_port()
    lights_url, hub_url = f"http://127.0.0.1:{lights_port}", f"http://127.0.0.1:{hub_port}"
    (workdir / "catalog.toml").write_text(CATALOG.format(lights_url=lights_url))
    db, profile = workdir / "hub.sqlite", workdir / "hub.prof"
    hub = ([sys.executable, "-c", PROFILED_HUB, str(profile)] if args.profile
           else [str(Path(sys.executable).with_name("switchroom-hub"))])
    processes = [
        subprocess.Popen([sys.executable, "-c", SAMPLE_SERVER, KEY, str(lights_port)], env=env),
        subprocess.Popen([*hub, "serve", "--catalog", str(workdir / "catalog.toml"), "--db", str(db),
                          "--port", str(hub_port), "--user-rate-limit", "0"], env=env, stdout=subprocess.DEVNULL),
    ]
    ops = {"Authorization": f"Bearer {TOKEN}"}
    try:
        wait_up(f"{lights_url}/ifttt/v1/status")
        wait_up(f"{hub_url}/v1/health")
        enable_users(hub_url)
        faults = f"{lights_url}/_faults"
        httpx.post(faults, json={"outage": True}, headers={"IFTTT-Service-Key": KEY}).raise_for_status()
        started = time.perf_counter()
        failed = uvloop.run(fail_calls(hub_url, args.calls))
        print(f"failed calls:       {failed:,} of {args.calls:,} runs answered 502, in "
              f"{time.perf_counter() - started:.1f} s")
        httpx.post(faults, json={"outage": False}, headers={"IFTTT-Service-Key": KEY}).raise_for_status()
        time.sleep(1.0)  # the last of them committed

        plan = httpx.post(f"{hub_url}/v1/ops/reruns", json={"filter": FILTER, "dry_run": True}, headers=ops,
                          timeout=120).json()
        print(f"dry run:            {plan['count']:,} to rerun, refused {plan['refused']}")
        cpu_before = [cpu_seconds(process.pid) for process in processes]
        if args.profile:
            processes[1].send_signal(signal.SIGUSR1)
        started = time.perf_counter()
        answer = httpx.post(f"{hub_url}/v1/ops/reruns", json={"filter": FILTER, "rate": MAX_RATE},
                            headers={**ops, "Idempotency-Key": "bench"}, timeout=120)
        answered = time.perf_counter() - started
        bulk_id = answer.json()["id"]
        finished = wait_finished(db, bulk_id)
        elapsed = time.perf_counter() - started
        service_cpu, cpu = (cpu_seconds(process.pid) - before for process, before in zip(processes, cpu_before))
        load = os.getloadavg()[0]
        if args.profile:
            processes[1].send_signal(signal.SIGUSR2)
        status = httpx.get(f"{hub_url}/v1/ops/reruns/{bulk_id}", headers=ops, timeout=120).json()
        time.sleep(0.5)  # the profile written, the last records committed
        audited = count(db, "SELECT COUNT(*) FROM records WHERE kind = 'rerun' AND json_extract(body, '$.phase') = "
                        "'item' AND json_extract(body, '$.bulk_id') = ?", bulk_id)
        new_calls = count(db, "SELECT COUNT(*) FROM records WHERE kind = 'api_call' AND direction = 'inbound' "
                          "AND json_extract(body, '$.source') = 'rerun'")
    finally:
        for process in processes:
            process.terminate()
            process.wait()

    rate = status["done"] / elapsed
    sidekiq = SIDEKIQ[0] / SIDEKIQ[1]
    print(f"bulk rerun:         {status['state']} ({finished['state']} in the log): {status['ok']:,} ok, "
          f"{status['failed']:,} failed, {status['refused']:,} refused of {status['total']:,}; "
          f"the POST answered in {1000 * answered:.0f} ms (planning included)")
    print(f"end to end:         {status['done']:,} reruns in {elapsed:.2f} s = {rate:,.0f} reruns/s")
    print(f"hub CPU time:       {cpu:.2f} s over the bulk ({1000 * cpu / max(status['done'], 1):.2f} ms a rerun, "
          f"{cpu / elapsed:.0%} of a core); the lights service's: {service_cpu:.2f} s ({service_cpu / elapsed:.0%})")
    print(f"recorded:           {audited:,} audit items, {new_calls:,} new inbound calls "
          f"({'every item recorded' if audited == new_calls == status['done'] else 'MISMATCH'})")
    per_cpu = status["done"] / max(cpu, 1e-9)
    print(f"per hub CPU second: {per_cpu:,.0f} reruns (what one core free for the hub would do; load average "
          f"{load:.1f} on {os.cpu_count()} cores while it ran)")
    print(f"Sidekiq:            {SIDEKIQ[0]:,} dead jobs retried in {SIDEKIQ[1]} s = {sidekiq:,.0f}/s; this bulk "
          f"ran at {rate / sidekiq:.0%} of that end to end, {per_cpu / sidekiq:.0%} per core.")
    print(f"                    But Sidekiq's retry puts jobs back on their queues; the like step here is the plan "
          f"(the POST): {status['total'] / answered:,.0f}/s. Each rerun also runs the action (an HTTP call to "
          f"the service) and writes three records.")
    if args.profile:
        print("\nThe hub's event loop during the bulk, under cProfile (so slower than above):")
        stats = pstats.Stats(str(profile))
        stats.sort_stats("tottime").print_stats(20)
        stats.sort_stats("cumulative").print_stats(r"reruns|recorder|runner|service_client|inbound", 20)


if __name__ == "__main__":
    main()
