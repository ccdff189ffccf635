"""The error-rate alert: when a feature's share of failed calls over a short window crosses the
threshold (``[alert]`` in the config), a banner says which, and the terminal bell rings once — not again
until that feature has dropped below the threshold and crossed it anew."""

from dataclasses import dataclass, field

from switchroom.store.analytics.breakdowns import Breakdown

FAILED_KEYS = frozenset({"5xx", "none"})
"""What counts as failed here: the hub or the service behind it failed (a 4xx is the caller's mistake)."""


@dataclass
class ErrorRateAlert:
    threshold: float
    min_calls: int
    alerting: dict[tuple[str, str], float] = field(default_factory=dict)
    """(connection, feature) → its error share, for every feature over the threshold now."""

    def update(self, breakdowns: list[Breakdown]) -> bool:
        """Take the latest window's breakdowns; True when a feature has newly crossed (ring the bell)."""
        now: dict[tuple[str, str], float] = {}
        for item in breakdowns:
            failed = sum(share.count for share in item.classes if share.key in FAILED_KEYS)
            if item.total >= self.min_calls and failed / item.total >= self.threshold:
                now[(item.connection_id, item.feature_id)] = failed / item.total
        crossed = bool(now.keys() - self.alerting.keys())
        self.alerting = now
        return crossed

    def banner(self, window_label: str) -> str:
        worst = sorted(self.alerting.items(), key=lambda item: -item[1])
        named = ", ".join(f"{conn or '–'}/{feature or '–'} {share:.0%}" for (conn, feature), share in worst[:4])
        more = f" and {len(worst) - 4} more" if len(worst) > 4 else ""
        return f"⚠ error rate over {self.threshold:.0%} in the last {window_label}: {named}{more}"
