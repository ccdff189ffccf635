"""What every pane is: a container that composes its widgets, reads what it shows besides its list (its
summaries) and shows them, and handles what its widgets ask for.

The app holds the link, the cache and the view state, and keeps one tick that refreshes the pane on
screen: it reloads the pane's list (``reload``) and, at most every few seconds, reads its summaries
(``read_summaries``, on the cache's summaries thread) and hands them over (``summaries``).
"""

from typing import Any, ClassVar, Protocol, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Static

from switchroom.store import EventLog
from switchroom.tui.cache import Cache
from switchroom.tui.definitions import Definitions
from switchroom.tui.ops_client import OpsClient
from switchroom.tui.pane_summaries import PaneSummaries, Window
from switchroom.tui.view_state import ViewState
from switchroom.tui.widgets.record_list import RecordList


class Dashboard(Protocol):
    """What a pane asks of the app."""

    view: ViewState
    ops: OpsClient
    definitions: Definitions
    hub_url: str
    token: str

    @property
    def cache(self) -> Cache | None: ...

    def apply_filters(self) -> None:
        """Give every list the filter the view state now has for its pane."""

    def action_show_pane(self, pane: str) -> None: ...

    def refuses_changes(self, what: str) -> bool:
        """True, after saying so, when the console is read-only."""


class PaneView(Vertical):
    """One pane. It passes ``__init__`` its list of records and the widget that shows its summary, if
    it has them; by default it is that widget, then the list's header, then the list. A pane laid out
    otherwise overrides ``compose``; a pane with summaries, ``read_summaries`` and ``watch_summaries``."""

    COUNTED_BY_INDEXER: ClassVar[bool] = False
    """Its summaries are the indexer's counts, so they say how far it has counted (``counting n / m``)."""
    ACTS_ON: ClassVar[str | None] = None
    """The pane whose list the filter key, bulk rerun and export act on while this one is shown; None:
    this pane's own."""

    summaries: var[PaneSummaries | None] = var(None, init=False, always_update=True)
    """What the last read gave the pane besides its list (set by the app's refresh)."""

    def __init__(self, pane_id: str, records: RecordList | None = None, summary: Widget | None = None) -> None:
        super().__init__(id=pane_id)
        self._summary = summary
        self.records = records
        """The pane's list of records, if it has one."""
        self.header = Static(classes="list-header") if records is not None else None
        """The list's column titles, over it."""
        if records is not None:
            records.header = self.header

    def compose(self) -> ComposeResult:
        if self._summary is not None:
            yield self._summary
        if self.records is not None and self.header is not None:
            yield self.header
            yield self.records

    @staticmethod
    def read_summaries(log: EventLog, window: Window) -> Any:
        """What the pane shows besides its list over ``window`` (``PaneSummaries.shown``), read in the
        summaries' snapshot on the cache's summaries thread; None: nothing."""
        return None

    @property
    def dashboard(self) -> Dashboard:
        return cast(Dashboard, self.app)

    @property
    def main_widget(self) -> Widget:
        """The widget that has the focus when the pane is shown."""
        assert self.records is not None, "a pane without a list names its main widget"
        return self.records

    @property
    def following(self) -> bool:
        """Whether the pane keeps its newest rows in view (the status line says so)."""
        return self.records is None or self.records.follow

    def counted(self) -> str:
        """What the status line counts for the pane: ``1,204 calls``."""
        assert self.records is not None, "a pane without a list says what it counts"
        return f"{self.records.total:,} {self.records.NOUN}"

    def use_cache(self, cache: Cache) -> None:
        if self.records is not None:
            self.records.set_cache(cache)

    async def reload(self) -> None:
        """Read the pane's list again (what is on screen of it)."""
        if self.records is not None:
            await self.records.reload()

    def show_times(self) -> None:
        """Draw again what shows a time, in the zone times are now shown in: the list, the summaries."""
        if self.records is not None:
            self.records.refresh()
        if self.summaries is not None:
            self.summaries = self.summaries  # shown again (``watch_summaries``)

    def show_header(self, layout: bool = False) -> None:
        """The list's column titles, at the list's width."""
        if self.records is not None and self.header is not None:
            self.header.update(Text(self.records.header_text()), layout=layout)

    async def read_hub(self) -> None:
        """Ask the hub for what the pane shows that the records do not say (every half minute, and when
        the link comes back)."""
