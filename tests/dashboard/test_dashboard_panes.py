"""The Scripts and Triggers panes and record detail, headless, against a real hub whose runtime scripts
ran for real (V8) on trigger items from the sample services over HTTP."""

from pathlib import Path
import io
import uuid

import httpx
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from switchroom.store import EventLog
from tests.support.hubproc import RunningHub
from tests.support.repository import ROOT
from tests.support.dashboard import make_app, run_action, shows_inbound, wait_until
from tests.support.triggers import USER, add_item, key, notify, of, polls, start, wait_for
from tests.support.sample_services import SampleServices
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.screens.confirm import ConfirmScreen
from switchroom.tui.screens.record_detail import RecordDetail
from switchroom.tui.screens.rerun_dialog import RerunDialog
from switchroom.tui.widgets.log_view import LogView
from switchroom.tui.widgets.script_list import ScriptRunList
from switchroom.tui.widgets.script_summary import ScriptSummary

RAIN_SCRIPT = ROOT / "hub" / "sample" / "scripts" / "rain_alert.js"


def detail_text(screen: RecordDetail) -> str:
    """The detail's sections as they read on screen, each drawn at the width it has there."""
    return "\n".join(drawn(static) for static in screen.query("#detail-body Static").results(Static))


def drawn(static: Static) -> str:
    console = Console(width=static.content_region.width, color_system=None, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text().rstrip("\n")


async def test_a_failed_script_run_shows_its_error_and_the_failing_line_marked(
        services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path / "hub")
    try:
        notify(hub, {"user_id": USER})
        wait_for(hub.db, polls("rain-alert"))
        add_item(services, "weather.rain_tomorrow", date="2001-01-01", rain_chance="[bold red]x[/]\x1b[2J")
        notify(hub, {"user_id": USER})
        [run] = wait_for(hub.db, of("script_run", connection_id="rain-alert"))
        assert run["status"] == "error" and run["error"]["line"] == 7

        app = make_app(hub, tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            runs = app.query_one(ScriptRunList)
            await wait_until(pilot, lambda: any(r.get("status") == "error" for r in runs.visible_rows()))
            await wait_until(pilot, lambda: "rain-alert" in str(app.query_one(ScriptSummary).render()))
            summary = str(app.query_one(ScriptSummary).render())
            row = next(line for line in summary.splitlines() if line.startswith("rain-alert"))
            assert row.split()[2:5] == ["1", "0", "1"]  # runs, ok, error

            runs.jump_to(next(i for i, r in enumerate(runs.visible_rows()) if r.get("status") == "error"))
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail) and "Script" in detail_text(app.screen))
            text = detail_text(app.screen)
            failing_line = RAIN_SCRIPT.read_text().splitlines()[6]
            shown = text.splitlines()
            [marked] = [n for n, line in enumerate(shown) if line.startswith("▶")]
            [caret] = [n for n, line in enumerate(shown) if line.strip() == "^"]
            gutter = len("▶ 7 │ ")
            rows = shown[marked:caret]  # the failing line, wrapped at 80 columns, and the caret under it
            assert len(rows) > 1 and "".join(row[gutter:] for row in rows) == failing_line
            column = run["error"]["column"]
            assert rows[-1][shown[caret].index("^")] == failing_line[column - 1]  # the caret's cell
            assert "TypeError: Cannot read properties of undefined (reading 'high_c')" in text
            assert "weather.forecast → 200" in text  # the call it made

            links = app.screen.query_one(OptionList)
            await wait_until(pilot, lambda: links.option_count >= 1)
            labels = [str(links.get_option_at_index(i).prompt) for i in range(links.option_count)]
            assert any(label.startswith("call 1: query weather.forecast") for label in labels)
            assert any(label.startswith("trigger event that started it") for label in labels), labels
            assert '"rain_chance": "[bold red]x[/]\\u001b[2J"' in text  # the ingredient, literally
            detail = app.screen
            await pilot.press("tab", "enter")  # tab reaches the links, and enter opens the first
            await wait_until(pilot, lambda: app.screen is not detail and isinstance(app.screen, RecordDetail))
            assert app.screen.record["seq"] == detail.related[0].record["seq"]
            await pilot.press("escape")
            assert app.screen is detail
            await pilot.press("escape")
            assert not isinstance(app.screen, RecordDetail)

            await pilot.press("r")  # on the failed run: replay its trigger event through the script
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            [replayed] = wait_for(hub.db, of("script_run", connection_id="rain-alert", source="rerun"))
            assert replayed["trigger_event_id"] == run["trigger_event_id"] and replayed["status"] == "error"
            [audit] = wait_for(hub.db, of("rerun", phase="item", replay=True))
            assert audit["original"] == run["trigger_event_id"]
    finally:
        hub.stop()


async def fail_a_run(hub: RunningHub) -> str:
    """An evening-glow run that fails (502) while the lights are out; its request id. The lights are back
    after it."""
    hub.set_lights_faults(outage=True)
    request_id = uuid.uuid4().hex
    assert (await run_action(hub, "user-001", request_id)).status_code == 502
    hub.set_lights_faults()
    return request_id


