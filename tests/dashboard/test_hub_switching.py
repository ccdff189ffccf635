"""Switching hub inside the console, as k9s switches contexts: the palette lists the hubs named in the
settings and those whose cache this machine keeps; choosing one opens the console on it, each hub's
cache kept."""

from pathlib import Path

from textual.command import CommandPalette

from switchroom.tui.config import load_config
from switchroom.tui.known_hubs import hub_key, known_hub_id
from tests.support.dashboard import make_app, wait_until
from tests.support.hubproc import RunningHub, bare_env, start_hub
from tests.support.terminal import Terminal


def settings(tmp_path: Path, other: RunningHub) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[hubs.other]\nurl = "{other.url}"\ntoken_env = "OTHER_TOKEN"\n')
    return path


async def test_the_palette_lists_hubs_and_choosing_one_ends_this_console_for_it(
        hub: RunningHub, tmp_path: Path, monkeypatch) -> None:
    other = start_hub(tmp_path / "other")
    try:
        monkeypatch.setenv("OTHER_TOKEN", other.token)
        app = make_app(hub, tmp_path, config=load_config(settings(tmp_path, other)))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.link.name == "live")
            listed = [shown for shown, _, _ in app.hub_choices()]
            assert f"Hub: other ({other.url})" in listed
            await pilot.press("H")
            await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"other")
            await wait_until(pilot, lambda: "Hub: other" in str(
                app.screen.query_one("CommandList").get_option_at_index(0).prompt))
            await pilot.press("enter")
            await wait_until(pilot, lambda: not app.is_running)
        assert app.switch_to is not None and (app.switch_to.url, app.switch_to.token) == (other.url, other.token)
    finally:
        other.stop()


async def test_a_hub_whose_token_cannot_be_had_is_not_switched_to(hub: RunningHub, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[hubs.locked]\nurl = "http://127.0.0.1:9"\ntoken_env = "NOT_SET_ANYWHERE"\n')
    app = make_app(hub, tmp_path, config=load_config(path))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        app.action_switch_hub("locked")
        await pilot.pause()
        assert app.is_running and app.switch_to is None
        assert any("Not switched: [hubs.locked] takes its token from $NOT_SET_ANYWHERE" in n.message
                   for n in app._notifications)


def test_switching_in_the_real_console_and_back_keeps_each_hubs_cache(hub: RunningHub, tmp_path: Path) -> None:
    other = start_hub(tmp_path / "other")
    cache_dir = tmp_path / "cache"
    env = bare_env(HOME=str(tmp_path), SWITCHROOM_CONFIG=str(settings(tmp_path, other)), OTHER_TOKEN=other.token,
                   SWITCHROOM_TOKEN=hub.token)
    terminal = Terminal(["--hub", hub.url, "--cache-dir", str(cache_dir)], env)
    try:
        terminal.wait_for(f"live · {hub.url}")
        terminal.press("H")
        terminal.press("other")
        terminal.wait_for(f"Hub: other ({other.url})")
        terminal.press("\r")
        terminal.wait_for(f"live · {other.url}")
        first, second = known_hub_id(cache_dir, hub_key(hub.url)), known_hub_id(cache_dir, hub_key(other.url))
        assert first and second and first != second  # a cache each
        terminal.press("H")
        terminal.press(hub.url.split("//")[1])
        terminal.wait_for(f"Hub: {hub.url}")
        terminal.press("\r")
        terminal.output.clear()
        terminal.wait_for(f"live · {hub.url}")
        assert known_hub_id(cache_dir, hub_key(hub.url)) == first
        terminal.press("q")
        assert terminal.process.wait(timeout=30) == 0
    finally:
        terminal.close()
        other.stop()


async def test_a_named_hub_is_listed_while_watched_and_choosing_it_stays(hub: RunningHub, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[hubs.this-one]\nurl = "{hub.url}"\n')
    app = make_app(hub, tmp_path, config=load_config(path))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        assert (f"Hub: this-one ({hub.url})", "this-one", "watching now") in app.hub_choices()
        app.action_switch_hub("this-one")
        await pilot.pause()
        assert app.is_running and app.switch_to is None
        assert any("Already watching this-one" in n.message for n in app._notifications)
