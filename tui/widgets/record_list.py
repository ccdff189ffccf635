"""A live list of one kind of record: virtual over the cache, drawn line by line, with a row cursor.

Nothing but the visible window of rows is ever loaded: the widget knows how many records of its kind
the cache holds (its virtual height) and, whenever the view moves or new records arrive, reads just
the rows on screen from the cache's reader thread. Following keeps the tail in view and the cursor on
the newest row; moving up pauses it; End resumes it. Enter posts ``RecordList.Chosen`` for the row
under the cursor. Subclasses say which kind they list and how its columns read.
"""

from dataclasses import dataclass, replace
import functools
import re
from typing import Any, ClassVar

from rich.segment import Segment
from rich.text import Text
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import Static

from switchroom.protocol.kinds import API_CALL
from switchroom.store import EventLog, records_after, records_window
from switchroom.store.transactions import read_snapshot
from switchroom.store.analytics.kind_totals import REMEMBER_FROM, kind_total
from switchroom.store.filters import RecordFilter
from switchroom.store.record_shape import BAD, shaped
from switchroom.store.analytics.record_windows import Matches, count_matches, window
from switchroom.tui.actions import bindings
from switchroom.tui.cache import Cache, CacheClosed
from switchroom.tui.screens.time_jump import TimeJump
from switchroom.tui.text import printable
from switchroom.tui.time_zones import time_of_day
from switchroom.tui.view_state import zone_of
from switchroom.tui.widgets.cursor_rows import CursorRows


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    width: int
    flexible: bool = False
    right: bool = False
    optional: bool = False
    """Left out when the view is too narrow for every column (the last optional one first)."""


MIN_FLEXIBLE = 3
BAD_CELL = "bad"
"""What a cell shows for a field the hub sent with the wrong type (``store.record_shape``)."""
"""Cells a flexible column keeps however narrow the view."""
_ID = re.compile(r"[\w.:@/-]+")


@functools.lru_cache(maxsize=32)
def column_widths(columns: tuple[Column, ...], width: int) -> tuple[int, ...]:
    """Widths for a view ``width`` cells wide: fixed columns keep theirs, flexible ones share the rest;
    optional columns that do not fit get 0 (not drawn, nor the space before them)."""
    shown = list(columns)
    while sum(c.width for c in shown) + len(shown) - 1 > width and any(c.optional for c in shown):
        shown.remove(next(c for c in reversed(shown) if c.optional))
    spare = width - sum(c.width for c in shown) - (len(shown) - 1)
    flexible = [c for c in shown if c.flexible]
    share, extra = divmod(max(0, spare), len(flexible)) if flexible else (0, 0)
    widths = []
    for column in columns:
        w = column.width if column in shown else 0
        if column.flexible and column in shown:
            w += share + (1 if extra > 0 else 0)
            extra -= 1
        widths.append(w)
    # Still too wide: the flexible columns give up cells (the last first, down to 3 each), so that the
    # row ends at the view's edge instead of being cut off past it.
    for index in reversed(range(len(columns))):
        if spare >= 0:
            break
        if columns[index].flexible and widths[index]:
            given = min(-spare, widths[index] - MIN_FLEXIBLE)
            widths[index] -= max(0, given)
            spare += max(0, given)
    return tuple(widths)


@functools.lru_cache(maxsize=64)
def fitted_widths(columns: tuple[Column, ...], width: int, natural: tuple[int, ...]) -> tuple[int, ...]:
    """``column_widths``, then cells moved to where the rows need them (``natural``: each column's widest
    cell or title): a flexible column wider than its widest cell gives the rest to columns whose cells
    would be cut, in order, and what no column needs goes back to the last flexible column."""
    widths = list(column_widths(columns, width))
    shown = [n for n, w in enumerate(widths) if w]
    spare = 0
    for n in shown:
        enough = max(natural[n], columns[n].width)
        if columns[n].flexible and widths[n] > enough:
            spare, widths[n] = spare + widths[n] - enough, enough
    for n in shown:
        given = min(max(0, natural[n] - widths[n]), spare)
        widths[n] += given
        spare -= given
    flexible = [n for n in shown if columns[n].flexible]
    if flexible:
        widths[flexible[-1]] += spare
    return tuple(widths)


