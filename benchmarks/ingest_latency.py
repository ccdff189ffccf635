"""Key press → repaint latency of the dashboard while it ingests records live.

A stand-in hub (health endpoint and log stream, speaking the protocol) streams ``--rate`` records/s in
batches every 50 ms, as a busy hub does, into the real dashboard app running headless at 80×24 on the
API log. Meanwhile keys are sent (pause by scrolling up, scroll, End to resume, switch panes), and for
each the time from sending it until a frame showing its effect has been composed is recorded. Prints
p50/p95/max and the records/s the API log actually took in.

A pane switch's frame shows the pane with what it held when it was last on screen; the pane's list and
summaries are read again at once, and the frame after shows them (one read and one repaint later).

    .venv/bin/python benchmarks/ingest_latency.py [--rate 10000] [--seconds 20] [--busy]

``--busy`` keeps one core busy in another process meanwhile (on-call laptops and jump hosts are never idle).
The bar (DESIGN §11): p95 ≤ 100 ms while ingesting 10,000 records/s, also with one core kept busy.
"""

from http import HTTPStatus
from pathlib import Path
import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import websockets
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import RenderableType  # noqa: E402
from textual import events  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widgets import ContentSwitcher  # noqa: E402

from switchroom.tui.app import SwitchroomApp  # noqa: E402
from switchroom.tui.widgets.log_view import LogView  # noqa: E402

HUB_ID = "latency-bench-hub"
TICK = 0.05
KEYS = ["up", "up", "end", "1", "2"]  # each changes what is shown: pause, scroll, resume, switch panes


def record(seq: int) -> str:
    return json.dumps({
        "seq": seq, "ts": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "kind": "api_call",
        "direction": "inbound" if seq % 2 else "outbound", "method": "POST",
        "path": "/v2/connections/evening-glow/actions/lights.change_color/run", "op": "action",
        "op_id": "lights.change_color", "connection_id": ["evening-glow", "porch-welcome", "rain-alert"][seq % 3],
        "feature_id": "glow", "user_id": f"user-{seq % 300:03d}", "status_code": [204, 200, 502, 422][seq % 4],
        "latency_ms": 12.5, "source": "api", "request_body": {"user_id": "user-001", "fields": {"color": "blue"}},
        "request_id": f"{seq:032x}",
    }, separators=(",", ":"))


def stand_in_hub(rate: int) -> tuple:
    async def stream(websocket: ServerConnection) -> None:
        try:
            await send_records(websocket)
        except websockets.ConnectionClosed:
            pass  # the dashboard went away

    async def send_records(websocket: ServerConnection) -> None:
        after = json.loads(await websocket.recv())["after"]
        await websocket.send(json.dumps({"type": "hello", "hub_id": HUB_ID, "protocol": 1, "head_seq": after}))
        if websocket.request is not None and websocket.request.path.endswith("/triggers"):
            await websocket.wait_closed()  # no trigger events here: the stream stays quiet
            return
        seq, started, per_tick = after, time.perf_counter(), max(1, int(rate * TICK))
        while True:
            records = [record(n) for n in range(seq + 1, seq + per_tick + 1)]
            seq += per_tick
            await websocket.send(f'{{"type":"batch","records":[{",".join(records)}],"through_seq":{seq}}}')
            started += TICK
            await asyncio.sleep(max(0.0, started - time.perf_counter()))

    def health(connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/v1/health":
            return connection.respond(HTTPStatus.OK, json.dumps({"status": "ok", "hub_id": HUB_ID}) + "\n")
        return None

    return stream, health


class TimedApp(SwitchroomApp):
    """The dashboard, noting when it composes the first frame that shows a key's effect (headless,
    nothing is written out).

    Whether a frame shows the effect is judged as it is composed, on the app's own loop: a benchmark
    coroutine that looked for the change between frames would see it only when the loop next ran it,
    which can be a frame later than the one that showed it.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.waiting_for: tuple[object, ...] | None = None
        """The state before a key was sent; None when no key is waiting for its frame."""
        self.shown_at = 0.0

    def _display(self, screen: Screen, renderable: RenderableType | None) -> None:
        super()._display(screen, renderable)
        if renderable is not None and self.waiting_for is not None and state(self) != self.waiting_for:
            self.waiting_for, self.shown_at = None, time.perf_counter()


def state(app: TimedApp) -> tuple[object, ...]:
    """What the benchmark's keys change: following or not, the paused cursor and scroll position, the pane."""
    view = app.query_one(LogView)
    return (view.follow, None if view.follow else (view.cursor, view.scroll_y),
            app.query_one(ContentSwitcher).current)


async def press(app: TimedApp, key: str) -> float:
    """Milliseconds from sending ``key`` until a frame showing its effect was composed."""
    app.waiting_for = state(app)
    sent = time.perf_counter()
    app.post_message(events.Key(key, key if len(key) == 1 else None))
    while app.waiting_for is not None:
        await asyncio.sleep(0.0005)
    return (app.shown_at - sent) * 1000


async def serve_stand_in(port: int, rate: int) -> None:
    stream, health = stand_in_hub(rate)
    async with serve(stream, "127.0.0.1", port, process_request=health, compression=None):
        await asyncio.Future()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def main(args: argparse.Namespace) -> None:
    port = free_port()  # the stand-in hub runs in a process of its own, as a real hub does
    hub = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--rate", str(args.rate)])
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        await measure(port, args)
    finally:
        for process in (hub, busy):
            if process is not None:
                process.terminate()
                process.wait()


async def measure(port: int, args: argparse.Namespace) -> None:
    app = TimedApp(f"http://127.0.0.1:{port}", "token", Path(tempfile.mkdtemp(prefix="switchroom-latency-")))
    latencies: list[float] = []
    by_key: dict[str, list[float]] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        while app.link.name != "live":
            await pilot.pause(0.05)
        await asyncio.sleep(1.0)
        first, started = app.query_one(LogView).total, time.perf_counter()
        n = 0
        while time.perf_counter() - started < args.seconds:
            key = KEYS[n % len(KEYS)]
            latencies.append(await press(app, key))
            by_key.setdefault("pane switch (1, 2)" if key in "12" else "scroll (up, End)", []).append(latencies[-1])
            n += 1
            await asyncio.sleep(0.05)
        shown = (app.query_one(LogView).total - first) / (time.perf_counter() - started)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"ingest: {args.rate:,} records/s offered, {shown:,.0f} records/s shown in the API log"
          + (" (one core kept busy by another process)" if args.busy else ""))
    print(f"key → repaint over {len(latencies)} presses: p50 {cuts[49]:.1f} ms, p95 {cuts[94]:.1f} ms, "
          f"max {max(latencies):.1f} ms (bar: p95 <= 100 ms)")
    for kind, values in sorted(by_key.items()):
        kind_cuts = statistics.quantiles(values, n=100)
        print(f"  {kind}: p50 {kind_cuts[49]:.1f} ms, p95 {kind_cuts[94]:.1f} ms over {len(values)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--busy", "--busy-core", action="store_true", help="keep one core busy in another process")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the stand-in hub
    arguments = parser.parse_args()
    if arguments.serve:
        asyncio.run(serve_stand_in(arguments.serve, arguments.rate))
    else:
        asyncio.run(main(arguments))
