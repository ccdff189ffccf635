"""Which keys run which action: the registry's defaults, overlaid with the user's ``[keys]`` table.

Keys are written as Textual names them: a printable character (``?``, ``/``, ``R``), a key name
(``enter``, ``escape``, ``f1``, ``pageup``, ``space``, ``question_mark``), optionally after modifiers
(``ctrl+``, ``alt+``, ``shift+``). ``,`` and ``+`` themselves are ``comma`` and ``plus``.
"""

from collections.abc import Iterable, Mapping
from typing import Any

# _character_to_key is how Textual names a typed character ("?" → "question_mark") in its own keymaps.
from textual.app import App
from textual.keys import Keys, _character_to_key, format_key, key_to_character

from switchroom.tui.actions import ACTIONS, APP, BY_ID, Action

MODIFIERS = frozenset({"ctrl", "alt", "shift", "meta", "super", "hyper"})
_KEY_NAMES = frozenset(key.value for key in Keys if "+" not in key.value) | {
    _character_to_key(chr(code)) for code in range(33, 127)  # slash, comma, question_mark …
} | {"space"}


def normalise_key(key: str) -> str:
    """``key`` in Textual's long form (``?`` → ``question_mark``); ``ValueError`` if it is no key."""
    *modifiers, base = key.strip().split("+")
    bad = [m for m in modifiers if m not in MODIFIERS]
    if bad:
        raise ValueError(f"{key!r} is not a key: {bad[0]!r} is not a modifier ({', '.join(sorted(MODIFIERS))})")
    if len(base) == 1:
        if not base.isprintable() or base.isspace() or base == ",":
            raise ValueError(f"{key!r} is not a key: write space, comma or plus by name")
        base = _character_to_key(base)
    elif base not in _KEY_NAMES and key_to_character(base) is None:
        raise ValueError(f"{key!r} is not a key Textual knows (e.g. 'x', '/', 'f2', 'ctrl+x', 'enter')")
    return "+".join([*modifiers, base])


def key_label(key: str) -> str:
    """How a key is shown to the user: ``?``, ``^p``, ``end``, ``G``."""
    *modifiers, base = key.split("+")
    label = format_key(base)
    if "ctrl" in modifiers:
        modifiers.remove("ctrl")
        label = f"^{label}"
    return "+".join([*modifiers, label])


def _conflicts(one: Action, other: Action) -> bool:
    """Whether the same key cannot serve both: they share a scope, or one is app-wide and the other a
    widget's (the widget's would hide the app's whenever it has focus)."""
    return one.scope == other.scope or APP in (one.scope, other.scope)


class KeyMap:
    """The current keys of every action."""

    def __init__(self, overrides: Mapping[str, tuple[str, ...]] | None = None) -> None:
        """``overrides``: action id → keys, as checked by ``parse_overrides``."""
        self.overrides = dict(overrides or {})

    def keys(self, action_id: str) -> tuple[str, ...]:
        return self.overrides.get(action_id) or tuple(normalise_key(k) for k in BY_ID[action_id].keys)

    def label(self, action_id: str) -> str:
        """The action's keys as the user reads them, e.g. ``end/G``."""
        return "/".join(key_label(key) for key in self.keys(action_id))

    def textual_keymap(self) -> dict[str, str]:
        """The overrides as ``App.set_keymap`` takes them."""
        return {action_id: ",".join(keys) for action_id, keys in self.overrides.items()}


def keymap_of(app: App[Any]) -> KeyMap:
    """The keys in force in ``app``: the user's in the dashboard, the defaults in any other app."""
    keymap = getattr(app, "key_map", None)
    return keymap if isinstance(keymap, KeyMap) else KeyMap()


def parse_keys(value: str | Iterable[str]) -> tuple[str, ...]:
    """A ``[keys]`` value (one key or a list of keys) in long form; ``ValueError`` when one is no key."""
    keys = [value] if isinstance(value, str) else list(value)
    if not keys:
        raise ValueError("give at least one key")
    return tuple(normalise_key(key) for key in keys)


def check_action_id(action_id: str) -> str:
    if action_id not in BY_ID:
        raise ValueError(f"no action is named {action_id!r}; the actions are: {', '.join(BY_ID)}")
    return action_id


def check_clashes(overrides: Mapping[str, tuple[str, ...]]) -> None:
    """``ValueError`` naming the key and both actions when, with ``overrides``, one key would run two."""
    keymap = KeyMap(overrides)
    seen: dict[str, list[Action]] = {}
    for action in ACTIONS:
        for key in keymap.keys(action.id):
            for other in seen.get(key, []):
                if _conflicts(action, other):
                    raise ValueError(f"{key_label(key)!r} would run both {other.id!r} and {action.id!r}")
            seen.setdefault(key, []).append(action)
