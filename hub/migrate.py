"""``switchroom-hub migrate --from hub.sqlite --to postgresql://…``: a hub outgrows one machine without
losing its history (DESIGN §12).

The SQLite log is copied into an empty PostgreSQL database in one transaction (a failed copy leaves the
database empty): every record with its seq, the hub id (so dashboards keep their caches and cursors),
the users' connections, the trigger seen marks, and the reruns' state read back from the log as a hub
reads it at start (which calls were rerun, what each idempotency key was answered, the bulks with their
item results). Stop the hub first: a log still being written when the copy ends is refused, and nothing
is copied.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from switchroom.hub.reruns import RerunMemory, item_fields
from switchroom.protocol.kinds import RERUN
from switchroom.store import EventLog
from switchroom.store.log_layouts import RECORD_COLUMNS
from switchroom.store.postgres_log import PostgresLog

CHUNK = 20_000


class MigrationError(RuntimeError):
    """The copy cannot be made (nothing was copied)."""


@dataclass(frozen=True)
class Migrated:
    hub_id: str
    head_seq: int
    users: int
    seen_marks: int
    rerun_keys: int


def migrate(source: Path, target: str) -> Migrated:
    if not source.is_file():
        raise MigrationError(f"{source} is not a file")
    log = EventLog(source)
    try:
        if log.keeps_texts:
            raise MigrationError(f"{source} is a dashboard's cache, not a hub's log")
        hub_id = log.meta("hub_id")
        if hub_id is None:
            raise MigrationError(f"{source} has no hub id: is it a hub's log?")
        database = PostgresLog(target)
        try:
            return _copy(log, database, hub_id)
        finally:
            database.close()
    finally:
        log.close()


def _copy(log: EventLog, database: PostgresLog, hub_id: str) -> Migrated:
    if not database.is_empty():
        raise MigrationError("the database already holds a log: migrate into an empty database")
    memory = RerunMemory()
    bulk_items: dict[str, list[str]] = {}
    for (body,) in log.execute("SELECT body FROM records WHERE kind = ? ORDER BY seq", (RERUN,)):
        record = orjson.loads(body)
        memory.remember(record, answers=True)
        if record.get("phase") == "item" and record.get("bulk_id"):
            bulk_items.setdefault(record["bulk_id"], []).append(orjson.dumps(item_fields(record)).decode())
    seen = [(identity, meta_id) for identity, meta_id in log.execute("SELECT identity, meta_id FROM trigger_seen")]
    users = [(u, c, b) for u, c, b in log.execute("SELECT user_id, connection_id, body FROM user_connections")]
    keys = [(key, status, orjson.dumps(body).decode()) for key, (status, body) in memory.answers.items()]
    bulks = [(bulk.id, bulk.state, (bulk.total, bulk.counts["ok"], bulk.counts["failed"], bulk.counts["refused"]),
              bulk_items.get(bulk.id, [])) for bulk in memory.bulks.values()]

    def still(copied: int) -> None:
        if log.head_seq() != copied:
            raise MigrationError(f"{log.path} is still being written (its log is at seq {log.head_seq()}, "
                                 f"{copied} were copied): stop its hub first")

    head = database.copy_in(log.execute("SELECT key, value FROM meta"), _rows(log), seen, users,
                            sorted(memory.rerun.items()), keys, bulks, still)
    return Migrated(hub_id, head, len(users), len(seen), len(keys))


def _rows(log: EventLog) -> Iterator[tuple[Any, ...]]:
    """Every record's row, oldest first, read a chunk at a time."""
    after = 0
    columns = ", ".join(RECORD_COLUMNS)
    while rows := log.execute(f"SELECT {columns} FROM records WHERE seq > ? ORDER BY seq LIMIT ?", (after, CHUNK)):
        yield from rows
        after = rows[-1][0]
