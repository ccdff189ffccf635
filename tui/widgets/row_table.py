"""A small table drawn line by line: rows held in memory (tens to hundreds — connections, failure
groups), a line of column titles that stays put, and a row cursor.

Textual's ``DataTable`` measures every cell and lays itself out again as rows change; the two on the
Connections pane took about a quarter second of the dashboard's first screen and a good part of every
switch back to that pane. This table only draws the lines on screen, each from cells already made. Its columns take the widths
their specs give, then trade cells by what the rows hold: a flexible column with room to spare lends it
to a column whose cells would be cut.

Rows can be sorted by any column: ``s`` steps through the columns, ``S`` turns the order round, and a
click on a column's title sorts by it (a second click turns it round). The title of the column sorted by
carries ▼ (largest or last first) or ▲; with none, the rows keep the order the table was given.
"""

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.strip import Strip

from switchroom.tui.actions import bindings
from switchroom.tui.text import printable
from switchroom.tui.widgets.cursor_rows import CursorRows
from switchroom.tui.widgets.record_list import Column, fit, laid_out


@dataclass(frozen=True)
class Cell:
    text: str
    tone: str = ""
    """How it is coloured: "" plain, or ``ok``, ``warning``, ``error``, ``muted`` (the theme's colours)."""

    @classmethod
    def of(cls, value: object, tone: str = "") -> "Cell":
        """A cell showing ``value`` literally (untrusted text: no markup, no control characters)."""
        return cls(printable(value), tone)


SortValue = float | str | None


@dataclass(frozen=True)
class Row:
    key: str
    cells: tuple[Cell, ...]
    values: tuple[SortValue, ...] = ()
    """What each column sorts by (numbers as numbers; None, nothing to sort by, always last); empty: the
    cells' text."""

    def sort_value(self, column: int) -> SortValue:
        if self.values:
            return self.values[column]
        return self.cells[column].text or None


def _sorted(rows: list[Row], column: int, descending: bool) -> list[Row]:
    """``rows`` by ``column``, ties kept in the order given; rows with nothing to sort by last either way."""
    present = [row for row in rows if row.sort_value(column) is not None]
    absent = [row for row in rows if row.sort_value(column) is None]
    numbers = all(isinstance(row.sort_value(column), int | float) for row in present)
    key = (lambda row: row.sort_value(column)) if numbers else (lambda row: str(row.sort_value(column)).lower())
    return sorted(present, key=key, reverse=descending) + absent


