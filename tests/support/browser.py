"""A real headless Chromium (Debian's package) driven by Playwright, reading what a textual-serve page's
terminal shows.

The page draws its terminal with xterm.js on a canvas, so its text is in no DOM node; the page keeps its
``Terminal`` in a closure. A script run before the page's own catches the terminal as the page stores it
(``this.terminal = new Terminal(…)``) and leaves it where ``screen()`` reads its buffer, the text xterm.js
has drawn. The browser reaches nothing but this machine: host names resolve nowhere, and the page's
requests to anywhere but the loopback address (the font stylesheet textual-serve links to) are refused.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
import os
import shutil

from playwright.sync_api import Browser, Page, Route, sync_playwright
import pytest

from tests.support.waiting import eventually_sync

LOOPBACK = "http://127.0.0.1:"

_CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer && value.onData) window.switchroomTerminal = value;
  },
});
"""

_SCREEN = """() => {
  const terminal = window.switchroomTerminal;
  if (!terminal) return "";
  const buffer = terminal.buffer.active, lines = [];
  for (let row = 0; row < terminal.rows; row++) {
    const line = buffer.getLine(buffer.viewportY + row);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""


def chromium_path() -> str:
    """Debian's Chromium; a test without it is skipped, except in CI (``CI=true``), where it fails."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        reason = "needs Debian's chromium package (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI {reason}")
        pytest.skip(reason)
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"])
        try:
            yield browser
        finally:
            browser.close()


class ConsolePage:
    """One browser tab on a ``switchroom web`` server."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.page.route("**/*", _loopback_only)
        self.page.add_init_script(_CATCH_TERMINAL)
        self.page.goto(url)

    def screen(self) -> str:
        """The terminal's text as drawn, one line a row."""
        return self.page.evaluate(_SCREEN)

    def wait_for(self, condition: Callable[[str], object], what: str) -> str:
        """The screen once ``condition`` holds for it; a wait that gives up shows the screen it saw."""
        seen: list[str] = [""]

        def holds() -> object:
            seen[0] = self.screen()
            return condition(seen[0])

        eventually_sync(holds, lambda: f"{what}; the screen was:\n{seen[0]}", timeout=60)
        return seen[0]

    def press(self, key: str) -> None:
        """A key typed into the terminal. It is focused as a tab key would (xterm.js reads keys from a hidden
        text area), not by a click, which the console would take as a click on whatever lies under it."""
        self.page.focus(".xterm-helper-textarea")
        self.page.keyboard.press(key)

    def session_ended(self) -> bool:
        """Whether the page says its session ended (its websocket closed)."""
        return self.page.evaluate("() => document.body.classList.contains('-closed')")


def _loopback_only(route: Route) -> None:
    if route.request.url.startswith(LOOPBACK):
        route.continue_()
    else:
        route.abort()
