"""Rerun everything a filter shows (``R``): the hub's dry-run count first, then a reason for the audit,
then a confirmation, then a progress bar while the hub works through the bulk, and the per-item results.
The bulk is bound to the count (``plan_bound``): it runs the calls counted and confirmed, none that
failed since. Escape cancels the bulk on the hub (what has not started does not run) and reports what
ran."""

from typing import Any
import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, ProgressBar, Static

from switchroom.protocol.ops import MAX_REASON_CHARS
from switchroom.tui.actions import bindings
from switchroom.tui.http import HubUnreachable
from switchroom.tui.ops_client import BulkProgress, OpsClient, cancel_request, new_idempotency_key, plan_bound
from switchroom.tui.ops_texts import counts_text, item_text, plan_text, rerun_question
from switchroom.tui.screens.confirm import ConfirmScreen
from switchroom.tui.screens.rerun_frame import RerunFrame
from switchroom.tui.text import printable
from switchroom.tui.tones import ERROR
from switchroom.tui.widgets.toned_text import TonedText

POLL_SECONDS = 0.5
SHOWN_ITEMS = 200


class BulkRerun(RerunFrame):
    DEFAULT_CSS = """
    BulkRerun #bulk-title { text-style: bold; }
    BulkRerun #bulk-items { height: 1fr; overflow-y: auto; }
    BulkRerun #bulk-keys { color: $text-muted; }
    BulkRerun #bulk-reason { display: none; }
    BulkRerun.asking #bulk-reason { display: block; }
    """
    BINDINGS = bindings("BulkRerun")  # keys from tui/actions.py

    def __init__(self, filter_text: str, client: OpsClient) -> None:
        super().__init__()
        self.filter_text, self.client = filter_text, client
        self.idempotency_key = new_idempotency_key()
        self.plan: dict[str, Any] = {}
        self.progress: BulkProgress | None = None
        self.items: list[dict[str, Any]] = []
        """Every item result so far, in the order the hub ran them."""
        self.state = "planning"
        self.final: dict[str, Any] | None = None
        """How the bulk ended: its last counts, with every item result."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield TonedText(Text("Rerun everything the filter shows"), id="bulk-title")
            yield Static(id="bulk-plan")
            yield Input(placeholder="reason, kept in the audit (enter to go on)", id="bulk-reason",
                        max_length=MAX_REASON_CHARS)
            yield ProgressBar(id="bulk-progress", show_eta=True)
            yield Static(id="bulk-counts")
            yield Static(id="bulk-items")
            yield Static(Text("escape cancels the bulk (what has not started does not run), or closes"), id="bulk-keys")

    def on_mount(self) -> None:
        self._count()

    def _show(self, widget_id: str, text: str, style: str = "") -> None:
        literal = "\n".join(printable(line) for line in text.splitlines())
        self.query_one(widget_id, Static).update(Text(literal, style=style))

    @work(exclusive=True, group="bulk")
    async def _count(self) -> None:
        """The dry run; then the reason is asked for."""
        try:
            plan = await self.client.rerun({"filter": self.filter_text, "dry_run": True}, None)
        except HubUnreachable as exc:
            return self._finish(str(exc))
        if not plan.ok:
            return self._finish(f"Refused: {plan.message}")
        self.plan = plan.body
        self._show("#bulk-plan", self._plan_text())
        if not int(plan.body.get("count", 0)):
            return self._finish("Nothing to rerun.")
        self.state = "asking"
        self.add_class("asking")
        self.query_one("#bulk-reason", Input).focus()

    @on(Input.Submitted, "#bulk-reason")
    def _reason_given(self, submitted: Input.Submitted) -> None:
        if self.state == "asking":
            self.state = "confirming"
            self.remove_class("asking")
            self._confirm_and_start(submitted.value.strip())

    @work(exclusive=True, group="bulk")
    async def _confirm_and_start(self, reason: str) -> None:
        count = int(self.plan.get("count", 0))
        detail = self._plan_text() + (f"\nreason: {reason}" if reason else "\nno reason given")
        confirm = ConfirmScreen(rerun_question(count), detail, yes=f"rerun {count:,} calls")
        if not await self.app.push_screen_wait(confirm):
            return self._finish("Not run.")
        try:
            started = await self.client.rerun({"filter": self.filter_text, "reason": reason, **plan_bound(self.plan)},
                                              self.idempotency_key)
            if not started.ok:
                return self._finish(f"Refused: {started.message}")
            if not isinstance(started.body.get("id"), str):
                return self._finish("The hub started no bulk it names (its answer has no id).")
            self.progress, self.state = BulkProgress(started.body["id"]), "running"
            await self._follow(self.progress)
        except HubUnreachable as exc:
            self._finish(str(exc))

    def _plan_text(self) -> str:
        return f"filter: {self.filter_text}\n{plan_text(self.plan)}"

    async def _follow(self, progress: BulkProgress) -> None:
        bar = self.query_one(ProgressBar)
        while True:
            self.items += progress.take(await self.client.send(progress.poll()))
            self._show_progress(progress.status, bar)
            if not progress.running:
                self.final = {**progress.status, "items": self.items}
                return self._finish(f"Bulk {progress.status.get('state')}.")
            await asyncio.sleep(POLL_SECONDS)

    def _show_progress(self, status: dict[str, Any], bar: ProgressBar) -> None:
        bar.update(total=max(1, int(status.get("total") or 0)), progress=int(status.get("done") or 0))
        self._show("#bulk-counts", counts_text(status))
        self._show("#bulk-items", "\n".join(item_text(item) for item in self.items[-SHOWN_ITEMS:]))

    def _finish(self, message: str) -> None:
        self.state = "done"
        self._show("#bulk-title", message + " Escape closes.", "bold")

    async def action_stop(self) -> None:
        if self.state == "running" and self.progress is not None:
            self.state = "cancelling"
            try:
                cancelled = await self.client.send(cancel_request(self.progress.bulk_id))
                self._show("#bulk-title", f"Cancelled after {cancelled.body.get('done', 0):,} of "
                                          f"{cancelled.body.get('total', 0):,}. Escape closes.", "bold")
            except HubUnreachable as exc:
                self._show("#bulk-title", str(exc), ERROR)
            return
        if self.state != "cancelling":
            self.dismiss(None)

