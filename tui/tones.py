"""What colour says on the dashboard — ok, info, warning, error, muted — with each colour taken from the
active theme, so that a user's theme colours every part and a change of theme repaints at once.

Text names the tone of a part as its style (``Text("503", style=ERROR)``); the widget that shows it
declares ``TONE_CLASSES`` as component classes and ``tone_css(its class name)`` in its CSS, and turns the
names into styles when it draws (``toned(text, tone_styles(self))``), so each paint reads the theme in
force. A theme changes a widget's component styles, and Textual repaints a widget whose component styles
changed. Under NO_COLOR, where Textual draws no colour at all, the tones say by type what colour says
elsewhere: errors bold and underlined, warnings bold, muted text in italics (as the lists do).
"""

from collections.abc import Mapping
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.style import Style
from rich.text import Span, Text
from rich.theme import Theme
from textual.widget import Widget

_RULES = {
    "ok": "color: $success;",                     # 2xx, a script run that ended well
    "info": "color: $primary;",                   # 3xx, durations
    "warning": "color: $warning;",                # 4xx, console warnings, partial figures
    "error": "color: $error; text-style: bold;",  # 5xx, no answer, failures, the failing line
    "muted": "color: $text-muted;",               # skipped calls, what a code means, placeholders
}
_WITHOUT_COLOUR = {"warning": "bold", "error": "bold underline", "muted": "italic"}

OK, INFO, WARNING, ERROR, MUTED = (f"tone.{name}" for name in _RULES)
"""The style names a text gives its parts."""
TONE_CLASSES = frozenset(f"tone--{name}" for name in _RULES)
"""The component classes of a widget that shows toned text."""


def tone_css(owner: str) -> str:
    """The CSS that colours the tones of widget class ``owner`` from the theme, and marks them by type
    under NO_COLOR."""
    rules = [f"{owner} > .tone--{name} {{ {rule} }}" for name, rule in _RULES.items()]
    rules += [f"{owner}:nocolor > .tone--{name} {{ text-style: {style}; }}" for name, style in _WITHOUT_COLOUR.items()]
    return "\n".join(rules)


def tone_styles(widget: Widget) -> dict[str, Style]:
    """Each tone's style name → its style in ``widget`` now: the theme's colour (blended over the widget's
    background, as Textual blends a translucent colour such as ``text-muted``) and the tone's emphasis."""
    styles = {}
    for name in _RULES:
        own = widget.get_component_rich_style(f"tone--{name}", partial=True)
        colour = widget.get_component_styles(f"tone--{name}").color
        if colour.a < 1 or colour.auto:
            own += Style(color=widget.get_component_rich_style(f"tone--{name}").color)
        styles[f"tone.{name}"] = own
    return styles


def toned(renderable: RenderableType, styles: Mapping[str, Style]) -> RenderableType:
    """``renderable`` with its tone names drawn in ``styles``: a text's spans replaced (it stays a text), any
    other renderable (a table, a group) drawn with the names defined while it renders; a str is literal text."""
    if isinstance(renderable, str):
        return Text(renderable)
    if isinstance(renderable, Text):
        return toned_text(renderable, styles)
    return _InTones(renderable, Theme(dict(styles), inherit=False))


def toned_text(text: Text, styles: Mapping[str, Style]) -> Text:
    """A copy of ``text`` with the tone names of its style and spans replaced by their ``styles``."""
    copy = text.copy()
    if isinstance(copy.style, str):
        copy.style = styles.get(copy.style, copy.style)
    copy.spans = [Span(span.start, span.end, styles.get(span.style, span.style)) if isinstance(span.style, str)
                  else span for span in copy.spans]
    return copy


@dataclass(frozen=True)
class _InTones:
    renderable: RenderableType
    theme: Theme

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        with console.use_theme(self.theme):
            drawn = list(console.render(self.renderable, options))
        yield from drawn

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        with console.use_theme(self.theme):
            return Measurement.get(console, options, self.renderable)
