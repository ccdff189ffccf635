"""The dashboard's settings file (DESIGN §10): TOML in the user config directory, read in one place.

``$SWITCHROOM_CONFIG`` names another file. A missing file means the defaults; a file with problems is
refused with every problem named (file, key, what is wrong), never a traceback. ::

    [cache]
    max_age_days = 30     # records older than this are dropped from the local cache
    max_size_mb = 2048    # and the oldest go first once the cache holds more than this
"""

from pathlib import Path
import os
import tomllib

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class Config(_Section):
    cache: CacheLimits = CacheLimits()


def config_path() -> Path:
    given = os.environ.get(CONFIG_ENV)
    return Path(given) if given else Path(platformdirs.user_config_dir("switchroom", appauthor=False)) / "config.toml"


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
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join(problems)) from None
