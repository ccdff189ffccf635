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
from textual.command import CommandPalette
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.theme import Theme
from textual.widgets import ContentSwitcher, Static

from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN, TRIGGER_EVENT
from switchroom.store import iso_timestamp
from switchroom.store.analytics.breakdowns import breakdowns
from switchroom.store.filters import FilterError, RecordFilter
from switchroom.themes import APP_CSS, load_themes
from switchroom.tui.actions import APP, bindings
from switchroom.tui.alerts import ErrorRateAlert
from switchroom.tui.commands import ActionCommands, HubCommands, SavedFilterCommands
from switchroom.tui.exit_codes import Stop
from switchroom.tui.hub_target import HubTarget, choose_hub, require_token
from switchroom.tui.known_hubs import EMBEDDED
from switchroom.tui.cache import Cache, CacheClosed
from switchroom.tui import known_hubs
from switchroom.tui.config import Config, config_path, themes_dir
from switchroom.tui.definitions import Definitions
from switchroom.tui.export import export_records
from switchroom.tui.indexing import IndexRunner
from switchroom.tui.pane_summaries import FirstRead, PaneSummaries, indexed, pane_summaries, read_first_screen
from switchroom.tui.panes import PANES
from switchroom.tui.panes.view import PaneView
from switchroom.tui.link import LinkState
from switchroom.tui.console_state import load_state, save_state
from switchroom.tui.copy_text import curl_command, record_json
from switchroom.tui.filter_completion import known_values
from switchroom.tui.screens.go_to_record import GoToRecord
from switchroom.tui.screens.help import HelpScreen
from switchroom.tui.http import HubUnreachable
from switchroom.tui.ops_client import READ_ONLY_REFUSAL, OpsClient, new_idempotency_key
from switchroom.tui.screens.bulk_rerun import BulkRerun
from switchroom.tui.screens.confirm import ConfirmScreen
from switchroom.tui.screens.connection_definition import ConnectionDefinition
from switchroom.tui.screens.record_detail import RecordDetail
from switchroom.tui.screens.rerun_dialog import RerunDialog
from switchroom.tui.staleness import Staleness
from switchroom.tui.text import printable
from switchroom.tui.time_zones import Zones
from switchroom.tui.view_state import ViewState
from switchroom.tui.widgets.filter_bar import FilterBar
from switchroom.tui.widgets.key_hints import KeyHints
from switchroom.tui.widgets.pane_tabs import PaneTabs
from switchroom.tui.widgets.record_list import RecordList
from switchroom.tui.widgets.status_line import IngestRate, StatusLine

if TYPE_CHECKING:
    from switchroom.tui.replication import Replicator

REFRESH_SECONDS = 0.25
RETENTION_SECONDS = 30.0
FACTS_SECONDS = 30.0
"""How often the hub is asked again for each connection's features and enabled users."""
ALERT_SECONDS = 5.0


