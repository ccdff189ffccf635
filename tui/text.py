"""Untrusted text (ingredients, bodies, script output) made safe to draw: shown literally.

Text is always drawn as plain segments, never parsed as Rich markup; what remains is to take out
terminal control: escape sequences and control characters, which would otherwise move the cursor,
clear the screen or retitle the terminal.
"""

import re

# CSI / OSC / other ESC sequences, then any remaining C0/C1 control character (tab becomes a space).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(value: object) -> str:
    """``value`` as one line of text with every terminal control removed."""
    text = value if isinstance(value, str) else str(value)
    text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text.replace("\t", " "))
