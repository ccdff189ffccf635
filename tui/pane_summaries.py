"""What a pane shows besides its list — its summaries — read in one go on the cache's summaries thread,
with what every pane's title and status line say of them; and the first screen's, read before the app
is imported.

The first screen is the first pane of a cache the dashboard knows. Its summaries are mostly SQLite's
work, done with Python's lock let go, so they are read on a thread while the interpreter imports the
app and makes its screen instead of after (``read_first_screen``).
"""

from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchroom.store import EventLog, iso_timestamp
from switchroom.store.analytics import derived
from switchroom.store.transactions import read_snapshot
from switchroom.store.record_shape import moment
from switchroom.tui import known_hubs
from switchroom.tui.cache import Cache
from switchroom.tui.panes import PANES
from switchroom.tui.view_state import ViewState

if TYPE_CHECKING:
    from switchroom.tui.panes.view import PaneView


COUNTING_SLACK = 1_000
"""Seqs the indexer may be behind the cache before the summaries say they are still counting: about a
tenth of a second of a 10,000 records/s ingest, less than one refresh of the screen."""


@dataclass(frozen=True)
class Counting:
    """How far the summaries reach: the last seq the indexer had counted when they were read, and the
    newest seq the cache held then."""

    counted: int
    held: int

    @property
    def partial(self) -> bool:
        """The summaries leave out records the cache holds (more than ``COUNTING_SLACK`` of them)."""
        return self.held - self.counted > COUNTING_SLACK

    def sign(self) -> str:
        """What the screen says while partial: ``counting 412,000 / 1,000,000``."""
        return f"counting {self.counted:,} / {self.held:,}" if self.partial else ""


@dataclass(frozen=True)
class Window:
    """What a pane's summaries cover: the time window, the connection in focus, and whether the indexer
    has made the derived tables yet (before that, the summaries it feeds show nothing)."""

    since: str
    until: str
    focus: str | None
    indexed: bool


@dataclass(frozen=True)
class PaneSummaries:
    """What one read gives a pane besides its list."""

    window_end: str | None
    """Where the time window ends; None: now."""
    shown: Any
    """The pane's own summaries (``PaneView.read_summaries``); None for a pane that shows none."""
    bad_records: int = 0
    """Records of the wrong shape the indexer has met (``store.record_shape``): counted, shown as bad."""
    bad_records_so_far: bool = False
    """Whether some records the cache holds are yet to be checked for their shape (the indexer checks
    them as it enters them, behind the counts): ``bad_records`` may still grow."""
    counting: Counting = Counting(0, 0)
    """How far the summaries reach (read in the same snapshot), for a pane whose summaries are the
    indexer's counts; a pane that reads its summaries from the records reaches every record."""


def indexed(log: EventLog) -> bool:
    """Whether the indexer has made the derived tables the summaries read (before that they show nothing)."""
    return derived.present(derived.attach(log))


def pane_summaries(log: EventLog, view: ViewState, pane: "type[PaneView]", live: bool, focus: str | None
                   ) -> PaneSummaries:
    """The summaries ``pane`` shows, over ``view``'s window: it ends now while the hub is live, and else
    at the newest record the cache holds (so that an offline cache shows what it saw last). Read in one
    snapshot, so that how far they reach (``counting``) is what they cover."""
    with read_snapshot(derived.attach(log)):
        return _pane_summaries(log, view, pane, live, focus)


def _pane_summaries(log: EventLog, view: ViewState, pane: "type[PaneView]", live: bool, focus: str | None
                    ) -> PaneSummaries:
    end = None if live else log.newest_ts()
    end = end if end is not None and moment(end) is not None else None
    now = end or iso_timestamp(datetime.now(UTC))
    ready = indexed(log)
    bad = derived.bad_records(derived.attach(log))
    head = log.head_seq()
    counting = Counting(derived.derived_cursor(log.conn) if ready else 0, head)
    checked = derived.derived_cursor(log.conn, derived.ENTRIES_CURSOR) if ready else 0
    window = Window(view.since_ts(datetime.fromisoformat(now)), now, focus, ready)
    return PaneSummaries(end, pane.read_summaries(log, window), bad, checked < head,
                         counting if pane.COUNTED_BY_INDEXER else Counting(0, 0))


@dataclass(frozen=True)
class FirstRead:
    """The cache of a hub the dashboard has seen before, and its first screen's summaries on their way."""

    cache: Cache
    summaries: "Future[PaneSummaries]"
    """Read as a fresh view (no focus, the default window) sees them, while the hub is not yet live."""


def read_first_screen(cache_dir: Path, hub_key: str) -> FirstRead | None:
    """Open the hub's cache from an earlier run, if there is one, and start reading its first screen's
    summaries; None for a hub not seen before."""
    known = known_hubs.known_hub_id(cache_dir, hub_key)
    if known is None or not Cache.exists(cache_dir, known):
        return None
    cache = Cache(cache_dir, known)
    return FirstRead(cache, cache.summarise_soon(
        partial(pane_summaries, view=ViewState(), pane=PANES[0].load(), live=False, focus=None)))
