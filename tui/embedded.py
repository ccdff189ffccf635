"""Embedded mode: the dashboard starts ``switchroom-hub --demo`` as a child process and stops it.

The child is tied to the dashboard's life three ways: stopped on a normal exit, terminated by the
kernel when the dashboard dies any other way (Linux parent-death signal), and started with a token
the dashboard made, so nothing else needs to be configured.
"""

from pathlib import Path
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

import httpx

from switchroom.store.private_files import make_folders

READY_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1


class EmbeddedHubError(RuntimeError):
    pass


class EmbeddedHub:
    def __init__(self, log_path: Path, traffic_rate: float | None = None) -> None:
        self.log_path = log_path
        self.traffic_rate = traffic_rate
        self.token = os.environ.get("SWITCHROOM_TOKEN") or secrets.token_urlsafe(24)
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start the hub and wait until it answers; returns its URL."""
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        # warnings and errors only: the hub's access log (a line a request of the demo traffic) would grow the
        # log file, kept across runs, by megabytes an hour
        command = [*_hub_command(), "serve", "--demo", "--host", "127.0.0.1", "--port", str(port),
                   "--log-level", "warning"]
        if self.traffic_rate is not None:
            command += ["--traffic-rate", str(self.traffic_rate)]
        env = {**os.environ, "SWITCHROOM_TOKEN": self.token}
        env.setdefault("SWITCHROOM_SERVICE_KEY", secrets.token_urlsafe(24))
        make_folders(self.log_path.parent)  # the hub's output, like the caches beside it, is the user's alone
        with open(os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self._wait_ready()
        return self.url

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise EmbeddedHubError(f"the demo hub exited with code {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise EmbeddedHubError(f"the demo hub did not start within {READY_TIMEOUT:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _hub_command() -> list[str]:
    """The ``switchroom-hub`` installed beside this Python, else the one on PATH."""
    beside = Path(sys.executable).with_name("switchroom-hub")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("switchroom-hub")
    if found is None:
        raise EmbeddedHubError("switchroom-hub is not installed next to switchroom")
    return [found]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_DASHBOARD_PID = os.getpid()


def _die_with_parent() -> None:
    """In the child, before exec: ask the kernel for SIGTERM when the dashboard dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != _DASHBOARD_PID:  # the dashboard died before the request took hold
        os._exit(1)
