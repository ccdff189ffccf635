"""SQLite files found damaged (a cache cut short by a full disk, a file overwritten): how to tell, and
how to get them out of the way.

A damaged cache is set aside under another name rather than deleted (it may be all that is left of a
hub that is gone), and a fresh one is copied from the hub; a damaged derived file is deleted, since
the indexer builds it again from its cache. What counts as damage is SQLite's own verdict,
``SQLITE_CORRUPT`` ("database disk image is malformed") or ``SQLITE_NOTADB`` ("file is not a
database"); a busy or locked file is not damaged.

The look at open (``damage_of``) reads the schema, every table's row count (which walks each table's
smallest index whole) and the newest row of each rowid table: the pages a half-written or truncated
file loses first, in O(index) time — a few milliseconds for a million-record cache, where a full
``PRAGMA quick_check`` takes half a second. (A garbage ``-wal`` or ``-shm`` file is no damage: SQLite
checks their checksums and ignores frames that fail.)
"""

from pathlib import Path
import sqlite3
import time

DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
SIDE_FILES = ("-wal", "-shm", "-journal")


def is_damage(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite saying a file is damaged (not busy, locked or missing)."""
    return isinstance(exc, sqlite3.DatabaseError) and getattr(exc, "sqlite_errorcode", None) in DAMAGE_CODES


def damage_of(path: Path) -> str | None:
    """What SQLite says is wrong with the file at ``path``; None when it looks whole (or is not there)."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error:
        return None  # cannot be opened at all (permissions, say): the caller's open says so
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
        for name, sql in tables:
            if (sql or "").upper().startswith("CREATE VIRTUAL"):
                continue  # its shadow tables are read instead
            conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()
            if "WITHOUT ROWID" not in (sql or "").upper():
                conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid DESC LIMIT 1').fetchone()
    except sqlite3.DatabaseError as exc:
        return str(exc) if is_damage(exc) else None
    finally:
        conn.close()
    return None


def set_aside(path: Path, label: str = "damaged") -> Path:
    """Rename the database at ``path``, and the side files SQLite keeps beside it, to
    ``<name>.<label>-<UTC time>.sqlite…``; the new name of the database."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    aside = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix}")
    for suffix in ("", *SIDE_FILES):
        old = path.with_name(path.name + suffix)
        if old.exists():
            old.rename(aside.with_name(aside.name + suffix))
    return aside


def remove(path: Path) -> None:
    """Delete the database at ``path`` and its side files."""
    for suffix in ("", *SIDE_FILES):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
