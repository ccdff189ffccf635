"""The Switchroom dashboard app: panes over the local cache, fed by the replicator."""

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
import asyncio
import importlib
import os
import time

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.notifications import SeverityLevel
from textual.widgets import ContentSwitcher, Static

from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN, TRIGGER_EVENT
from switchroom.store import iso_timestamp
from switchroom.store.analytics.breakdowns import breakdowns
from switchroom.store.filters import FilterError, RecordFilter
from switchroom.themes import APP_CSS, load_themes
from switchroom.tui.actions import APP, bindings
from switchroom.tui.alerts import ErrorRateAlert
from switchroom.tui.commands import ActionCommands
from switchroom.tui.cache import Cache, CacheClosed
from switchroom.tui import known_hubs
from switchroom.tui.config import Config, config_path, themes_dir
from switchroom.tui.definitions import Definitions
from switchroom.tui.export import export_records
from switchroom.tui.indexing import IndexRunner
from switchroom.tui.pane_summaries import FirstRead, PaneSummaries, indexed, pane_summaries, read_first_screen
from switchroom.tui.panes import PANES
from switchroom.tui.link import LinkState
from switchroom.tui.screens.help import HelpScreen
from switchroom.tui.http import HubUnreachable
from switchroom.tui.ops_client import OpsClient, new_idempotency_key
from switchroom.tui.screens.bulk_rerun import BulkRerun
from switchroom.tui.screens.confirm import ConfirmScreen
from switchroom.tui.screens.connection_definition import ConnectionDefinition
from switchroom.tui.screens.record_detail import RecordDetail
from switchroom.tui.screens.rerun_dialog import RerunDialog
from switchroom.tui.text import printable
from switchroom.tui.view_state import ViewState
from switchroom.tui.widgets.breakdown_view import BreakdownView
from switchroom.tui.widgets.connections_table import ConnectionsTable
from switchroom.tui.widgets.failure_table import FailureTable, group_filter, why_not_rerun
from switchroom.tui.widgets.filter_bar import FilterBar
from switchroom.tui.widgets.key_hints import KeyHints
from switchroom.tui.widgets.pane_tabs import PaneTabs
from switchroom.tui.widgets.log_view import LogView
from switchroom.tui.widgets.record_list import RecordList
from switchroom.tui.widgets.rerun_list import RerunList
from switchroom.tui.widgets.script_list import ScriptRunList
from switchroom.tui.widgets.script_summary import ScriptSummary
from switchroom.tui.widgets.status_line import IngestRate, StatusLine
from switchroom.tui.widgets.trigger_list import TriggerList

if TYPE_CHECKING:
    from switchroom.tui.replication import Replicator

REFRESH_SECONDS = 0.25
SUMMARY_SECONDS = 2.0
"""How often the summaries (breakdowns, connection stats, failure groups) are read again."""
RETENTION_SECONDS = 30.0
FACTS_SECONDS = 30.0
"""How often the hub is asked again for each connection's features and enabled users."""
ALERT_SECONDS = 5.0


