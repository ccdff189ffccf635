"""The live API log: a virtual list over the cache, drawn line by line.

Nothing but the visible window of rows is ever loaded: the widget knows how many api_call
records the cache holds (its virtual height) and, whenever the view moves or new records arrive,
reads just the rows on screen from the cache's reader thread. Following keeps the tail in view;
scrolling up pauses it.
"""

from dataclasses import dataclass
import functools
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store import api_calls_after, api_calls_window
from tui.cache import Cache, CacheClosed
from tui.text import printable


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    width: int
    flexible: bool = False
    right: bool = False


COLUMNS = (
    Column("time", "ts", 12),
    Column("dir", "direction", 4),
    Column("connection", "connection_id", 12, flexible=True),
    Column("feature", "feature_id", 8, flexible=True),
    Column("op", "op_id", 16, flexible=True),
    Column("code", "status_code", 4, right=True),
    Column("ms", "latency_ms", 6, right=True),
    Column("user", "user_id", 9, flexible=True),
)
_DIRECTIONS = {"inbound": "in", "outbound": "out", "webhook": "hook"}


@functools.lru_cache(maxsize=8)
def column_widths(width: int) -> tuple[int, ...]:
    """Widths for a view ``width`` cells wide: fixed columns keep theirs, flexible ones share the rest."""
    gaps = len(COLUMNS) - 1
    fixed = sum(c.width for c in COLUMNS)
    spare = max(0, width - fixed - gaps)
    flexible = [c for c in COLUMNS if c.flexible]
    share, extra = divmod(spare, len(flexible))
    widths = []
    for column in COLUMNS:
        w = column.width
        if column.flexible:
            w += share + (1 if extra > 0 else 0)
            extra -= 1
        widths.append(w)
    return tuple(widths)


def fit(text: str, width: int, right: bool = False) -> str:
    if len(text) > width:
        return text[: max(0, width - 1)] + "…" if width > 1 else text[:width]
    return text.rjust(width) if right else text.ljust(width)


def header_text(width: int) -> str:
    return " ".join(fit(c.title, w, c.right) for c, w in zip(COLUMNS, column_widths(width)))


def cell_text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if key == "ts":
        return str(value or "")[11:23]
    if key == "direction":
        return _DIRECTIONS.get(str(value), str(value or ""))
    if key == "op_id" and value is None:  # calls about no one operation: notifications, user connections
        return printable(record.get("op") or "")
    if key == "status_code":
        return "skip" if record.get("skipped") else ("---" if value is None else str(value))
    if key == "latency_ms":
        return "" if value is None else f"{float(value):.0f}"
    return printable(value) if value is not None else ""


def status_class(record: dict[str, Any]) -> str:
    code = record.get("status_code")
    if record.get("skipped"):
        return "log-view--skipped"
    if code is None or code >= 500:
        return "log-view--error"
    if code >= 400:
        return "log-view--warning"
    return "log-view--ok"


