"""Keys, help, palette and themes: the action registry seen through the real app against a real hub."""

from pathlib import Path

import pytest
from rich.segment import Segment
from textual.color import Color
from textual.command import CommandPalette
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import ContentSwitcher, OptionList

from tests.support.hubproc import RunningHub
from tests.support.repository import ROOT
from tests.support.dashboard import make_app, wait_until
from switchroom.themes import load_themes
from switchroom.tui.actions import ACTIONS, APP
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.config import ConfigError, load_config
from switchroom.tui.keymap import KeyMap, parse_keys
from switchroom.tui.panes import PANES
from switchroom.tui.screens.confirm import ConfirmScreen
from switchroom.tui.screens.help import HelpScreen
from switchroom.tui.widgets.breakdown_view import BreakdownView
from switchroom.tui.widgets.connections_table import ConnectionsTable
from switchroom.tui.widgets.cursor_rows import CursorRows
from switchroom.tui.widgets.failure_table import FailureTable
from switchroom.tui.widgets.key_hints import KeyHints
from switchroom.tui.widgets.log_view import LogView
from switchroom.tui.widgets.pane_tabs import PaneTabs
from switchroom.tui.widgets.record_list import RecordList
from switchroom.tui.widgets.status_line import StatusLine

SHIPPED_THEMES = ["switchroom-dark", "switchroom-light", "switchroom-high-contrast"]


def widget_text(widget: Widget) -> str:
    """What ``widget`` draws, all of it (also the part scrolled out of view), as plain lines."""
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.size)))


def screen_segments(app: SwitchroomApp) -> list[Segment]:
    """Every segment on the screen as the terminal gets it, line filters (NO_COLOR) applied."""
    return [segment for strip in app.screen._compositor.render_strips() for segment in strip]


def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    """A settings file in its own config directory, made the one the dashboard reads."""
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SWITCHROOM_CONFIG", str(path))
    return path


def help_line(text: str, action_id: str) -> str:
    return next(line for line in text.splitlines() if line.rstrip().endswith(f" {action_id}"))


# -- the registry ---------------------------------------------------------------------------------


def test_every_binding_of_the_app_and_its_lists_comes_from_the_registry() -> None:
    for owner, scope in ((SwitchroomApp, APP), (RecordList, "RecordList"), (CursorRows, "CursorRows"),
                         (ConnectionsTable, "ConnectionsTable"), (FailureTable, "FailureTable"),
                         (BreakdownView, "BreakdownView")):
        registered = {action.id for action in ACTIONS if action.scope == scope}
        assert {binding.id for binding in owner.BINDINGS} == registered  # type: ignore[union-attr]
    assert [a.keys for a in ACTIONS if a.id.startswith("show_pane_")] == [(str(n + 1),) for n in range(len(PANES))]


# -- help -----------------------------------------------------------------------------------------


