"""``switchroom web``: the console in a real headless Chromium, served by the real command."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit
import os
import re
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.browser import ConsolePage, chromium
from tests.support.hub_calls import post_run
from tests.support.hubproc import RunningHub, free_port
from tests.support.processes import command_line, descendants, environment, wait_gone
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="reads /proc"),
              pytest.mark.timeout(300)]  # a hub, a web server, dashboards and a browser on two cores

SWITCHROOM = str(Path(sys.executable).with_name("switchroom"))


@contextmanager
def web_server(tmp_path: Path, *args: str, token: str | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``switchroom web`` on a free port, its token (if any) in its environment; stopped with SIGTERM."""
    port = free_port()
    env = {**os.environ, "SWITCHROOM_TOKEN": token} if token else \
        {name: value for name, value in os.environ.items() if name != "SWITCHROOM_TOKEN"}
    with (tmp_path / "web.log").open("wb") as log:
        server = subprocess.Popen([SWITCHROOM, "web", "--port", str(port), *args], stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        eventually_sync(lambda: _answers(url, server), lambda: f"the page at {url}:\n{(tmp_path / 'web.log').read_text()}",
                        timeout=60)
        yield server, url
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _answers(url: str, server: subprocess.Popen[bytes]) -> bool:
    assert server.poll() is None, "switchroom web exited"
    try:
        return httpx.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def listening_on(port: int) -> set[str]:
    """The addresses a socket listens on at ``port``, from the kernel's tables (IPv4 and IPv6)."""
    found = set()
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
                packed = bytes.fromhex(address)
                words = b"".join(packed[i:i + 4][::-1] for i in range(0, size, 4))  # each 32-bit word is host-order
                found.add(socket.inet_ntop(socket.AF_INET if size == 4 else socket.AF_INET6, words))
    return found


def sessions(server: subprocess.Popen[bytes]) -> list[int]:
    """The dashboards the server runs, one a browser tab."""
    return [pid for pid in descendants(server.pid) if command_line(pid)[1:3] == ["-m", "switchroom.tui"]]


def log_row(code: int, user: str, feature: str | None) -> re.Pattern[str]:
    """A row of the API log: an inbound run of evening-glow's action, with its code and user (and the
    feature the user's run went through: none for a user who has not enabled the connection)."""
    feature_column = rf"{feature}\s+" if feature else ""
    return re.compile(rf"\bin\s+evening-glow\s+{feature_column}lights\.change_color\s+{code}\s+\d+\s+{user}\b")


def test_the_browser_shows_the_api_log_with_its_codes_and_a_number_key_changes_the_pane(
        hub: RunningHub, tmp_path: Path) -> None:
    hub.set_lights_faults()  # none: the action runs
    ran = post_run(hub, {"user_id": "user-001"})
    refused = post_run(hub, {"user_id": "web-visitor"})  # has not enabled the connection
    assert (ran.status_code, refused.status_code) == (204, 422)
    connections = httpx.get(f"{hub.url}/v1/ops/connections", headers={"Authorization": f"Bearer {hub.token}"}).json()
    with web_server(tmp_path, "--hub", hub.url, token=hub.token) as (server, url), chromium() as browser:
        assert listening_on(urlsplit(url).port or 0) == {"127.0.0.1"}  # this machine only, by default
        page = ConsolePage(browser, url)
        page.wait_for(lambda text: " live " in text, "the console live on the hub")
        page.press("2")
        screen = page.wait_for(lambda text: log_row(204, "user-001", "glow").search(text) and log_row(422, "web-visitor", None).search(text),
                               "the API log with both calls and their codes")
        assert "time" in screen and "code" in screen  # the log's column titles

        page.press("1")
        glow = next(c for c in connections["data"] if c["id"] == "evening-glow")
        assert glow["calls"] == 2  # the hub's own count of the connection's inbound calls: the two above
        screen = page.wait_for(lambda text: re.search(r"^evening-glow\s+2\s", text, re.MULTILINE),
                               "the Connections pane, evening-glow's row counting its 2 inbound calls")
        assert not log_row(204, "user-001", "glow").search(screen)
        rows = {line.split()[0] for line in screen.splitlines() if line.strip()}
        assert {c["id"] for c in connections["data"]} <= rows  # every connection the hub has, idle ones too

        [session] = sessions(server)
        assert hub.token not in " ".join(command_line(session)), "the token is on a command line"
        assert environment(session)["SWITCHROOM_TOKEN"] == hub.token
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        assert wait_gone(session), "a dashboard outlived switchroom web"
        eventually_sync(page.session_ended, "the page saying its session ended")


def test_without_a_hub_every_tab_watches_one_embedded_demo_hub_and_sigterm_ends_them_all(tmp_path: Path) -> None:
    with web_server(tmp_path) as (server, url), chromium() as browser:
        [hub] = [pid for pid in descendants(server.pid) if "switchroom-hub" in " ".join(command_line(pid))]
        hub_command = command_line(hub)
        hub_url = f"http://127.0.0.1:{hub_command[hub_command.index('--port') + 1]}"
        tabs = [ConsolePage(browser, url), ConsolePage(browser, url)]
        for tab in tabs:
            tab.wait_for(lambda text: f" live · {hub_url} " in text, f"the console live on {hub_url}")
        running = sessions(server)
        assert len(running) == 2
        assert [command_line(pid)[command_line(pid).index("--hub") + 1] for pid in running] == [hub_url, hub_url]
        assert [pid for pid in descendants(server.pid) if "switchroom-hub" in " ".join(command_line(pid))] == [hub]
        token = environment(hub)["SWITCHROOM_TOKEN"]
        assert all(token not in " ".join(command_line(pid)) for pid in [*running, hub])

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        assert all(wait_gone(pid) for pid in [*running, hub]), "a dashboard or the demo hub outlived switchroom web"
        for tab in tabs:
            eventually_sync(tab.session_ended, "the page saying its session ended")


def test_a_killed_server_leaves_no_dashboard_behind(hub: RunningHub, tmp_path: Path) -> None:
    """A tab's session, opened over the page's own websocket; the server then dies by SIGKILL."""
    with web_server(tmp_path, "--hub", hub.url, token=hub.token) as (server, url):
        with connect(url.replace("http://", "ws://") + "ws?width=80&height=24") as tab:
            assert isinstance(tab.recv(timeout=60), bytes)  # the dashboard draws
            [session] = sessions(server)
            server.kill()
            server.wait()
            assert wait_gone(session), "a dashboard outlived its killed server"


def test_a_port_in_use_is_said_plainly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([SWITCHROOM, "web", "--hub", "http://127.0.0.1:9", "--port", str(port)],
                              capture_output=True, text=True, env={**os.environ, "SWITCHROOM_TOKEN": "token"}, timeout=60)
    assert done.returncode == 1
    assert f"switchroom web: cannot listen on 127.0.0.1:{port}: " in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_hub_without_a_token_is_refused_before_serving() -> None:
    env = {name: value for name, value in os.environ.items() if name != "SWITCHROOM_TOKEN"}
    done = subprocess.run([SWITCHROOM, "web", "--hub", "http://127.0.0.1:9"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 2  # bad usage, in the one table of exit codes
    assert done.stderr == "switchroom web: --hub needs an operator token: pass --token or set $SWITCHROOM_TOKEN\n"
