"""Starting a real ``switchroom-hub`` process for tests, on a free port with its own files."""

from dataclasses import dataclass
from pathlib import Path
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time

import httpx

from tests.support.postgres import new_database, on_postgres


@dataclass
class RunningHub:
    url: str
    token: str
    service_key: str
    db: Path | str
    """The hub's ``--db``: a SQLite file, or a PostgreSQL URL when the tests run on PostgreSQL."""
    log_path: Path
    process: subprocess.Popen[bytes]
    err_path: Path | None = None
    """The hub's stderr (its log lines) when kept apart from its stdout (its banner); else both are in
    ``log_path``."""

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def banner_value(self, label: str) -> str:
        match = re.search(rf"{re.escape(label)}:\s*(\S+)", self.log_path.read_text())
        assert match, f"no '{label}' in the hub's banner"
        return match.group(1)

    def set_faults(self, service: str, **faults: object) -> None:
        """Change a sample service's fault injection over its own HTTP API (unnamed faults: none)."""
        reset = {"error_rate": 0.0, "skip_rate": 0.0, "latency_ms": 0.0, "outage": False, "outage_every_s": 0.0,
                 "outage_for_s": 0.0}
        response = httpx.post(f"{self.banner_value(f'sample service {service}')}/_faults",
                              json={**reset, **faults}, headers={"IFTTT-Service-Key": self.service_key})
        response.raise_for_status()

    def set_lights_faults(self, **faults: object) -> None:
        self.set_faults("lights", **faults)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def write_catalog(workdir: Path, text: str) -> Path:
    """A catalog file (a variant of the demo catalog) in ``workdir``, with the demo's scripts beside it."""
    from switchroom.hub.settings import DEMO_CATALOG

    shutil.copytree(DEMO_CATALOG.parent / "scripts", workdir / "scripts", dirs_exist_ok=True)
    path = workdir / "catalog.toml"
    path.write_text(text)
    return path


def bare_env(**values: str) -> dict[str, str]:
    """A minimal environment for a command under test (``values`` and a plain PATH), keeping only what
    measures it: the coverage settings that ``.ci/coverage`` hands to every process."""
    measuring = {name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")}
    return {"PATH": "/usr/bin:/bin", **measuring, **values}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hub_command() -> list[str]:
    beside = Path(sys.executable).with_name("switchroom-hub")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "switchroom.hub"]


_databases: dict[Path, str] = {}


def hub_db(path: Path | str) -> Path | str:
    """The ``--db`` for a hub the tests would keep at ``path``: that file, or (when the tests run on
    PostgreSQL) a database of its own, the same one each time the path is named, so that a restarted hub
    finds its log."""
    if not on_postgres() or not isinstance(path, Path):
        return path
    if path not in _databases:
        _databases[path] = new_database()
    return _databases[path]


def start_hub(workdir: Path, *, traffic_rate: float = 0.0, db: Path | str | None = None,
              token: str | None = None, service_key: str | None = None, port: int | None = None,
              extra_args: tuple[str, ...] = (), demo: bool = True, poll_interval: float = 0.0,
              stderr_apart: bool = False) -> RunningHub:
    """A hub process; by default its trigger subscriptions are polled only when a test asks (a
    notification or a trigger test), so that background polls do not mix into what a test watches."""
    workdir.mkdir(parents=True, exist_ok=True)
    token = token or secrets.token_urlsafe(16)
    service_key = service_key or secrets.token_urlsafe(16)
    db = hub_db(db or workdir / "hub.sqlite")
    port = port or free_port()
    log_path = workdir / f"hub-{port}.log"
    err_path = workdir / f"hub-{port}.err" if stderr_apart else None
    env = {
        **os.environ,
        "SWITCHROOM_TOKEN": token,
        "SWITCHROOM_SERVICE_KEY": service_key,
        "XDG_DATA_HOME": str(workdir / "data"),
        "XDG_CACHE_HOME": str(workdir / "cache"),
    }
    with log_path.open("wb") as log, (err_path.open("wb") if err_path else log) as err:
        process = subprocess.Popen(
            [*hub_command(), "serve", *(["--demo"] if demo else []), "--port", str(port), "--db", str(db),
             "--traffic-rate", str(traffic_rate), "--poll-interval", str(poll_interval), *extra_args],
            stdout=log, stderr=err if err_path else subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
    hub = RunningHub(f"http://127.0.0.1:{port}", token, service_key, db, log_path, process, err_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hub exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{hub.url}/v1/health", timeout=1).status_code == 200:
                return hub
        except httpx.HTTPError:
            time.sleep(0.05)
    hub.stop()
    raise RuntimeError(f"hub did not start:\n{log_path.read_text()}")
