"""The event log in SQLite: the hub's authoritative log and the dashboard's replica cache."""

from switchroom.store.eventlog import EventLog, StateChanges, iso_timestamp, utc_now_iso
from switchroom.store.queries import (
    ConnectionStats,
    connection_counts,
    connection_stats,
    kind_count,
    records_after,
    records_window,
)

__all__ = [
    "ConnectionStats",
    "EventLog",
    "StateChanges",
    "connection_counts",
    "connection_stats",
    "iso_timestamp",
    "kind_count",
    "records_after",
    "records_window",
    "utc_now_iso",
]
