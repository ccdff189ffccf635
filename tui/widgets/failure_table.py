"""Failures grouped into issues: identical failures (same connection, feature, operation, direction and
code) as one row with how many, which way they went, first and last seen — a storm of 10,000 503s is one
line. Enter shows the group's records; ``r`` reruns a group of inbound action calls, and says of any
other group why it cannot and what can be done instead."""

from datetime import tzinfo

from textual.message import Message

from switchroom.protocol.kinds import API_CALL
from switchroom.store.analytics.failures import FailureGroup
from switchroom.tui.actions import bindings
from switchroom.tui.time_zones import clock_time, day_and_minute
from switchroom.tui.view_state import zone_of
from switchroom.tui.widgets.record_list import Column
from switchroom.tui.widgets.row_table import Cell, Row, RowTable

def group_filter(group: FailureGroup) -> str:
    """The filter language for the group's records."""
    # a call refused before its feature was known (a user who has not enabled the connection) has none:
    # the language has no word for "no feature", so the group's filter leaves the word out
    words = [f"kind:{group.kind}", f"conn:{group.connection_id}"] + ([f"feature:{group.feature_id}"] if group.feature_id else [])
    if group.op_id:
        words.append(f"op:{group.op_id}")
    if group.kind == API_CALL:
        words.append(f"dir:{group.direction}")
        words.append(f"code:{group.error_code}" if group.error_code else f"status:{group.code}")
    else:
        words.append(f"code:{group.code}")
    return " ".join(words)


def why_not_rerun(group: FailureGroup) -> str | None:
    """Why ``r`` cannot rerun ``group``, and what can be done instead; None when it can try (only inbound
    action calls are rerun)."""
    if group.side == "script":
        return ("script runs are not rerun: open a failed run (enter) and press r to replay its trigger "
                "event through the script")
    if group.side == "hook":
        return ("webhook deliveries are replayed from their trigger events: open the calls (enter), then a "
                "call's trigger event, and press r there")
    if group.side == "poll":
        return ("trigger polls are not rerun: the hub polls again on its interval, and a service's "
                "notification makes it poll at once; enter shows the polls and what the service answered")
    if group.side == "out":
        return ("these are the hub's own calls to a service: rerun the inbound calls they failed (their "
                "in←out group), or enter to read what the service answered")
    if group.op not in ("action", ""):
        return (f"only action runs are rerun, and these are {group.op} calls: their callers repeat them; "
                "enter shows them")
    return None


class FailureTable(RowTable):
    BINDINGS = bindings("FailureTable")
    COLUMNS = (Column("count", "count", 6, right=True), Column("dir", "side", 6), Column("code", "code", 17),
               Column("connection", "connection", 14), Column("feature", "feature", 10),
               Column("last", "last_seen", 8), Column("op", "op", 16, flexible=True),
               Column("first", "first_seen", 11, optional=True),
               Column("what it means", "meaning", 20, flexible=True, optional=True))
    """Which way, the code and where first: at 80 columns first seen and what the code means are left out."""

    class Chosen(Message):
        def __init__(self, group: FailureGroup, rerun: bool) -> None:
            super().__init__()
            self.group, self.rerun = group, rerun

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.groups: dict[str, FailureGroup] = {}
        """By row key (each group's filter), so that the row under the cursor finds its group in any sort."""

    def show(self, groups: list[FailureGroup]) -> None:
        self.groups = {group_filter(group): group for group in groups}
        zone = zone_of(self.app)
        self.set_rows([_row(group, zone) for group in groups])

    def _chosen(self, rerun: bool) -> None:
        group = self.groups.get(self.cursor_key) if self.cursor_key is not None else None
        if group is not None:
            self.post_message(self.Chosen(group, rerun))

    def action_show_failures(self) -> None:
        self._chosen(False)

    def action_rerun_failures(self) -> None:
        self._chosen(True)


def _row(group: FailureGroup, zone: tzinfo) -> Row:
    return Row(group_filter(group), (
        Cell(f"{group.count:,}", "error"), Cell(group.side), Cell.of(group.answer, "error"), Cell.of(group.connection_id),
        Cell.of(group.feature_id), Cell(clock_time(group.last_seen, zone)), Cell.of(group.op_id or group.kind),
        Cell(day_and_minute(group.first_seen, zone)), Cell.of(group.meaning, "muted"),
    ), (group.count, group.side, group.answer, group.connection_id, group.feature_id, group.last_seen,
        group.op_id or group.kind, group.first_seen, group.meaning))
