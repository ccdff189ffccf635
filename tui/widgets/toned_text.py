"""A ``Static`` whose text may name tones (``tui.tones``): drawn at every paint in the colours of the
theme in force, so switching theme repaints it in the new one."""

from rich.console import RenderableType
from textual.app import RenderResult
from textual.widgets import Static

from switchroom.tui.tones import TONE_CLASSES, tone_css, tone_styles, toned


class TonedText(Static):
    """Static keeps what it is given turned into styles (once, when given); this keeps the tone names,
    and turns them into the theme's styles at each paint."""

    COMPONENT_CLASSES = set(TONE_CLASSES)
    DEFAULT_CSS = tone_css("TonedText")

    def __init__(self, content: RenderableType = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False)
        self._toned: RenderableType = content

    @property  # type: ignore[override]
    def content(self) -> RenderableType:
        """What it shows, with its tone names."""
        return self._toned

    def update(self, content: RenderableType = "", *, layout: bool = True) -> None:  # type: ignore[override]
        self._toned = content
        self.refresh(layout=layout)

    def render(self) -> RenderResult:
        return toned(self._toned, tone_styles(self))
