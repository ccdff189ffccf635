"""Every user-facing action of the dashboard, named once.

The key bindings of the app and its widgets, the ``?`` help screen, the command palette, the key-hint
line and the ``[keys]`` overrides of the settings file are all made from ``ACTIONS``; nothing else
declares a key. To add an action, add an ``Action`` to ``ACTIONS`` and give its scope (the app, or the
widget class whose ``BINDINGS = bindings("ThatWidget")``) an ``action_<name>`` method.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from textual.binding import Binding

from switchroom.tui.panes import PANES

APP = "app"
"""The scope of actions that work everywhere: their bindings sit on the app."""


@dataclass(frozen=True)
class Action:
    id: str
    """The name users rebind it by in ``[keys]``, e.g. ``toggle_follow``."""
    description: str
    """What it does, as the help screen and the palette say it."""
    keys: tuple[str, ...]
    """Its default keys, in Textual's names (``question_mark``, ``ctrl+p``, ``G``)."""
    group: str
    """The heading it is listed under in the help screen."""
    run: str
    """The Textual action string it runs in its scope, e.g. ``show_pane('logs')``."""
    scope: str = APP
    """``APP``, or the class name of the widget (or screen) whose bindings carry it."""
    hint: str | None = None
    """The word shown beside its key in the key-hint line; ``None`` keeps it out of that line."""
    priority: bool = False
    """Answer the key even when a focused widget has a binding of its own for it."""
    changes_hub: bool = False
    """It asks the hub to act (a rerun, a replay): a read-only console leaves it out of the key hints."""


def _pane_actions() -> Iterator[Action]:
    for number, pane in enumerate(PANES, start=1):
        yield Action(f"show_pane_{number}", f"Show the {pane.title} pane", (str(number),), "Panes",
                     f"show_pane('{pane.id}')")  # the pane bar shows these keys


def _cursor_actions() -> Iterator[Action]:
    """The keys that move the cursor of every list and table."""
    for action_id, description, keys in (
        ("cursor_up", "Select the row above (pauses a list)", ("up", "k")),
        ("cursor_down", "Select the row below", ("down", "j")),
        ("cursor_page_up", "Select a page up (pauses a list)", ("pageup",)),
        ("cursor_page_down", "Select a page down", ("pagedown",)),
        ("follow_tail", "Jump to the last row (and follow)", ("end", "G")),
        ("cursor_home", "Jump to the first row (pauses)", ("home", "g")),
    ):
        yield Action(action_id, description, keys, "Lists", action_id, scope="CursorRows")


def _record_list_actions() -> Iterator[Action]:
    """The keys of every list of records (the API log, and the lists of the other panes)."""
    for action_id, description, keys, hint in (
        ("toggle_follow", "Follow the newest records, or pause", ("f",), "follow"),
        ("choose", "Show the selected record's detail", ("enter",), "detail"),
    ):
        yield Action(action_id, description, keys, "Lists", action_id, scope="RecordList", hint=hint)


