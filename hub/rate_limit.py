"""A token bucket per (user, connection): the Connect API's 429 with ``Retry-After``."""

from dataclasses import dataclass
import math
import time


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows ``rate`` requests per second per key on average, bursts up to ``burst``.

    ``rate`` of 0 or less turns limiting off.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, 2 * rate)
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def retry_after(self, key: tuple[str, str], now: float | None = None) -> int | None:
        """Take a token for ``key``; None when allowed, else whole seconds until one is free."""
        if self.rate <= 0:
            return None
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))
