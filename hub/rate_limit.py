"""A token bucket per (user, connection): the Connect API's 429 with ``Retry-After``.

Where hubs share one database, the buckets are there, one for all hubs (``store.postgres_log.SharedBuckets``),
so a user gets ``rate`` requests a second however many hubs there are, not that many times it.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING
import math
import time

if TYPE_CHECKING:  # psycopg is an optional extra: a SQLite hub never loads it
    from switchroom.store.postgres_log import SharedBuckets


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
        return _seconds_until_one(bucket.tokens, self.rate)


class UserRateLimit:
    """The Connect API's per-user limit: this hub's buckets, or the shared database's (``shared``)."""

    def __init__(self, rate: float, shared_db: str | None = None) -> None:
        self._local = RateLimiter(rate)
        self._shared: "SharedBuckets | None" = None
        if shared_db is not None and rate > 0:
            from switchroom.store import postgres_log

            self._shared = postgres_log.SharedBuckets(shared_db, rate, self._local.burst)

    async def retry_after(self, user_id: str, connection_id: str) -> int | None:
        """Take a token for the user and connection; None when allowed, else whole seconds to wait."""
        if self._shared is None:
            return self._local.retry_after((user_id, connection_id))
        tokens = await self._shared.take(user_id, connection_id)
        return None if tokens is None else _seconds_until_one(tokens, self._local.rate)

    async def aclose(self) -> None:
        if self._shared is not None:
            await self._shared.close()


def _seconds_until_one(tokens: float, rate: float) -> int:
    return max(1, math.ceil((1 - tokens) / rate))
