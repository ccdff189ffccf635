"""The hub processes that share one database (DESIGN §12): each says it is alive every ``BEAT_S`` in the
``hubs`` table, which ``/v1/health`` and ``GET /v1/ops/hubs`` show; and they serve one catalog, whose
fingerprint the database keeps, so that a hub started with another catalog refuses to join them.

A hub on its own SQLite file is the only one: it lists itself.
"""

from typing import TYPE_CHECKING, Any, cast
import asyncio
import logging
import time
import uuid

from switchroom.hub.recorder import Recorder

if TYPE_CHECKING:  # psycopg is an optional extra: a SQLite hub never loads it
    from switchroom.store.postgres_log import PostgresLog

log = logging.getLogger("switchroom.hub")

BEAT_S = 2.0
LIVE_WITHIN_S = 10.0
"""A hub not seen for this long is taken for gone."""


class CatalogMismatch(RuntimeError):
    """Another hub on the database serves a different catalog."""


class Peers:
    def __init__(self, recorder: Recorder, url: str, version: str) -> None:
        self._recorder, self.url, self.version = recorder, url, version
        self.process_id = uuid.uuid4().hex
        """This hub process: what the ``hubs`` table, poll leases and idempotency keys it holds name it."""
        self._started = time.monotonic()

    def adopt_catalog(self, fingerprint: str) -> None:
        """At start, before serving: join the hubs on this database, whose catalog must be this one (unless
        none of them is running, when this one becomes the database's). Raises ``CatalogMismatch``."""
        if not self._recorder.shared:
            return
        held = self._recorder.before_start(lambda log: _shared(log).adopt_catalog(
            fingerprint, self.process_id, self.url, self.version, LIVE_WITHIN_S))
        if held is not None:
            raise CatalogMismatch(
                f"the hubs running on this database serve another catalog (fingerprint {held[:12]}, this one "
                f"{fingerprint[:12]}): give every hub the same catalog file (and the same service keys), or stop "
                "them all before starting hubs with a new one")

    async def beat(self) -> None:
        """Say this hub is alive, every ``BEAT_S``, until cancelled."""
        while self._recorder.shared:
            await self._recorder.read(lambda log: _shared(log).beat(self.process_id, self.url, self.version))
            await asyncio.sleep(BEAT_S)

    async def leave(self) -> None:
        """This hub stops: it is no longer listed, and no longer holds the database to its catalog."""
        if self._recorder.shared:
            try:
                await self._recorder.read(lambda log: _shared(log).leave(self.process_id))
            except Exception:  # the database is gone: the row is forgotten once it is not seen for a while
                log.warning("could not take this hub off the database's list of hubs", exc_info=True)

    async def live(self) -> list[dict[str, Any]]:
        """Every hub seen lately, this one among them."""
        if not self._recorder.shared:
            return [self._entry(self.process_id, self.url, self.version, time.monotonic() - self._started, 0.0)]
        rows = await self._recorder.read(lambda log: _shared(log).live_hubs(LIVE_WITHIN_S))
        return [self._entry(*row) for row in rows]

    def _entry(self, process_id: str, url: str, version: str, up_s: float, seen_s: float) -> dict[str, Any]:
        return {"process_id": process_id, "url": url, "version": version, "up_s": round(up_s, 1),
                "seen_s_ago": round(seen_s, 1), "this": process_id == self.process_id}


def _shared(log: object) -> "PostgresLog":
    return cast("PostgresLog", log)
