"""The indexer of one cache in a process of its own: it catches up whenever woken, then sleeps.

A process, not a thread: the indexer is Python work for tens of microseconds a record, and in the
dashboard's process it would hold the GIL against the UI and the replication writer (whose SQLite
calls give the GIL up and must win it back after every statement). Its derived data lives in a file of
its own (``store.analytics.derived``), so it shares nothing with the dashboard but the cache's path.

The dashboard starts one per cache it opens, wakes it after each stored batch (``wake`` is cheap and
safe from any thread), and stops it before the cache closes. ``on_progress`` is called with the
derived cursor (how far the counts reach) after every chunk counted or entered, on a listening thread
of this process; a Textual app hands that on with ``call_from_thread``.
"""

from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
import logging
import multiprocessing
import sqlite3
import sys
import threading

from switchroom.store.analytics.derived import CHUNK, Indexer

log = logging.getLogger("switchroom.dashboard")
RETRY_SECONDS = 1.0
_WAKE, _STOP = "wake", "stop"


class IndexRunner:
    def __init__(self, path: Path, on_progress: Callable[[int], None] | None = None, chunk: int = CHUNK) -> None:
        self.path = path
        self._on_progress = on_progress
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the app's state
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(target=serve, args=(str(path), child_end, chunk), name="cache-indexer",
                                        daemon=True)
        self._sending = threading.Lock()
        self._listener = threading.Thread(target=self._listen, name="cache-indexer-progress", daemon=True)

    def start(self) -> None:
        """Start the process; it catches up with what the cache already holds at once."""
        # Under Textual, sys.stderr is a capture whose fileno() is -1; multiprocessing hands that fd to the
        # resource tracker it starts with the first process, which fails ("bad value(s) in fds_to_keep").
        stderr, sys.stderr = sys.stderr, sys.__stderr__ or sys.stderr
        try:
            self._process.start()
        finally:
            sys.stderr = stderr
        self._listener.start()

    def wake(self) -> None:
        """New records are in the cache: index them."""
        self._send(_WAKE)

    def stop(self) -> None:
        """Stop after the chunk in hand (each chunk is its own transaction) and wait for the process."""
        self._send(_STOP)
        if self._process.is_alive():
            self._process.join()
        if self._listener.is_alive():
            self._listener.join()
        self._pipe.close()

    def _send(self, message: str) -> None:
        with self._sending:
            try:
                self._pipe.send(message)
            except OSError:  # the process has ended (or never started): nothing to wake
                pass

    def _listen(self) -> None:
        while True:
            try:
                cursor = self._pipe.recv()
            except (EOFError, OSError):
                return
            if self._on_progress:
                self._on_progress(cursor)


def serve(path: str, pipe: Connection, chunk: int) -> None:
    """The indexer process: catch up, tell the cursor after each chunk, sleep until woken; end when told
    to or when the dashboard is gone (its end of the pipe closes)."""
    indexer = _open(path, pipe)
    if indexer is None:
        return
    try:
        while _catch_up(indexer, pipe, chunk) and _wait(pipe):
            pass
    finally:
        indexer.close()


def _open(path: str, pipe: Connection) -> Indexer | None:
    """The indexer, once the cache lets it open (it may be busy past the timeout); None if told to stop first."""
    while True:
        try:
            return Indexer(path)
        except sqlite3.OperationalError as exc:
            log.warning("cache indexer: %s; retrying", exc)
            if pipe.poll(RETRY_SECONDS) and not _keep_going(pipe):
                return None
        except sqlite3.DatabaseError as exc:  # the cache itself damaged since it was opened: nothing to index
            log.warning("cache indexer: %s; not indexing this cache", exc)
            return None


def _catch_up(indexer: Indexer, pipe: Connection, chunk: int) -> bool:
    """Index until caught up, the counts first and the entries behind them (new records are counted
    before older ones are entered); False when told to stop meanwhile."""
    try:
        while indexer.step(chunk) or indexer.step_entries(chunk):
            pipe.send(indexer.cursor())
            if pipe.poll() and not _keep_going(pipe):
                return False
    except sqlite3.OperationalError as exc:  # the cache was busy past the timeout: try again shortly
        log.warning("cache indexer: %s; retrying", exc)
        return not pipe.poll(RETRY_SECONDS) or _keep_going(pipe)
    except (BrokenPipeError, EOFError):
        return False
    return True


def _wait(pipe: Connection) -> bool:
    """Sleep until woken (True) or told to stop (False)."""
    try:
        pipe.poll(None)
    except (EOFError, OSError):
        return False
    return _keep_going(pipe)


def _keep_going(pipe: Connection) -> bool:
    """Read every message waiting: False if one of them says stop (or the pipe is closed)."""
    try:
        while pipe.poll():
            if pipe.recv() == _STOP:
                return False
    except (EOFError, OSError):
        return False
    return True
