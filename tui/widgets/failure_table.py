"""Failures grouped into issues: identical failures (same connection, feature, operation and code) as
one row with how many, first and last seen — a storm of 10,000 503s is one line. Enter shows the
group's calls in the API log; ``r`` reruns them."""

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from store.failures import FailureGroup
from tui.actions import bindings
from tui.text import printable

COLUMNS = (("count", 7), ("last seen", 9), ("first seen", 11), ("connection", 16), ("feature", 10),
           ("op", 20), ("code", 16), ("what it means", 40))


def group_filter(group: FailureGroup) -> str:
    """The filter language for the group's records."""
    words = [f"kind:{group.kind}", f"conn:{group.connection_id}", f"feature:{group.feature_id}"]
    if group.op_id:
        words.append(f"op:{group.op_id}")
    if group.kind == "api_call":
        words.append(f"dir:{group.direction}")
        words.append(f"code:{group.error_code}" if group.error_code else f"status:{group.code}")
    else:
        words.append(f"code:{group.code}")
    return " ".join(words)


class FailureTable(DataTable[Text]):
    BINDINGS = bindings("FailureTable")

    class Chosen(Message):
        def __init__(self, group: FailureGroup, rerun: bool) -> None:
            super().__init__()
            self.group, self.rerun = group, rerun

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.groups: list[FailureGroup] = []

    def on_mount(self) -> None:
        for title, width in COLUMNS:
            self.add_column(title, key=title, width=width)

    def show(self, groups: list[FailureGroup]) -> None:
        if groups == self.groups:
            return
        row = self.cursor_row
        self.groups = groups
        self.clear()
        for group in groups:
            code = group.code if group.kind == "script_run" else f"{group.code} {group.error_code}".strip()
            self.add_row(
                Text(f"{group.count:,}", justify="right", style="bold red"), Text(group.last_seen[11:19]),
                Text(group.first_seen[5:16].replace("T", " ")), Text(printable(group.connection_id)),
                Text(printable(group.feature_id)), Text(printable(group.op_id or group.kind)),
                Text(printable(code), style="red"), Text(printable(group.meaning), style="dim"),
            )
        if groups:
            self.move_cursor(row=min(row, len(groups) - 1))

    def _chosen(self, rerun: bool) -> None:
        if self.groups and 0 <= self.cursor_row < len(self.groups):
            self.post_message(self.Chosen(self.groups[self.cursor_row], rerun))

    def action_show_failures(self) -> None:
        self._chosen(False)

    def action_rerun_failures(self) -> None:
        self._chosen(True)
