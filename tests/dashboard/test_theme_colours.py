"""Colours come from the theme: a user's theme, from the settings' themes folder, colours the breakdown's
bars, the script outcomes and a script's console; switching theme on the running dashboard repaints them
in the new one; and without colour (NO_COLOR) they are said by type. Read from what the real app draws,
on a cache whose hub is gone."""

from pathlib import Path
from typing import Any
import re

import pytest
from rich.segment import Segment
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from switchroom.store import iso_timestamp
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.config import load_config
from switchroom.tui.screens.record_detail import RecordDetail
from switchroom.tui.widgets.breakdown_view import BreakdownView
from switchroom.tui.widgets.script_list import ScriptRunList
from switchroom.tui.widgets.script_summary import ScriptSummary
from switchroom.tui.widgets.toned_text import TonedText
from tests.support.dashboard import wait_until
from tests.support.offline_cache import NOW, offline_app, records, write_offline_cache
from tests.support.repository import ROOT

THEMES = {
    # Colours no shipped theme has and none of the names a widget could hard-code (green, red …) is.
    "signal-one": {"primary": "#0055aa", "success": "#11aa22", "warning": "#00aaaa", "error": "#aa00aa",
                   "text-muted": "#887766"},
    "signal-two": {"primary": "#6655aa", "success": "#00cc66", "warning": "#778899", "error": "#aa0077",
                   "text-muted": "#999999"},
}
CONSOLE = [{"level": "warn", "text": "slow answer"}, {"level": "error", "text": "no umbrella"},
           {"level": "log", "text": "done"}]


def write_themes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A settings file choosing ``signal-one``, with both themes in its themes folder, as a user writes them."""
    config = tmp_path / "config" / "config.toml"
    (config.parent / "themes").mkdir(parents=True)
    config.write_text('theme = "signal-one"\n', encoding="utf-8")
    for name, colours in THEMES.items():
        lines = [f'{key} = "{value}"' for key, value in colours.items() if key != "text-muted"]
        lines += ["background = \"#101010\"", "[variables]", f'text-muted = "{colours["text-muted"]}"']
        (config.parent / "themes" / f"{name}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("SWITCHROOM_CONFIG", str(config))


def with_console() -> list[dict[str, Any]]:
    """The cache's records, and last a script run that failed after logging a warning and an error."""
    run = {"kind": "script_run", "ts": iso_timestamp(NOW), "connection_id": "rain-alert", "feature_id": "umbrella",
           "user_id": "user-001", "op_id": "weather.rain_tomorrow", "script_run_id": "s-console", "status": "error",
           "duration_ms": 12.0, "time_limit_ms": 10000.0, "script_version": "abc123", "console": CONSOLE,
           "error": {"message": "TypeError: x is undefined", "line": 7, "column": 12}}
    return [*records(), run]


def drawn(widget: Widget) -> list[list[Segment]]:
    """The widget's lines as it draws them (all of it, also what is scrolled out of view)."""
    return [list(strip) for strip in widget.render_lines(Region(0, 0, *widget.size))]


def look(lines: list[list[Segment]], starts: str, part: str) -> tuple[str | None, bool, bool]:
    """(colour, bold, underlined) of the segment ``part`` on the first line that starts with ``starts`` (inside
    a frame's border, if it has one)."""
    line = next(line for line in lines if "".join(s.text for s in line).strip(" │").startswith(starts))
    segment = next(s for s in line if s.text.strip() == part)
    style = segment.style
    assert style is not None
    colour = style.color.triplet.hex if style.color is not None and style.color.triplet is not None else None
    return colour, bool(style.bold), bool(style.underline)


async def breakdown(pilot: Pilot[None], app: SwitchroomApp) -> BreakdownView:
    await pilot.press("2")
    view = app.query_one(BreakdownView)
    await wait_until(pilot, lambda: bool(view._shown))
    return view


def assert_breakdown_in(view: BreakdownView, colours: dict[str, str]) -> None:
    lines = drawn(view)
    assert look(lines, "2xx", "2xx") == (colours["success"], False, False)
    assert look(lines, "2xx", "███▍") == (colours["success"], False, False)  # the bar, like its class
    assert look(lines, "4xx", "4xx") == look(lines, "422", "422") == (colours["warning"], False, False)
    assert look(lines, "5xx", "5xx") == (colours["error"], True, False)
    assert look(lines, "5xx", "failed at the hub or the service behind it") == (colours["text-muted"], False, False)


