"""The Reruns pane (key 5): the audit of reruns and replays — each request, each call rerun with its
outcome, a bulk's progress — with who asked and why (DESIGN §9)."""

from switchroom.tui.panes.view import PaneView
from switchroom.tui.widgets.rerun_list import RerunList


class RerunsPane(PaneView):
    def __init__(self, pane_id: str) -> None:
        super().__init__(pane_id, RerunList(id="rerun-list"))
