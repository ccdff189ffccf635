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

from pathlib import Path
import tomllib

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

THEMES_DIR = Path(__file__).parent
APP_CSS = THEMES_DIR / "switchroom.tcss"
DEFAULT_THEME = "switchroom-dark"


class ThemeError(Exception):
    pass


def _colour(value: str | None) -> str | None:
    if value is not None:
        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(f"{value!r} is not a colour (e.g. '#5fafff', 'rgb(95,175,255)', 'ansi_red')") from None
    return value


class ThemeFile(BaseModel):
    """The keys a theme file may have: those of ``textual.theme.Theme``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    dark: bool = True
    primary: str
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    success: str | None = None
    warning: str | None = None
    error: str | None = None
    luminosity_spread: float = Field(default=0.15, ge=0, le=1)
    text_alpha: float = Field(default=0.95, ge=0, le=1)
    variables: dict[str, str] = {}

    _check_colours = field_validator("primary", "secondary", "accent", "foreground", "background", "surface",
                                     "panel", "boost", "success", "warning", "error")(_colour)


def load_theme(path: Path) -> Theme:
    """The theme in ``path``; ``ThemeError`` naming the file and the key when it is not one."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        theme = ThemeFile.model_validate(raw)
    except OSError as exc:
        raise ThemeError(f"{path}: cannot read the file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise ThemeError("\n".join(
            f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )) from None
    fields = theme.model_dump()
    if theme.boost:  # Textual ignores ``boost`` when ``panel`` is given too; as a variable it always counts
        fields["variables"] = {"boost": theme.boost, **theme.variables}
    return Theme(**{**fields, "name": theme.name or path.stem})


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
