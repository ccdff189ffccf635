"""Stylesheets and colour themes shipped with the dashboard, and the user's own themes.

A theme is a TOML file whose keys are those of a Textual ``Theme``; the shipped ones
(``switchroom-dark``, ``switchroom-light``, ``switchroom-high-contrast``) are written the same way as a
user's, so any of them is a starting point for one. ::

    name = "midnight"          # optional: the file's name without .toml
    dark = true                # light themes say false
    primary = "#5fafff"        # the only colour required; the others default from it
    secondary = "#af87ff"
    accent = "#ffaf5f"
    foreground = "#d0d0d0"
    background = "#1c1c1c"
    surface = "#262626"
    panel = "#303030"
    success = "#87d75f"        # 2xx, the live link
    warning = "#ffd75f"        # 4xx, reconnecting, paused
    error = "#ff5f5f"          # 5xx, no answer, offline
    [variables]                # any Textual theme variable, e.g.
    text-muted = "#a8a8a8"     # skipped calls and secondary text
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any
import tomllib

from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

THEMES_DIR = Path(__file__).parent
APP_CSS = THEMES_DIR / "switchroom.tcss"
DEFAULT_THEME = "switchroom-dark"
COLOURS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel", "boost", "success",
           "warning", "error")
"""The colour keys of a theme file (those of ``textual.theme.Theme``); ``primary`` is required."""
MAX_THEME_BYTES = 64 << 10
SHARES = ("luminosity_spread", "text_alpha")
"""Its keys that are numbers from 0 to 1."""


class ThemeError(Exception):
    pass


def load_theme(path: Path) -> Theme:
    """The theme in ``path``; ``ThemeError`` naming the file and every bad key when it is not one."""
    raw = read_toml(path, _theme_text, ThemeError)
    problems = [f"{path}: {key}: {problem}" for key, value in raw.items() if (problem := _problem(key, value))]
    if "primary" not in raw:
        problems.append(f"{path}: primary: a theme needs at least its primary colour")
    if problems:
        raise ThemeError("\n".join(problems))
    fields = {"name": path.stem, **raw}
    if raw.get("boost"):  # Textual ignores ``boost`` when ``panel`` is given too; as a variable it always counts
        fields["variables"] = {"boost": fields.pop("boost"), **raw.get("variables", {})}
    return Theme(**fields)


def _theme_text(path: Path) -> str:
    if not path.is_file() or path.stat().st_size > MAX_THEME_BYTES:  # a FIFO or /dev/zero: never read
        raise ThemeError(f"{path}: not a theme file (a regular file of at most {MAX_THEME_BYTES >> 10} KiB)")
    return path.read_text(encoding="utf-8")


def read_toml(path: Path, read_text: Callable[[Path], str], error: type[Exception]) -> dict[str, Any]:
    """The TOML document ``read_text`` reads from ``path``; ``error``, naming the file, when it cannot be
    read or is not TOML (``read_text`` may raise ``error`` itself, for a file it will not read)."""
    try:
        return tomllib.loads(read_text(path))
    except OSError as exc:
        raise error(f"{path}: cannot read the file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise error(f"{path}: not valid TOML: nested too deeply") from None


def _problem(key: str, value: Any) -> str | None:
    """What is wrong with one key of a theme file, if anything."""
    if key in COLOURS:
        return None if isinstance(value, str) and _is_colour(value) else \
            f"{value!r} is not a colour (e.g. '#5fafff', 'rgb(95,175,255)', 'ansi_red')"
    if key in SHARES:
        return None if type(value) in (int, float) and 0 <= value <= 1 else "give a number from 0 to 1"
    if key == "name":
        return None if isinstance(value, str) and value else "give the theme's name"
    if key == "dark":
        return None if isinstance(value, bool) else "give true or false"
    if key == "variables":
        return None if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()) else \
            "a table of Textual theme variables, each a text"
    return f"no such key; a theme has: name, dark, {', '.join(COLOURS)}, {', '.join(SHARES)}, variables"


def _is_colour(value: str) -> bool:
    try:
        Color.parse(value)
    except ColorParseError:
        return False
    return True


def load_themes(user_dir: Path | None = None) -> dict[str, Theme]:
    """Every theme by name: Textual's own, the shipped ones, then the user's ``*.toml`` in ``user_dir``
    (a user's theme replaces a shipped one of the same name)."""
    themes = dict(BUILTIN_THEMES)
    files = sorted(THEMES_DIR.glob("*.toml"))
    if user_dir is not None and user_dir.is_dir():
        files += sorted(user_dir.glob("*.toml"))
    for path in files:
        theme = load_theme(path)
        themes[theme.name] = theme
    return themes
