"""Habits from the tools on-call engineers already use, in the real dashboard against a real hub: copy a
record or a curl command (OSC 52, read back through the app's clipboard), open a record by its seq or id
(``:``), and a read-only console that refuses reruns and replays and says so."""

from pathlib import Path
import json
import shlex
import subprocess
import uuid

from textual.widgets import Input

from switchroom.store import EventLog
from switchroom.tui.config import Config
from switchroom.tui.ops_client import rerun_request
from switchroom.tui.screens.go_to_record import GoToRecord
from switchroom.tui.screens.record_detail import RecordDetail
from switchroom.tui.widgets.key_hints import KeyHints
from switchroom.tui.widgets.log_view import LogView
from switchroom.tui.widgets.status_line import StatusLine
from tests.support.dashboard import make_app, run_action, shows_inbound, wait_until
from tests.support.hubproc import RunningHub, bare_env
from tests.support.terminal import Terminal


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


async def select_inbound(pilot, app, hub: RunningHub, user_id: str = "user-003", status: int = 204) -> dict:
    """Run an action and put the log's cursor on its inbound call; that record as the cache holds it."""
    await pilot.press("2")
    await wait_until(pilot, lambda: app.link.name == "live")
    request_id = uuid.uuid4().hex
    assert (await run_action(hub, user_id, request_id)).status_code == status
    view = app.query_one(LogView)
    await wait_until(pilot, shows_inbound(view, request_id))
    await pilot.press("f")  # pause, so the cursor stays where it is put
    rows = view.visible_rows()
    target = next(n for n, r in enumerate(rows) if r.get("request_id") == request_id and r["direction"] == "inbound")
    view.cursor = view.scroll_offset.y + target
    await pilot.pause()
    chosen = view.chosen_record
    assert chosen is not None and chosen["request_id"] == request_id
    return chosen


async def test_c_copies_the_record_as_json_and_C_as_a_curl_that_repeats_it(hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        record = await select_inbound(pilot, app, hub)
        await pilot.press("c")
        await pilot.pause()
        copied = json.loads(app.clipboard)
        assert app.cache is not None
        stored = EventLog(app.cache.path)
        [(body,)] = stored.execute("SELECT body FROM records WHERE seq = ?", [record["seq"]])
        stored.close()
        assert copied == json.loads(body)  # the record as the cache holds it, every field
        assert any(f"Copied record #{record['seq']} as JSON" in t for t in toasts(app))

        await pilot.press("C")
        await pilot.pause()
        words = shlex.split(app.clipboard.replace("$SWITCHROOM_SERVICE_KEY", "KEY"))
        assert words[:4] == ["curl", "-X", "POST", hub.url + record["path"]]
        assert "IFTTT-Service-Key: KEY" in words
        assert json.loads(words[words.index("--data-raw") + 1]) == record["request_body"]
        assert hub.service_key not in app.clipboard and hub.token not in app.clipboard
        # and it does repeat the call: run as it is, with the variable set, the hub answers as before
        done = subprocess.run(["bash", "-c", app.clipboard + " -s -o /dev/null -w '%{http_code}'"],
                              capture_output=True, text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "SWITCHROOM_SERVICE_KEY": hub.service_key})
        assert done.stdout == str(record["status_code"])

        # Enter opens the detail; c there copies the record it shows.
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail))
        app.copy_to_clipboard("")
        await pilot.press("c")
        await pilot.pause()
        assert json.loads(app.clipboard)["seq"] == record["seq"]
        await pilot.press("escape")

        # An outbound call to a service is no Connect API call: C says so and copies nothing.
        view = app.query_one(LogView)
        view.cursor = next(n for n, r in enumerate(view.visible_rows(), start=view.scroll_offset.y)
                           if r.get("request_id") == record["request_id"] and r["direction"] == "outbound")
        app.copy_to_clipboard("")
        await pilot.press("C")
        await pilot.pause()
        assert app.clipboard == ""
        assert any("C copies a Connect API call" in t for t in toasts(app))


