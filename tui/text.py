"""Untrusted text (ingredients, bodies, script output) made safe to draw: shown literally.

Text is always drawn as plain segments, never parsed as Rich markup; what remains is to take out
terminal control: escape sequences and control characters, which would otherwise move the cursor,
clear the screen or retitle the terminal. Characters that draw nothing but change how the text around
them reads (bidi overrides, zero-width characters, tag characters, line separators) are shown by
their code point instead, e.g. ``<U+202E>``: a user id must not be able to read as another.
"""

from unicodedata import category
import re

# CSI / OSC / other ESC sequences, then any remaining C0/C1 control character (tab becomes a space).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
SHOWN_AS_CODE = frozenset({"Cf", "Zl", "Zp", "Cs"})
"""Unicode categories shown as ``<U+XXXX>``: format characters (U+202A–U+202E, U+2066–U+2069, U+200B–U+200D,
U+2060, U+FEFF, tags …), line and paragraph separators, and lone surrogates (which no terminal can be sent)."""


def printable(value: object) -> str:
    """``value`` as one line of text with every terminal control removed and every invisible
    character shown by its code point. Both forms are plain ASCII, one cell a character, so column
    widths counted in characters stay right."""
    text = value if isinstance(value, str) else str(value)
    text = _ESCAPES.sub("", text)
    return visible(_CONTROLS.sub("", text.replace("\t", " ")))


def visible(text: str) -> str:
    """``text`` with each character of the ``SHOWN_AS_CODE`` categories written as ``<U+XXXX>``."""
    if text.isascii():
        return text
    return "".join(f"<U+{ord(c):04X}>" if category(c) in SHOWN_AS_CODE else c for c in text)
