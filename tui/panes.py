"""The dashboard's panes, in the order of their number keys (DESIGN §8).

Adding a pane here gives it its number key, its ``show_pane_<n>`` action (in the help, the palette and
the key-hint line) and its name in the pane bar; the app still has to compose a container whose id is
the pane's id.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Pane:
    id: str
    """The id of the pane's container in the app's ``ContentSwitcher``."""
    title: str


PANES: tuple[Pane, ...] = (
    Pane("connections", "Connections"),
    Pane("logs", "API logs"),
    Pane("scripts", "Scripts"),
    Pane("triggers", "Triggers"),
    Pane("reruns", "Reruns"),
)
