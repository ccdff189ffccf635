"""Who polls which trigger subscription when hubs share one database (DESIGN §12).

Each subscription has a row saying when it is next due and which hub holds it while polling. A hub
claims the due rows no other hub holds (``FOR UPDATE SKIP LOCKED``: two hubs claiming at once take
different rows, neither waits), polls them, waits until what the poll found is committed, and lets go.
So across all hubs a subscription is polled once per interval, never by two hubs at once, and the seen
marks each poll reads are those every earlier poll wrote. A notification on any hub makes its
subscriptions due at once. A hub that dies holding a row loses it after ``LEASE_S``.
"""

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, cast

from switchroom.hub.recorder import Recorder

if TYPE_CHECKING:  # psycopg is an optional extra: a SQLite hub never loads it
    from switchroom.store.postgres_log import PostgresLog

LEASE_S = 60.0
"""How long a claim holds: longer than any one poll takes (the service client's timeouts are far shorter)."""
NOTIFIED_ONLY_S = 1e12
"""The interval of a hub that polls only on notifications: never due by time."""


class PollLeases:
    def __init__(self, recorder: Recorder, interval_s: float, holder: str) -> None:
        """``holder``: this hub process, as the rows it holds name it (``Peers.process_id``)."""
        self._recorder = recorder
        self.holder = holder
        self._interval_s = interval_s if interval_s > 0 else NOTIFIED_ONLY_S
        self._known: set[str] = set()

    async def schedule(self, identities: Iterable[str], spread_s: float) -> None:
        """Make sure every one of ``identities`` has a row: a new one first due within ``spread_s``, or (a
        hub that polls only on notifications) not before one."""
        new = [identity for identity in identities if identity not in self._known]
        after_s, spread_s = (NOTIFIED_ONLY_S, 0.0) if self._interval_s == NOTIFIED_ONLY_S else (0.0, spread_s)
        if new:
            await self._recorder.read(lambda log: _shared(log).add_poll_leases(new, after_s, spread_s))
            self._known.update(new)

    async def claim(self, identities: Sequence[str], limit: int) -> list[tuple[str, bool]]:
        """Due subscriptions among ``identities`` that this hub now holds, each with whether a notification
        made it due."""
        if limit <= 0 or not identities:
            return []
        return await self._recorder.read(
            lambda log: _shared(log).claim_polls(identities, self.holder, self._interval_s, LEASE_S, limit))

    async def release(self, identity: str) -> None:
        await self._recorder.read(lambda log: _shared(log).release_poll(identity, self.holder))

    async def make_due(self, identities: Sequence[str]) -> None:
        await self._recorder.read(lambda log: _shared(log).make_due(identities))


def _shared(log: object) -> "PostgresLog":
    return cast("PostgresLog", log)