def laid_out(columns: tuple[Column, ...], width: int, natural: tuple[int, ...] | None = None
             ) -> list[tuple[int, Column, int]]:
    """(index, column, width) of each column drawn in a view ``width`` cells wide (fitted to the cells'
    ``natural`` widths when known)."""
    widths = column_widths(columns, width) if natural is None else fitted_widths(columns, width, natural)
    return [(n, c, w) for n, (c, w) in enumerate(zip(columns, widths)) if w > 0]


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` in ``width`` cells. Too long, an id (``liked-video-texts``, ``lights.change_color``) is
    shortened in the middle, so that both its ends still tell it from its neighbours (``liked-…-texts``);
    anything else (prose, JSON) at the end."""
    if len(text) <= width:
        return text.rjust(width) if right else text.ljust(width)
    if width < 2:
        return text[:width]
    if width < 8 or not _ID.fullmatch(text):
        return text[: width - 1] + "…"
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[len(text) - tail:]


TIME = Column("time", "ts", 12)
"""The first column of every record list: the record's time of day, in the zone times are shown in."""


class RecordList(CursorRows):
    KIND: ClassVar[str] = API_CALL
    NOUN: ClassVar[str] = "records"
    """What the status line calls the rows, e.g. ``calls``."""
    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    COMPONENT_CLASSES = {
        "record-list--ok", "record-list--warning", "record-list--error", "record-list--muted",
        "record-list--cursor",
    }
    DEFAULT_CSS = """
    RecordList { height: 1fr; overflow-x: hidden; }
    RecordList > .record-list--ok { color: $success; }
    RecordList > .record-list--warning { color: $warning; }
    RecordList > .record-list--error { color: $error; text-style: bold; }
    RecordList > .record-list--muted { color: $text-muted; }
    RecordList > .record-list--cursor { background: $boost; text-style: bold; }
    RecordList:focus > .record-list--cursor { background: $accent 40%; }
    """
    BINDINGS = bindings("RecordList")  # keys from tui/actions.py, besides the cursor's (CursorRows)

    follow: reactive[bool] = reactive(True)

    class Chosen(Message):
        """Enter on a row: show this record's detail."""

        def __init__(self, record: dict[str, Any]) -> None:
            super().__init__()
            self.record = record

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cache: Cache | None = None
        self.total = 0
        """How many records the list holds (0 = oldest is the first row); the cursor is on the newest
        while following."""
        self._counted_through = 0
        self._window_start = 0
        self._rows: list[dict[str, Any]] = []
        self.record_filter: RecordFilter | None = None
        """What the list shows when filtered (the filter language, the focused connection); None: every
        record of its kind, counted incrementally."""
        self._matches: Matches | None = None
        self.header: Static | None = None
        """The line above the list that names its columns, kept as wide as the list's rows."""

    # -- what a row shows (subclasses) -------------------------------------------------------------

    def cell_text(self, record: dict[str, Any], key: str) -> str:
        if key == "ts":
            return time_of_day(record.get("ts"), zone_of(self.app))
        own = self.column_text(record, key)
        if own is not None:
            return own
        value = record.get(key)
        return printable(value) if value is not None else ""

    def column_text(self, record: dict[str, Any], key: str) -> str | None:
        """What a column of this list shows in its own way (subclasses); None: the value, printable."""
        return None

    def row_class(self, record: dict[str, Any]) -> str | None:
        """The component class of the row's highlighted column (status colours); None for none."""
        return None

    highlighted_key: ClassVar[str] = ""
    """The column drawn in ``row_class``'s colour."""

    def header_text(self, width: int | None = None) -> str:
        width = self.row_width if width is None else width
        return " ".join(fit(c.title, w, c.right) for _, c, w in laid_out(self.COLUMNS, width))

    # -- data ---------------------------------------------------------------------------------------

    def set_cache(self, cache: Cache) -> None:
        self.cache = cache
        self.total = self._counted_through = self.cursor = 0
        self._rows = []
        self.virtual_size = Size(self.row_width, 0)
        self.refresh()

    def set_filter(self, record_filter: RecordFilter | None) -> None:
        """Show only what ``record_filter`` matches (its kinds are this list's), from the newest end."""
        self.record_filter = record_filter
        self._matches = None
        self.total = self._counted_through = 0
        self._rows = []  # another filter's rows: never shown under this one
        self.follow = True
        if self.is_mounted:  # else the app's next refresh reads it
            self.run_worker(self.reload_safely, group="record-window", exclusive=True)

    def recount(self) -> None:
        """Count the rows from scratch at the next reload (after records left the cache); until then the
        view shows what it showed."""
        self._counted_through = 0
        self.refresh()

    @property
    def row_count(self) -> int:
        return self.total

    @property
    def row_width(self) -> int:
        """Cells a row may use: the view's width less its scrollbar."""
        return self.scrollable_content_region.width

    @property
    def window_in_view(self) -> bool:
        """Whether the rows loaded start where the view is scrolled to: a scroll draws at once, and the
        rows it brings into view are read after it (blank until then)."""
        return self._window_start == round(self.scroll_y)

    def visible_rows(self) -> list[dict[str, Any]]:
        """The records on screen right now, top to bottom (those read so far: see ``window_in_view``)."""
        top = round(self.scroll_y)
        start = top - self._window_start
        return self._rows[max(0, start): max(0, start + self.size.height)]

    @property
    def chosen_record(self) -> dict[str, Any] | None:
        """The record under the cursor, when it is on screen."""
        index = self.cursor - self._window_start
        return self._rows[index] if 0 <= index < len(self._rows) else None

    async def count_rows(self) -> None:
        """Re-read how many rows there are: without a filter, only the records past the last counted seq."""
        if self.cache is None:
            return
        if self.record_filter is not None:
            record_filter = self.record_filter
            self._matches = await self.cache.read(lambda log: count_matches(log, record_filter))
            self.total = self._matches.total
        else:
            after, kind, cache = self._counted_through, self.KIND, self.cache
            if after:
                added, through = await cache.read(lambda log: records_after(log, after, kind))
            else:  # from scratch: from the total an earlier count left in the cache, when there is one
                total = await cache.read(lambda log: kind_total(log, kind))
                added, through = total.count, total.through_seq
                if total.counted >= REMEMBER_FROM:
                    self.run_worker(cache.remember_total(kind, total), group="remember-total")
            if self._counted_through == after:  # else another reload counted these already
                self.total, self._counted_through = (self.total if after else 0) + added, through

    async def reload(self) -> None:
        """Re-read how many rows there are and the rows in view (after new records arrive)."""
        if self.cache is None:
            return
        await self.count_rows()
        self._set_row_count(self.total)
        if not self.follow:
            self.cursor = min(self.cursor, max(0, self.total - 1))
            await self._load_window(round(self.scroll_y))
            return
        # The newest rows are read first and then scrolled to, so that one repaint shows them (scrolling
        # first would paint the old rows moved up, then read the window a second time).
        top = max(0, self.total - self.size.height)
        rows = await self._read_window(top)
        if not self.follow:  # paused while they were read: the pause stays where it was put
            return
        self._window_start, self._rows = top, rows
        self.cursor = max(0, self.total - 1)
        # forced: when the rows were only just counted, the scrollbar is not up yet, and Textual scrolls
        # only a view it shows a scrollbar on
        self.scroll_to(y=top, animate=False, immediate=True, force=True)
        self.refresh()

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
        self.set_reactive(RecordList.virtual_size, size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = rows
        self.scroll_y = self.scroll_y  # validated again, against the new size
        self.refresh()

    async def _load_window(self, start: int) -> None:
        """Show the rows from position ``start`` down."""
        rows = await self._read_window(start)
        self._window_start, self._rows = start, rows
        self.refresh()

    async def _read_window(self, start: int) -> list[dict[str, Any]]:
        """The rows from position ``start`` down, a view's height of them, each ``shaped``: the hub may
        send a field of another type than the columns read (a status code of "abc")."""
        if self.cache is None:
            return []
        height, total, kind, through = max(1, self.size.height), self.total, self.KIND, self._counted_through
        record_filter, matches = self.record_filter, self._matches
        if record_filter is not None and matches is not None:
            return await self.cache.read(
                lambda log: [shaped(r) for r in window(log, record_filter, matches, start, height)])
        return await self.cache.read(
            lambda log: [shaped(r) for r in records_window(log, start, height, total, kind, through or None)])

    async def _load_window_safely(self) -> None:
        try:
            await self._load_window(round(self.scroll_y))
        except CacheClosed:
            pass  # a new cache arrives with set_cache

    async def reload_safely(self) -> None:
        """``reload``, unless the cache closes meanwhile (a new one arrives with ``set_cache``)."""
        try:
            await self.reload()
        except CacheClosed:
            pass

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(new_value) != self._window_start:  # else that window is the one loaded
            self.run_worker(self._load_window_safely, group="record-window", exclusive=True)

    def on_resize(self) -> None:
        if self.header is not None:  # the columns' widths follow the list's own
            self.header.update(Text(self.header_text()))
        self.run_worker(self.reload_safely, group="record-window", exclusive=True)

    # -- keys ---------------------------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        if self.follow:
            self.run_worker(self.reload_safely, group="record-window", exclusive=True)

    def action_follow_tail(self) -> None:
        self.follow = True
        self.run_worker(self.reload_safely, group="record-window", exclusive=True)

    def action_cursor_home(self) -> None:
        self.follow = False
        super().action_cursor_home()

    def action_cursor_up(self) -> None:
        self.follow = False
        super().action_cursor_up()

    def action_cursor_page_up(self) -> None:
        self.follow = False
        super().action_cursor_page_up()

    class RerunAsked(Message):
        """``r`` on a row: rerun this record."""

        def __init__(self, record: dict[str, Any]) -> None:
            super().__init__()
            self.record = record

    def action_choose(self) -> None:
        record = self.chosen_record
        if record is not None:
            self.post_message(self.Chosen(record))

    def action_rerun(self) -> None:
        record = self.chosen_record
        if record is not None:
            self.post_message(self.RerunAsked(record))

    def action_jump_to_time(self) -> None:
        def jump(moment: str | None) -> None:
            if moment is not None:
                self.run_worker(self._jump_to_moment(moment), group="record-window", exclusive=True)
        self.app.push_screen(TimeJump(zone_of(self.app)), jump)

    async def _jump_to_moment(self, moment: str) -> None:
        """Put the cursor on the first row at or after ``moment``: its position is how many rows come
        before it, all rows less those from ``moment`` on, both counted in one read of the cache."""
        if self.cache is None:
            return
        shown = self.record_filter or RecordFilter(kinds=(self.KIND,))
        later = replace(shown, since_ts=max(moment, shown.since_ts or moment))

        def rows_before(log: EventLog) -> int:
            with read_snapshot(log.conn):
                return count_matches(log, shown).total - count_matches(log, later).total
        try:
            position = await self.cache.read(rows_before)
        except CacheClosed:
            return
        await self.count_rows()
        self._set_row_count(self.total)
        self.jump_to(min(position, max(0, self.total - 1)))

    def jump_to(self, position: int) -> None:
        """Put the cursor on row ``position`` (0 = oldest), pausing the follow."""
        self.follow = False
        self._move_cursor_to(position)

    def on_click(self, event: events.Click) -> None:
        self.follow = False
        self._move_cursor_to(round(self.scroll_y) + event.y)

    def on_mouse_scroll_up(self) -> None:
        self.follow = False

    # -- drawing ------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.row_width
        position = round(self.scroll_y) + y
        index = position - self._window_start
        if not 0 <= index < len(self._rows):
            return Strip.blank(width)
        return self._render_row(self._rows[index], width, position == self.cursor)

    def _render_row(self, record: dict[str, Any], width: int, under_cursor: bool) -> Strip:
        base = self._line_style
        if under_cursor:
            base = base + self.get_component_rich_style("record-list--cursor")
        row_class = self.row_class(record)
        highlight: Style = base + self.get_component_rich_style(row_class) if row_class else base
        bad = record.get(BAD) or {}
        columns = laid_out(self.COLUMNS, width)
        # The hub sent some fields with the wrong type: their cells say "bad" (the detail view shows them);
        # when none of them is a column drawn, the first cell says it.
        flagged = {c.key for _, c, _ in columns if c.key in bad} or ({columns[0][1].key} if bad and columns else set())
        segments: list[Segment] = []
        for _, column, w in columns:
            if segments:
                segments.append(Segment(" ", base))
            text = self.cell_text(record, column.key)
            if column.key in flagged:
                text = BAD_CELL if column.key in bad else f"{BAD_CELL} {text}"
                style = base + self.get_component_rich_style("record-list--error")
            else:
                style = highlight if column.key == self.highlighted_key else base
            segments.append(Segment(fit(text, w, column.right), style))
        return Strip(segments).crop_extend(0, width, base)


def status_class(code: int | None, skipped: bool = False) -> str:
    """The colour class of an HTTP status: ok, warning (4xx), error (5xx or no answer), muted (skipped)."""
    if skipped:
        return "record-list--muted"
    if code is None or code >= 500:
        return "record-list--error"
    if code >= 400:
        return "record-list--warning"
    return "record-list--ok"

