"""Embedded mode: the dashboard's demo hub lives exactly as long as the dashboard."""

from pathlib import Path
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time

import httpx
import pytest

from switchroom.tui.embedded import EmbeddedHub
from tests.support.processes import children_of, process_gone, wait_gone


def test_embedded_hub_starts_answers_and_stops(tmp_path: Path) -> None:
    hub = EmbeddedHub(tmp_path / "hub.log", traffic_rate=0)
    url = hub.start()
    assert hub.process is not None
    assert httpx.get(f"{url}/v1/health").json()["status"] == "ok"
    hub.stop()
    assert hub.process.poll() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/health")


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux-only")
def test_embedded_hub_dies_when_the_dashboard_is_killed(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tui.embedded import EmbeddedHub\n"
        f"hub = EmbeddedHub(Path({str(tmp_path / 'hub.log')!r}), traffic_rate=0)\n"
        "hub.start()\n"
        "print(hub.process.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    dashboard = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert dashboard.stdout is not None
    hub_pid = int(dashboard.stdout.readline())
    assert not process_gone(hub_pid)
    dashboard.send_signal(signal.SIGKILL)
    dashboard.wait()
    assert wait_gone(hub_pid), "the demo hub outlived a killed dashboard"


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_quitting_the_dashboard_leaves_no_child_behind(tmp_path: Path) -> None:
    """The real ``switchroom`` command in a real pseudo-terminal, quit with ``q``."""
    main, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("SWITCHROOM_TOKEN", None)
    command = [str(Path(sys.executable).with_name("switchroom"))]
    dashboard = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env,
                                 start_new_session=True)
    os.close(follower)
    screen = bytearray()
    reader = threading.Thread(target=_drain, args=(main, screen), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not (hubs := children_of(dashboard.pid)) or b"live" not in screen:
            assert time.monotonic() < deadline, f"dashboard did not come up: {bytes(screen[-500:])!r}"
            time.sleep(0.2)
        os.write(main, b"q")
        assert dashboard.wait(timeout=30) == 0
        assert all(wait_gone(pid) for pid in hubs), "a child process outlived the dashboard"
    finally:
        if dashboard.poll() is None:
            dashboard.kill()
        os.close(main)


def _drain(fd: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        into.extend(chunk)