def assert_summary_in(summary: ScriptSummary, colours: dict[str, str]) -> None:
    row = next(line for line in drawn(summary) if "".join(s.text for s in line).strip().startswith("rain-alert"))
    counts = [s for s in row if s.text.strip().isdigit()]  # ok, error, timeout, oom (runs share the name's)
    assert [(s.text.strip(), s.style.color.triplet.hex) for s in counts] == [  # type: ignore[union-attr]
        ("2", colours["success"]), ("3", colours["error"]), ("2", colours["error"]), ("0", colours["text-muted"])]


def console_of(detail: RecordDetail) -> TonedText:
    return next(text for text in detail.query(TonedText) if str(text.render()).startswith("warn "))


def assert_console_in(console: TonedText, colours: dict[str, str]) -> None:
    lines = drawn(console)
    assert look(lines, "warn", "warn") == (colours["warning"], False, False)
    assert look(lines, "error", "error") == (colours["error"], True, False)
    assert look(lines, "log", "log") == (colours["text-muted"], False, False)
    assert look(lines, "error", "no umbrella")[0] != colours["error"]  # what the script wrote is plain


async def test_a_user_theme_colours_the_breakdown_scripts_and_console_and_a_new_theme_repaints_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_themes(tmp_path, monkeypatch)
    write_offline_cache(tmp_path / "cache", with_console())
    app = offline_app(tmp_path / "cache", load_config())
    async with app.run_test(size=(120, 40)) as pilot:
        one, two = THEMES["signal-one"], THEMES["signal-two"]
        assert app.theme == "signal-one"
        assert {key: app.theme_variables[key].lower() for key in one} == one  # the user's colours, exactly

        view = await breakdown(pilot, app)
        assert_breakdown_in(view, one)
        app.theme = "signal-two"  # what ctrl+t and the palette do
        await wait_until(pilot, lambda: look(drawn(view), "5xx", "5xx")[0] == two["error"])
        assert_breakdown_in(view, two)

        await pilot.press("3")
        summary, runs = app.query_one(ScriptSummary), app.query_one(ScriptRunList)
        await wait_until(pilot, lambda: "rain-alert" in str(summary.render()))
        assert_summary_in(summary, two)
        app.theme = "signal-one"
        await wait_until(pilot, lambda: look(drawn(summary), "rain-alert", "0")[0] == one["text-muted"])
        assert_summary_in(summary, one)

        await wait_until(pilot, lambda: (runs.chosen_record or {}).get("script_run_id") == "s-console")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail) and app.screen.query(TonedText))
        assert isinstance(app.screen, RecordDetail)
        console = console_of(app.screen)
        assert_console_in(console, one)
        app.theme = "signal-two"  # with the detail open over the pane
        await wait_until(pilot, lambda: look(drawn(console), "warn", "warn")[0] == two["warning"])
        assert_console_in(console, two)


async def test_without_colour_the_breakdown_and_console_say_it_by_type(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    write_offline_cache(tmp_path / "cache", with_console())
    app = offline_app(tmp_path / "cache")
    async with app.run_test(size=(120, 40)) as pilot:
        await breakdown(pilot, app)
        await wait_until(pilot, lambda: any("5xx" in strip.text for strip in app.screen._compositor.render_strips()))
        screen = [list(strip) for strip in app.screen._compositor.render_strips()]  # as the terminal gets it
        assert all(s.style is None or s.style.color is None or s.style.color.is_default
                   for line in screen for s in line)
        assert look(screen, "5xx", "5xx")[1:] == (True, True)  # bold and underlined
        assert look(screen, "4xx", "4xx")[1:] == (True, False)  # bold
        meaning = next(s for line in screen for s in line if s.text.strip() == "failed at the hub or the service behind it")
        assert meaning.style is not None and meaning.style.italic

        await pilot.press("3")
        runs = app.query_one(ScriptRunList)
        await wait_until(pilot, lambda: (runs.chosen_record or {}).get("script_run_id") == "s-console")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail) and app.screen.query(TonedText))
        await wait_until(pilot, lambda: any("no umbrella" in s.text for s in app.screen._compositor.render_strips()
                                            for s in s))
        screen = [list(strip) for strip in app.screen._compositor.render_strips()]
        assert look(screen, "error", "error")[1:] == (True, True)
        assert look(screen, "warn", "warn")[1:] == (True, False)


def test_no_widget_names_a_colour() -> None:
    """Every colour of the console comes from the theme: no style in its code names one (Rich's colour
    names, ``dim``, or a hex colour)."""
    named = re.compile(r'"(?:[^"\n]*\s)?(?:red|green|yellow|blue|cyan|magenta|white|black|grey\d*|gray\d*|'
                       r'bright_\w+|dim|#[0-9a-fA-F]{6})(?:\s[^"\n]*)?"')
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in sorted((ROOT / "tui").rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if named.search(line.split("#", 1)[0])]
    assert found == []
