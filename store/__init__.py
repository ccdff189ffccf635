"""The event log in SQLite: the hub's authoritative log and the dashboard's replica cache."""

from store.eventlog import EventLog, StateChanges, iso_timestamp, utc_now_iso
from store.queries import (
    ConnectionStats,
    api_call_count,
    api_calls_after,
    api_calls_window,
    connection_counts,
    connection_stats,
)

__all__ = [
    "ConnectionStats",
    "EventLog",
    "StateChanges",
    "api_call_count",
    "api_calls_after",
    "api_calls_window",
    "connection_counts",
    "connection_stats",
    "iso_timestamp",
    "utc_now_iso",
]
