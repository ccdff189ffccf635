"""The frame the rerun screens (one call, a bulk) are drawn in: a box the height of the screen, bordered
as a warning, since what they send runs actions again."""

from textual.screen import ModalScreen


class RerunFrame(ModalScreen[None]):
    """A modal screen whose one ``Vertical`` is the frame; what goes in it is the subclass's."""

    DEFAULT_CSS = """
    RerunFrame { align: center middle; }
    RerunFrame > Vertical { width: 100%; max-width: 100; height: 100%; border: round $warning;
                            background: $surface; padding: 0 1; }
    """
