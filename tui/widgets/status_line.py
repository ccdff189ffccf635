"""The status line: which hub, the state of the link to it, and how fast records arrive."""

from collections import deque
import time

from textual.content import Content
from textual.widgets import Static

from switchroom.tui.link import LinkState
from switchroom.tui.text import printable

RATE_WINDOW = 5.0


class IngestRate:
    """Records per second over the last few seconds."""

    def __init__(self, window: float = RATE_WINDOW) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, count: int, now: float | None = None) -> None:
        self._samples.append((time.monotonic() if now is None else now, count))

    def per_second(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        while self._samples and self._samples[0][0] < now - self.window:
            self._samples.popleft()
        return sum(count for _, count in self._samples) / self.window


class StatusLine(Static):
    def show(self, hub_url: str, link: LinkState, rate: float, shown: str, bad_frames: int,
             following: bool = True, bad_records: tuple[int, bool] = (0, False), catching_up: float | None = None,
             read_only: bool = False) -> None:
        """``shown``: what the pane on screen holds, e.g. ``1,234 calls``; ``bad_records``: how many records
        of the wrong shape, and whether some are yet to be checked (said: ``so far``); ``catching_up``: the
        share of the hub's log the cache holds while it is still copying the backlog (said instead of ``live``);
        ``read_only``: reruns and replays are off in this console (said next to the link's state)."""
        """Colours are the theme's ($success, $warning, $error), so every theme and NO_COLOR work."""
        style = {"live": "bold $success", "offline": "bold $error"}.get(link.name, "bold $warning")
        if link.error:
            style = "bold $error"
        # What an operator must not miss comes first, so that a narrow terminal cuts the hub's URL and the
        # rate rather than the link's state, a pause or bad frames.
        # the link's detail may quote the hub (an error frame's message, a close reason): printable
        state = link.describe()
        if link.name == "live" and catching_up is not None and not link.error:
            state, style = f"catching up {catching_up:.0%}", "bold $warning"
        parts: list[str | tuple[str, str]] = [(printable(state), style)]
        if read_only:
            parts.append((" · read-only", "bold $accent"))
        if not following:
            parts.append((" · paused (End follows)", "bold $warning"))
        if bad_frames:
            parts.append((f" · {bad_frames} bad frames", "bold $error"))
        bad, so_far = bad_records
        if bad:
            parts.append((f" · {bad:,} bad records{' so far' if so_far else ''}", "bold $error"))
        parts.append(f" · {printable(hub_url)} · {rate:,.1f} rec/s · {shown}")
        # Content.assemble takes the text literally (no markup): the hub URL is the user's to write.
        self.update(Content.assemble(*parts), layout=False)  # one line: no need to lay the screen out again
