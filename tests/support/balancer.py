"""A real load balancer (HAProxy, from the Debian package) in front of hubs, as docs/scale-out.md deploys
them: round robin, the websocket streams carried through, a hub that stops answering taken out by its
health check."""

from dataclasses import dataclass
from pathlib import Path
import os
import shutil
import subprocess
import time

import httpx
import pytest

from tests.support.hubproc import free_port

CONFIG = """global
    maxconn 4096
defaults
    mode http
    option redispatch
    retries 3
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend hubs
    bind 127.0.0.1:{port}
    default_backend hubs
backend hubs
    balance roundrobin
    option httpchk GET /v1/health
{servers}
"""
SERVER = "    server hub{n} 127.0.0.1:{port} check inter 300 fall 2 rise 2"


@dataclass
class Balancer:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def haproxy() -> str:
    """The haproxy program; a missing one skips the test, but fails it in CI (``.ci/run`` installs it)."""
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI needs haproxy (the haproxy Debian package)")
        pytest.skip("haproxy is not installed")
    return found


def start_balancer(workdir: Path, hub_urls: list[str]) -> Balancer:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(SERVER.format(n=n, port=url.rsplit(":", 1)[1]) for n, url in enumerate(hub_urls))
    config = workdir / "haproxy.cfg"
    config.write_text(CONFIG.format(port=port, servers=servers))
    log = (workdir / "haproxy.log").open("wb")
    process = subprocess.Popen([haproxy(), "-f", str(config), "-db"], stdout=log, stderr=subprocess.STDOUT)
    balancer = Balancer(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{balancer.url}/v1/health", timeout=1).status_code == 200:
                return balancer
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    balancer.stop()
    raise RuntimeError(f"haproxy did not start: {(workdir / 'haproxy.log').read_text()}")
