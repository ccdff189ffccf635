"""The frame the reading screens (a record's detail, a connection's definition) are drawn in: a box the
size of the screen with a title line, a scrolling body of headed sections, and a line of keys."""

from textual.screen import ModalScreen


class ReadingFrame(ModalScreen[None]):
    """A modal screen whose one ``Vertical`` is the frame; its parts carry the classes below."""

    DEFAULT_CSS = """
    ReadingFrame { align: center middle; }
    ReadingFrame > Vertical { width: 100%; height: 100%; border: round $accent; background: $surface; }
    ReadingFrame .frame-title { height: 1; text-style: bold; padding: 0 1; background: $boost; }
    ReadingFrame .frame-body { height: 1fr; padding: 0 1; }
    ReadingFrame .frame-heading { text-style: bold; color: $accent; margin-top: 1; }
    ReadingFrame .frame-keys { height: 1; color: $text-muted; padding: 0 1; }
    """
