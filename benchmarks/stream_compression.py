"""Does permessage-deflate pay off on the log stream? Backlog download time with and without it.

Builds a hub database of N realistic api_call records, starts a real hub on it, and downloads the whole
backlog over ``/v1/streams/logs`` through a TCP proxy that holds the link to a given bandwidth (both ways),
as an SSH port forward or a VPN would. For each bandwidth it prints records/s and the bytes on the wire,
with compression off and with permessage-deflate (the websockets default), and the CPU time spent in
the measuring process (the client and the proxy together).

    .venv/bin/python benchmarks/stream_compression.py [--records 100000] [--mbits 0,100,20,5]

(0 Mbit/s means no limit: the loopback itself.)
"""

from pathlib import Path
import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from switchroom.store import EventLog  # noqa: E402

TOKEN = "bench-token"


def record(rng: random.Random, n: int) -> dict[str, object]:
    user = f"user-{rng.randint(1, 300):03d}"
    color = rng.choice(["red", "green", "blue", "warm_white", "purple"])
    return {
        "kind": "api_call", "direction": rng.choice(["inbound", "outbound"]), "method": "POST",
        "path": "/v2/connections/evening-glow/actions/lights.change_color/run", "op": "action",
        "op_id": "lights.change_color", "connection_id": rng.choice(["evening-glow", "porch-welcome", "rain-alert"]),
        "feature_id": "glow", "user_id": user, "user_feature_id": f"uf-{user[5:]}-glow",
        "status_code": rng.choices([204, 200, 422, 502], weights=[70, 15, 8, 7])[0],
        "latency_ms": round(rng.uniform(5, 80), 2), "source": "api",
        "request_body": {"user_id": user, "fields": {"color": color}},
        "resolved_fields": {"light": "living_room", "color": color},
        "request_id": f"{rng.getrandbits(128):032x}",
    }


class ThrottlingProxy:
    """Forwards TCP to ``target`` at most ``bytes_per_s`` each way (0: no limit); counts the bytes."""

    def __init__(self, target: int, bytes_per_s: float) -> None:
        self.target, self.rate = target, bytes_per_s
        self.bytes = 0
        self.port = 0

    async def start(self) -> None:
        server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        started = time.perf_counter()
        sent = 0
        try:
            while data := await reader.read(16384):
                sent += len(data)
                self.bytes += len(data)
                if self.rate:
                    await asyncio.sleep(max(0.0, started + sent / self.rate - time.perf_counter()))
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


async def download(port: int, head: int, compression: str | None) -> float:
    """Seconds to receive every record up to ``head`` through the proxy on ``port``."""
    started = time.perf_counter()
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/streams/logs", compression=compression,
                                  additional_headers={"Authorization": f"Bearer {TOKEN}"}, max_size=64 << 20) as ws:
        await ws.send('{"type": "subscribe", "after": 0}')
        async for message in ws:
            if '"through_seq":' in message[-40:] and int(message.rsplit(":", 1)[1].rstrip("}")) >= head:
                break
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def measure(port: int, head: int, mbits: float, compression: str | None) -> tuple[float, int, float]:
    proxy = ThrottlingProxy(port, mbits * 1e6 / 8)
    await proxy.start()
    cpu = time.process_time()
    seconds = await download(proxy.port, head, compression)
    return seconds, proxy.bytes, time.process_time() - cpu


def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="switchroom-deflate-"))
    db = workdir / "hub.sqlite"
    log = EventLog(db)
    log.ensure_hub_id()
    rng = random.Random(3)
    log.append([record(rng, n) for n in range(args.records)])
    log.close()
    port = free_port()
    env = {**os.environ, "SWITCHROOM_TOKEN": TOKEN, "SWITCHROOM_SERVICE_KEY": "k",
           "XDG_DATA_HOME": str(workdir), "XDG_CACHE_HOME": str(workdir)}
    hub = subprocess.Popen([str(Path(sys.executable).with_name("switchroom-hub")), "serve", "--demo", "--port",
                            str(port), "--db", str(db), "--traffic-rate", "0", "--poll-interval", "0"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                head = httpx.get(f"http://127.0.0.1:{port}/v1/health").json()["head_seq"]
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        print(f"{args.records:,} records backlog; wire bytes include websocket framing")
        for mbits in args.mbits:
            link = "loopback, no limit" if mbits == 0 else f"{mbits:g} Mbit/s"
            for compression in (None, "deflate"):
                seconds, wire, cpu = asyncio.run(measure(port, head, mbits, compression))
                print(f"  {link:>20} {compression or 'off':>8}: {head / seconds:9,.0f} records/s, "
                      f"{wire / head:6.0f} bytes/record on the wire, CPU here (client and proxy) {cpu / head * 1e6:5.1f} µs/record")
    finally:
        hub.terminate()
        hub.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--mbits", type=lambda s: [float(x) for x in s.split(",")], default=[0, 100, 20, 5])
    main(parser.parse_args())
