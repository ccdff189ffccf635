"""What every view of rows with a cursor shares: the cursor keys (scope ``CursorRows`` in
``tui/actions.py``) — up, down, a page, the first and the last row — and the scrolling that keeps the
cursor in view. The record lists and the small tables both build on it."""

from rich.style import Style
from textual.geometry import Region
from textual.scroll_view import ScrollView
from textual.strip import Strip

from switchroom.tui.actions import bindings


class CursorRows(ScrollView, can_focus=True):
    BINDINGS = bindings("CursorRows")  # keys from tui/actions.py
    HEADER_LINES = 0
    """Lines drawn above the rows that never scroll away (a table's column titles)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cursor = 0
        """The row under the cursor, from 0."""
        self._line_style = Style()
        """The widget's own style, for ``render_line``; read once a repaint, since reading it walks the DOM."""

    @property
    def row_count(self) -> int:
        raise NotImplementedError

    @property
    def page(self) -> int:
        """How many rows a page key moves: the rows in view, less one kept for context."""
        return max(1, self.size.height - self.HEADER_LINES - 1)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._line_style = self.rich_style
        return super().render_lines(crop)

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        # Textual hands a scroll to the scrollbar only while it is shown: a view scrolled (forced) just
        # before its scrollbar came up would otherwise draw the thumb where the scrollbar last was told.
        if shown:
            self.vertical_scrollbar.position = self.scroll_y

    def action_cursor_up(self) -> None:
        self._move_cursor_to(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move_cursor_to(self.cursor + 1)

    def action_cursor_page_up(self) -> None:
        self._move_cursor_to(self.cursor - self.page)

    def action_cursor_page_down(self) -> None:
        self._move_cursor_to(self.cursor + self.page)

    def action_cursor_home(self) -> None:
        self._move_cursor_to(0)

    def action_follow_tail(self) -> None:
        self._move_cursor_to(self.row_count - 1)

    def _move_cursor_to(self, position: int) -> None:
        """Move the cursor, scrolling just enough to keep it in view."""
        self.cursor = max(0, min(position, self.row_count - 1))
        top, height = round(self.scroll_y), max(1, self.size.height - self.HEADER_LINES)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True, force=True)
        self.refresh()