class SwitchroomApp(App[None]):
    TITLE = "Switchroom"
    CSS_PATH = str(APP_CSS)
    BINDINGS = bindings(APP)  # every key comes from tui/actions.py; the user's [keys] rebind them
    COMMANDS = {ActionCommands}

    def __init__(self, hub_url: str, token: str, cache_dir: Path, hub_key: str | None = None,
                 config: Config | None = None, first_read: FirstRead | None = None) -> None:
        """``hub_key`` names the hub in the cache index (default: its URL), so its cache can be found
        when it is gone. ``first_read``: that cache and its first screen's summaries, when the caller
        started reading them before importing this module (``tui.pane_summaries.read_first_screen``)."""
        # NO_COLOR: Textual then strips every colour; in ANSI mode it keeps the terminal's own (not grey)
        super().__init__(ansi_color=True if os.environ.get("NO_COLOR") is not None else None)
        self.config = config or Config()
        for theme in load_themes(themes_dir()).values():
            self.register_theme(theme)
        self.theme = self.config.theme
        self.key_map = self.config.keymap
        self.set_keymap(self.key_map.textual_keymap())
        self.hub_url = hub_url
        self.cache_dir = cache_dir
        self.hub_key = hub_key or known_hubs.hub_key(hub_url)
        self.token = token
        self.replicator: Replicator | None = None
        """Made once the first screen is shown (``_replicate``)."""
        self._cache: Cache | None = None
        self._first_screen = asyncio.Event()
        self.link = LinkState("connecting")
        self.ingest_rate = IngestRate()
        self.view = ViewState()
        first_read = first_read or read_first_screen(cache_dir, self.hub_key)
        self._known_cache = first_read.cache if first_read else None
        """The cache of this hub from an earlier run, if there is one: browsable at once, hub or no hub."""
        self._first_summaries = first_read.summaries if first_read else None
        """The first screen's summaries, read while Textual starts (the hub has not answered yet)."""
        self.alert = ErrorRateAlert(self.config.alert.error_rate, self.config.alert.min_calls)
        self.indexer: IndexRunner | None = None
        self.bad_records = 0
        """Records of the wrong shape in the cache, as the summaries last counted them."""
        self.counting_sign = ""
        """``counting n / m`` while the summaries on screen leave out records the cache holds; else ''."""
        self._dirty = True
        self._summarised_at = 0.0
        self._summaries_due = True
        # The panes' widgets, made here so that replicator callbacks can reach them at any moment,
        # also while the app is still composing or already shutting down.
        self.definitions = Definitions(hub_url, token, cache_dir)
        self.ops = OpsClient(hub_url, token)
        self.log_view = LogView(id="log-view")
        self.script_list = ScriptRunList(id="script-list")
        self.trigger_list = TriggerList(id="trigger-list")
        self.rerun_list = RerunList(id="rerun-list")
        self.lists: dict[str, RecordList] = {"logs": self.log_view, "scripts": self.script_list,
                                             "triggers": self.trigger_list, "reruns": self.rerun_list}
        """Each pane's list of records, by pane id."""
        self.headers = {pane: Static(classes="list-header") for pane in self.lists}
        for pane, header in self.headers.items():
            self.lists[pane].header = header
        self.script_summary = ScriptSummary(id="script-summary")
        self.breakdown_view = BreakdownView(id="breakdown")
        self.current_pane = PANES[0].id
        self.connections_table = ConnectionsTable(id="connections-table")
        self.failure_table = FailureTable(id="failure-table")
        self.filter_bar = FilterBar(id="filter-bar")
        self.title_line = Static(Text("Switchroom"), id="title")
        self.alert_banner = Static(id="alert-banner")
        self.status_line = StatusLine(id="status-line")
        self.pane_tabs = PaneTabs([(pane.id, self.key_map.label(f"show_pane_{n}"), pane.title)
                                   for n, pane in enumerate(PANES, start=1)], PANES[0].id, id="pane-tabs")

    @property
    def cache(self) -> Cache | None:
        return self._cache

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast is literal, whoever asks (widgets' ``notify`` comes here too, asking for markup):
        toasts quote the hub (refusals, ids), and markup in them would crash the app (``[/]``) or act
        (``[@click=app.quit]``)."""
        super().notify(printable(message), title=printable(title), severity=severity, timeout=timeout,
                       markup=False)

    def compose(self) -> ComposeResult:
        yield self.title_line
        yield self.alert_banner
        yield self.pane_tabs
        with ContentSwitcher(initial="connections"):
            with Vertical(id="connections"):
                yield self.connections_table
                yield Static(Text("Failures, grouped · tab here · enter: show them · r: rerun an in group"),
                             classes="list-header")
                yield self.failure_table
            with Vertical(id="logs"):
                yield self.breakdown_view
                yield self.headers["logs"]
                yield self.log_view
            with Vertical(id="scripts"):
                yield self.script_summary
                yield self.headers["scripts"]
                yield self.script_list
            with Vertical(id="triggers"):
                yield self.headers["triggers"]
                yield self.trigger_list
            with Vertical(id="reruns"):
                yield self.headers["reruns"]
                yield self.rerun_list
        yield self.filter_bar
        yield self.status_line
        yield KeyHints(self.key_map)

    def on_mount(self) -> None:
        if self._known_cache is not None:
            self._on_cache(self._known_cache)
            self._show_early_summaries()
        else:
            self._first_screen.set()  # nothing to show before the hub has answered
        self.run_worker(self._replicate(), name="replicator", group="replicator")
        self.set_interval(REFRESH_SECONDS, self._refresh_views)
        self.set_interval(RETENTION_SECONDS, self._apply_retention)
        self.set_interval(ALERT_SECONDS, self._check_alert)
        self.set_interval(FACTS_SECONDS, self._ask_for_facts)
        self._show_status()
        self._show_title()

    async def _replicate(self) -> None:
        """Copy the hub's streams into the cache, from the moment the first screen is shown.

        The replicator's modules (websockets, httpx, pydantic) take a quarter second to import; a
        thread imports them, so that neither the first screen nor the keys wait for them.
        """
        await self._first_screen.wait()
        replication = await asyncio.to_thread(importlib.import_module, "switchroom.tui.replication")
        self.replicator = replication.Replicator(
            self.hub_url, self.token, self.cache_dir, self._on_cache, self._on_ingest, self._on_link,
            known_hubs.known_hub_id(self.cache_dir, self.hub_key), streams=("logs", "triggers"), cache=self._cache)
        await self.replicator.run()

    def on_unmount(self) -> None:
        if self.indexer is not None:
            self.indexer.stop()

    def on_resize(self) -> None:
        self._show_headers(layout=True)

    def _show_headers(self, layout: bool = False) -> None:
        for pane, header in self.headers.items():
            header.update(Text(self.lists[pane].header_text()), layout=layout)

    def on_record_list_chosen(self, message: RecordList.Chosen) -> None:
        if self.cache is not None:
            self.push_screen(RecordDetail(message.record, self.cache, self.definitions))

    def on_record_list_rerun_asked(self, message: RecordList.RerunAsked) -> None:
        record = message.record
        if record.get("kind") in (SCRIPT_RUN, TRIGGER_EVENT):
            self._replay(record)
        elif record.get("kind") != API_CALL or record.get("op") != "action":
            self.notify("Only action calls are rerun (and trigger events replayed); pick a failed action, "
                        "a script run or a trigger event.", severity="warning")
        elif self.cache is not None:
            self.push_screen(RerunDialog(record, self.cache, self.ops))

    @work(group="replay")
    async def _replay(self, record: dict[str, Any]) -> None:
        """Replay the trigger event of a script run (or the event itself) through its delivery, once."""
        seq = record.get("trigger_event_id") if record.get("kind") == SCRIPT_RUN else record.get("seq")
        if not isinstance(seq, int):
            self.notify("This run has no trigger event to replay.", severity="warning")
            return
        key = new_idempotency_key()
        question = ConfirmScreen(f"Replay trigger event #{seq}?", f"{record.get('connection_id', '')}: its script "
                                 "(or webhook) runs again with the same ingredients", yes="replay it")
        if not await self.push_screen_wait(question):
            return
        try:
            answer = await self.ops.replay({"trigger_event_id": seq, "reason": "replayed from the dashboard"}, key)
        except HubUnreachable as exc:
            self.notify(str(exc), severity="error")
            return
        if answer.ok:
            self.notify(f"Replayed #{seq}: {answer.body.get('outcome')} ({answer.body.get('delivered_to', '')})")
        else:
            self.notify(f"Not replayed: {answer.message}", severity="warning")

    def action_rerun_all(self) -> None:
        filter_text = self.view.filter_language("logs" if self.current_pane == "connections" else self.current_pane)
        if not filter_text:
            self.notify("Set a filter first (/): R reruns the failed actions it shows.", severity="warning")
            return
        self.push_screen(BulkRerun(filter_text, self.ops))

    # -- focus, filters, window, export --------------------------------------------------------------

    def on_connections_table_focused(self, message: ConnectionsTable.Focused) -> None:
        self.view.focus(message.connection_id)
        self._apply_filters()
        self.action_show_pane("logs")

    def on_connections_table_definition_asked(self, message: ConnectionsTable.DefinitionAsked) -> None:
        if self.cache is not None and not isinstance(self.screen, ConnectionDefinition):
            self.push_screen(ConnectionDefinition(message.connection_id, self.cache.hub_id, self.definitions))

    def action_clear_focus(self) -> None:
        if self.view.connection_id is not None:
            self.view.focus(None)
            self._apply_filters()

    def on_failure_table_chosen(self, message: FailureTable.Chosen) -> None:
        text = group_filter(message.group)
        if message.rerun and (why := why_not_rerun(message.group)):
            self.notify(f"Not rerun: {why}.", severity="warning")
            return
        if message.rerun:
            self.push_screen(BulkRerun(text, self.ops))
            return
        pane = "scripts" if message.group.kind == SCRIPT_RUN else "logs"
        self.view.filters[pane] = text
        self._apply_filters()
        self.action_show_pane(pane)

    def on_breakdown_view_code_chosen(self, message: BreakdownView.CodeChosen) -> None:
        self.view.filters["logs"] = message.choice.filter_text()
        self._apply_filters()
        self.log_view.focus()

    def action_filter(self) -> None:
        pane = "logs" if self.current_pane == "connections" else self.current_pane
        if pane != self.current_pane:
            self.action_show_pane(pane)
        self.filter_bar.open(pane, self.view.filters.get(pane, ""), self.view.base(self.lists[pane].KIND))

    def on_filter_bar_applied(self, message: FilterBar.Applied) -> None:
        self.view.filters[message.pane] = message.text
        self._apply_filters()
        self.lists[message.pane].focus()

    def on_filter_bar_closed(self) -> None:
        (self.lists.get(self.current_pane) or self.connections_table).focus()

    def _apply_filters(self) -> None:
        """Give every list the filter its pane now has (its own words and the connection in focus)."""
        for pane, records in self.lists.items():
            try:
                records.set_filter(self.view.record_filter(pane, records.KIND))
            except FilterError as exc:  # a pane's filter that no longer parses: shown, and dropped
                self.view.filters.pop(pane, None)
                self.notify(f"{pane} filter dropped: {exc}", severity="warning")
                records.set_filter(self.view.record_filter(pane, records.KIND))
        self._summarised_at = 0.0
        self._dirty = True
        self._show_title()

    def action_time_window(self) -> None:
        self.view.next_window()
        self._summarised_at = 0.0
        self._dirty = True
        self._show_title()

    def action_export(self, suffix: str = "jsonl") -> None:
        records = self.lists.get(self.current_pane, self.log_view)
        pane = next(p for p, r in self.lists.items() if r is records)
        record_filter = records.record_filter or self.view.base(records.KIND)
        path = self.config.export.directory / f"switchroom-{pane}-{time.strftime('%Y%m%dT%H%M%S')}.{suffix}"
        self.run_worker(partial(self._export, record_filter, path), group="export")

    def action_export_csv(self) -> None:
        self.action_export("csv")

    async def _export(self, record_filter: RecordFilter, path: Path) -> None:
        if self.cache is None:
            return
        try:
            count, written = await self.cache.summarise(lambda log: export_records(log, record_filter, path))
        except OSError as exc:
            self.notify(f"Export failed: {exc}", severity="error")
            return
        self.notify(f"Exported {count:,} records to {written}")

    def _show_title(self) -> None:
        # the connection in focus is the hub's id, the filter the operator's words: both shown as they are
        self.title_line.update(Text(printable(self.view.breadcrumb(self.current_pane, self.counting_sign))),
                               layout=False)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_map, str(config_path())))

    def action_show_pane(self, pane: str) -> None:
        self.query_one(ContentSwitcher).current = pane
        self.current_pane = pane
        self.pane_tabs.show(pane)
        (self.lists.get(pane) or self.connections_table).focus()
        self._summarised_at = 0.0
        # read once the pane is laid out: a list needs its height to know which rows to read
        self.call_after_refresh(self.run_worker, partial(self._show_pane_contents, pane), group="pane", exclusive=True)
        self._show_headers()
        self._show_title()

    # -- replicator callbacks (called on the app's event loop) -------------------------------------

    def _on_cache(self, cache: Cache) -> None:
        self._cache = cache
        for note in cache.take_notes():  # a damaged cache set aside, or its derived file built again
            self.notify(note, severity="warning", markup=False, timeout=30)
        known_hubs.remember_hub(self.cache_dir, self.hub_key, cache.hub_id)
        if self.indexer is not None:
            self.indexer.stop()
        self.indexer = IndexRunner(cache.path, on_progress=self._on_indexed)
        self.run_worker(self._start_indexer(self.indexer), group="indexer")
        for records in self.lists.values():
            records.set_cache(cache)
        self._apply_filters()
        self._dirty = True
        self.call_later(self._refresh_views)  # the first screen, without waiting for the refresh timer
        self._ask_for_facts()

    async def _start_indexer(self, indexer: IndexRunner) -> None:
        """Start the indexer's process once the first screen is up: starting it takes the time of a
        Python start-up, which the first screen would otherwise share the two cores with."""
        await self._first_screen.wait()
        if indexer is self.indexer:  # not already replaced by another cache's
            await asyncio.to_thread(indexer.start)

    def _on_indexed(self, cursor: int) -> None:
        """Called on the indexer's thread: the summaries have moved on."""
        self._dirty = True

    def _on_ingest(self, added: int, through_seq: int) -> None:
        self.ingest_rate.add(added)
        if added:
            self._dirty = True
            if self.indexer is not None:
                self.indexer.wake()

    def _on_link(self, link: LinkState) -> None:
        if link.name == "live" and self.link.name != "live":
            self._ask_for_facts()  # users may have enabled or disabled connections meanwhile
        self.link = link
        self._show_status()

    def _ask_for_facts(self) -> None:
        self.run_worker(self._show_facts(), group="facts", exclusive=True)

    async def _show_facts(self) -> None:
        """Each connection's features and enabled users, from the hub (as last saved while it is away),
        once the first screen is up: asking loads the HTTP client, which the first screen does not wait for."""
        await self._first_screen.wait()
        await asyncio.to_thread(importlib.import_module, "httpx")
        if self.cache is not None:
            self.connections_table.show_facts(await self.definitions.facts(self.cache.hub_id))

    # -- refreshing ---------------------------------------------------------------------------------

    async def _refresh_views(self) -> None:
        """Redraw from the cache at most a few times a second, however fast records arrive."""
        self._show_status()
        if self.cache is None:
            return
        if self._dirty:
            self._summaries_due = True
        elif not (self._summaries_due and time.monotonic() - self._summarised_at >= SUMMARY_SECONDS):
            return
        self._dirty = False
        try:
            await self._refresh_pane(self.current_pane)
        except CacheClosed:  # the replicator has just opened another cache: the next refresh reads it
            self._dirty = True
            return
        self._show_headers()
        self._show_status()
        self._first_screen.set()

    async def _show_pane_contents(self, pane: str) -> None:
        if self.cache is not None:
            try:
                await self._refresh_pane(pane)
            except CacheClosed:
                self._dirty = True

    async def _refresh_pane(self, pane: str) -> None:
        """Re-read what the pane on screen shows; the others are read when they are shown. Its list
        follows every change; its summaries at most every ``SUMMARY_SECONDS``."""
        assert self.cache is not None
        records = self.lists.get(pane)
        if records is not None:
            await records.reload()
        if time.monotonic() - self._summarised_at < SUMMARY_SECONDS:
            return  # read at a later refresh: _summaries_due stays set
        self._summarised_at, self._summaries_due = time.monotonic(), False
        live, focus = self.link.name == "live", self.view.connection_id
        # One read on the summaries' thread for all a pane shows: each read waits for the event loop to
        # take its answer, which at start-up (or under a stream of records) is what takes the time.
        first, self._first_summaries = self._first_summaries, None
        if first is not None and (pane, live, focus) == (PANES[0].id, False, None):
            summaries = await asyncio.wrap_future(first)
        else:
            summaries = await self.cache.summarise(lambda log: pane_summaries(log, self.view, pane, live, focus))
        self._show_summaries(summaries)

    def _show_early_summaries(self) -> None:
        """Show the first screen's summaries at once if they were read while Textual started, so that its
        first paint (the slowest: everything in it is new) has them, instead of a second paint."""
        first = self._first_summaries
        if first is not None and first.done() and first.exception() is None:
            self._first_summaries, self._summarised_at, self._summaries_due = None, time.monotonic(), False
            self._show_summaries(first.result())

    def _show_summaries(self, summaries: PaneSummaries) -> None:
        self.bad_records = summaries.bad_records
        sign = summaries.counting.sign()
        if summaries.window_end != self.view.window_end or sign != self.counting_sign:
            self.view.window_end, self.counting_sign = summaries.window_end, sign
            self._show_title()
        if summaries.connections is not None:
            self.connections_table.show(summaries.connections)
        if summaries.failures is not None:
            self.failure_table.show(summaries.failures)
        if summaries.breakdowns is not None:
            self.breakdown_view.show(summaries.breakdowns, sign)
        if summaries.scripts is not None:
            self.script_summary.show(summaries.scripts)

    async def _check_alert(self) -> None:
        if self.cache is None or self.cache.closed:
            return
        since = iso_timestamp(datetime.now(UTC) - timedelta(minutes=self.config.alert.window_minutes))
        try:
            latest = await self.cache.summarise(
                lambda log: breakdowns(log, since, direction="inbound") if indexed(log) else [])
        except CacheClosed:
            return
        if self.alert.update(latest):
            self.bell()
        self.alert_banner.display = bool(self.alert.alerting)
        if self.alert.alerting:
            self.alert_banner.update(Text(printable(self.alert.banner(f"{self.config.alert.window_minutes} min"))))

    async def _apply_retention(self) -> None:
        if self.cache is not None and not self.cache.closed and await self.cache.trim(self.config.cache):
            for records in self.lists.values():
                records.recount()
            self._dirty = True

    def _show_status(self) -> None:
        shown = self.lists.get(self.current_pane)
        counted = (f"{shown.total:,} {shown.NOUN}" if shown is not None
                   else f"{self.connections_table.row_count:,} connections")
        self.status_line.show(self.hub_url, self.link, self.ingest_rate.per_second(), counted,
                              self.replicator.bad_frames if self.replicator else 0, shown is None or shown.follow,
                              self.bad_records, self.replicator.catching_up() if self.replicator else None)
