"""Script trial throughput: events tried per second on 1,000 recorded trigger events, beside the live
engine's throughput for the same script on the same hub.

Starts a demo hub (no demo traffic, no background polls, the sample services' faults off, so that live
runs are as fast as they can be). Live: 1,000 test trigger events for ``liked-video-texts`` (its script
searches videos and texts three of them, over real HTTP to the sample services), posted 32 at a time; the
clock runs from the first POST until the 1,000th ``script_run`` is in the hub's log. Trial: one
``POST /v1/ops/script-trials`` of the same script over the last 1,000 events; the clock runs until its
summary line. It checks the trial's verdicts (every event ``unchanged``: the same script, the same calls)
and that the sample services were asked nothing during the trial, and prints both rates.

    .venv/bin/python benchmarks/script_trials.py [--events 1000]

It also prints the engine alone on the same script in this process, its calls answered at once, for scale.

Bar (issue 22): the trial at least as fast as the live engine for the same script, within noise.
"""

from pathlib import Path
import argparse
import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from connect_api import free_port, wait_up  # noqa: E402

KEY, TOKEN = "bench-key", "bench-token"
CONNECTION, TRIGGER, USER = "liked-video-texts", "videos.new_liked_video", "user-001"
CONCURRENCY = 32


def script_runs(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM records WHERE kind = 'script_run'").fetchone()[0])


async def fire(hub_url: str, events: int) -> None:
    path = f"/v2/connections/{CONNECTION}/triggers/{TRIGGER}/test"
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(hub_url, headers={"IFTTT-Service-Key": KEY}, connector=connector) as http:
        numbers = iter(range(events))

        async def worker() -> None:
            for _ in numbers:
                async with http.post(path, json={"user_id": USER}) as response:
                    assert response.status == 204, await response.text()

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def live(hub_url: str, db: Path, events: int) -> float:
    before = script_runs(db)
    started = time.perf_counter()
    asyncio.run(fire(hub_url, events))
    while script_runs(db) < before + events:
        time.sleep(0.01)
    return events / (time.perf_counter() - started)


def trial(hub_url: str, source: str, events: int) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    summary: dict[str, object] = {}
    with httpx.stream("POST", f"{hub_url}/v1/ops/script-trials", timeout=600,
                      json={"connection_id": CONNECTION, "source": source, "last": events},
                      headers={"Authorization": f"Bearer {TOKEN}"}) as response:
        for line in response.iter_lines():
            if line.strip():
                summary = json.loads(line)
    return events / (time.perf_counter() - started), summary


def engine_alone(source: str, runs: int) -> float:
    """The same script in a ScriptEngine of the hub's size in this process, its calls answered at once (a
    query with three videos): what the engine itself does, no hub, no records, no services."""
    from switchroom.hub.app import SCRIPT_SLOTS, WARM_CONTEXTS
    from switchroom.hub.scripts import ScriptEngine, ScriptJob

    videos = {"type": "list", "data": [{"title": f"video {n}", "url": f"https://v/{n}"} for n in range(3)]}

    async def call(kind: str, op_id: str, body: dict[str, object]) -> tuple[int, object]:
        return (200, videos) if kind == "query" else (204, None)

    async def run_all() -> float:
        engine = ScriptEngine(max_concurrent=SCRIPT_SLOTS, warm=WARM_CONTEXTS)
        job = ScriptJob(source=source, trigger_id=TRIGGER, ingredients={"title": "Sourdough"})
        await asyncio.gather(*(engine.run(job, call) for _ in range(50)))
        started = time.perf_counter()
        await asyncio.gather(*(engine.run(job, call) for _ in range(runs)))
        elapsed = time.perf_counter() - started
        await engine.aclose()
        return runs / elapsed

    return asyncio.run(run_all())


def services_asked(samples: dict[str, str]) -> dict[str, object]:
    return {name: httpx.get(f"{url}/_calls", headers={"IFTTT-Service-Key": KEY}).json()["data"]
            for name, url in samples.items() if name != "developer"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="switchroom-bench-"))
    db, port = workdir / "hub.sqlite", free_port()
    env = {**os.environ, "SWITCHROOM_SERVICE_KEY": KEY, "SWITCHROOM_TOKEN": TOKEN, "XDG_DATA_HOME": str(workdir)}
    hub = subprocess.Popen([str(Path(sys.executable).with_name("switchroom-hub")), "serve", "--demo", "--port",
                            str(port), "--db", str(db), "--traffic-rate", "0", "--poll-interval", "0",
                            "--user-rate-limit", "0", "--log-level", "warning"],
                           env=env, stdout=(workdir / "hub.out").open("wb"), stderr=subprocess.STDOUT)
    hub_url = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{hub_url}/v1/health")
        samples = dict(re.findall(r"sample service (\w+): (\S+)", (workdir / "hub.out").read_text()))
        for name, url in samples.items():
            if name != "developer":
                httpx.post(f"{url}/_faults", headers={"IFTTT-Service-Key": KEY}, json={
                    "error_rate": 0, "skip_rate": 0, "latency_ms": 0, "outage": False, "outage_every_s": 0,
                    "outage_for_s": 0}).raise_for_status()
        definition = httpx.get(f"{hub_url}/v1/ops/connections/{CONNECTION}",
                               headers={"Authorization": f"Bearer {TOKEN}"}).json()
        source = definition["runtime_script"]["source"] if isinstance(definition["runtime_script"], dict) \
            else definition["runtime_script"]
        live(hub_url, db, 50)  # contexts warm, connections open
        live_rate = live(hub_url, db, args.events)
        asked = services_asked(samples)
        trial_rate, summary = trial(hub_url, source, args.events)
        assert summary.get("type") == "trial_summary", summary
        assert summary["unchanged"] == args.events, summary
        assert services_asked(samples) == asked, "a service was asked something during the trial"
        alone = engine_alone(source, args.events)
        print(f"engine alone, the same script, calls answered at once (no hub): {alone:,.0f} runs/s")
        print(f"live engine, {CONNECTION} ({args.events:,} test events, real service calls): {live_rate:,.0f} runs/s")
        print(f"script trial, the same script over the last {args.events:,} events: {trial_rate:,.0f} events/s "
              f"({trial_rate / live_rate:.2f}× live; all {summary['unchanged']:,} unchanged, no service asked)")
    finally:
        hub.terminate()
        hub.wait(30)


if __name__ == "__main__":
    main()
