"""A hub is untrusted input to the dashboard (DESIGN §8): what it sends is shown literally (no markup,
no invisible characters), a record of the wrong shape is counted and shown as bad, and nothing it sends
ends the dashboard; should anything else end it, the process says so with a non-zero exit status."""

from pathlib import Path
import os
import pty
import subprocess
import sys
import uuid

from textual.widgets._toast import Toast
import httpx
import pytest

from tests.hubproc import RunningHub, bare_env, free_port
from tests.test_dashboard import run_action, screen_lines, shows_inbound, wait_until
from tests.test_triggers import of, wait_for
from tui.app import SwitchroomApp
from tui.screens.confirm import ConfirmScreen
from tui.widgets.trigger_list import TriggerList
from tui.widgets.log_view import LogView

SWITCHROOM = str(Path(sys.executable).with_name("switchroom"))

# -- invisible characters ------------------------------------------------------------------------------

DISGUISED_USER = "user-\u202e100\u200b-resu"
"""Reads as ``user-`` followed by ``user-001`` reversed, with a zero-width space inside."""
DISGUISED_SHOWN = "user-<U+202E>100<U+200B>-resu"


async def test_bidi_and_zero_width_characters_show_by_code_point_in_the_log_view(
        hub: RunningHub, tmp_path: Path) -> None:
    app = SwitchroomApp(hub.url, hub.token, tmp_path / "cache")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: app.link.name == "live")
        request_id = uuid.uuid4().hex
        assert (await run_action(hub, DISGUISED_USER, request_id)).status_code == 422  # recorded all the same
        view = app.query_one(LogView)
        await wait_until(pilot, shows_inbound(view, request_id))
        row = next(line for line in screen_lines(view) if "422" in line and "user-<U+" in line)
        assert DISGUISED_SHOWN in row
        assert "\u202e" not in row and "\u200b" not in row


def test_bidi_and_zero_width_characters_show_by_code_point_in_logs_text(hub: RunningHub, tmp_path: Path) -> None:
    request_id = uuid.uuid4().hex
    httpx.post(f"{hub.url}/v2/connections/evening-glow/actions/lights.change_color/run",
               json={"user_id": DISGUISED_USER},
               headers={"IFTTT-Service-Key": hub.service_key, "X-Request-ID": request_id})
    done = subprocess.run([SWITCHROOM, "logs", "--cache-dir", str(tmp_path / "cache"), "--hub", hub.url],
                          capture_output=True, text=True, timeout=120, env=bare_env(SWITCHROOM_TOKEN=hub.token))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "<U+202E>" in line]
    assert lines and all(line.endswith(DISGUISED_SHOWN) and " 422 " in line for line in lines)
    assert "\u202e" not in done.stdout and "\u200b" not in done.stdout


# -- markup in what the hub says -----------------------------------------------------------------------

def refused_replay_of(hub: RunningHub, user_id: str) -> None:
    """A trigger event of ``user_id`` on light-log that the hub will refuse to replay, naming the user:
    the user enables the connection, the lights service gets an item for them, it becomes a trigger
    event, and the user disables the connection again (so the subscription is gone)."""
    headers = {"IFTTT-Service-Key": hub.service_key}
    enabled = httpx.put(f"{hub.url}/v2/connections/light-log/user_connection", params={"user_id": user_id},
                        json={"user_features": [{"feature_id": "log"}]}, headers=headers)
    assert enabled.status_code == 200, enabled.text
    assert httpx.post(f"{hub.url}/v1/notifications", json={"data": [{"user_id": user_id}]},
                      headers=headers).status_code == 200
    polled = of("api_call", direction="outbound", op="trigger", connection_id="light-log", user_id=user_id)
    wait_for(hub.db, polled)  # the service knows the subscription now
    added = httpx.post(f"{hub.banner_value('sample service lights')}/_events/light_on",
                       json={"user_id": user_id, "ingredients": {"light": "kitchen"}}, headers=headers)
    assert added.status_code == 200 and added.json()["data"], added.text
    httpx.post(f"{hub.url}/v1/notifications", json={"data": [{"user_id": user_id}]}, headers=headers)
    wait_for(hub.db, of("trigger_event", connection_id="light-log", user_id=user_id))
    disabled = httpx.post(f"{hub.url}/v2/connections/light-log/disable", params={"user_id": user_id},
                          headers=headers)
    assert disabled.status_code == 200, disabled.text


@pytest.mark.parametrize("user_id", ["evil[/]user", "[@click=app.quit]x", "[bold]loud[/bold]"])
async def test_a_refusal_quoting_markup_is_shown_literally(hub: RunningHub, tmp_path: Path, user_id: str) -> None:
    refused_replay_of(hub, user_id)
    app = SwitchroomApp(hub.url, hub.token, tmp_path / "cache")
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.press("4")
        triggers = app.query_one(TriggerList)
        await wait_until(pilot, lambda: (triggers.chosen_record or {}).get("user_id") == user_id)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        said = f"Not replayed: User '{user_id}' no longer has the subscription of #"
        await wait_until(pilot, lambda: any(said in n.message for n in app._notifications))
        await wait_until(pilot, lambda: any(said in toast.render().plain for toast in app.screen.query(Toast)))
        assert app.is_running and app.return_code is None
        await pilot.press("2")  # and it still answers keys
        assert app.current_pane == "logs"


# -- a crash says so -----------------------------------------------------------------------------------

CRASHING_DASHBOARD = """
import sys
from tui.app import SwitchroomApp
from tui.cli import main

def fault(self):
    raise RuntimeError("a fault the test put in the dashboard")

SwitchroomApp.on_mount = fault
main(sys.argv[1:])
"""


def test_a_dashboard_that_crashes_exits_non_zero(tmp_path: Path) -> None:
    """The real ``switchroom`` entry point on a terminal (a pty), with a fault put in its app: Textual
    prints the traceback and returns; the process must not then report success."""
    command = [sys.executable, "-c", CRASHING_DASHBOARD, "--hub", f"http://127.0.0.1:{free_port()}",
               "--token", "t", "--cache-dir", str(tmp_path / "cache")]
    status, output = run_on_a_terminal(command, env=bare_env(HOME=str(tmp_path), TERM="xterm-256color",
                                                             PYTHONPATH=str(Path(__file__).parents[1])))
    assert "a fault the test put in the dashboard" in output
    assert status == 1


def run_on_a_terminal(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its stdin, stdout and stderr; its exit status and output."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env,
                               start_new_session=True)
    os.close(follower)
    output = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process has ended and closed its end
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(timeout=60), output.decode(errors="replace")
