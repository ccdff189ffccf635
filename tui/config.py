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

    read_only = false     # true: no reruns or replays from this machine (as --read-only)

    [filters]             # saved filters: in the palette by name; on a key in a table of their own
    failing = "status:5xx since:1h"
    [filters.slow-glow]
    filter = "conn:evening-glow code:service_timeout"
    key = "f5"

    [hubs.prod]           # a hub by name: `switchroom --hub prod`, and in the palette's hub list
    url = "https://switchroom.example.com"
    token_env = "PROD_SWITCHROOM_TOKEN"   # where its token comes from: one of token_env,
    # token_file = "~/.config/switchroom/prod.token"     token_file (the first line),
    # token_command = "pass show switchroom/prod"        token_command (what it prints)

User themes are TOML files in a ``themes`` folder beside this file (``themes/__init__.py`` shows the
format); a theme file with problems is refused like this file is. Keys are named as Textual names
them (``tui/keymap.py``); an unknown action id, a key that is no key, or a key that would then run two
actions is refused.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, get_type_hints
import os
import re
import stat

import msgspec
import platformdirs

from switchroom.themes import DEFAULT_THEME, ThemeError, load_themes, read_toml
from switchroom.store.filters import FilterError, parse_filter
from switchroom.tui.actions import ACTIONS
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
class HubSettings:
    """A hub named in ``[hubs.NAME]``: its URL and where its operator token comes from (at most one of
    ``token_env``, ``token_file``, ``token_command``; none: ``--token`` or ``$SWITCHROOM_TOKEN``). The
    token itself never goes in this file."""

    url: str
    token_env: str = ""
    """The environment variable that holds the token."""
    token_file: str = ""
    """A file whose first line is the token (``~`` expands)."""
    token_command: str = ""
    """A command (no shell) that prints the token, e.g. ``pass show switchroom/prod``."""


@dataclass(frozen=True)
class SavedFilter:
    """A filter named in ``[filters]``: in the palette by its name, and on ``key`` when one is given."""

    filter: str
    key: str = ""
    """A key, in Textual's long form; no action may have it."""


@dataclass(frozen=True)
class Config:
    theme: str = DEFAULT_THEME
    read_only: bool = False
    """No reruns or replays from this console (``--read-only`` says the same for one run)."""
    hubs: dict[str, HubSettings] = field(default_factory=dict)
    filters: dict[str, SavedFilter] = field(default_factory=dict)
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


_SCALARS: dict[str, tuple[type, str]] = {
    "theme": (str, 'give a theme\'s name, e.g. "switchroom-light"'),
    "read_only": (bool, "give true or false"),
}
"""The top-level settings that are one value: its type, and what to say when it is of another."""


def _config(raw: dict[str, Any], problems: list[str]) -> Config:
    """The settings in a parsed file, adding every problem found to ``problems`` (as ``key: what``)."""
    sections = {"cache": CacheLimits, "alert": AlertSettings, "export": ExportSettings}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SCALARS and isinstance(value, _SCALARS[key][0]):
            values[key] = value
        elif key in _SCALARS:
            problems.append(f"{key}: {_SCALARS[key][1]}")
        elif key == "time_zone":
            values[key] = _time_zone(value, problems)
        elif key == "keys":
            values[key] = _keys(value, problems)
        elif key == "hubs":
            values[key] = _hubs(value, problems)
        elif key == "filters":
            values[key] = _saved_filters(value, problems)
        elif key in sections and isinstance(value, dict):
            values[key] = sections[key](**_values(sections[key], value, f"{key}.", problems))
        elif key in sections:
            problems.append(f"{key}: a table is needed ([{key}])")
        else:
            problems.append(f"{key}: no such setting; the settings are: theme, time_zone, read_only, "
                            f"{', '.join(sections)}, keys, hubs, filters")
    config = Config(**values)
    _check_filter_keys(config, problems)
    return config


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


_HUB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _hubs(table: object, problems: list[str]) -> dict[str, HubSettings]:
    """``[hubs.NAME]``: each a URL and at most one token source; a name is a word, not a URL."""
    if not isinstance(table, dict):
        problems.append("hubs: a table of hubs is needed ([hubs.NAME] with url = ...)")
        return {}
    hubs: dict[str, HubSettings] = {}
    for name, settings in table.items():
        where = f"hubs.{name}"
        if not _HUB_NAME.match(name):
            problems.append(f"{where}: a hub's name is letters, digits, '.', '_' or '-' (at most 64)")
        elif not isinstance(settings, dict):
            problems.append(f"{where}: a table is needed ([{where}] with url = ...)")
        elif "url" not in settings:
            problems.append(f"{where}: url is needed, e.g. url = \"http://127.0.0.1:8470\"")
        else:
            before = len(problems)
            values = _values(HubSettings, settings, f"{where}.", problems)
            url = values.get("url", "")
            if "url" in values and not url.startswith(("http://", "https://")):
                problems.append(f"{where}.url: give the hub's http:// or https:// URL")
            if sum(bool(values.get(k)) for k in ("token_env", "token_file", "token_command")) > 1:
                problems.append(f"{where}: give at most one of token_env, token_file, token_command")
            if len(problems) == before:
                hubs[name] = HubSettings(**values)
    return hubs


def _saved_filters(table: object, problems: list[str]) -> dict[str, SavedFilter]:
    """``[filters]``: name = "filter", or ``[filters.NAME]`` with ``filter`` and ``key``; each filter must
    parse."""
    if not isinstance(table, dict):
        problems.append("filters: a table is needed ([filters])")
        return {}
    saved: dict[str, SavedFilter] = {}
    for name, value in table.items():
        where = f"filters.{name}"
        settings = {"filter": value} if isinstance(value, str) else value
        if not _HUB_NAME.match(name):
            problems.append(f"{where}: a filter's name is letters, digits, '.', '_' or '-' (at most 64)")
        elif not isinstance(settings, dict) or "filter" not in settings:
            problems.append(f'{where}: give the filter, e.g. {name} = "status:5xx since:1h"')
        else:
            before = len(problems)
            values = _values(SavedFilter, settings, f"{where}.", problems)
            try:
                parse_filter(values.get("filter", ""))
                values["key"] = parse_keys(values["key"])[0] if values.get("key") else ""
            except FilterError as exc:
                problems.append(f"{where}.filter: {exc}")
            except ValueError as exc:
                problems.append(f"{where}.key: {exc}")
            if len(problems) == before:
                saved[name] = SavedFilter(**values)
    return saved


def _check_filter_keys(config: Config, problems: list[str]) -> None:
    """A saved filter's key may be no action's key, nor another saved filter's."""
    taken = {key: action.id for action in ACTIONS for key in config.keymap.keys(action.id)}
    for name, saved in config.filters.items():
        if saved.key and saved.key in taken:
            problems.append(f"filters.{name}.key: {saved.key!r} is taken by {taken[saved.key]!r}")
        elif saved.key:
            taken[saved.key] = f"filters.{name}"
