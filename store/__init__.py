"""The event log in SQLite: the hub's authoritative log and the dashboard's replica cache."""

from store.eventlog import EventLog, utc_now_iso
from store.queries import ConnectionCounts, api_call_count, api_calls_window, connection_counts

__all__ = [
    "ConnectionCounts",
    "EventLog",
    "api_call_count",
    "api_calls_window",
    "connection_counts",
    "utc_now_iso",
]