async def test_colon_opens_a_record_by_seq_or_request_id(hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        record = await select_inbound(pilot, app, hub)
        for wanted in (str(record["seq"]), f"#{record['seq']}", record["request_id"]):
            await pilot.press("colon")
            await wait_until(pilot, lambda: isinstance(app.screen, GoToRecord))
            app.screen.query_one(Input).value = wanted
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail))
            assert app.screen.record["seq"] == record["seq"] and app.screen.record["direction"] == "inbound"
            await pilot.press("escape")
        await pilot.press("colon")
        await wait_until(pilot, lambda: isinstance(app.screen, GoToRecord))
        app.screen.query_one(Input).value = "99999999"
        await pilot.press("enter")
        error = app.screen.query_one("#go-to-error")
        await wait_until(pilot, lambda: "no record #99999999 in the cache (it holds #" in str(error.render()))
        assert isinstance(app.screen, GoToRecord)  # the question stays open
        await pilot.press("escape")
        assert not isinstance(app.screen, GoToRecord)


async def test_a_read_only_console_refuses_reruns_and_replays_and_says_so(hub: RunningHub, tmp_path: Path) -> None:
    hub.set_lights_faults(error_rate=1.0, error_status=503)
    app = make_app(hub, tmp_path, Config(read_only=True))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        failed = await select_inbound(pilot, app, hub, "user-001", status=502)
        hub.set_lights_faults()
        assert failed["status_code"] == 502
        assert "read-only" in str(app.query_one(StatusLine).render())
        assert "rerun" not in str(app.query_one(KeyHints).render())  # no key is offered that is refused
        await pilot.press("r")
        await pilot.pause()
        assert any(t.startswith("Rerun refused: this console is read-only") for t in toasts(app))
        app.view.filters["logs"] = "status:5xx"
        app.apply_filters()
        await pilot.press("R")
        await pilot.pause()
        assert any(t.startswith("Bulk rerun refused: this console is read-only") for t in toasts(app))
        assert app.screen is app.screen_stack[0]  # no dialog opened
        # The lock behind the screens: the client itself sends nothing that would change the hub.
        answer = await app.ops.send(rerun_request({"api_call_id": failed["seq"]}, "k-" + uuid.uuid4().hex))
        assert answer.status == 403 and "read-only" in answer.message
        dry_run = await app.ops.send(rerun_request({"api_call_id": failed["seq"], "dry_run": True}, None))
        assert dry_run.ok  # counting changes nothing
    hub_log = EventLog(hub.db)
    try:
        assert hub_log.execute("SELECT COUNT(*) FROM records WHERE json_extract(body, '$.rerun_of') = ?",
                               [failed["seq"]]) == [(0,)]
    finally:
        hub_log.close()


def test_switchroom_read_only_on_the_command_line_reaches_the_console(hub: RunningHub, tmp_path: Path) -> None:
    terminal = Terminal(["--read-only", "--hub", hub.url, "--cache-dir", str(tmp_path / "cache")],
                        bare_env(HOME=str(tmp_path), SWITCHROOM_TOKEN=hub.token,
                                 SWITCHROOM_CONFIG=str(tmp_path / "none.toml")))
    try:
        terminal.wait_for(f"live · read-only · {hub.url}")
        terminal.press("R")
        terminal.wait_for("Bulk rerun refused: this console is read-only")
    finally:
        terminal.close()


def test_a_copied_curl_of_a_user_connection_call_names_its_user_again(hub: RunningHub, tmp_path: Path) -> None:
    """The log keeps a call's path without its query; the Connect API calls that take ``?user_id=`` get it
    back, so the command repeats the call (here a PUT of a user's configuration, answered 200 again)."""
    import httpx

    from switchroom.tui.copy_text import curl_command

    request_id = uuid.uuid4().hex
    body = {"user_features": [{"feature_id": "log"}]}
    first = httpx.put(f"{hub.url}/v2/connections/light-log/user_connection", params={"user_id": "user-077"},
                      json=body, headers={"IFTTT-Service-Key": hub.service_key, "X-Request-ID": request_id})
    assert first.status_code == 200, first.text
    hub_log = EventLog(hub.db)
    try:
        [(stored,)] = hub_log.execute("SELECT body FROM records WHERE json_extract(body, '$.request_id') = ? "
                                      "AND json_extract(body, '$.direction') = 'inbound'", [request_id])
    finally:
        hub_log.close()
    command = curl_command(json.loads(stored), hub.url)
    assert command is not None and "?user_id=user-077" in command.text
    done = subprocess.run(["bash", "-c", command.text + " -s -o /dev/null -w '%{http_code}'"], capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "SWITCHROOM_SERVICE_KEY": hub.service_key})
    assert done.stdout == "200"
