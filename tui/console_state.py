"""What the console remembers between runs: the pane it was left on, each hub's filters, the theme
chosen with ``ctrl+t``, and the filter bar's history.

One small JSON file beside the caches (``console-state.json`` in the cache directory), written whole and
renamed into place, readable by the user alone (filters may name users). Like every file on disk it is
read as untrusted: a file that is missing, too large, not JSON or of the wrong shape means a fresh
start, never an error; a value of the wrong type is left out.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
import json
import os
import tempfile

from switchroom.store.filters import MAX_FILTER_CHARS
from switchroom.store.private_files import private_folder

STATE_FILE = "console-state.json"
MAX_STATE_BYTES = 256 * 1024
MAX_HISTORY = 100
MAX_HUBS = 50


@dataclass
class ConsoleState:
    pane: str | None = None
    theme: str | None = None
    """The theme chosen in the console, over ``theme_setting``."""
    theme_setting: str | None = None
    """The settings file's theme when ``theme`` was chosen: once the file names another, the file wins."""
    filters: dict[str, dict[str, str]] = field(default_factory=dict)
    """Hub key → pane id → its filter."""
    history: list[str] = field(default_factory=list)
    """Filters applied, oldest first, each once (the newest use moves it to the end)."""

    def remember_filter(self, text: str) -> None:
        text = text.strip()
        if not text or len(text) > MAX_FILTER_CHARS:
            return
        if text in self.history:
            self.history.remove(text)
        self.history.append(text)
        del self.history[:-MAX_HISTORY]

    def theme_for(self, setting: str) -> str | None:
        """The theme to start with when the settings say ``setting``: the one chosen in the console, unless
        the settings file has named another theme since."""
        return self.theme if self.theme and self.theme_setting == setting else None


def state_path(cache_dir: Path) -> Path:
    return cache_dir / STATE_FILE


def load_state(cache_dir: Path) -> ConsoleState:
    path = state_path(cache_dir)
    try:
        if not path.is_file() or path.stat().st_size > MAX_STATE_BYTES:
            return ConsoleState()
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return ConsoleState()
    if not isinstance(raw, dict):
        return ConsoleState()
    return ConsoleState(
        pane=_text(raw.get("pane")), theme=_text(raw.get("theme")), theme_setting=_text(raw.get("theme_setting")),
        filters={hub: panes for hub, value in _table(raw.get("filters")).items()
                 if (panes := {pane: text for pane, text in _table(value).items() if _filter_text(text)})},
        history=[text for text in raw.get("history", []) if _filter_text(text)][-MAX_HISTORY:]
        if isinstance(raw.get("history"), list) else [],
    )


def save_state(cache_dir: Path, state: ConsoleState) -> None:
    """Write ``state`` whole; a failure to write (a full disk, a read-only home) loses only this save."""
    filters = dict(list(state.filters.items())[-MAX_HUBS:])
    content = json.dumps({"pane": state.pane, "theme": state.theme, "theme_setting": state.theme_setting,
                          "filters": filters, "history": state.history[-MAX_HISTORY:]})
    try:
        private_folder(cache_dir)
        handle, temporary = tempfile.mkstemp(dir=cache_dir, prefix=".console-state-")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(content)
        os.replace(temporary, state_path(cache_dir))
    except OSError:
        pass


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def _filter_text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_FILTER_CHARS


def _table(value: Any) -> dict[str, Any]:
    return {k: v for k, v in value.items() if isinstance(k, str) and len(k) <= 2000} if isinstance(value, dict) else {}