ACTIONS: tuple[Action, ...] = (
    *_pane_actions(),
    *_cursor_actions(),
    *_record_list_actions(),
    Action("filter", "Filter what the pane shows", ("slash",), "Everywhere", "filter", hint="filter"),
    Action("filter_apply", "Apply the filter as typed", ("enter",), "Everywhere", "apply", scope="FilterBar",
           hint="apply"),
    Action("filter_close", "Leave the filter unchanged", ("escape",), "Everywhere", "close", scope="FilterBar",
           hint="leave"),
    Action("filter_older", "Show the filter applied before (history)", ("up",), "Everywhere", "older",
           scope="FilterBar"),
    Action("filter_newer", "Show the next filter in the history", ("down",), "Everywhere", "newer",
           scope="FilterBar"),
    Action("time_window", "Next time window for the summaries", ("w",), "Everywhere", "time_window", hint="window"),
    Action("clear_focus", "Stop focusing on one connection", ("backspace",), "Everywhere", "clear_focus"),
    Action("toggle_time_zone", "Show times in UTC, or in your zone", ("z",), "Everywhere",
           "toggle_time_zone", priority=True),  # also over a record's detail (a box being typed in keeps z)
    Action("export", "Export what the pane shows (JSON lines)", ("e",), "Everywhere", "export"),
    Action("export_csv", "Export what the pane shows (CSV)", ("E",), "Everywhere", "export_csv"),
    Action("focus_connection", "Focus every pane on this connection", ("enter",), "Connections",
           "focus_connection", scope="ConnectionsTable", hint="focus"),
    Action("show_definition", "Show how this connection is defined", ("d",), "Connections", "show_definition",
           scope="ConnectionsTable", hint="definition"),
    Action("definition_close", "Close the connection's definition", ("escape",), "Connections", "dismiss",
           scope="ConnectionDefinition"),
    Action("choose_code", "Filter the log to the selected code", ("enter",), "Lists", "choose_code",
           scope="BreakdownView", hint="show"),
    Action("sort_next", "Sort the table by the next column", ("s",), "Connections", "sort_next",
           scope="RowTable"),
    Action("sort_reverse", "Turn the table's sort order round", ("S",), "Connections", "sort_reverse",
           scope="RowTable"),
    Action("show_failures", "Show this group's failures in its list", ("enter",), "Connections", "show_failures",
           scope="FailureTable", hint="show"),
    Action("rerun_failures", "Rerun this group's failed actions", ("r",), "Reruns", "rerun_failures",
           scope="FailureTable", hint="rerun", changes_hub=True),
    Action("rerun", "Rerun the selected failed action", ("r",), "Reruns",
           "rerun", scope="RecordList", hint="rerun", changes_hub=True),
    Action("rerun_all", "Rerun every failed action the filter shows", ("R",), "Reruns",
           "rerun_all"),
    Action("rerun_send", "Send the rerun (once per dialog)", ("ctrl+s",), "Reruns", "send",
           scope="RerunDialog", priority=True),
    Action("rerun_force", "Send the rerun with force", ("ctrl+f",), "Reruns",
           "force", scope="RerunDialog", priority=True),
    Action("rerun_close", "Close the rerun dialog", ("escape",), "Reruns", "dismiss", scope="RerunDialog"),
    Action("bulk_stop", "Cancel the bulk rerun, or close it", ("escape",), "Reruns", "stop",
           scope="BulkRerun"),
    Action("jump_to_time", "Jump to a time in the list (pauses)", ("t",), "Lists",
           "jump_to_time", scope="RecordList"),
    Action("time_jump_close", "Leave the time jump without moving", ("escape",), "Lists", "dismiss_jump",
           scope="TimeJump"),
    Action("detail_close", "Close the record's detail", ("escape",), "Lists", "dismiss",
           scope="RecordDetail"),
    Action("copy_record", "Copy the record under the cursor as JSON", ("c",), "Records", "app.copy_record",
           scope="RecordList"),
    Action("copy_curl", "Copy the Connect API call as a curl command", ("C",), "Records", "app.copy_curl",
           scope="RecordList"),
    Action("copy_detail", "Copy the record shown as JSON", ("c",), "Records", "app.copy_record",
           scope="RecordDetail"),
    Action("curl_detail", "Copy the call shown as a curl command", ("C",), "Records", "app.copy_curl",
           scope="RecordDetail"),
    Action("go_to_record", "Open a record by its seq or id", ("colon",), "Records", "go_to_record"),
    Action("go_to_close", "Leave without opening a record", ("escape",), "Records", "dismiss_go_to",
           scope="GoToRecord"),
    Action("confirm", "Answer yes to the question asked", ("y", "enter"), "Questions", "confirm",
           scope="ConfirmScreen"),
    Action("cancel", "Answer no: nothing is done", ("n", "escape"), "Questions", "cancel", scope="ConfirmScreen"),
    Action("focus_next", "Next region: breakdown, groups, links", ("tab",), "Everywhere", "focus_next"),
    Action("focus_previous", "Previous region", ("shift+tab",), "Everywhere", "focus_previous"),
    Action("help", "Show the keys and what they do", ("question_mark",), "Everywhere", "help", hint="help"),
    Action("palette", "Search and run any action", ("ctrl+p",), "Everywhere", "command_palette",
           hint="palette", priority=True),
    Action("try_script", "Try a candidate script on recorded events", ("T",), "Scripts", "try_script",
           scope="ScriptsPane"),
    Action("trial_ask_close", "Leave without trying", ("escape",), "Scripts", "dismiss_ask", scope="TrialAsk"),
    Action("trial_open", "Open both runs of the event", ("enter",), "Scripts", "open_runs", scope="TrialTable"),
    Action("trial_close", "Leave the trial (stops it if running)", ("escape",), "Scripts", "dismiss_trial",
           scope="ScriptTrialScreen"),
    Action("trial_runs_close", "Close the event's runs", ("escape",), "Scripts", "dismiss_runs", scope="TrialRuns"),
    Action("choose_hub", "Switch to another hub (its cache is kept)", ("H",), "Everywhere", "choose_hub"),
    Action("change_theme", "Switch to another colour theme", ("ctrl+t",), "Everywhere", "change_theme"),
    Action("quit", "Quit the dashboard", ("q",), "Everywhere", "quit", hint="quit"),
)

BY_ID: dict[str, Action] = {action.id: action for action in ACTIONS}
assert len(BY_ID) == len(ACTIONS), "action ids must be unique"


def bindings(scope: str) -> list[Binding]:
    """The ``BINDINGS`` of ``scope`` (``APP`` or a widget class name), with their default keys.

    Each binding carries its action's id, so the app's keymap (the user's ``[keys]``) rebinds it.
    """
    return [
        Binding(",".join(action.keys), action.run, action.description, show=action.hint is not None,
                id=action.id, priority=action.priority)
        for action in ACTIONS if action.scope == scope
    ]


def groups() -> dict[str, list[Action]]:
    """The actions by help-screen heading, both in registry order."""
    grouped: dict[str, list[Action]] = {}
    for action in ACTIONS:
        grouped.setdefault(action.group, []).append(action)
    return grouped