class SwitchroomApp(App[None]):
    TITLE = "Switchroom"
    CSS_PATH = str(APP_CSS)
    BINDINGS = bindings(APP)  # every key comes from tui/actions.py; the user's [keys] rebind them
    COMMANDS = {ActionCommands, SavedFilterCommands, HubCommands}

    link: var[LinkState] = var(LinkState("connecting"), init=False, always_update=True)
    """The link to the hub, as the replicator last said (the status line shows it)."""

    def __init__(self, hub_url: str, token: str, cache_dir: Path, hub_key: str | None = None,
                 config: Config | None = None, first_read: FirstRead | None = None, read_only: bool = False) -> None:
        """``hub_key`` names the hub in the cache index (default: its URL), so its cache can be found
        when it is gone. ``first_read``: that cache and its first screen's summaries, when the caller
        started reading them before importing this module (``tui.pane_summaries.read_first_screen``).
        ``read_only`` (or ``read_only = true`` in the settings): no reruns or replays from this console."""
        # NO_COLOR: Textual then strips every colour; in ANSI mode it keeps the terminal's own (not grey)
        super().__init__(ansi_color=True if os.environ.get("NO_COLOR") is not None else None)
        self.config = config or Config()
        for theme in load_themes(themes_dir()).values():
            self.register_theme(theme)
        self.state = load_state(cache_dir)
        """What the console remembers across runs (``tui.console_state``)."""
        remembered = self.state.theme_for(self.config.theme)
        self.theme = remembered if remembered in self.available_themes else self.config.theme
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
        self.ingest_rate = IngestRate()
        self.view = ViewState(zones=Zones.of_setting(self.config.time_zone))
        self.view.filters = dict(self.state.filters.get(self.hub_key, {}))
        first_read = first_read or read_first_screen(cache_dir, self.hub_key)
        self._known_cache = first_read.cache if first_read else None
        """The cache of this hub from an earlier run, if there is one: browsable at once, hub or no hub."""
        self._first_summaries = first_read.summaries if first_read else None
        """The first screen's summaries, read while the app is imported and made (the hub has not answered yet)."""
        self.alert = ErrorRateAlert(self.config.alert.error_rate, self.config.alert.min_calls)
        self.indexer: IndexRunner | None = None
        self.bad_records = (0, False)
        """Records of the wrong shape in the cache, as the summaries last counted them, and whether that is so far."""
        self.counting_sign = ""
        """``counting n / m`` while the summaries on screen leave out records the cache holds; else ''."""
        self.staleness = Staleness()
        self.definitions = Definitions(hub_url, token, cache_dir)
        self.read_only = read_only or self.config.read_only
        self.switch_to: HubTarget | None = None
        """The hub chosen to watch next, once this console has ended for it (``action_switch_hub``)."""
        self.ops = OpsClient(hub_url, token, self.read_only)
        # The panes, made here so that replicator callbacks can reach them at any moment, also while
        # the app is still composing or already shutting down.
        self.panes: dict[str, PaneView] = {pane.id: pane.load()(pane.id) for pane in PANES}
        self.lists: dict[str, RecordList] = {pane_id: pane.records for pane_id, pane in self.panes.items()
                                             if pane.records is not None}
        """Each pane's list of records, by pane id."""
        self.current_pane = PANES[0].id
        self.filter_bar = FilterBar(self.state.history, id="filter-bar")
        self.title_line = Static(Text("Switchroom"), id="title")
        self._title = ""
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
        with ContentSwitcher(initial=self.current_pane):
            yield from self.panes.values()
        yield self.filter_bar
        yield self.status_line
        yield KeyHints(self.key_map, self.read_only)

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
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for name, saved in self.config.filters.items():
            if saved.key:
                self.bind(saved.key, f"saved_filter('{name}')", description=f"Filter: {name}", show=False)
        if self.state.pane in self.panes and self.state.pane != self.current_pane:
            self.call_after_refresh(self.action_show_pane, self.state.pane)

    def _theme_changed(self, theme: Theme) -> None:
        self.state.theme, self.state.theme_setting = theme.name, self.config.theme
        self._save_state()

    def _save_state(self) -> None:
        self.state.pane = self.current_pane
        self.state.filters[self.hub_key] = {pane: text for pane, text in self.view.filters.items() if text}
        save_state(self.cache_dir, self.state)

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
        self._save_state()
        if self.indexer is not None:
            self.indexer.stop()

    def on_resize(self) -> None:
        self._show_headers(layout=True)

    def _show_headers(self, layout: bool = False) -> None:
        for pane in self.panes.values():
            pane.show_header(layout)

    def on_record_list_chosen(self, message: RecordList.Chosen) -> None:
        if self.cache is not None:
            self.push_screen(RecordDetail(message.record, self.cache, self.definitions))

    def on_connection_definition_asked(self, message: ConnectionDefinition.Asked) -> None:
        if self.cache is not None and not isinstance(self.screen, ConnectionDefinition):
            self.push_screen(ConnectionDefinition(message.connection_id, self.cache.hub_id, self.definitions))

    def refuses_changes(self, what: str) -> bool:
        """Say so and return True when this console is read-only; ``what`` is what was asked, e.g. ``Rerun``."""
        if self.read_only:
            self.notify(f"{what} refused: {READ_ONLY_REFUSAL}.", severity="warning")
        return self.read_only

    def on_record_list_rerun_asked(self, message: RecordList.RerunAsked) -> None:
        record = message.record
        if self.refuses_changes("Replay" if record.get("kind") in (SCRIPT_RUN, TRIGGER_EVENT) else "Rerun"):
            return
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

    # -- records: copy, go to ------------------------------------------------------------------------

    def _record_in_view(self) -> dict[str, Any] | None:
        """The record a detail view shows, else the one under the cursor of the pane's list."""
        if isinstance(self.screen, RecordDetail):
            return self.screen.record
        records = self.lists.get(self.current_pane)
        return records.chosen_record if records is not None else None

    def action_copy_record(self) -> None:
        record = self._record_in_view()
        if record is None:
            self.notify("No record to copy: select one in a list, or open one.", severity="warning")
            return
        self.copy_to_clipboard(record_json(record))
        self.notify(f"Copied record #{record.get('seq', '?')} as JSON (through the terminal's clipboard).")

    def action_copy_curl(self) -> None:
        record = self._record_in_view()
        command = curl_command(record, self.hub_url) if record is not None else None
        if record is None or command is None:
            self.notify("C copies a Connect API call (an inbound api_call) as curl: select one.", severity="warning")
            return
        self.copy_to_clipboard(command.text)
        said = f"Copied #{record.get('seq', '?')} as curl; it reads the key from $SWITCHROOM_SERVICE_KEY."
        if command.caveats:
            self.notify(said + " But " + "; ".join(command.caveats) + ".", severity="warning", timeout=15)
        else:
            self.notify(said)

    @work(group="go-to", exclusive=True)
    async def action_go_to_record(self) -> None:
        if self.cache is None:
            self.notify("No cache yet: nothing to open.", severity="warning")
            return
        if isinstance(self.screen, GoToRecord):
            return
        record = await self.push_screen_wait(GoToRecord(self.cache))
        if record is not None and self.cache is not None:
            self.push_screen(RecordDetail(record, self.cache, self.definitions))

    # -- hubs -------------------------------------------------------------------------------------------

    def hub_choices(self) -> list[tuple[str, str, str]]:
        """(shown, what ``action_switch_hub`` takes, help) of every hub but this one: those named in the
        settings, then those whose cache this machine keeps."""
        choices: list[tuple[str, str, str]] = []
        named_urls = set()
        for name, hub in self.config.hubs.items():
            named_urls.add(known_hubs.hub_key(hub.url))
            watched = known_hubs.hub_key(hub.url) == self.hub_key
            choices.append((f"Hub: {name} ({hub.url})", name, "watching now" if watched else "from the settings"))
        for key in known_hubs.known_hub_keys(self.cache_dir):
            if key in (self.hub_key, *named_urls) or (key != EMBEDDED and not key.startswith(("http://", "https://"))):
                continue
            shown = "the embedded demo hub" if key == EMBEDDED else key
            choices.append((f"Hub: {printable(shown)}", key, "its cache is kept on this machine"))
        return choices

    def action_switch_hub(self, wanted: str) -> None:
        """Leave this hub for ``wanted`` (a name from the settings, a hub URL, or ``embedded``): the console
        ends here and ``switchroom`` opens it on the other, whose cache was kept (``tui.dashboard``)."""
        try:
            target = HubTarget(None, None) if wanted == EMBEDDED else choose_hub(wanted, None, self.config)
            if target.key == self.hub_key:
                self.notify(f"Already watching {target.shown}.")
                return
            if target.url is not None:
                require_token(target)
        except Stop as stop:
            self.notify(f"Not switched: {stop}", severity="error", timeout=15)
            return
        self.switch_to = target
        self.exit()

    def action_choose_hub(self) -> None:
        if not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(providers=[HubCommands], placeholder="Switch to the hub…"))

    def _acted_on(self) -> str:
        """The pane whose list the filter key, bulk rerun and export act on now."""
        return self.panes[self.current_pane].ACTS_ON or self.current_pane

    def action_rerun_all(self) -> None:
        if self.refuses_changes("Bulk rerun"):
            return
        filter_text = self.view.filter_language(self._acted_on())
        if not filter_text:
            self.notify("Set a filter first (/): R reruns the failed actions it shows.", severity="warning")
            return
        self.push_screen(BulkRerun(filter_text, self.ops))

    # -- focus, filters, window, export --------------------------------------------------------------

    def action_clear_focus(self) -> None:
        if self.view.connection_id is not None:
            self.view.focus(None)
            self.apply_filters()

    def action_filter(self) -> None:
        pane = self._acted_on()
        if pane != self.current_pane:
            self.action_show_pane(pane)
        self.filter_bar.open(pane, self.view.filters.get(pane, ""), self.view.base(self.lists[pane].KIND),
                             self.view.zone)
        self._offer_completions()

    @work(group="completions", exclusive=True)
    async def _offer_completions(self) -> None:
        """Give the filter bar the ids and codes the cache knows, to complete what is typed."""
        if self.cache is not None:
            try:
                self.filter_bar.suggester.values = await self.cache.summarise(known_values)
            except CacheClosed:
                pass

    def on_filter_bar_applied(self, message: FilterBar.Applied) -> None:
        self._use_filter(message.pane, message.text)
        self.lists[message.pane].focus()

    def _use_filter(self, pane: str, text: str) -> None:
        self.view.filters[pane] = text
        self.state.remember_filter(text)
        self.apply_filters()
        self._save_state()

    def action_saved_filter(self, name: str) -> None:
        """Apply the filter saved as ``name`` in the settings (``[filters]``) to the pane the filter key
        acts on."""
        saved = self.config.filters.get(name)
        if saved is None:
            return
        pane = self._acted_on()
        if pane != self.current_pane:
            self.action_show_pane(pane)
        self._use_filter(pane, saved.filter)
        self.notify(f"Filter {name}: {saved.filter}")

    def on_filter_bar_closed(self) -> None:
        self.panes[self.current_pane].main_widget.focus()

    def apply_filters(self) -> None:
        """Give every list the filter its pane now has (its own words and the connection in focus)."""
        for pane, records in self.lists.items():
            try:
                records.set_filter(self.view.record_filter(pane, records.KIND))
            except FilterError as exc:  # a pane's filter that no longer parses: shown, and dropped
                self.view.filters.pop(pane, None)
                self.notify(f"{pane} filter dropped: {exc}", severity="warning")
                records.set_filter(self.view.record_filter(pane, records.KIND))
        self.staleness.view_changed()
        self._show_title()

    def action_time_window(self) -> None:
        self.view.next_window()
        self.staleness.view_changed()
        self._show_title()

    def action_toggle_time_zone(self) -> None:
        """Show times in UTC, or in the zone of the settings again; filters' ``since:`` times are read in
        the zone shown, so a pane's filter that has one is applied again."""
        self.view.switch_zone()
        self._show_title()
        for pane in self.panes.values():
            pane.show_times()
        for screen in self.screen_stack:
            if isinstance(screen, RecordDetail):
                screen.show_times()
        if any("since:" in text.lower() for text in self.view.filters.values()):
            self.apply_filters()

    def action_export(self, suffix: str = "jsonl") -> None:
        pane = self._acted_on()
        records = self.lists[pane]
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
        title = printable(self.view.breadcrumb(self.current_pane, self.counting_sign))
        if title != self._title:  # asked at every refresh: the zone's name changes with daylight saving
            self._title = title
            self.title_line.update(Text(title), layout=False)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_map, str(config_path()), self.config.filters))

    def action_show_pane(self, pane: str) -> None:
        self.query_one(ContentSwitcher).current = pane
        self.current_pane = pane
        self.pane_tabs.show(pane)
        self.panes[pane].main_widget.focus()
        self.staleness.summaries_now()
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
        for pane in self.panes.values():
            pane.use_cache(cache)
        self.apply_filters()
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
        self.staleness.records_changed()

    def _on_ingest(self, added: int, through_seq: int) -> None:
        self.ingest_rate.add(added)
        if added:
            self.staleness.records_changed()
            if self.indexer is not None:
                self.indexer.wake()

    def _on_link(self, link: LinkState) -> None:
        self.link = link

    def watch_link(self, before: LinkState, link: LinkState) -> None:
        if link.name == "live" and before.name != "live":
            self._ask_for_facts()  # users may have enabled or disabled connections meanwhile
        self._show_status()

    def _ask_for_facts(self) -> None:
        self.run_worker(self._show_facts(), group="facts", exclusive=True)

    async def _show_facts(self) -> None:
        """What the panes show from the hub besides the records (``PaneView.read_hub``), once the first
        screen is up: asking loads the HTTP client, which the first screen does not wait for."""
        await self._first_screen.wait()
        await asyncio.to_thread(importlib.import_module, "httpx")
        for pane in self.panes.values():
            await pane.read_hub()

    # -- refreshing ---------------------------------------------------------------------------------

    async def _refresh_views(self) -> None:
        """Redraw from the cache at most a few times a second, however fast records arrive."""
        self._show_status()
        self._show_title()
        if self.cache is None or not self.staleness.tick():
            return
        try:
            await self._refresh_pane(self.current_pane)
        except CacheClosed:  # the replicator has just opened another cache: the next refresh reads it
            self.staleness.records_changed()
            return
        self._show_headers()
        self._show_status()
        self._first_screen.set()

    async def _show_pane_contents(self, pane: str) -> None:
        if self.cache is not None:
            try:
                await self._refresh_pane(pane)
            except CacheClosed:
                self.staleness.records_changed()

    async def _refresh_pane(self, pane_id: str) -> None:
        """Re-read what the pane on screen shows; the others are read when they are shown. Its list
        follows every change; its summaries at most every ``SUMMARY_SECONDS`` (``tui.staleness``)."""
        assert self.cache is not None
        pane = self.panes[pane_id]
        await pane.reload()
        if not self.staleness.take_summaries():
            return  # read at a later refresh: they stay due
        live, focus = self.link.name == "live", self.view.connection_id
        # One read on the summaries' thread for all a pane shows: each read waits for the event loop to
        # take its answer, which at start-up (or under a stream of records) is what takes the time.
        first, self._first_summaries = self._first_summaries, None
        if first is not None and (pane_id, live, focus) == (PANES[0].id, False, None):
            summaries = await asyncio.wrap_future(first)
        else:
            summaries = await self.cache.summarise(
                lambda log: pane_summaries(log, self.view, type(pane), live, focus))
        self._show_summaries(pane, summaries)

    def _show_early_summaries(self) -> None:
        """Show the first screen's summaries at once if they were read while the app started, so that its
        first paint (the slowest: everything in it is new) has them, instead of a second paint."""
        first = self._first_summaries
        if first is not None and first.done() and first.exception() is None:
            self._first_summaries = None
            self.staleness.summarised()
            self._show_summaries(self.panes[PANES[0].id], first.result())

    def _show_summaries(self, pane: PaneView, summaries: PaneSummaries) -> None:
        self.bad_records = (summaries.bad_records, summaries.bad_records_so_far)
        sign = summaries.counting.sign()
        if summaries.window_end != self.view.window_end or sign != self.counting_sign:
            self.view.window_end, self.counting_sign = summaries.window_end, sign
            self._show_title()
        pane.summaries = summaries

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
            self.staleness.records_changed()

    def _show_status(self) -> None:
        shown = self.panes[self.current_pane]
        self.status_line.show(self.hub_url, self.link, self.ingest_rate.per_second(), shown.counted(),
                              self.replicator.bad_frames if self.replicator else 0, shown.following,
                              self.bad_records, self.replicator.catching_up() if self.replicator else None,
                              self.read_only)
