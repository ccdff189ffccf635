"""The pane names under the title, the current one marked: a single line that redraws in place.

Panes switch with a ``ContentSwitcher`` rather than ``TabbedContent``, whose tab bar restyles and
animates itself on every switch; a key press should show its pane without waiting for that.
"""

from rich.text import Text
from textual import events
from textual.widgets import Static


class PaneTabs(Static):
    DEFAULT_CSS = """
    PaneTabs { height: 1; padding: 0 1; background: $boost; color: $text-muted; }
    """

    def __init__(self, panes: list[tuple[str, str, str]], current: str, *, id: str | None = None) -> None:
        """``panes``: (id, key, title) of each pane, in order."""
        self._panes = panes
        super().__init__(self._line(current), id=id)

    def show(self, current: str) -> None:
        self.update(self._line(current), layout=False)

    async def on_click(self, event: events.Click) -> None:
        """A click on a pane's name shows that pane, as its number key does."""
        x = event.x - 1  # the left padding
        for pane_id, key, title in self._panes:
            width = len(f" {key} {title} ") + 1
            if 0 <= x < width:
                await self.run_action(f"app.show_pane('{pane_id}')")
                return
            x -= width

    def _line(self, current: str) -> Text:
        text = Text()
        for pane_id, key, title in self._panes:
            style = "bold reverse" if pane_id == current else ""
            text.append(f" {key} {title} ", style=style)
            text.append(" ")
        return text
