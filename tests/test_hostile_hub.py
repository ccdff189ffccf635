"""A hub is untrusted input to the dashboard (DESIGN §8): what it sends is shown literally (no markup,
no invisible characters), a record of the wrong shape is counted and shown as bad, and nothing it sends
ends the dashboard; should anything else end it, the process says so with a non-zero exit status."""

from pathlib import Path
import subprocess
import sys
import uuid

from tests.hubproc import RunningHub, bare_env
from tests.test_dashboard import run_action, screen_lines, shows_inbound, wait_until
from tui.app import SwitchroomApp
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
    import httpx

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
