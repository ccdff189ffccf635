"""When the pane on screen reads again: its list at the next tick after any change to the records; its
summaries after a change too, but at most every ``SUMMARY_SECONDS`` — and at once when the view itself
changed (another pane, filter, focus or window)."""

import time

SUMMARY_SECONDS = 2.0
"""How often the summaries (breakdowns, connection stats, failure groups) are read again."""


class Staleness:
    def __init__(self) -> None:
        self._changed = True
        self._summaries_due = True
        self._summarised_at = 0.0

    def records_changed(self) -> None:
        """Records arrived, were counted by the indexer or left the cache. Called from any thread."""
        self._changed = True

    def view_changed(self) -> None:
        """What the panes are narrowed to changed: the list and the summaries are read at the next tick."""
        self._changed = True
        self.summaries_now()

    def summaries_now(self) -> None:
        """The next read of the summaries need not wait for ``SUMMARY_SECONDS`` since the last."""
        self._summarised_at = 0.0

    def tick(self) -> bool:
        """Whether this tick reads the pane: records changed since the last, or summaries are due and
        their time has come."""
        if self._changed:
            self._summaries_due = True
        elif not (self._summaries_due and self._summaries_time()):
            return False
        self._changed = False
        return True

    def take_summaries(self) -> bool:
        """Whether this read includes the summaries (if not, they stay due); taken when it does."""
        if not self._summaries_time():
            return False
        self.summarised()
        return True

    def summarised(self) -> None:
        self._summarised_at, self._summaries_due = time.monotonic(), False

    def _summaries_time(self) -> bool:
        return time.monotonic() - self._summarised_at >= SUMMARY_SECONDS
