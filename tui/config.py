"""The dashboard's settings file (DESIGN §10): TOML in the user config directory, read in one place.

``$SWITCHROOM_CONFIG`` names another file. A missing file means the defaults; a file with problems is
refused with every problem named (file, key, what is wrong), never a traceback. ::

    theme = "switchroom-dark"   # or switchroom-light, switchroom-high-contrast, one of Textual's
                                # (textual-dark, nord, …) or one of yours in themes/ beside this file
    time_zone = "local"         # times shown and typed: "local" (the machine's zone, or $TZ), "utc",
                                # or an IANA name such as "Europe/Paris"; z switches to UTC and back

    [cache]
    max_age_days = 30     # records older than this are dropped from the local cache
    max_size_mb = 2048    # and the oldest go first once the cache holds more than this

    [alert]
    error_rate = 0.25     # a feature whose calls fail (5xx, no answer) this often: banner and bell
    window_minutes = 5
    min_calls = 20        # fewer calls than this in the window never alert

    [keys]                # action id = a key or a list of keys (the ids are in the ? help screen)
    help = ["f1", "?"]
    toggle_follow = "space"

User themes are TOML files in a ``themes`` folder beside this file (``themes/__init__.py`` shows the
format); a theme file with problems is refused like this file is. Keys are named as Textual names
them (``tui/keymap.py``); an unknown action id, a key that is no key, or a key that would then run two
actions is refused.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, get_type_hints
import os
import stat

import msgspec
import platformdirs

from switchroom.themes import DEFAULT_THEME, ThemeError, load_themes, read_toml
from switchroom.tui.keymap import KeyMap, check_action_id, check_clashes, parse_keys
from switchroom.tui.time_zones import LOCAL, zone_named

CONFIG_ENV = "SWITCHROOM_CONFIG"
MAX_SETTINGS_BYTES = 1 << 20


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class CacheLimits:
    """Retention of the local cache, by age and by size (0 turns either off)."""

    max_age_days: Annotated[float, msgspec.Meta(ge=0)] = 30.0
    max_size_mb: Annotated[float, msgspec.Meta(ge=0)] = 2048.0

    @property
    def max_age_seconds(self) -> float | None:
        return self.max_age_days * 86_400 if self.max_age_days else None

    @property
    def max_bytes(self) -> int | None:
        return int(self.max_size_mb * 1024 * 1024) if self.max_size_mb else None


@dataclass(frozen=True)
class AlertSettings:
    """When a feature's share of failed calls (5xx or no answer) over the last ``window_minutes``
    reaches ``error_rate`` — with at least ``min_calls`` calls — a banner shows and the bell rings once."""

    error_rate: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.25
    window_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 5
    min_calls: Annotated[int, msgspec.Meta(ge=1)] = 20


@dataclass(frozen=True)
class ExportSettings:
    """Where ``e`` and ``E`` write what a pane shows: ``dir`` (``~`` expands); empty, the directory the
    dashboard was started in."""

    dir: str = ""

    @property
    def directory(self) -> Path:
        return Path(self.dir).expanduser() if self.dir else Path.cwd()


@dataclass(frozen=True)
class Config:
    theme: str = DEFAULT_THEME
    time_zone: str = LOCAL
    """The zone times are shown and read in: ``local`` (the machine's, ``$TZ`` when set), ``utc``, or an
    IANA name (``Europe/Paris``); ``tui.time_zones``."""
    cache: CacheLimits = CacheLimits()
    alert: AlertSettings = AlertSettings()
    export: ExportSettings = ExportSettings()
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Action id → its keys, in Textual's long form."""

    @property
    def keymap(self) -> KeyMap:
        return KeyMap(self.keys)


def config_path() -> Path:
    given = os.environ.get(CONFIG_ENV)
    return Path(given) if given else Path(platformdirs.user_config_dir("switchroom", appauthor=False)) / "config.toml"


def themes_dir(path: Path | None = None) -> Path:
    """Where the user's own themes live: ``themes/`` beside the settings file."""
    return (path or config_path()).parent / "themes"


def load_config(path: Path | None = None) -> Config:
    """The settings in ``path`` (default: ``config_path()``); the defaults when there is no such file."""
    path = path or config_path()
    if not os.path.lexists(path):
        return Config()
    raw = read_toml(path, _settings_text, ConfigError)
    problems: list[str] = []
    config = _config(raw, problems)
    if problems:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in problems))
    try:
        themes = load_themes(themes_dir(path))
    except ThemeError as exc:
        raise ConfigError(str(exc)) from None
    if config.theme not in themes:
        raise ConfigError(f"{path}: theme: no theme is named {config.theme!r}; "
                          f"the themes are: {', '.join(sorted(themes))}")
    return config


