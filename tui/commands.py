"""The command palette (ctrl+p): the actions of the registry, searchable, run where their keys would run."""

from collections.abc import Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from switchroom.tui.actions import ACTIONS, APP, Action
from switchroom.tui.keymap import key_label, keymap_of


class ActionCommands(Provider):
    """Lists the actions whose keys work where the palette was opened (the app's, and the focused
    widget's), and runs the chosen one there."""

    def _target(self, scope: str) -> DOMNode | None:
        """Where an action of ``scope`` runs, as its key would: the app, or the focused widget (or the
        nearest of its containers) of that type; ``None`` when its key would do nothing now."""
        if scope == APP:
            return self.app
        for node in self.focused.ancestors_with_self if self.focused is not None else ():
            if any(cls.__name__ == scope for cls in type(node).__mro__):
                return node
        return None

    def _available(self) -> Iterator[tuple[Action, DOMNode]]:
        for action in ACTIONS:
            target = self._target(action.scope)
            if target is not None:
                yield action, target

    def _help(self, action: Action) -> str:
        return f"{keymap_of(self.app).label(action.id)} · {action.group}"

    async def discover(self) -> Hits:
        for action, target in self._available():
            yield DiscoveryHit(action.description, partial(self.app.run_action, action.run, target),
                               help=self._help(action))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action, target in self._available():
            score = matcher.match(f"{action.description} {action.id}")
            if score > 0:
                yield Hit(score, matcher.highlight(action.description),
                          partial(self.app.run_action, action.run, target), help=self._help(action))


class SavedFilterCommands(Provider):
    """Lists the filters saved in the settings (``[filters]``): choosing one applies it to the pane."""

    def _saved(self) -> Iterator[tuple[str, str, str]]:
        """(name, filter, help) of each saved filter."""
        config = getattr(self.app, "config", None)
        for name, saved in getattr(config, "filters", {}).items():
            yield name, saved.filter, f"{key_label(saved.key) + ' · ' if saved.key else ''}saved filter"

    def _run(self, name: str) -> partial[object]:
        return partial(self.app.run_action, f"saved_filter('{name}')")

    async def discover(self) -> Hits:
        for name, text, help in self._saved():
            yield DiscoveryHit(f"Filter: {name} ({text})", self._run(name), help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, text, help in self._saved():
            shown = f"Filter: {name} ({text})"
            score = matcher.match(shown)
            if score > 0:
                yield Hit(score, matcher.highlight(shown), self._run(name), help=help)


class HubCommands(Provider):
    """Lists the hubs this machine knows (each one whose cache it keeps) and those named in the settings
    (``[hubs.NAME]``); choosing one switches the console to it (``SwitchroomApp.action_switch_hub``)."""

    def _hubs(self) -> list[tuple[str, str, str]]:
        """(shown, what to switch to, help) of each hub but the one watched now."""
        choices = getattr(self.app, "hub_choices", None)
        return choices() if callable(choices) else []

    def _run(self, wanted: str) -> partial[object]:
        return partial(getattr(self.app, "action_switch_hub"), wanted)

    async def discover(self) -> Hits:
        for shown, wanted, help in self._hubs():
            yield DiscoveryHit(shown, self._run(wanted), help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for shown, wanted, help in self._hubs():
            score = matcher.match(shown)
            if score > 0:
                yield Hit(score, matcher.highlight(shown), self._run(wanted), help=help)
