"""The dashboard's settings file (DESIGN §10): TOML in the user config directory, read in one place.

``$SWITCHROOM_CONFIG`` names another file. A missing file means the defaults; a file with problems is
refused with every problem named (file, key, what is wrong), never a traceback. ::

    theme = "switchroom-dark"   # or switchroom-light, switchroom-high-contrast, one of Textual's
                                # (textual-dark, nord, …) or one of yours in themes/ beside this file

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

from pathlib import Path
from typing import Annotated
import os
import tomllib

import platformdirs
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from themes import DEFAULT_THEME, ThemeError, load_themes
from tui.keymap import KeyMap, check_action_id, check_clashes, parse_keys

CONFIG_ENV = "SWITCHROOM_CONFIG"


class ConfigError(Exception):
    pass


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CacheLimits(_Section):
    """Retention of the local cache, by age and by size (0 turns either off)."""

    max_age_days: float = Field(default=30.0, ge=0)
    max_size_mb: float = Field(default=2048.0, ge=0)

    @property
    def max_age_seconds(self) -> float | None:
        return self.max_age_days * 86_400 if self.max_age_days else None

    @property
    def max_bytes(self) -> int | None:
        return int(self.max_size_mb * 1024 * 1024) if self.max_size_mb else None


def _keys(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(key, str) for key in value)):
        return parse_keys(value)
    raise ValueError("give a key or a list of keys, e.g. \"f1\" or [\"f1\", \"?\"]")


ActionId = Annotated[str, AfterValidator(check_action_id)]
Keys = Annotated[tuple[str, ...], BeforeValidator(_keys)]


class AlertSettings(_Section):
    """When a feature's share of failed calls (5xx or no answer) over the last ``window_minutes``
    reaches ``error_rate`` — with at least ``min_calls`` calls — a banner shows and the bell rings once."""

    error_rate: float = Field(default=0.25, gt=0, le=1)
    window_minutes: int = Field(default=5, ge=1, le=1440)
    min_calls: int = Field(default=20, ge=1)


class Config(_Section):
    theme: str = DEFAULT_THEME
    cache: CacheLimits = CacheLimits()
    alert: AlertSettings = AlertSettings()
    keys: dict[ActionId, Keys] = {}
    """Action id → its keys, in Textual's long form."""

    @field_validator("keys")
    @classmethod
    def _no_key_runs_two_actions(cls, keys: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        check_clashes(keys)
        return keys

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
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError("\n".join(f"{path}: {_where(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                                     for e in exc.errors())) from None
    try:
        themes = load_themes(themes_dir(path))
    except ThemeError as exc:
        raise ConfigError(str(exc)) from None
    if config.theme not in themes:
        raise ConfigError(f"{path}: theme: no theme is named {config.theme!r}; "
                          f"the themes are: {', '.join(sorted(themes))}")
    return config


def _where(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a TOML key path (``keys.help``)."""
    return ".".join(str(part) for part in loc if part != "[key]")