def _settings_text(path: Path) -> str:
    """The file's text: a regular file of at most ``MAX_SETTINGS_BYTES`` (a FIFO would wait for a writer,
    and ``/dev/zero`` never ends); anything else is a ``ConfigError``."""
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO without a writer: no wait
    with os.fdopen(handle, "rb") as file:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise ConfigError(f"{path}: not a regular file; give the settings file, or unset ${CONFIG_ENV}")
        data = file.read(MAX_SETTINGS_BYTES + 1)
    if len(data) > MAX_SETTINGS_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_SETTINGS_BYTES >> 20} MiB; a settings file is a few lines")
    return data.decode("utf-8")


def _config(raw: dict[str, Any], problems: list[str]) -> Config:
    """The settings in a parsed file, adding every problem found to ``problems`` (as ``key: what``)."""
    sections = {"cache": CacheLimits, "alert": AlertSettings, "export": ExportSettings}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "theme" and isinstance(value, str):
            values[key] = value
        elif key == "theme":
            problems.append('theme: give a theme\'s name, e.g. "switchroom-light"')
        elif key == "time_zone":
            values[key] = _time_zone(value, problems)
        elif key == "keys":
            values[key] = _keys(value, problems)
        elif key in sections and isinstance(value, dict):
            values[key] = sections[key](**_values(sections[key], value, f"{key}.", problems))
        elif key in sections:
            problems.append(f"{key}: a table is needed ([{key}])")
        else:
            problems.append(f"{key}: no such setting; the settings are: theme, time_zone, {', '.join(sections)}, "
                            "keys")
    return Config(**values)


def _time_zone(value: object, problems: list[str]) -> str:
    """``time_zone``: ``local``, ``utc`` or a zone the machine's zone database knows."""
    try:
        if not isinstance(value, str):
            raise ValueError('give "local", "utc" or a zone\'s name, e.g. "Europe/Paris"')
        zone_named(value)
    except ValueError as exc:
        problems.append(f"time_zone: {exc}")
        return LOCAL
    return value


def _values(section: type, table: dict[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    """The values in ``table`` for the fields of dataclass ``section``, each checked against its type and
    bounds; unknown keys and bad values are problems."""
    hints = get_type_hints(section, include_extras=True)
    values = {}
    for key, value in table.items():
        if key not in hints:
            problems.append(f"{where}{key}: no such setting; the settings here are: {', '.join(hints)}")
            continue
        try:
            values[key] = msgspec.convert(value, hints[key])
        except msgspec.ValidationError as exc:
            problems.append(f"{where}{key}: {exc}")
    return values


def _keys(table: object, problems: list[str]) -> dict[str, tuple[str, ...]]:
    """``[keys]``: action id → a key or a list of keys; every id known, every key a key, no key running two
    actions."""
    if not isinstance(table, dict):
        problems.append("keys: a table is needed ([keys])")
        return {}
    keys: dict[str, tuple[str, ...]] = {}
    for action_id, value in table.items():
        try:
            check_action_id(action_id)
            if not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(k, str) for k in value))):
                raise ValueError("give a key or a list of keys, e.g. \"f1\" or [\"f1\", \"?\"]")
            keys[action_id] = parse_keys(value)
        except ValueError as exc:
            problems.append(f"keys.{action_id}: {exc}")
    if len(keys) == len(table):
        try:
            check_clashes(keys)
        except ValueError as exc:
            problems.append(f"keys: {exc}")
    return keys
