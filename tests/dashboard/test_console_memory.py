"""What the console remembers across runs and offers while typing: the pane, each hub's filters and the
theme it was left with; the filter history; completion from the cache; saved filters from the settings.
Each run is the real app on a real hub, the second one a new app on the same cache directory."""

from pathlib import Path
import uuid

import pytest
from textual.widgets import Input

from switchroom.tui.config import ConfigError, load_config
from switchroom.tui.screens.help import HelpScreen
from tests.dashboard.test_keys_and_themes import widget_text
from switchroom.tui.console_state import state_path
from switchroom.tui.widgets.log_view import LogView
from tests.support.dashboard import make_app, run_action, shows_inbound, wait_until
from tests.support.hubproc import RunningHub


async def type_filter(pilot, app, text: str) -> None:
    await pilot.press("slash")
    app.filter_bar.query_one(Input).value = text
    await pilot.press("enter")


async def test_pane_filters_and_theme_are_there_again_in_the_next_run(hub: RunningHub, tmp_path: Path) -> None:
    first = make_app(hub, tmp_path)
    async with first.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await type_filter(pilot, first, "code:error")
        await pilot.press("2")
        await type_filter(pilot, first, "status:5xx conn:evening-glow")
        first.theme = "switchroom-light"  # as ctrl+t's theme picker sets it
        await pilot.pause()
    assert state_path(tmp_path / "cache").stat().st_mode & 0o777 == 0o600

    again = make_app(hub, tmp_path)
    async with again.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: again.current_pane == "logs")
        assert again.view.filters == {"scripts": "code:error", "logs": "status:5xx conn:evening-glow"}
        assert again.theme == "switchroom-light"
        assert "/ status:5xx conn:evening-glow" in str(again.title_line.render())
        assert again.lists["logs"].record_filter is not None
        assert again.lists["logs"].record_filter.connection_id == "evening-glow"


async def test_the_settings_file_naming_another_theme_wins_over_the_remembered_one(hub: RunningHub,
                                                                                  tmp_path: Path) -> None:
    first = make_app(hub, tmp_path)
    async with first.run_test(size=(80, 24)) as pilot:
        first.theme = "switchroom-light"
        await pilot.pause()
    changed = make_app(hub, tmp_path, config=load_config_text(tmp_path, 'theme = "switchroom-high-contrast"\n'))
    async with changed.run_test(size=(80, 24)):
        assert changed.theme == "switchroom-high-contrast"


async def test_the_filter_history_goes_back_and_forth_and_is_kept_across_runs(hub: RunningHub, tmp_path: Path) -> None:
    first = make_app(hub, tmp_path)
    async with first.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        for text in ("status:5xx", "user:user-001", "status:5xx"):  # used again: moves to the end, once
            await type_filter(pilot, first, text)
    again = make_app(hub, tmp_path)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await pilot.press("slash")
        line = again.filter_bar.query_one(Input)
        line.value = "being typed"
        await pilot.press("up")
        assert line.value == "status:5xx"
        await pilot.press("up")
        assert line.value == "user:user-001"
        await pilot.press("up")  # the oldest stays
        assert line.value == "user:user-001"
        await pilot.press("down", "down")
        assert line.value == "being typed"  # back to what was typed
        await pilot.press("escape")


async def test_the_filter_completes_keys_and_values_the_cache_knows(hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: app.link.name == "live")
        request_id = uuid.uuid4().hex
        await run_action(hub, "user-042", request_id)
        await wait_until(pilot, shows_inbound(app.query_one(LogView), request_id))
        await pilot.press("slash")
        line = app.filter_bar.query_one(Input)
        await wait_until(pilot, lambda: "user-042" in app.filter_bar.suggester.values.get("user", ()))
        await pilot.press(*"status:5xx us")
        await wait_until(pilot, lambda: line._suggestion == "status:5xx user:")
        await pilot.press("right")  # takes the suggestion
        await pilot.press(*"user-04")
        await wait_until(pilot, lambda: line._suggestion == "status:5xx user:user-042")
        await pilot.press("right", "space", *"conn:eve")
        await wait_until(pilot, lambda: line._suggestion == "status:5xx user:user-042 conn:evening-glow")
        await pilot.press("right", "enter")
        assert app.view.filters["logs"] == "status:5xx user:user-042 conn:evening-glow"


def load_config_text(tmp_path: Path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path)


async def test_saved_filters_run_from_their_key_and_from_the_palette(hub: RunningHub, tmp_path: Path) -> None:
    config = load_config_text(tmp_path, """
[filters]
failing = "status:5xx since:1h"

[filters.glow-timeouts]
filter = "conn:evening-glow code:service_timeout"
key = "f5"
""")
    app = make_app(hub, tmp_path, config=config)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("2")
        await pilot.press("f5")
        await pilot.pause()
        assert app.view.filters["logs"] == "conn:evening-glow code:service_timeout"
        assert app.lists["logs"].record_filter.outcomes == ("service_timeout",)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"failing")
        await wait_until(pilot, lambda: "Filter: failing" in str(
            app.screen.query_one("CommandList").get_option_at_index(0).prompt))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.view.filters.get("logs") == "status:5xx since:1h")
        await pilot.press("question_mark")  # the help lists them too, with their keys
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = widget_text(app.screen.query_one("#help-table"))
        assert "Saved filters" in text and "filters.glow-timeouts" in text
        assert "filters.failing" in text and "f5" in text.split("filters.failing")[1].lower()


@pytest.mark.parametrize(("text", "said"), [
    ('[filters]\nbad = "stauts:5xx"\n', "filters.bad.filter: column 1: 'stauts:' is not a filter"),
    ('[filters.mine]\nfilter = "status:5xx"\nkey = "q"\n', "filters.mine.key: 'q' is taken by 'quit'"),
    ('[filters.mine]\nkey = "f5"\n', 'filters.mine: give the filter'),
])
def test_a_saved_filter_that_cannot_work_is_refused_naming_it(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config_text(tmp_path, text)
    assert said in str(refused.value)


def test_a_damaged_state_file_means_a_fresh_start(tmp_path: Path) -> None:
    from switchroom.tui.console_state import load_state
    for content in ("{", "[]", '{"pane": 5, "filters": {"h": {"logs": 7}}, "history": "x"}', "x" * 300_000):
        path = state_path(tmp_path)
        path.write_text(content)
        state = load_state(tmp_path)
        assert state.pane is None and state.filters == {} and state.history == []