async def open_rerun_dialog(app: SwitchroomApp, pilot: Pilot[None], request_id: str) -> RerunDialog:
    """``r`` on the inbound call of ``request_id`` in the API log, once its dialog shows its fields."""
    await pilot.press("2")
    view = app.query_one(LogView)
    await wait_until(pilot, shows_inbound(view, request_id))
    rows = view.visible_rows()
    view.jump_to(view.total - len(rows) + next(
        i for i, r in enumerate(rows) if r.get("request_id") == request_id and r["direction"] == "inbound"))
    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(app.screen, RerunDialog) and bool(app.screen.query("#rerun-fields Input")))
    assert isinstance(app.screen, RerunDialog)
    return app.screen


async def test_the_rerun_dialog_goes_top_to_bottom_and_sends_what_each_box_holds(hub: RunningHub,
                                                                                  tmp_path: Path) -> None:
    """Focus starts on the first field and Tab moves through every box in the order shown, with no stop in
    between; typing into each in turn sends exactly those values."""
    request_id = await fail_a_run(hub)
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        dialog = await open_rerun_dialog(app, pilot, request_id)
        boxes = list(dialog.query(Input).results(Input))
        assert [box.name or box.id for box in boxes] == ["light", "color", "rerun-reason"]
        for box, typed in zip(boxes, ("kitchen", "purple", "a new bulb")):
            assert app.focused is box, f"focus on {app.focused!r}, not on {box.name or box.id}"
            await pilot.press("end", "ctrl+u", *typed)
            if box.id != "rerun-reason":
                await pilot.press("tab")
        await pilot.press("shift+tab")
        assert app.focused is boxes[1]
        await pilot.press("tab", "enter")  # enter on the reason sends
        original = dialog.original
        assert original is not None
        await wait_until(pilot, lambda: "Rerun ok" in str(dialog.query_one("#rerun-result", Static).render()))
    typed = {"light": "kitchen", "color": "purple"}
    [audit] = [r for r in EventLog(hub.db).read_after(0, 1_000_000) if r.get("phase") == "item"
               and r.get("original") == original["seq"]]
    overridden = {name: value for name, value in typed.items() if original["resolved_fields"][name] != value}
    assert audit.get("fields", {}) == overridden and audit["reason"] == "a new bulb"
    [new_call] = [r for r in EventLog(hub.db).read_after(0, 1_000_000) if r.get("rerun_of") == original["seq"]]
    assert new_call["resolved_fields"] == typed


async def test_r_on_a_failed_action_shows_the_exact_body_and_reruns_it_once(hub: RunningHub, tmp_path: Path) -> None:
    request_id = await fail_a_run(hub)
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        dialog = await open_rerun_dialog(app, pilot, request_id)
        color = next(i for i in dialog.query("#rerun-fields Input").results(Input) if i.name == "color")
        color.value = "blue"
        await pilot.click("#rerun-reason")
        reason = dialog.query_one("#rerun-reason", Input)
        reason.value, reason.cursor_position = "y" * 999, 999
        await pilot.press("a", "b")  # the hub takes reasons of up to 1,000 characters: the box stops there
        assert reason.value == "y" * 999 + "a"
        reason.value = ""
        await pilot.press(*"lights back", "enter", "enter", "ctrl+s")  # three presses, one rerun
        preview = str(dialog.query_one("#rerun-preview", Static).render())
        original = dialog.original
        assert original is not None
        assert '"api_call_id": %d' % original["seq"] in preview and '"color": "blue"' in preview
        assert '"reason": "lights back"' in preview
        await wait_until(pilot, lambda: "Rerun ok" in str(dialog.query_one("#rerun-result", Static).render()))
    reruns = [r for r in EventLog(hub.db).read_after(0, 1_000_000) if r.get("source") == "rerun"
              and r.get("direction") == "inbound" and r.get("rerun_of") == original["seq"]]
    assert len(reruns) == 1
    assert reruns[0]["resolved_fields"]["color"] == "blue"


async def test_the_scripts_pane_shows_the_script_version_each_run_used_across_a_reload(
        services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path / "hub")
    script = tmp_path / "hub" / "catalog" / "scripts" / "globals.js"
    test = f"{hub.url}/v2/connections/globals/triggers/lights.light_on/test"
    try:
        for n, edit in enumerate((None, 'console.log("the second version");\n'), start=1):
            if edit is not None:
                script.write_text(edit)
                reloaded = httpx.post(f"{hub.url}/v1/ops/catalog/reload", headers={"Authorization": f"Bearer {hub.token}"})
                assert reloaded.status_code == 200, reloaded.text
            assert httpx.post(test, json={"user_id": USER}, headers=key(hub)).status_code == 204
            runs_made = wait_for(hub.db, of("script_run", connection_id="globals"), count=n)
        versions = [run["script_version"] for run in runs_made]
        assert len(set(versions)) == 2

        app = make_app(hub, tmp_path)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("3")
            runs = app.query_one(ScriptRunList)
            await wait_until(pilot, lambda: len(runs.visible_rows()) == 2)
            assert "version" in runs.header_text().split()
            for y, record in enumerate(runs.visible_rows()):  # each row its own run's version, 8 digits of 12
                shown = runs.render_line(y).text.split()
                assert record["script_version"][:8] in shown and record["script_version"] not in shown
            assert sorted(r["script_version"] for r in runs.visible_rows()) == sorted(versions)

            runs.jump_to(next(n for n, r in enumerate(runs.visible_rows()) if r["script_version"] == versions[1]))
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail) and "Script" in detail_text(app.screen))
            assert f"script version  {versions[1]}" in detail_text(app.screen).splitlines()
    finally:
        hub.stop()
