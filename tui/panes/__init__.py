"""The dashboard's panes, in the order of their number keys (DESIGN §8): the registry.

A pane is one module here, ``tui/panes/<id>.py``, holding one ``PaneView`` (``tui.panes.view``): it
composes its widgets, reads its summaries and refreshes its list. A line below gives it its number key,
its ``show_pane_<n>`` action (in the help, the palette and the key-hint line), its name in the pane bar
and its place in the app. This module stays light (no Textual): the key table is built from it, and the
pane modules are imported only when the app is made.
"""

from dataclasses import dataclass
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchroom.tui.panes.view import PaneView


@dataclass(frozen=True)
class Pane:
    id: str
    """The pane's module under ``tui/panes/`` and the id of its ``PaneView`` in the app."""
    title: str
    view: str
    """The name of the ``PaneView`` class in the pane's module."""

    def load(self) -> "type[PaneView]":
        return getattr(importlib.import_module(f"{__name__}.{self.id}"), self.view)  # type: ignore[no-any-return]


PANES: tuple[Pane, ...] = (
    Pane("connections", "Connections", "ConnectionsPane"),
    Pane("logs", "API logs", "LogsPane"),
    Pane("scripts", "Scripts", "ScriptsPane"),
    Pane("triggers", "Triggers", "TriggersPane"),
    Pane("reruns", "Reruns", "RerunsPane"),
)
