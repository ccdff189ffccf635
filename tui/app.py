"""The Switchroom dashboard app: panes over the local cache, fed by the replicator."""

from pathlib import Path
import os

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, Static

from store import connection_counts
from store.queries import script_summary
from themes import APP_CSS, load_themes
from tui.actions import APP, bindings
from tui.commands import ActionCommands
from tui.cache import Cache, CacheClosed
from tui import known_hubs
from tui.config import Config, config_path, themes_dir
from tui.definitions import Definitions
from tui.panes import PANES
from tui.replication import LinkState, Replicator
from tui.screens.help import HelpScreen
from tui.ops_client import OpsClient
from tui.screens.bulk_rerun import BulkRerun
from tui.screens.record_detail import RecordDetail
from tui.screens.rerun_dialog import RerunDialog
from tui.widgets.connections_table import ConnectionsTable
from tui.widgets.key_hints import KeyHints
from tui.widgets.pane_tabs import PaneTabs
from tui.widgets.log_view import LogView
from tui.widgets.record_list import RecordList
from tui.widgets.rerun_list import RerunList
from tui.widgets.script_list import ScriptRunList
from tui.widgets.script_summary import ScriptSummary
from tui.widgets.status_line import IngestRate, StatusLine
from tui.widgets.trigger_list import TriggerList

REFRESH_SECONDS = 0.25
RETENTION_SECONDS = 30.0


class SwitchroomApp(App[None]):
    TITLE = "Switchroom"
    CSS_PATH = str(APP_CSS)
    BINDINGS = bindings(APP)  # every key comes from tui/actions.py; the user's [keys] rebind them
    COMMANDS = {ActionCommands}

    def __init__(self, hub_url: str, token: str, cache_dir: Path, hub_key: str | None = None,
                 config: Config | None = None) -> None:
        """``hub_key`` names the hub in the cache index (default: its URL), so its cache can be found
        when it is gone."""
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
        self.replicator = Replicator(hub_url, token, cache_dir, self._on_cache, self._on_ingest, self._on_link,
                                     known_hubs.known_hub_id(cache_dir, self.hub_key), streams=("logs", "triggers"))
        self.link = LinkState("connecting")
        self.ingest_rate = IngestRate()
        self._dirty = True
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
        self.script_summary = ScriptSummary(id="script-summary")
        self.current_pane = PANES[0].id
        self.connections_table = ConnectionsTable(id="connections-table")
        self.status_line = StatusLine(id="status-line")
        self.pane_tabs = PaneTabs([(pane.id, self.key_map.label(f"show_pane_{n}"), pane.title)
                                   for n, pane in enumerate(PANES, start=1)], PANES[0].id, id="pane-tabs")

    @property
    def cache(self) -> Cache | None:
        return self.replicator.cache

    def compose(self) -> ComposeResult:
        yield Static(Text("Switchroom"), id="title")
        yield self.pane_tabs
        with ContentSwitcher(initial="connections"):
            with Vertical(id="connections"):
                yield self.connections_table
            with Vertical(id="logs"):
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
        yield self.status_line
        yield KeyHints(self.key_map)

    def on_mount(self) -> None:
        self.run_worker(self.replicator.run(), name="replicator", group="replicator")
        self.set_interval(REFRESH_SECONDS, self._refresh_views)
        self.set_interval(RETENTION_SECONDS, self._apply_retention)
        self._show_status()

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
        if record.get("kind") != "api_call" or record.get("op") != "action":
            self.notify("Only action calls are rerun; pick a failed action in the API log or a script's calls.",
                        severity="warning")
        elif self.cache is not None:
            self.push_screen(RerunDialog(record, self.cache, self.ops))

    def action_rerun_all(self) -> None:
        filter_text = self.pane_filter_text()
        if not filter_text:
            self.notify("Set a filter first (/): R reruns the failed actions it shows.", severity="warning")
            return
        self.push_screen(BulkRerun(filter_text, self.ops))

    def pane_filter_text(self) -> str:
        """The filter of the pane on screen, in the filter language ('' for none)."""
        return ""

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_map, str(config_path())))

    def action_show_pane(self, pane: str) -> None:
        self.query_one(ContentSwitcher).current = pane
        self.current_pane = pane
        self.pane_tabs.show(pane)
        (self.lists.get(pane) or self.connections_table).focus()
        self.run_worker(self._show_pane_contents(pane), group="pane", exclusive=True)
        self._show_headers()

    # -- replicator callbacks (called on the app's event loop) -------------------------------------

    def _on_cache(self, cache: Cache) -> None:
        known_hubs.remember_hub(self.cache_dir, self.hub_key, cache.hub_id)
        for records in self.lists.values():
            records.set_cache(cache)
        self._dirty = True

    def _on_ingest(self, added: int, through_seq: int) -> None:
        self.ingest_rate.add(added)
        if added:
            self._dirty = True

    def _on_link(self, link: LinkState) -> None:
        self.link = link
        self._show_status()

    # -- refreshing ---------------------------------------------------------------------------------

    async def _refresh_views(self) -> None:
        """Redraw from the cache at most a few times a second, however fast records arrive."""
        self._show_status()
        if not self._dirty or self.cache is None:
            return
        self._dirty = False
        try:
            await self._refresh_pane(self.current_pane)
        except CacheClosed:  # the replicator has just opened another cache: the next refresh reads it
            self._dirty = True
            return
        self._show_headers()
        self._show_status()

    async def _show_pane_contents(self, pane: str) -> None:
        if self.cache is not None:
            try:
                await self._refresh_pane(pane)
            except CacheClosed:
                self._dirty = True

    async def _refresh_pane(self, pane: str) -> None:
        """Re-read what the pane on screen shows; the others are read when they are shown."""
        assert self.cache is not None
        records = self.lists.get(pane)
        if records is not None:
            await records.reload()
        if pane == "connections":
            self.connections_table.show(await self.cache.summarise(connection_counts))
        elif pane == "scripts":
            self.script_summary.show(await self.cache.summarise(script_summary))

    async def _apply_retention(self) -> None:
        if self.cache is not None and not self.cache.closed and await self.cache.trim(self.config.cache):
            for records in self.lists.values():
                records.recount()
            self._dirty = True

    def _show_status(self) -> None:
        shown = self.lists.get(self.current_pane, self.log_view)
        self.status_line.show(
            self.hub_url, self.link, self.ingest_rate.per_second(), f"{shown.total:,} {shown.NOUN}",
            self.replicator.bad_frames, shown.follow,
        )
