"""What the panes are narrowed to: the connection in focus, each pane's filter, and the time window
of the summaries — in one place, so that every pane follows the same focus — and the zone their times
are shown and read in."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from switchroom.store import iso_timestamp
from switchroom.store.filters import RecordFilter, parse_filter, with_times_in_utc, without_keys
from switchroom.tui.time_zones import UTC_ZONES, Zones, day_and_minute, zone_label

WINDOWS = (("15m", 15), ("1h", 60), ("6h", 360), ("24h", 1440), ("7d", 10080))
"""The time windows the window key steps through: (label, minutes)."""


@dataclass
class ViewState:
    connection_id: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    """Pane id → its filter, in the filter language."""
    window: int = 1
    """Index into ``WINDOWS``."""
    window_end: str | None = None
    """Where the window ends when it is not now: the newest cached record's time while the hub is
    not live, so that an offline cache shows the last hour it saw instead of an empty one."""
    zones: Zones = UTC_ZONES
    """The zone times are shown in (and typed times read in), and the one the time-zone key switches to."""

    @property
    def zone(self) -> tzinfo:
        return self.zones.shown

    def switch_zone(self) -> None:
        self.zones = self.zones.switched()

    @property
    def window_label(self) -> str:
        return WINDOWS[self.window][0]

    def next_window(self) -> None:
        self.window = (self.window + 1) % len(WINDOWS)

    def since_ts(self, now: datetime | None = None) -> str:
        return iso_timestamp((now or datetime.now(UTC)) - timedelta(minutes=WINDOWS[self.window][1]))

    def focus(self, connection_id: str | None) -> None:
        """Narrow every pane to ``connection_id`` (None: to none). The focus replaces any ``conn:`` word a
        pane's filter had, so a pane never names two connections at once."""
        self.connection_id = connection_id
        if connection_id is not None:
            self.filters = {pane: without_keys(text, {"conn"}) for pane, text in self.filters.items()}

    def base(self, kind: str) -> RecordFilter:
        """A pane's own kind, narrowed to the connection in focus."""
        return RecordFilter(kinds=(kind,), connection_id=self.connection_id)

    def record_filter(self, pane: str, kind: str) -> RecordFilter | None:
        """What the pane's list shows; None when it shows every record of its kind. Raises ``FilterError``."""
        text = self.filters.get(pane, "")
        if not text and self.connection_id is None:
            return None
        return parse_filter(text, self.base(kind), zone=self.zone)

    def filter_language(self, pane: str, now: datetime | None = None) -> str:
        """The pane's filter with the focus written in, as the hub's rerun API takes it: its ``since:`` times,
        read in the zone shown, written in UTC (which the hub reads them in)."""
        focus = f"conn:{self.connection_id} " if self.connection_id else ""
        return with_times_in_utc(focus + self.filters.get(pane, ""), self.zone, now).strip()

    def breadcrumb(self, pane: str, note: str = "") -> str:
        """The title line: where the view is, its window, a ``note`` (the summaries still counting) and,
        last (it may be cut), the pane's filter."""
        parts = ["Switchroom"]
        if self.connection_id:
            parts.append(self.connection_id)
        end = f" to {day_and_minute(self.window_end, self.zone, year=True)} (cache)" if self.window_end else ""
        line = (f"{' › '.join(parts)}  · window {self.window_label}{end}  · times {zone_label(self.zone)}"
                f"{'  · ' + note if note else ''}")
        if self.filters.get(pane):
            line += f"  / {self.filters[pane]}"
        return line


def zone_of(app: Any) -> tzinfo:
    """The zone times are shown in: the dashboard's (its view state's), UTC in any other app."""
    view = getattr(app, "view", None)
    return view.zone if isinstance(view, ViewState) else UTC