class RowTable(CursorRows):
    BINDINGS = bindings("RowTable")  # keys from tui/actions.py
    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    HEADER_LINES = 1
    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor", "row-table--ok", "row-table--warning",
                         "row-table--error", "row-table--muted"}
    DEFAULT_CSS = """
    RowTable { height: 1fr; overflow-x: hidden; }
    RowTable > .row-table--header { color: $text-muted; text-style: bold; background: $boost; }
    RowTable > .row-table--cursor { background: $boost; text-style: bold; }
    RowTable:focus > .row-table--cursor { background: $accent 40%; }
    RowTable > .row-table--ok { color: $success; }
    RowTable > .row-table--warning { color: $warning; }
    RowTable > .row-table--error { color: $error; text-style: bold; }
    RowTable > .row-table--muted { color: $text-muted; }
    RowTable:nocolor > .row-table--cursor { text-style: reverse; }
    RowTable:nocolor > .row-table--error { text-style: bold underline; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        self._given: list[Row] = []
        """The rows in the order the table was given them."""
        self.sort_column: int | None = None
        self.sort_descending = False
        self._natural = tuple(len(column.title) for column in self.COLUMNS)
        """Each column's widest cell or title, so that its width follows what it holds."""

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor."""
        return self.rows[self.cursor].key if 0 <= self.cursor < len(self.rows) else None

    def set_rows(self, rows: list[Row]) -> None:
        """Show ``rows`` (in the sort chosen, if any), the cursor staying on the row of the same key when
        there still is one, and that row kept in view when new figures sort it elsewhere."""
        self._given = rows
        if self.sort_column is not None:
            rows = _sorted(rows, self.sort_column, self.sort_descending)
        if rows == self.rows:
            return
        keys = [row.key for row in rows]
        key = self.cursor_key
        self.rows = rows
        self._natural = tuple(max([len(column.title) + (2 if n == self.sort_column else 0),
                                   *(len(row.cells[n].text) for row in rows)])
                              for n, column in enumerate(self.COLUMNS))
        self.virtual_size = Size(self.scrollable_content_region.width, len(rows) + self.HEADER_LINES)
        self._move_cursor_to(keys.index(key) if key in keys else min(self.cursor, max(0, len(rows) - 1)))

    def row_of(self, key: str) -> Row | None:
        return next((row for row in self.rows if row.key == key), None)

    def select(self, key: str) -> None:
        """Put the cursor on the row of ``key``."""
        self._move_cursor_to(next(index for index, row in enumerate(self.rows) if row.key == key))

    def on_click(self, event: events.Click) -> None:
        if event.y >= self.HEADER_LINES:
            self._move_cursor_to(round(self.scroll_y) + event.y - self.HEADER_LINES)
            return
        column = self._column_at(event.x)
        if column is not None:
            self.sort_by(column, not self.sort_descending if column == self.sort_column else None)

    # -- sorting ------------------------------------------------------------------------------------

    @property
    def sort_label(self) -> str:
        """What the rows are sorted by, as the header says it, e.g. ``in err ▼``; '' when unsorted."""
        if self.sort_column is None:
            return ""
        return f"{self.COLUMNS[self.sort_column].title} {'▼' if self.sort_descending else '▲'}"

    def sort_by(self, column: int | None, descending: bool | None = None) -> None:
        """Sort by ``column`` (None: the order given); a number column first sorts largest first, a text
        column A to Z, unless ``descending`` says."""
        self.sort_column = column
        if column is not None:
            numbers = any(isinstance(row.sort_value(column), int | float) for row in self._given)
            self.sort_descending = numbers if descending is None else descending
        self.set_rows(self._given)
        self.refresh()

    def action_sort_next(self) -> None:
        """Sort by the next column, then by none again."""
        after = -1 if self.sort_column is None else self.sort_column
        self.sort_by(after + 1 if after + 1 < len(self.COLUMNS) else None)

    def action_sort_reverse(self) -> None:
        if self.sort_column is not None:
            self.sort_by(self.sort_column, not self.sort_descending)

    def _column_at(self, x: int) -> int | None:
        start = 0
        for index, _, width in laid_out(self.COLUMNS, self.scrollable_content_region.width, self._natural):
            if start <= x < start + width:
                return index
            start += width + 1
        return None

    # -- drawing ------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._line_style
        if y < self.HEADER_LINES:
            style = base + self.get_component_rich_style("row-table--header")
            titles = [Cell(c.title) for c in self.COLUMNS]
            if self.sort_column is not None:  # the arrow always shows: the title gives way to it
                drawn = {n: w for n, _, w in laid_out(self.COLUMNS, width, self._natural)}
                room = drawn.get(self.sort_column, 0)
                title, arrow = self.COLUMNS[self.sort_column].title, self.sort_label[-1]
                titles[self.sort_column] = Cell(f"{title} {arrow}" if len(title) + 2 <= room
                                                else title[:max(0, room - 2)].rstrip() + "…" + arrow)
            return self._strip(titles, width, style, {})
        index = round(self.scroll_y) + y - self.HEADER_LINES
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, base)
        if index == self.cursor:
            base = base + self.get_component_rich_style("row-table--cursor")
        tones = {tone: base + self.get_component_rich_style(f"row-table--{tone}")
                 for tone in {cell.tone for cell in self.rows[index].cells} if tone}
        return self._strip(self.rows[index].cells, width, base, tones)

    def _strip(self, cells: "list[Cell] | tuple[Cell, ...]", width: int, base: Style,
               tones: dict[str, Style]) -> Strip:
        segments: list[Segment] = []
        for index, column, w in laid_out(self.COLUMNS, width, self._natural):
            if segments:
                segments.append(Segment(" ", base))
            cell = cells[index]
            segments.append(Segment(fit(cell.text, w, column.right), tones.get(cell.tone, base)))
        return Strip(segments).crop_extend(0, width, base)
