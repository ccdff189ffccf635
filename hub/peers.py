"""The hub processes that share one database (DESIGN §12): each says it is alive every ``BEAT_S`` in the
``hubs`` table, which ``/v1/health`` and ``GET /v1/ops/hubs`` show; and they serve one catalog with one
set of operator tokens, whose fingerprint the database keeps, so that a hub started with another catalog
or token refuses to join them (a dashboard reconnecting through a balancer would otherwise meet a hub that
refuses its token). For the same reason a hub reloads another catalog only while no other hub runs there.

A hub on its own SQLite file is the only one: it lists itself.
"""

from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit, urlunsplit
import asyncio
import hashlib
import logging
import socket
import time
import uuid

from switchroom.hub.recorder import Recorder
from switchroom.protocol.hub_info import ListedHub

if TYPE_CHECKING:  # psycopg is an optional extra: a SQLite hub never loads it
    from switchroom.store.postgres_log import PostgresLog

log = logging.getLogger("switchroom.hub")

BEAT_S = 2.0
LIVE_WITHIN_S = 10.0
"""A hub not seen for this long is taken for gone."""


class CatalogMismatch(RuntimeError):
    """Another hub on the database serves a different catalog."""


def reachable_url(url: str) -> str:
    """The URL other machines reach a hub at: a hub listening on every address names its host instead."""
    parts = urlsplit(url)
    if parts.hostname in ("0.0.0.0", "::"):
        return urlunsplit(parts._replace(netloc=f"{socket.gethostname()}:{parts.port}"))
    return url


class Peers:
    def __init__(self, recorder: Recorder, url: str, version: str) -> None:
        """``url``: where this hub listens (listed as ``reachable_url`` gives it)."""
        self._recorder, self.url, self.version = recorder, reachable_url(url), version
        self.process_id = uuid.uuid4().hex
        """This hub process: what the ``hubs`` table, poll leases and idempotency keys it holds name it."""
        self._started = time.monotonic()
        self._token_digest = ""
        """The operator token's digest, set by ``adopt_catalog``: part of the fingerprint the database keeps."""

    def adopt_catalog(self, catalog_fingerprint: str, token: str) -> None:
        """At start, before serving: join the hubs on this database, whose catalog and operator token must
        be these (unless none of them is running, when these become the database's). Raises
        ``CatalogMismatch``."""
        self._token_digest = hashlib.sha256(token.encode()).hexdigest()
        if not self._recorder.shared:
            return
        fingerprint = self._fingerprint(catalog_fingerprint)
        held = self._recorder.before_start(lambda log: _shared(log).adopt_catalog(
            fingerprint, self.process_id, self.url, self.version, LIVE_WITHIN_S))
        if held is not None:
            raise CatalogMismatch(
                f"the hubs running on this database serve another catalog or take another operator token "
                f"(fingerprint {held[:12]}, this one {fingerprint[:12]}): give every hub the same catalog file, "
                "service keys and SWITCHROOM_TOKEN, or stop them all before starting hubs with new ones")

    async def change_catalog(self, catalog_fingerprint: str) -> None:
        """A catalog reload: the database's catalog becomes this one, unless other hubs run on it (they would
        go on serving the old one, and a hub started with either would be refused). Raises
        ``CatalogMismatch`` naming them."""
        if not self._recorder.shared:
            return
        fingerprint = self._fingerprint(catalog_fingerprint)
        others = await self._recorder.read(lambda log: _shared(log).change_catalog(
            fingerprint, self.process_id, LIVE_WITHIN_S))
        if others:
            raise CatalogMismatch(
                f"{len(others)} other hub{'s' if len(others) > 1 else ''} on this database "
                f"({', '.join(sorted(others))}) serve the catalog this one serves now, and would go on serving it: "
                "reload only a hub that runs alone, or stop every hub and start them all with the new catalog")

    def _fingerprint(self, catalog_fingerprint: str) -> str:
        """What the database keeps: the catalog's fingerprint and the operator token's, in one."""
        return hashlib.sha256(f"{catalog_fingerprint}:{self._token_digest}".encode()).hexdigest()

    async def beat(self) -> None:
        """Say this hub is alive, every ``BEAT_S``, until cancelled."""
        while self._recorder.shared:
            try:
                await self._recorder.read(lambda log: _shared(log).beat(self.process_id, self.url, self.version))
            except Exception:  # the database is away (restarting): say so next time round
                log.warning("could not tell the database this hub is alive; trying again", exc_info=True)
            await asyncio.sleep(BEAT_S)

    async def leave(self) -> None:
        """This hub stops: it is no longer listed, and no longer holds the database to its catalog."""
        if self._recorder.shared:
            try:
                await self._recorder.read(lambda log: _shared(log).leave(self.process_id))
            except Exception:  # the database is gone: the row is forgotten once it is not seen for a while
                log.warning("could not take this hub off the database's list of hubs", exc_info=True)

    async def live(self) -> list[ListedHub]:
        """Every hub seen lately, this one among them."""
        if not self._recorder.shared:
            return [self._entry(self.process_id, self.url, self.version, time.monotonic() - self._started, 0.0)]
        rows = await self._recorder.read(lambda log: _shared(log).live_hubs(LIVE_WITHIN_S))
        return [self._entry(*row) for row in rows]

    def _entry(self, process_id: str, url: str, version: str, up_s: float, seen_s: float) -> ListedHub:
        return ListedHub(process_id=process_id, url=url, version=version, up_s=round(up_s, 1),
                         seen_s_ago=round(seen_s, 1), this=process_id == self.process_id)


def _shared(log: object) -> "PostgresLog":
    return cast("PostgresLog", log)
