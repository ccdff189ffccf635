"""The Scripts pane's summary: per connection and feature, how runs ended and how long they took
against the time limit (a histogram from quick runs on the left to runs stopped at the limit)."""

from rich.text import Text

from switchroom.store.queries import DURATION_SHARES, ScriptStats
from switchroom.tui.text import printable
from switchroom.tui.tones import ERROR, INFO, MUTED, OK
from switchroom.tui.widgets.sparkline import sparkline
from switchroom.tui.widgets.toned_text import TonedText

HISTOGRAM_LEGEND = ("durations: bars for " + " ".join(f"<{share:.0%}" for share in DURATION_SHARES)
                    + " of the limit, stopped")


class ScriptSummary(TonedText):
    DEFAULT_CSS = """
    ScriptSummary { height: auto; max-height: 10; padding: 0 1; border-bottom: solid $panel; }
    """

    _lines = 0

    def show(self, stats: list[ScriptStats]) -> None:
        text = Text()
        text.append(f"{'connection':<18} {'feature':<10} {'runs':>6} {'ok':>6} {'error':>5} {'timeout':>7} "
                    f"{'oom':>4}  durations", style="bold")
        if not stats:
            text.append("\nno script runs in the cache yet", style=MUTED)
        for row in stats:
            text.append("\n" + printable(f"{row.connection_id[:18]:<18} {row.feature_id[:10]:<10} {row.runs:>6,} "))
            text.append(f"{row.outcomes.get('ok', 0):>6,} ", style=OK)
            for status, width in (("error", 5), ("timeout", 7), ("oom", 4)):
                count = row.outcomes.get(status, 0)
                text.append(f"{count:>{width},} ", style=ERROR if count else MUTED)
            text.append(" " + sparkline(row.durations), style=INFO)
        text.append(f"\n{HISTOGRAM_LEGEND}", style=MUTED)
        lines = len(stats) + 2
        self.update(text, layout=lines != self._lines)  # a new height needs the screen laid out again
        self._lines = lines
