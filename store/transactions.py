"""Transactions on an autocommit SQLite connection (``isolation_level=None``), the one way every file
of the project is written and read consistently."""

from collections.abc import Iterator
from contextlib import contextmanager
import sqlite3


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): the write lock is taken at the start, so
    a transaction never fails half way for want of it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Several reads that see the database as of one moment (WAL), however far writers get meanwhile;
    inside a transaction already open, that one's."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
