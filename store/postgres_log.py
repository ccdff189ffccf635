"""The hub's event log on PostgreSQL, shared by any number of hub processes (DESIGN §12).

The same records as ``store.eventlog``'s hub layout (the full JSON in ``body``, the indexed columns beside
it), the same hub state beside them, and the same methods, so that ``hub.recorder`` and the ops queries run
on either. What one database shared by N writers adds:

- **Gap-free ``seq``, visible in order.** Each append transaction takes its seqs from one counter row,
  ``log_head``, which it locks (``UPDATE … RETURNING``) after writing its state and just before inserting
  its records, then notifies and commits. A second writer waits on that row, so it takes the next seqs
  and commits after: a reader that has seen seq N never later finds a record below N appear. (With a
  sequence or identity column, transactions commit out of seq order, and a stream reading "after N"
  skips the late ones.)
- **Wake-ups.** The append notifies channel ``switchroom_log`` with its head, delivered at commit;
  ``follow_head`` listens, and also reads the head every ``HEAD_RECHECK_S`` in case a notification is
  lost with a connection.
- **One hub id** in ``meta``, made by whichever hub comes first.

One ``PostgresLog`` holds one connection: use it from one thread at a time, as ``EventLog``.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any
import asyncio
import logging
import uuid

import psycopg

from switchroom.protocol.kinds import TRIGGER_EVENT
from switchroom.store.eventlog import StateChanges, bodies_through, record_of, utc_now_iso
from switchroom.store.log_layouts import RECORD_COLUMNS, HUB_COLUMNS
from switchroom.store.postgres_sql import parameters, translate

CHANNEL = "switchroom_log"
HEAD_RECHECK_S = 1.0
FORGET_HUBS_S = 86_400.0
_SCHEMA_LOCK = 0x5357_4C4F_47  # pg_advisory_xact_lock key: hubs starting together make the schema once
log = logging.getLogger("switchroom.store")

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS records (
        seq bigint PRIMARY KEY, ts text NOT NULL, kind text NOT NULL, direction text, connection_id text,
        feature_id text, user_id text, op_id text, status_code bigint, skipped smallint,
        latency_ms double precision, body text NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS idx_records_kind_seq ON records (kind, seq)",
    "CREATE INDEX IF NOT EXISTS idx_records_connection_id_feature_id ON records (connection_id, feature_id)",
    "CREATE INDEX IF NOT EXISTS idx_records_kind_ts ON records (kind, ts)",
    # The one row every append locks for its seqs (see above).
    "CREATE TABLE IF NOT EXISTS log_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), seq bigint NOT NULL)",
    "INSERT INTO log_head (one, seq) VALUES (true, 0) ON CONFLICT DO NOTHING",
    "CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS trigger_seen (identity text NOT NULL, meta_id text NOT NULL, "
    "PRIMARY KEY (identity, meta_id))",
    # Each write of a user connection takes a new version, so a hub reads only the changes since it last
    # looked (``user_connections_after``).
    "CREATE SEQUENCE IF NOT EXISTS user_connection_versions",
    "CREATE TABLE IF NOT EXISTS user_connections (user_id text NOT NULL, connection_id text NOT NULL, "
    "body text NOT NULL, version bigint NOT NULL DEFAULT nextval('user_connection_versions'), "
    "PRIMARY KEY (user_id, connection_id))",
    "CREATE INDEX IF NOT EXISTS idx_user_connections_version ON user_connections (version)",
    # When each trigger subscription is next due for a poll, and which hub holds it while polling; times
    # are the database's clock (epoch seconds), so hubs on machines whose clocks differ agree.
    "CREATE TABLE IF NOT EXISTS trigger_leases (identity text PRIMARY KEY, due_at double precision NOT NULL, "
    "held_by text, held_until double precision NOT NULL DEFAULT 0)",
    # Idempotency keys of reruns and replays: the row is the claim (one hub runs a key), then the answer.
    "CREATE TABLE IF NOT EXISTS idempotency_keys (key text PRIMARY KEY, holder text NOT NULL, status integer, "
    "body text)",
    # Action calls and trigger events rerun (or replayed), and how often: "already rerun" on every hub.
    "CREATE TABLE IF NOT EXISTS rerun_claims (original bigint PRIMARY KEY, times integer NOT NULL DEFAULT 1)",
    # Bulk reruns as their hub runs them, so that any hub answers for them (and passes on a cancel).
    "CREATE TABLE IF NOT EXISTS rerun_bulks (id text PRIMARY KEY, holder text NOT NULL, state text NOT NULL, "
    "total integer NOT NULL, ok integer NOT NULL, failed integer NOT NULL, refused integer NOT NULL, "
    "cancel boolean NOT NULL DEFAULT false)",
    "CREATE TABLE IF NOT EXISTS rerun_bulk_items (bulk_id text NOT NULL, n integer NOT NULL, body text NOT NULL, "
    "PRIMARY KEY (bulk_id, n))",
    # Per-user rate limits' token buckets, one for all hubs (``SharedBuckets``).
    "CREATE UNLOGGED TABLE IF NOT EXISTS rate_buckets (user_id text NOT NULL, connection_id text NOT NULL, "
    "tokens double precision NOT NULL, updated double precision NOT NULL, PRIMARY KEY (user_id, connection_id))",
    # The hub processes on this database, each writing ``seen_at`` every few seconds while it runs.
    "CREATE TABLE IF NOT EXISTS hubs (process_id text PRIMARY KEY, url text NOT NULL, version text NOT NULL, "
    "started_at double precision NOT NULL, seen_at double precision NOT NULL)",
]
_NOW = "extract(epoch FROM clock_timestamp())"
_COPY = f"COPY records ({', '.join(RECORD_COLUMNS)}) FROM STDIN"


class PostgresLog:
    shared = True
    """Other hubs write to this log too: what a hub holds in memory of its state may be out of date."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = url  # what a reader opens (``reader``), and what messages name
        self._conn = self._connect()
        if not self._has_schema():  # looked at first: making an index that exists still locks its table
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock($1)", (_SCHEMA_LOCK,))
                for statement in _SCHEMA:
                    self._conn.execute(statement)

    def _connect(self) -> "psycopg.Connection[Any]":
        return psycopg.connect(self.url, autocommit=True, cursor_factory=psycopg.RawCursor)

    @property
    def _db(self) -> "psycopg.Connection[Any]":
        """The connection, made again when the last one broke (the server restarted, the network dropped):
        the failed statement raised, and the next one goes on."""
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return self._conn

    def _has_schema(self) -> bool:
        return self._db.execute("SELECT to_regclass('user_connections') IS NOT NULL").fetchone()[0]

    def reader(self) -> "PostgresLog":
        """Another connection to the same log, for a reader thread."""
        return PostgresLog(self.url)

    def close(self) -> None:
        self._conn.close()

    # -- identity ---------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = $1", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE "
                           "SET value = excluded.value", (key, value))

    def ensure_hub_id(self) -> str:
        """The hub id every hub on this database names: made by the first, read by the others."""
        self._db.execute("INSERT INTO meta (key, value) VALUES ('hub_id', $1) ON CONFLICT DO NOTHING",
                           (uuid.uuid4().hex,))
        hub_id = self.meta("hub_id")
        assert hub_id is not None
        return hub_id

    # -- writing ----------------------------------------------------------------------------------

    def head_seq(self) -> int:
        """The last seq committed (read from the counter row, which no append leaves ahead of its records)."""
        return self._db.execute("SELECT seq FROM log_head").fetchone()[0]

    def append(self, bodies: Sequence[dict[str, Any]],
               state: StateChanges | None = None) -> list[dict[str, Any] | None]:
        """Append records in one transaction with ``state``, taking the next seqs from ``log_head``.

        The seen marks' primary key decides which trigger events exist: an event whose mark another hub
        committed first is not appended (None in its place, taking no seq), so that two hubs that polled one
        subscription at once (a lease outlived) never make one item two events."""
        with self._db.transaction():
            marked_before = self._write_state(state) if state else set()
            dropped = [_seen_before(body, marked_before) for body in bodies]
            kept = [body for body, drop in zip(bodies, dropped) if not drop]
            records: list[dict[str, Any]] = []
            if kept:
                # The notification goes out at commit; asked for here, it costs no round trip of its own.
                (last, _) = self._db.execute(
                    "UPDATE log_head SET seq = seq + $1 RETURNING seq, pg_notify($2, seq::text)",
                    (len(kept), CHANNEL)).fetchone()
                for seq, body in enumerate(kept, start=last - len(kept) + 1):
                    record = {"seq": seq, "ts": body.get("ts") or utc_now_iso()}
                    record.update((k, v) for k, v in body.items() if k not in record)
                    records.append(record)
                rows = HUB_COLUMNS.appended_rows(records)  # checks each record's kind, as the SQLite log does
                with self._db.cursor().copy(_COPY) as copy:
                    for row in rows:
                        copy.write_row(_postgres_row(row))
        appended = iter(records)
        return [None if drop else next(appended) for drop in dropped]

    def _write_state(self, state: StateChanges) -> set[tuple[str, str]]:
        """Write ``state``; the seen marks of it that were there already (committed by another hub)."""
        marked_before: set[tuple[str, str]] = set()
        with self._db.cursor() as cursor:
            if state.seen:
                marks = {(_text(i), _text(m)): (i, m) for i, m in state.seen}
                added = cursor.execute(
                    "INSERT INTO trigger_seen (identity, meta_id) SELECT * FROM unnest($1::text[], $2::text[]) "
                    "ON CONFLICT DO NOTHING RETURNING identity, meta_id",
                    ([i for i, _ in marks], [m for _, m in marks])).fetchall()
                marked_before = {marks[key] for key in marks.keys() - {tuple(row) for row in added}}
            if state.user_connections:
                cursor.executemany(
                    "INSERT INTO user_connections (user_id, connection_id, body) VALUES ($1, $2, $3) "
                    "ON CONFLICT (user_id, connection_id) DO UPDATE SET body = excluded.body, "
                    "version = nextval('user_connection_versions')",
                    [(_text(u), _text(c), body) for (u, c), body in state.user_connections.items()])
        return marked_before

    # -- reading ----------------------------------------------------------------------------------

    def seen_meta_ids(self, identity: str) -> set[str] | None:
        rows = self._db.execute("SELECT meta_id FROM trigger_seen WHERE identity = $1", (_text(identity),)).fetchall()
        return {row[0] for row in rows} if rows else None

    def user_connections(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT body FROM user_connections")]

    def user_connections_of(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The stored user connections of these (user id, connection id) keys, those that exist."""
        wanted = {(_text(u), _text(c)): (u, c) for u, c in keys}
        if len(wanted) == 1:  # the usual case, and the cheaper query
            [(user_id, connection_id)] = wanted
            rows = self._db.execute("SELECT user_id, connection_id, body FROM user_connections WHERE user_id = $1 "
                                      "AND connection_id = $2", (user_id, connection_id)).fetchall()
            return {wanted[(u, c)]: body for u, c, body in rows}
        rows = self._db.execute(
            "SELECT user_id, connection_id, body FROM user_connections WHERE (user_id, connection_id) IN "
            "(SELECT * FROM unnest($1::text[], $2::text[]))",
            ([u for u, _ in wanted], [c for _, c in wanted])).fetchall()
        return {wanted[(u, c)]: body for u, c, body in rows}

    def user_connections_after(self, version: int) -> tuple[list[str], int]:
        """The user connections written since ``version`` (by any hub), and the version they bring it to."""
        rows = self._db.execute("SELECT body, version FROM user_connections WHERE version > $1 ORDER BY version",
                                  (version,)).fetchall()
        return [body for body, _ in rows], rows[-1][1] if rows else version

    def read_after_json(self, after: int, limit: int, kinds: Sequence[str] | None = None,
                        max_chars: int | None = None) -> tuple[list[str], int]:
        """As ``EventLog.read_after_json``: records past ``after``, and the seq they cover through."""
        rows = self._db.execute("SELECT seq, kind, body FROM records WHERE seq > $1 ORDER BY seq LIMIT $2",
                                (after, limit)).fetchall()
        return bodies_through(rows, after, kinds, max_chars)

    def read_after(self, after: int, limit: int, kinds: Sequence[str] | None = None) -> list[dict[str, Any]]:
        bodies, _ = self.read_after_json(after, limit, kinds)
        return [record_of(body) for body in bodies]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query written in SQLite's SQL (``store.postgres_sql``)."""
        translated, json_compared = translate(sql)
        return self._db.execute(translated, parameters(params, json_compared)).fetchall()

    # -- copying a log in (``switchroom-hub migrate``) ------------------------------------------------

    def is_empty(self) -> bool:
        return self.head_seq() == 0 and self.meta("hub_id") is None

    def copy_in(self, meta: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]],
                seen: Sequence[tuple[str, str]], user_connections: Sequence[tuple[str, str, str]],
                rerun_claims: Sequence[tuple[int, int]], keys: Sequence[tuple[str, int, str]],
                bulks: Sequence[tuple[str, str, tuple[int, int, int, int], list[str]]],
                before_commit: Callable[[int], None]) -> int:
        """Fill an empty database, in one transaction: ``meta`` (the hub id among it), the records' ``rows``
        (``RECORD_COLUMNS``, seqs kept), the hub's state, and its reruns' (claims, answered keys, bulks with
        their items). ``before_commit`` is given the head copied, and may raise to leave the database as it
        was. The head seq."""
        with self._db.transaction():
            if not self.is_empty():
                raise ValueError("the database already holds a log")
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO meta (key, value) VALUES ($1, $2)", list(meta))
                with cursor.copy(_COPY) as copy:
                    for row in rows:
                        copy.write_row(_postgres_row(tuple(row)))
                (head,) = cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()
                cursor.execute("UPDATE log_head SET seq = $1", (head,))
                cursor.executemany("INSERT INTO trigger_seen (identity, meta_id) VALUES ($1, $2)",
                                   [(_text(i), _text(m)) for i, m in seen])
                cursor.executemany("INSERT INTO user_connections (user_id, connection_id, body) VALUES ($1, $2, $3)",
                                   [(_text(u), _text(c), b) for u, c, b in user_connections])
                cursor.executemany("INSERT INTO rerun_claims (original, times) VALUES ($1, $2)", list(rerun_claims))
                cursor.executemany("INSERT INTO idempotency_keys (key, holder, status, body) VALUES ($1, 'migrated', "
                                   "$2, $3)", [(_text(k), status, body) for k, status, body in keys])
                for bulk_id, state, counts, items in bulks:
                    cursor.execute("INSERT INTO rerun_bulks (id, holder, state, total, ok, failed, refused) "
                                   "VALUES ($1, 'migrated', $2, $3, $4, $5, $6)", (_text(bulk_id), state, *counts))
                    cursor.executemany("INSERT INTO rerun_bulk_items (bulk_id, n, body) VALUES ($1, $2, $3)",
                                       [(_text(bulk_id), n, item) for n, item in enumerate(items)])
            before_commit(head)
        return head

    # -- trigger poll leases ----------------------------------------------------------------------

    def add_poll_leases(self, identities: Sequence[str], after_s: float, spread_s: float) -> None:
        """Subscriptions not yet scheduled, each first due ``after_s`` from now plus a random part of
        ``spread_s``."""
        self._db.execute(
            "INSERT INTO trigger_leases (identity, due_at) SELECT i, " + _NOW + " + $2 + random() * $3 "
            "FROM unnest($1::text[]) AS i ON CONFLICT DO NOTHING", ([_text(i) for i in identities], after_s, spread_s))

    def claim_polls(self, identities: Sequence[str], holder: str, interval_s: float, lease_s: float,
                    limit: int) -> list[tuple[str, bool]]:
        """Take up to ``limit`` of the subscriptions among ``identities`` that are due and held by no hub:
        each is held by ``holder`` for ``lease_s`` and next due ``interval_s`` from now. Rows another hub is
        claiming at this moment are skipped, not waited for. Each with whether a notification made it due."""
        rows = self._db.execute(
            "WITH due AS (SELECT identity, due_at FROM trigger_leases WHERE identity = ANY($1) "
            "AND due_at <= " + _NOW + " AND held_until <= " + _NOW + " ORDER BY due_at LIMIT $2 "
            "FOR UPDATE SKIP LOCKED) "
            "UPDATE trigger_leases l SET due_at = " + _NOW + " + $3, held_by = $4, held_until = " + _NOW + " + $5 "
            "FROM due WHERE l.identity = due.identity RETURNING l.identity, due.due_at = 0",
            ([_text(i) for i in identities], limit, interval_s, holder, lease_s)).fetchall()
        return [(identity, notified) for identity, notified in rows]

    def release_poll(self, identity: str, holder: str) -> None:
        self._db.execute("UPDATE trigger_leases SET held_until = 0 WHERE identity = $1 AND held_by = $2",
                           (_text(identity), holder))

    def make_due(self, identities: Sequence[str]) -> None:
        """A notification: these subscriptions are due now, for whichever hub claims them first."""
        self._db.execute("INSERT INTO trigger_leases (identity, due_at) SELECT i, 0 FROM unnest($1::text[]) AS i "
                           "ON CONFLICT (identity) DO UPDATE SET due_at = 0", ([_text(i) for i in identities],))

    # -- idempotency keys and rerun claims -------------------------------------------------------

    def claim_key(self, key: str, holder: str) -> bool:
        """Whether ``holder`` now holds ``key`` (no hub had used it)."""
        return self._db.execute("INSERT INTO idempotency_keys (key, holder) VALUES ($1, $2) ON CONFLICT DO NOTHING "
                                  "RETURNING key", (_text(key), holder)).fetchone() is not None

    def key_answer(self, key: str) -> tuple[int, str] | None:
        """The status and body (JSON) ``key`` was answered with; None while its request runs, or if unused."""
        row = self._db.execute("SELECT status, body FROM idempotency_keys WHERE key = $1 AND status IS NOT NULL",
                                 (_text(key),)).fetchone()
        return (row[0], row[1]) if row else None

    def answer_key(self, key: str, holder: str, status: int, body: str) -> None:
        self._db.execute("UPDATE idempotency_keys SET status = $3, body = $4 WHERE key = $1 AND holder = $2",
                           (_text(key), holder, status, body))

    def free_key(self, key: str, holder: str) -> None:
        """Nothing ran for ``key``: it may be used again."""
        self._db.execute("DELETE FROM idempotency_keys WHERE key = $1 AND holder = $2 AND status IS NULL",
                           (_text(key), holder))

    def claim_rerun(self, original: int, force: bool) -> bool:
        """Count a rerun of ``original``; False (and nothing counted) if it was rerun before and not ``force``."""
        return self._db.execute(
            "INSERT INTO rerun_claims (original) VALUES ($1) ON CONFLICT (original) DO UPDATE "
            "SET times = rerun_claims.times + 1 WHERE $2 RETURNING times", (original, force)).fetchone() is not None

    def rerun_claims(self, originals: Sequence[int]) -> dict[int, int]:
        """How often each of ``originals`` was rerun, by any hub (those never rerun left out)."""
        return dict(self._db.execute("SELECT original, times FROM rerun_claims WHERE original = ANY($1)",
                                       (list(originals),)).fetchall())

    # -- bulk reruns ------------------------------------------------------------------------------

    def publish_bulk(self, bulk_id: str, holder: str, state: str, counts: tuple[int, int, int, int],
                     items: Sequence[tuple[int, str]]) -> bool:
        """A bulk's state, its ``counts`` (total, ok, failed, refused) and its new item results (number,
        JSON); whether a hub has asked for it to be cancelled."""
        with self._db.transaction():
            (cancel,) = self._db.execute(
                "INSERT INTO rerun_bulks (id, holder, state, total, ok, failed, refused) VALUES ($1, $2, $3, $4, $5, "
                "$6, $7) ON CONFLICT (id) DO UPDATE SET state = excluded.state, ok = excluded.ok, "
                "failed = excluded.failed, refused = excluded.refused RETURNING cancel",
                (bulk_id, holder, state, *counts)).fetchone()
            if items:
                with self._db.cursor() as cursor:
                    cursor.executemany("INSERT INTO rerun_bulk_items (bulk_id, n, body) VALUES ($1, $2, $3) "
                                       "ON CONFLICT DO NOTHING", [(bulk_id, n, body) for n, body in items])
        return cancel

    def bulk(self, bulk_id: str, after: int, live_within_s: float) -> tuple[tuple[Any, ...], list[str]] | None:
        """A bulk's row (state, total, ok, failed, refused; ``interrupted`` when the hub running it is gone)
        and its item results past the first ``after``, in order."""
        row = self._db.execute(
            "SELECT CASE WHEN state = 'running' AND NOT EXISTS (SELECT 1 FROM hubs WHERE process_id = holder "
            "AND seen_at > " + _NOW + " - $2) THEN 'interrupted' ELSE state END, total, ok, failed, refused "
            "FROM rerun_bulks WHERE id = $1", (_text(bulk_id), live_within_s)).fetchone()
        if row is None:
            return None
        items = self._db.execute("SELECT body FROM rerun_bulk_items WHERE bulk_id = $1 AND n >= $2 ORDER BY n",
                                   (_text(bulk_id), after)).fetchall()
        return tuple(row), [body for (body,) in items]

    def cancel_bulk(self, bulk_id: str) -> None:
        self._db.execute("UPDATE rerun_bulks SET cancel = true WHERE id = $1", (_text(bulk_id),))

    # -- the hubs on this database --------------------------------------------------------------

    def beat(self, process_id: str, url: str, version: str) -> None:
        """This hub process is alive (and those not seen for ``FORGET_HUBS_S`` are forgotten)."""
        self._db.execute(
            "INSERT INTO hubs (process_id, url, version, started_at, seen_at) VALUES ($1, $2, $3, " + _NOW + ", "
            + _NOW + ") ON CONFLICT (process_id) DO UPDATE SET seen_at = excluded.seen_at", (process_id, url, version))
        self._db.execute("DELETE FROM hubs WHERE seen_at < " + _NOW + " - $1", (FORGET_HUBS_S,))

    def leave(self, process_id: str) -> None:
        """This hub process stops."""
        self._db.execute("DELETE FROM hubs WHERE process_id = $1", (process_id,))

    def live_hubs(self, within_s: float) -> list[tuple[str, str, str, float, float]]:
        """Each hub process seen within ``within_s``: id, URL, version, seconds since it started and since
        it was last seen; the longest running first."""
        return [tuple(row) for row in self._db.execute(  # type: ignore[misc]
            "SELECT process_id, url, version, " + _NOW + " - started_at, " + _NOW + " - seen_at FROM hubs "
            "WHERE seen_at > " + _NOW + " - $1 ORDER BY started_at", (within_s,)).fetchall()]

    def adopt_catalog(self, fingerprint: str, process_id: str, url: str, version: str,
                      within_s: float) -> str | None:
        """Make ``fingerprint`` this database's catalog, unless another hub seen within ``within_s`` serves
        a different one: then that one's fingerprint."""
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock($1)", (_SCHEMA_LOCK + 1,))
            held = self.meta("catalog_fingerprint")
            others = [row for row in self.live_hubs(within_s) if row[0] != process_id]
            if held is not None and held != fingerprint and others:
                return held
            self.set_meta("catalog_fingerprint", fingerprint)
            self.beat(process_id, url, version)  # counted among the live at once
        return None

    def change_catalog(self, fingerprint: str, process_id: str, within_s: float) -> list[str]:
        """A reload on hub ``process_id``: make ``fingerprint`` this database's catalog, unless another hub
        seen within ``within_s`` runs here, which would go on serving the old one; then the URLs of those
        hubs, and nothing changes."""
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock($1)", (_SCHEMA_LOCK + 1,))  # as adopt_catalog
            if self.meta("catalog_fingerprint") == fingerprint:
                return []
            others = [row[1] for row in self.live_hubs(within_s) if row[0] != process_id]
            if not others:
                self.set_meta("catalog_fingerprint", fingerprint)
        return others

    # -- following --------------------------------------------------------------------------------

    async def follow_head(self, on_head: Callable[[int], None]) -> None:
        """Tell ``on_head`` of every head another writer commits, until cancelled: at once through
        LISTEN/NOTIFY, and by reading the head every ``HEAD_RECHECK_S`` (a lost connection loses its
        notifications; a new one is made)."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    while True:
                        (head,) = await (await conn.execute("SELECT seq FROM log_head")).fetchone()  # type: ignore[misc]
                        on_head(head)
                        async for notice in conn.notifies(timeout=HEAD_RECHECK_S):
                            on_head(int(notice.payload))
            except psycopg.OperationalError as exc:
                log.warning("lost the database's notifications (%s); reconnecting", exc)
                await asyncio.sleep(HEAD_RECHECK_S)


def _seen_before(body: dict[str, Any], marked_before: set[tuple[str, str]]) -> bool:
    """Whether ``body`` is a trigger event whose item another hub turned into an event first."""
    return (bool(marked_before) and body.get("kind") == TRIGGER_EVENT and body.get("source") != "test"
            and (body.get("trigger_identity"), body.get("meta_id")) in marked_before)


def _text(value: str) -> str:
    """Text PostgreSQL can hold: it refuses the NUL character, which a caller's id may carry."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _postgres_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A ``records`` row as PostgreSQL's columns take it: ``skipped`` a number, text without NUL."""
    return tuple(
        int(v) if isinstance(v, bool) else _text(v) if isinstance(v, str) else v for v in row
    )



class SharedBuckets:
    """Token buckets that every hub on the database takes from: one request a token, refilled at ``rate`` a
    second up to ``burst``. On the event loop (psycopg's async connection, one statement at a time); the
    table is unlogged and its commits do not wait for the disk: a crash of the server loses at most some
    buckets' last moments, which only ever lets a few more requests through."""

    def __init__(self, url: str, rate: float, burst: float) -> None:
        self._url, self._rate, self._burst = url, rate, burst
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()

    async def take(self, user_id: str, connection_id: str) -> float | None:
        """Take a token; None when one was there, else the tokens the bucket holds (under one)."""
        async with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, cursor_factory=psycopg.AsyncRawCursor,
                    options="-c synchronous_commit=off")
            key = (_text(user_id), _text(connection_id))
            refilled = "LEAST($3, rate_buckets.tokens + (" + _NOW + " - rate_buckets.updated) * $4)"
            taken = await (await self._conn.execute(
                "INSERT INTO rate_buckets (user_id, connection_id, tokens, updated) VALUES ($1, $2, $3 - 1, "
                + _NOW + ") ON CONFLICT (user_id, connection_id) DO UPDATE SET tokens = " + refilled + " - 1, "
                "updated = " + _NOW + " WHERE " + refilled + " >= 1 RETURNING tokens",
                (*key, self._burst, self._rate))).fetchone()
            if taken is not None:
                return None
            row = await (await self._conn.execute(
                "SELECT LEAST($3, tokens + (" + _NOW + " - updated) * $4) FROM rate_buckets "
                "WHERE user_id = $1 AND connection_id = $2", (*key, self._burst, self._rate))).fetchone()
            return row[0] if row else 0.0

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