async def test_help_lists_every_action_with_its_key(hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = widget_text(app.screen.query_one("#help-table"))
        keymap = KeyMap()
        for action in ACTIONS:
            line = help_line(text, action.id)
            assert line.startswith(keymap.label(action.id)) and action.description in line
        assert {a.group for a in ACTIONS} <= {line.strip() for line in text.splitlines()}


async def test_help_scrolls_at_80x24_and_closes_with_escape_question_mark_or_q(hub: RunningHub,
                                                                              tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        for close in ("escape", "question_mark", "q"):
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("end")  # the scrolling container has focus: keys scroll it
            await pilot.press(close)
            assert not isinstance(app.screen, HelpScreen)
        assert app.is_running  # q closed the help, it did not quit


async def test_the_key_hints_show_the_keys_that_work_where_the_focus_is(hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        hints = app.query_one(KeyHints)
        assert str(hints.render()) == "/ filter  w window  ⏎ focus  d definition  ? help  ^p palette  q quit"  # Connections
        await pilot.press("2")
        assert str(hints.render()) == "f follow  ⏎ detail  / filter  w window  r rerun  ? help  ^p palette  q quit"
        await pilot.press("tab")  # into the breakdown, whose own keys show
        assert str(hints.render()) == "/ filter  w window  ⏎ show  ? help  ^p palette  q quit"
        await pilot.press("tab")  # and back to the log
        await pilot.press("slash")  # typing a filter: the keys that would type a letter are not offered
        assert str(hints.render()) == "⏎ apply  esc leave  ^p palette"
        await pilot.press("q", "escape")
        assert app.is_running and str(hints.render()).endswith("q quit")


# -- key overrides --------------------------------------------------------------------------------


async def test_a_key_override_changes_binding_help_and_key_hints(hub: RunningHub, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, monkeypatch, '[keys]\nhelp = "f1"\nshow_pane_2 = ["x", "2"]\ntoggle_follow = "space"\n')
    app = make_app(hub, tmp_path, load_config())
    async with app.run_test(size=(120, 50)) as pilot:
        assert "x/2 API logs" in str(app.query_one(PaneTabs).render())
        await pilot.press("x")
        assert app.query_one(ContentSwitcher).current == "logs"
        hints = str(app.query_one(KeyHints).render())
        assert "f1 help" in hints and "space follow" in hints and "? help" not in hints

        await pilot.press("question_mark")  # no longer the help key
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = widget_text(app.screen.query_one("#help-table"))
        assert help_line(text, "help").startswith("f1 ") and help_line(text, "toggle_follow").startswith("space ")
        await pilot.press("f1")  # the help key closes the help too
        assert not isinstance(app.screen, HelpScreen)

        view = app.query_one(LogView)
        assert view.follow
        await pilot.press("space")
        assert not view.follow
        await pilot.press("f")  # the old key does nothing now
        assert not view.follow


@pytest.mark.parametrize(("keys", "message"), [
    ('nonsense = "x"', "keys.nonsense: no action is named 'nonsense'"),
    ('help = "hyperspace"', "keys.help: 'hyperspace' is not a key"),
    ('help = "banana+x"', "keys.help: 'banana+x' is not a key: 'banana' is not a modifier"),
    ("help = []", "keys.help: give at least one key"),
    ("help = 5", 'keys.help: give a key or a list of keys, e.g. "f1" or ["f1", "?"]'),
    ('help = ","', "keys.help: ',' is not a key: write space, comma or plus by name"),
    ('help = "q"', "keys: 'q' would run both 'help' and 'quit'"),
    ('show_pane_1 = "f"', "keys: 'f' would run both 'show_pane_1' and 'toggle_follow'"),
])
def test_a_bad_key_override_is_refused_naming_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           keys: str, message: str) -> None:
    path = write_config(tmp_path, monkeypatch, f"[keys]\n{keys}\n")
    with pytest.raises(ConfigError) as refused:
        load_config()
    assert f"{path}: {message}" in str(refused.value)


def test_keys_moved_out_of_each_others_way_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, monkeypatch, '[keys]\nhelp = "q"\nquit = "ctrl+x"\n')
    keymap = load_config().keymap
    assert keymap.label("help") == "q" and keymap.label("quit") == "^x"


# -- questions ------------------------------------------------------------------------------------


async def test_a_question_is_answered_by_its_keys_and_shown_literally(hub: RunningHub, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, monkeypatch, '[keys]\nconfirm = "ctrl+y"\n')
    app = make_app(hub, tmp_path, load_config())
    answers: list[bool | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        question = ConfirmScreen("Rerun [bold]12[/] calls?", "of evening-glow\x1b[2J\nsince 1h", yes="rerun 12 calls")
        app.push_screen(question, answers.append)
        await pilot.pause()
        screen = app.screen
        assert str(screen.query_one("#confirm-question").render()) == "Rerun [bold]12[/] calls?"
        assert str(screen.query_one("#confirm-detail").render()) == "of evening-glow\nsince 1h"
        assert str(screen.query_one("#confirm-keys").render()) == "^y rerun 12 calls   n/esc cancel"
        await pilot.press("y")  # rebound: no longer an answer
        assert app.screen is screen and answers == []
        await pilot.press("1", "q")  # nor do the app's keys act behind the question
        assert app.screen is screen and app.is_running
        await pilot.press("ctrl+y")
        assert answers == [True]

        app.push_screen(ConfirmScreen("Rerun?"), answers.append)
        await pilot.pause()
        await pilot.press("escape")
        assert answers == [True, False]
        assert app.query_one(ContentSwitcher).current == "connections"


# -- the command palette --------------------------------------------------------------------------


def palette_entries(app: SwitchroomApp) -> list[str]:
    entries = app.screen.query_one(OptionList)
    return [str(entries.get_option_at_index(i).prompt).splitlines()[0] for i in range(entries.option_count)]


async def test_the_palette_finds_and_runs_actions(hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"show the")
        await wait_until(pilot, lambda: "Show the keys and what they do" in palette_entries(app))
        assert "Show the selected record's detail" not in palette_entries(app)  # no list has focus here
        await pilot.press(*["backspace"] * len("show the"), *"api logs")
        await wait_until(pilot, lambda: app.screen.query_one(OptionList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.query_one(ContentSwitcher).current == "logs")

        view = app.query_one(LogView)
        assert view.follow
        await pilot.press("ctrl+p", *"follow the newest")
        await wait_until(pilot, lambda: app.screen.query_one(OptionList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not view.follow)  # run on the list, as its key would


async def test_the_palette_switches_theme(hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p", *"colour theme")
        await wait_until(pilot, lambda: app.screen.query_one(OptionList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))  # now the theme picker
        await pilot.press(*"switchroom-high-contrast")
        await wait_until(pilot, lambda: app.screen.query_one(OptionList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.theme == "switchroom-high-contrast")


# -- themes and NO_COLOR --------------------------------------------------------------------------


def link_state_colour(app: SwitchroomApp) -> str | None:
    """The colour the status line gives the link state (live, offline …)."""
    line = app.query_one(StatusLine)
    segment = next(s for s in line.render_lines(Region(0, 0, *line.size))[0]
                   if s.text.strip() in {"live", "offline", "connecting"} or "reconnecting" in s.text)
    assert segment.style is not None and segment.style.color is not None
    return segment.style.color.triplet.hex if segment.style.color.triplet else None


@pytest.mark.parametrize("theme", SHIPPED_THEMES)
async def test_each_shipped_theme_loads_and_the_app_renders_in_it(hub: RunningHub, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  theme: str) -> None:
    write_config(tmp_path, monkeypatch, f'theme = "{theme}"\n')
    app = make_app(hub, tmp_path, load_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.link.name == "live")
        assert app.theme == theme
        assert link_state_colour(app) == app.current_theme.success.lower()  # the theme's colour, not a named one
        background = app.screen.styles.background
        assert background.hex.lower() == app.current_theme.background.lower()
        await pilot.press("2", "question_mark")  # panes and the help draw too
        assert isinstance(app.screen, HelpScreen)


async def test_a_user_theme_from_the_config_directory(hub: RunningHub, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, monkeypatch, 'theme = "midnight"\n')
    (path.parent / "themes").mkdir()
    (path.parent / "themes" / "midnight.toml").write_text(
        'primary = "#0087ff"\nbackground = "#00005f"\nsuccess = "#00d7af"\n', encoding="utf-8")
    app = make_app(hub, tmp_path, load_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.link.name == "live")
        assert app.theme == "midnight"
        assert app.screen.styles.background.hex.lower() == "#00005f"
        assert link_state_colour(app) == "#00d7af"


def test_an_unknown_theme_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, monkeypatch, 'theme = "neon"\n')
    with pytest.raises(ConfigError, match="no theme is named 'neon'") as refused:
        load_config()
    assert str(refused.value).startswith(f"{path}: theme: ") and "switchroom-light" in str(refused.value)


def test_a_bad_user_theme_is_refused_naming_its_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, monkeypatch, 'theme = "switchroom-dark"\n')
    (path.parent / "themes").mkdir()
    bad = path.parent / "themes" / "broken.toml"
    bad.write_text('primary = "#0087ff"\nerror = "very red"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{bad}: error: 'very red' is not a colour"):
        load_config()


async def test_no_color_draws_no_colour_at_all(hub: RunningHub, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def coloured(app: SwitchroomApp) -> list[Segment]:
        return [s for s in screen_segments(app) if s.style is not None and any(
            colour is not None and not colour.is_default for colour in (s.style.color, s.style.bgcolor))]

    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.link.name == "live")
        assert coloured(app)  # the check can see colour when there is some

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.link.name == "live")
        assert coloured(app) == []
        assert any(s.style is not None and s.style.bold for s in screen_segments(app))  # emphasis stays
        await pilot.press("2", "question_mark")
        assert coloured(app) == []


def test_the_docs_list_every_action_with_its_default_keys() -> None:
    docs = (ROOT / "docs" / "dashboard.md").read_text(encoding="utf-8")
    table = docs.split("### Keys", 1)[1].split("```", 1)[0]
    rows = [line.split("|")[1:3] for line in table.splitlines() if line.startswith("| `")]
    documented = {ids.strip().strip("`"): parse_keys([k.strip().strip("`") for k in keys.split(",")])
                  for keys, ids in rows}
    assert documented == {action.id: KeyMap().keys(action.id) for action in ACTIONS}


def contrast(one: Color, other: Color) -> float:
    """The WCAG 2 contrast ratio of two opaque colours (1 to 21)."""
    def luminance(colour: Color) -> float:
        r, g, b = ((c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4)
                   for c in (colour.r, colour.g, colour.b))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(("theme", "text_bar", "status_bar"), [
    ("switchroom-dark", 7.0, 4.5), ("switchroom-light", 7.0, 4.5), ("switchroom-high-contrast", 15.0, 7.0),
])
def test_shipped_themes_keep_text_and_status_colours_readable(theme: str, text_bar: float,
                                                              status_bar: float) -> None:
    colours = load_themes()[theme].to_color_system()
    assert contrast(colours.foreground, colours.background) >= text_bar
    for status in (colours.success, colours.warning, colours.error):
        assert contrast(status, colours.background) >= status_bar
