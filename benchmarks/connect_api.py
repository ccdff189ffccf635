"""Connect API throughput: action runs per second against a fast sample service, every one logged.

Starts, each in its own process: the ``lights`` sample service with no faults, a hub serving a
one-connection catalog over it (no rate limit), and load processes that enable users through the
Connect API and then run the action as fast as the hub answers. Prints runs/s and latency, then
checks in the hub's event log that every answered run was recorded (inbound and outbound).

    .venv/bin/python benchmarks/connect_api.py [--seconds 10] [--clients 1] [--concurrency 8]

The bar (DESIGN §11): ≥ 1,000 action runs/s on the 2-core reference machine.
"""

from pathlib import Path
import argparse
import asyncio
import multiprocessing
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import aiohttp
import httpx
import uvloop

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-service-key"
TOKEN = "bench-token"
USERS = 200

CATALOG = """
[services.lights]
name = "Lights"
base_url = "{lights_url}"
service_key = {{ env = "SWITCHROOM_SERVICE_KEY" }}

[[services.lights.actions]]
id = "change_color"
label = "Change light colour"

[[services.lights.actions.fields]]
id = "light"
label = "Which light"
type = "select"
required = true
options = [{{ label = "Porch", value = "porch" }}, {{ label = "Kitchen", value = "kitchen" }}]

[[services.lights.actions.fields]]
id = "color"
label = "Colour"
type = "select"
required = true
options = [{{ label = "Red", value = "red" }}, {{ label = "Blue", value = "blue" }}]

[connections.bench]
name = "Bench"
owner_service = "lights"

[[connections.bench.features]]
id = "f"
name = "F"

[[connections.bench.features.actions]]
id = "fa"
ref = "lights.change_color"
fields.light = {{ visibility = "developer", value = "porch" }}
fields.color = {{ visibility = "user", value = "red" }}
"""

SAMPLE_SERVER = textwrap.dedent("""
    import sys, uvicorn
    from switchroom.hub.sample.faults import Faults
    from switchroom.hub.sample.lights import lights_app
    uvicorn.run(lights_app(sys.argv[1], Faults()), host="127.0.0.1", port=int(sys.argv[2]),
                log_level="warning", access_log=False)
""")
RUN = "/v2/connections/bench/actions/lights.change_color/run"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1, headers={"IFTTT-Service-Key": KEY})
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def load(hub_url: str, seconds: float, concurrency: int, worker: int, results: "multiprocessing.Queue[object]") -> None:
    """One load process: ``concurrency`` requests in flight until time is up (aiohttp on uvloop: an
    httpx client could not send fast enough to measure the hub)."""

    async def run() -> tuple[int, int, list[float]]:
        ok = failed = 0
        latencies: list[float] = []
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(hub_url, headers={"IFTTT-Service-Key": KEY}, connector=connector) as http:
            deadline = time.perf_counter() + seconds

            async def loop(n: int) -> None:
                nonlocal ok, failed
                body = {"user_id": f"user-{(worker * concurrency + n) % USERS:03d}"}
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    async with http.post(RUN, json=body) as response:
                        await response.read()
                    latencies.append(time.perf_counter() - started)
                    if response.status == 204:
                        ok += 1
                    else:
                        failed += 1

            await asyncio.gather(*(loop(n) for n in range(concurrency)))
        return ok, failed, latencies

    results.put(uvloop.run(run()))


def enable_users(hub_url: str) -> None:
    with httpx.Client(base_url=hub_url, headers={"IFTTT-Service-Key": KEY}) as http:
        for n in range(USERS):
            response = http.put("/v2/connections/bench/user_connection", params={"user_id": f"user-{n:03d}"},
                                json={"user_features": [{"feature_id": "f"}]})
            response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=1, help="load processes")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per load process")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="switchroom-bench-"))
    env = {**os.environ, "SWITCHROOM_SERVICE_KEY": KEY, "SWITCHROOM_TOKEN": TOKEN,
           "XDG_DATA_HOME": str(workdir / "data"), "PYTHONPATH": str(ROOT)}
    lights_port, hub_port = free_port(), free_port()
    lights_url, hub_url = f"http://127.0.0.1:{lights_port}", f"http://127.0.0.1:{hub_port}"
    (workdir / "catalog.toml").write_text(CATALOG.format(lights_url=lights_url))
    db = workdir / "hub.sqlite"
    hub_bin = Path(sys.executable).with_name("switchroom-hub")
    processes = [
        subprocess.Popen([sys.executable, "-c", SAMPLE_SERVER, KEY, str(lights_port)], env=env),
        subprocess.Popen([str(hub_bin), "serve", "--catalog", str(workdir / "catalog.toml"), "--db", str(db),
                          "--port", str(hub_port), "--user-rate-limit", "0"], env=env, stdout=subprocess.DEVNULL,
                         stderr=(workdir / "hub.log").open("wb")),  # the access log, a line a run, as a service keeps it
    ]
    try:
        wait_up(f"{lights_url}/ifttt/v1/status")
        wait_up(f"{hub_url}/v1/health")
        enable_users(hub_url)
        head_before = httpx.get(f"{hub_url}/v1/health").json()["head_seq"]

        results: multiprocessing.Queue[object] = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=load, args=(hub_url, args.seconds, args.concurrency, w, results))
                   for w in range(args.clients)]
        started = time.perf_counter()
        for w in workers:
            w.start()
        outcomes = [results.get() for _ in workers]
        elapsed = time.perf_counter() - started
        for w in workers:
            w.join()

        ok = sum(o[0] for o in outcomes)  # type: ignore[index]
        failed = sum(o[1] for o in outcomes)  # type: ignore[index]
        latencies = sorted(x for o in outcomes for x in o[2])  # type: ignore[index]
        time.sleep(1.0)  # let the recorder commit its last batch
        with sqlite3.connect(db) as conn:
            inbound_204 = conn.execute(
                "SELECT COUNT(*) FROM records WHERE seq > ? AND kind = 'api_call' AND direction = 'inbound' "
                "AND status_code = 204", (head_before,)).fetchone()[0]
            outbound_200 = conn.execute(
                "SELECT COUNT(*) FROM records WHERE seq > ? AND kind = 'api_call' AND direction = 'outbound' "
                "AND status_code = 200", (head_before,)).fetchone()[0]
    finally:
        for process in processes:
            process.terminate()
            process.wait()

    rate = ok / elapsed
    print(f"action runs:        {ok:,} answered 204, {failed:,} other, in {elapsed:.1f} s")
    print(f"throughput:         {rate:,.0f} runs/s  (bar: >= 1,000 runs/s)")
    print(f"latency:            p50 {1000 * statistics.median(latencies):.1f} ms, "
          f"p95 {1000 * latencies[int(0.95 * (len(latencies) - 1))]:.1f} ms")
    print(f"logged:             {inbound_204:,} inbound 204 and {outbound_200:,} outbound 200 records "
          f"({'every run logged' if inbound_204 == ok and outbound_200 == ok else 'MISMATCH'})")


if __name__ == "__main__":
    main()