class LogView(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"log-view--ok", "log-view--warning", "log-view--error", "log-view--skipped"}
    DEFAULT_CSS = """
    LogView { height: 1fr; overflow-x: hidden; }
    LogView > .log-view--ok { color: $success; }
    LogView > .log-view--warning { color: $warning; }
    LogView > .log-view--error { color: $error; text-style: bold; }
    LogView > .log-view--skipped { color: $text-muted; }
    """
    BINDINGS = [
        Binding("f", "toggle_follow", "Follow"),
        Binding("end,G", "follow_tail", "Tail", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
    ]

    follow: reactive[bool] = reactive(True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cache: Cache | None = None
        self.total = 0
        self._counted_through = 0
        self._window_start = 0
        self._rows: list[dict[str, Any]] = []

    def set_cache(self, cache: Cache) -> None:
        self.cache = cache
        self.total = self._counted_through = 0
        self._rows = []
        self.virtual_size = Size(self.row_width, 0)
        self.refresh()

    def recount(self) -> None:
        """Count the rows from scratch at the next reload (after records left the cache); until then the
        view shows what it showed."""
        self._counted_through = 0
        self.refresh()

    @property
    def row_width(self) -> int:
        """Cells a row may use: the view's width less its scrollbar."""
        return self.scrollable_content_region.width

    def visible_rows(self) -> list[dict[str, Any]]:
        """The records on screen right now, top to bottom."""
        top = round(self.scroll_y)
        start = top - self._window_start
        return self._rows[max(0, start): max(0, start + self.size.height)]

    async def reload(self) -> None:
        """Re-read how many rows there are and the rows in view (after new records arrive)."""
        if self.cache is None:
            return
        after = self._counted_through
        added, through = await self.cache.read(lambda log: api_calls_after(log, after))
        if self._counted_through == after:  # else another reload counted these already
            self.total, self._counted_through = (self.total if after else 0) + added, through
        self._set_row_count(self.total)
        if self.follow:
            self.scroll_to(y=max(0, self.total - self.size.height), animate=False, immediate=True)
        await self._load_window()

    def _set_row_count(self, rows: int) -> None:
        """Tell the scroll machinery how many rows there are.

        Setting ``virtual_size`` lays out the whole screen again, which takes tens of milliseconds; done
        a few times a second while records stream in, that is what a key press would wait behind. The
        screen only needs laying out when the scrollbar appears or goes (the row count crosses the
        view's height); otherwise the size is set quietly and the scrollbar updated in place.
        """
        size = Size(self.row_width, rows)
        if size == self.virtual_size:
            return
        height = self.size.height
        if min(rows, self.virtual_size.height) <= height or size.width != self.virtual_size.width:
            self.virtual_size = size
            return
        self.set_reactive(LogView.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    async def _load_window(self) -> None:
        if self.cache is None:
            return
        start, height, total = round(self.scroll_y), max(1, self.size.height), self.total
        rows = await self.cache.read(lambda log: api_calls_window(log, start, height, total))
        self._window_start, self._rows = start, rows
        self.refresh()

    async def _load_window_safely(self) -> None:
        try:
            await self._load_window()
        except CacheClosed:
            pass  # a new cache arrives with set_cache

    async def _reload_safely(self) -> None:
        try:
            await self.reload()
        except CacheClosed:
            pass

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.run_worker(self._load_window_safely(), group="log-window", exclusive=True)

    def on_resize(self) -> None:
        self.run_worker(self._reload_safely(), group="log-window", exclusive=True)

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        if self.follow:
            self.run_worker(self._reload_safely(), group="log-window", exclusive=True)

    def action_follow_tail(self) -> None:
        self.follow = True
        self.run_worker(self._reload_safely(), group="log-window", exclusive=True)

    def action_scroll_home(self) -> None:
        self.follow = False
        self.scroll_to(y=0, animate=False)

    # Moving up through the log, by key or wheel, pauses following; End, G or f resume it.

    def action_scroll_up(self) -> None:
        self.follow = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.follow = False
        super().action_page_up()

    def on_mouse_scroll_up(self) -> None:
        self.follow = False

    def render_line(self, y: int) -> Strip:
        width = self.row_width
        index = round(self.scroll_y) + y - self._window_start
        if not 0 <= index < len(self._rows):
            return Strip.blank(width)
        return self._render_row(self._rows[index], width)

    def _render_row(self, record: dict[str, Any], width: int) -> Strip:
        base = self.rich_style
        status_style: Style = self.get_component_rich_style(status_class(record))
        segments: list[Segment] = []
        for column, w in zip(COLUMNS, column_widths(width)):
            if segments:
                segments.append(Segment(" ", base))
            style = status_style if column.key == "status_code" else base
            segments.append(Segment(fit(cell_text(record, column.key), w, column.right), style))
        return Strip(segments).crop_extend(0, width, base)
