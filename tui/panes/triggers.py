"""The Triggers pane (key 4): the live feed of trigger events — polls, webhooks, notifications."""

from switchroom.tui.panes.view import PaneView
from switchroom.tui.widgets.trigger_list import TriggerList


class TriggersPane(PaneView):
    def __init__(self, pane_id: str) -> None:
        super().__init__(pane_id, TriggerList(id="trigger-list"))
