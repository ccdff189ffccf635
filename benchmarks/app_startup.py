"""The dashboard app on a big cache whose hub is gone: time to first screen, key → repaint of jumps
and page moves in the API log, and peak memory. Runs in a process of its own, so that the interpreter's
start and every import count, and the memory is the app's alone.

    .venv/bin/python benchmarks/app_startup.py CACHE.sqlite

The cache (and its ``-derived`` file, if the indexer ran) is linked into a scratch cache directory
under a hub id, and the app is pointed at a hub address nothing answers on: it opens the cache at
once for offline browsing, as it does when a hub is down; as ``switchroom --hub`` does, it starts
reading the first screen's summaries before importing the app. The project's modules are compiled to
bytecode before the clock starts, as they are in an installed copy. Bars (DESIGN §11): first screen < 1 s,
peak RSS < 250 MB.
"""

import compileall
import pathlib
import time

# The project's bytecode first, as an installed copy has it (pip writes it at install; an editable
# install writes it at the first start, unless PYTHONDONTWRITEBYTECODE says not to).
for package in ("protocol", "store", "themes", "tui"):
    compileall.compile_dir(pathlib.Path(__file__).resolve().parent.parent / package, quiet=1)
STARTED = time.perf_counter()  # before the imports: they are part of opening the dashboard

from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
import asyncio  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from switchroom.store.analytics.derived import derived_path  # noqa: E402
from switchroom.tui import known_hubs  # noqa: E402
from switchroom.tui.pane_summaries import FirstRead, read_first_screen  # noqa: E402

GONE_HUB = "http://127.0.0.1:9"
SIZE = (80, 24)
KEYS = ("home", "end", "pageup", "pageup", "pageup", "pagedown", "home", "pagedown", "end") * 3


def link_cache(cache: Path, cache_dir: Path) -> str:
    """Make ``cache`` the cache of a known hub in ``cache_dir``; its hub id."""
    conn = sqlite3.connect(cache)
    row = conn.execute("SELECT value FROM meta WHERE key = 'hub_id'").fetchone()
    hub_id = row[0] if row else "benchmark-hub"
    conn.close()
    hubs = cache_dir / "hubs"
    hubs.mkdir(parents=True)
    for source, name in ((cache, f"{hub_id}.sqlite"), (derived_path(cache), derived_path(hubs / f"{hub_id}.sqlite").name)):
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{source}{suffix}").exists():
                (hubs / f"{name}{suffix}").symlink_to(Path(f"{source}{suffix}").resolve())
    known_hubs.remember_hub(cache_dir, known_hubs.hub_key(GONE_HUB), hub_id)
    return hub_id


def timed_app(cache_dir: Path, first_read: FirstRead | None) -> Any:
    """The dashboard on the linked cache, as ``switchroom --hub`` makes it when that hub is gone: its
    first screen's summaries already on their way while the app is imported (here)."""
    from rich.console import RenderableType
    from textual.screen import Screen

    from switchroom.tui.app import SwitchroomApp

    class TimedApp(SwitchroomApp):
        """The dashboard, noting when it composes the first frame that shows what a key was sent for."""

        def __init__(self, *args: object) -> None:
            super().__init__(*args)  # type: ignore[arg-type]
            self.shown: Callable[[], bool] | None = None
            """What the frame being waited for shows; None when nothing is waited for."""
            self.shown_at = 0.0

        def _display(self, screen: Screen, renderable: RenderableType | None) -> None:
            super()._display(screen, renderable)
            if renderable is not None and self.shown is not None and self.shown():
                self.shown, self.shown_at = None, time.perf_counter()

    return TimedApp(GONE_HUB, "no-token", cache_dir, None, None, first_read)


async def press(app: Any, key: str, shown: Callable[[], bool]) -> float:
    """Milliseconds from sending ``key`` until a frame was composed for which ``shown()`` holds.

    Judged as each frame is composed, on the app's loop: a test pilot's pauses between checks (each
    waits for every widget to go idle and forces a repaint) would be part of the figure otherwise.
    """
    app.shown = shown
    sent = time.perf_counter()
    from textual import events

    app.post_message(events.Key(key, key if len(key) == 1 else None))
    while app.shown is not None:
        await asyncio.sleep(0.0005)
    return (app.shown_at - sent) * 1000


async def measure(cache_dir: Path, first_read: FirstRead | None) -> None:
    from switchroom.tui.widgets.connections_table import ConnectionsTable
    from switchroom.tui.widgets.log_view import LogView

    app = timed_app(cache_dir, first_read)
    async with app.run_test(size=SIZE):
        while not (app.shown_at and app.query_one(ConnectionsTable).row_count > 0):
            app.shown = lambda: app.query_one(ConnectionsTable).row_count > 0
            await asyncio.sleep(0.001)
        first_screen = app.shown_at - STARTED
        print(f"time to first screen (Connections pane, {SIZE[0]}×{SIZE[1]}): {first_screen * 1000:.0f} ms "
              f"(bar < 1,000 ms)")
        view = app.query_one(LogView)
        shown = await press(app, "2", lambda: view.total > 0 and len(view.visible_rows()) > 0)
        print(f"API log shown after pressing 2: {shown:.0f} ms ({view.total:,} calls)")
        times = []
        for key in KEYS:
            before = (round(view.scroll_y), view.cursor)
            times.append(await press(app, key, lambda: (round(view.scroll_y), view.cursor) != before
                                     and view._window_start == round(view.scroll_y)))
        times.sort()
        print(f"log view jumps and page moves (home/end/pageup/pagedown, {len(times)} keys): "
              f"p50 {statistics.median(times):.0f} ms, p95 {times[int(0.95 * len(times)) - 1]:.0f} ms")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MB (bar < 250 MB)")


def main() -> None:
    cache = Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory() as scratch:
        link_cache(cache, Path(scratch))
        asyncio.run(measure(Path(scratch), read_first_screen(Path(scratch), known_hubs.hub_key(GONE_HUB))))


if __name__ == "__main__":
    main()
