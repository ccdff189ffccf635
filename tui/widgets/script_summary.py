"""The Scripts pane's summary: per connection and feature, how runs ended and how long they took
against the time limit (a histogram from quick runs on the left to runs stopped at the limit)."""

from rich.text import Text
from textual.widgets import Static

from switchroom.store.queries import DURATION_SHARES, ScriptStats
from switchroom.tui.text import printable
from switchroom.tui.widgets.sparkline import sparkline

HISTOGRAM_LEGEND = ("durations: bars for " + " ".join(f"<{share:.0%}" for share in DURATION_SHARES)
                    + " of the limit, stopped")


class ScriptSummary(Static):
    DEFAULT_CSS = """
    ScriptSummary { height: auto; max-height: 10; padding: 0 1; border-bottom: solid $panel; }
    """

    _lines = 0

    def show(self, stats: list[ScriptStats]) -> None:
        text = Text()
        text.append(f"{'connection':<18} {'feature':<10} {'runs':>6} {'ok':>6} {'error':>5} {'timeout':>7} "
                    f"{'oom':>4}  durations", style="bold")
        if not stats:
            text.append("\nno script runs in the cache yet", style="dim")
        for row in stats:
            text.append("\n" + printable(f"{row.connection_id[:18]:<18} {row.feature_id[:10]:<10} {row.runs:>6,} "))
            text.append(f"{row.outcomes.get('ok', 0):>6,} ", style="green")
            for status, width in (("error", 5), ("timeout", 7), ("oom", 4)):
                count = row.outcomes.get(status, 0)
                text.append(f"{count:>{width},} ", style="bold red" if count else "dim")
            text.append(" " + sparkline(row.durations), style="cyan")
        text.append(f"\n{HISTOGRAM_LEGEND}", style="dim")
        lines = len(stats) + 2
        self.update(text, layout=lines != self._lines)  # a new height needs the screen laid out again
        self._lines = lines
