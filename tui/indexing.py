"""The indexer of one cache in a process of its own: it catches up whenever woken, then sleeps.

A process, not a thread: the indexer is Python work for microseconds a record, and in the dashboard's
process it would hold the GIL against the UI and the replication writer (whose SQLite calls give the
GIL up and must win it back after every statement). Its derived data lives in a file of its own
(``store.analytics.derived``), so it shares nothing with the dashboard but the cache's path.

The dashboard starts one per cache it opens, wakes it after each stored batch (``wake`` is cheap and
safe from any thread), and stops it before the cache closes. ``on_progress`` is called with the
derived cursor (how far the counts reach) after every chunk counted or entered, on a listening thread
of this process; a Textual app hands that on with ``call_from_thread``.

When the indexer finds a backlog of more than ``HELP_FROM`` records to count (a cache filled from a
hub's whole log, at a cold start) on a machine of more than one core, ``HELPERS`` more processes help
it: each reads, decodes and tallies every ``HELPERS``-th chunk ahead (``Indexer.count_ahead``), which is
more than half of what counting costs, and hands it over a pipe of its own to the indexer, which writes
the chunks in order while the helpers count the next (``Indexer.step``). Two helpers rather than one,
even on two cores: the indexer's writing is the lighter half, and with one helper the indexer waited
for it. One writer, so the derived file's pages stay in its cache. The helpers are started then, not
always, so that a dashboard following a live hub runs one process.
"""

from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
import logging
import multiprocessing
import os
import sqlite3
import sys
import threading

from switchroom.store.analytics.derived import CHUNK, Counted, Indexer

log = logging.getLogger("switchroom.dashboard")
RETRY_SECONDS = 1.0
HELP_FROM = 100_000
"""Records left to count past which the indexer is given helpers."""
HELPERS = 2
HELPER_NICENESS = 5
"""How much less of the processor the helpers ask for than the indexer, which writes the chunks they
count one after another (the dashboard's own process is not slowed by them either)."""
HELPER_PATIENCE_S = 1.0
"""How long the indexer waits for a helper's next chunk before counting it itself."""
_WAKE, _STOP, _HELPED = "wake", "stop", "helped"


class IndexRunner:
    def __init__(self, path: Path, on_progress: Callable[[int], None] | None = None, chunk: int = CHUNK,
                 help_from: int = HELP_FROM) -> None:
        self.path = path
        self._on_progress = on_progress
        self._chunk = chunk
        self._help_from = help_from if (os.cpu_count() or 1) > 1 else None
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the app's state
        self._pipe, child_end = self._context.Pipe()
        counted = [self._context.Pipe(duplex=False) for _ in range(HELPERS)]
        self._counted_in = [reading for reading, _ in counted]
        """Counted chunks from each helper to the indexer: the indexer's ends, and the helpers' till they start."""
        self._counted_out: list[Connection] = [writing for _, writing in counted]
        self._process = self._context.Process(target=serve, args=(str(path), child_end, self._counted_in, chunk),
                                              name="cache-indexer", daemon=True)
        self._helpers: list[tuple[BaseProcess, Connection]] = []
        self._sending = threading.Lock()
        self._listener = threading.Thread(target=self._listen, name="cache-indexer-progress", daemon=True)

    def start(self) -> None:
        """Start the process; it catches up with what the cache already holds at once."""
        _start(self._process)
        for end in self._counted_in:  # the indexer's now: they close with it, which the helpers then hear
            end.close()
        self._listener.start()

    def wake(self) -> None:
        """New records are in the cache: index them."""
        with self._sending:
            for pipe in self._pipes():
                _send(pipe, _WAKE)

    def stop(self) -> None:
        """Stop after the chunk in hand (each chunk is its own transaction) and wait for the processes."""
        with self._sending:
            for pipe in self._pipes():
                _send(pipe, _STOP)
            self._help_from = None  # none is started from here on
        for process in (self._process, *(process for process, _ in self._helpers)):
            if process.is_alive():
                process.join()
        if self._listener.is_alive():
            self._listener.join()
        for pipe in (*self._pipes(), *self._counted_out):
            pipe.close()

    def helped(self) -> bool:
        """Whether helpers have been started."""
        return bool(self._helpers)

    def _pipes(self) -> list[Connection]:
        return [self._pipe, *(pipe for _, pipe in self._helpers)]

    def _listen(self) -> None:
        while True:
            try:
                cursor, backlog = self._pipe.recv()
            except (EOFError, OSError):
                return
            if self._help_from is not None and backlog > self._help_from and not self._helpers:
                self._start_helpers()
            if self._on_progress:
                self._on_progress(cursor)

    def _start_helpers(self) -> None:
        with self._sending:
            if self._help_from is None:  # stopping
                return
            for which, counted_out in enumerate(self._counted_out):
                pipe, child_end = self._context.Pipe()
                process = self._context.Process(
                    target=help_serve, args=(str(self.path), child_end, counted_out, self._chunk, (which, HELPERS)),
                    name=f"cache-indexer-helper-{which}", daemon=True)
                _start(process)
                counted_out.close()
                self._helpers.append((process, pipe))
            self._counted_out = []
            _send(self._pipe, _HELPED)


def _start(process: BaseProcess) -> None:
    # Under Textual, sys.stderr is a capture whose fileno() is -1; multiprocessing hands that fd to the
    # resource tracker it starts with the first process, which fails ("bad value(s) in fds_to_keep").
    stderr, sys.stderr = sys.stderr, sys.__stderr__ or sys.stderr
    try:
        process.start()
    finally:
        sys.stderr = stderr


def _send(pipe: Connection, message: str) -> None:
    try:
        pipe.send(message)
    except OSError:  # the process has ended (or never started): nothing to wake
        pass


class _Orders:
    """What the dashboard has told an indexer process so far."""

    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.helped = False
        """Helpers have been started: they send the indexer counted chunks."""
        self.heard_helper = False
        """A helper has sent one: they are running, so a helper's next chunk is worth waiting for."""
        self.early: dict[int, Counted] = {}
        """A chunk each helper sent (by helper) that starts past the cursor: written when the cursor is there."""

    def keep_going(self) -> bool:
        """Read every message waiting: False if one of them says stop (or the pipe is closed)."""
        try:
            while self.pipe.poll():
                message = self.pipe.recv()
                if message == _STOP:
                    return False
                self.helped = self.helped or message == _HELPED
        except (EOFError, OSError):
            return False
        return True

    def wait(self) -> bool:
        """Sleep until woken (True) or told to stop (False)."""
        try:
            self.pipe.poll(None)
        except (EOFError, OSError):
            return False
        return self.keep_going()


def serve(path: str, pipe: Connection, counted_in: list[Connection], chunk: int) -> None:
    """The indexer process: catch up, tell the cursor (and the backlog) after each chunk, sleep until
    woken; end when told to or when the dashboard is gone (its end of the pipe closes)."""
    orders = _Orders(pipe)
    indexer = _open(path, orders)
    if indexer is None:
        return
    try:
        while _catch_up(indexer, orders, counted_in, chunk) and orders.wait():
            pass
    finally:
        indexer.close()


def help_serve(path: str, pipe: Connection, counted_out: Connection, chunk: int, share: tuple[int, int]) -> None:
    """A helper process: count its ``share`` of the chunks ahead of the indexer's cursor
    (``Indexer.count_ahead``) and send them to it, while there are whole ones to count; sleep until woken.
    A chunk waits in the pipe until the indexer takes it, so a helper is never more than a chunk or two ahead."""
    if hasattr(os, "nice"):
        os.nice(HELPER_NICENESS)
    orders = _Orders(pipe)
    indexer = _open(path, orders)
    if indexer is None:
        return
    position = 0

    def help_step() -> int:
        nonlocal position
        counted = indexer.count_ahead(max(position, indexer.cursor()), chunk, share)
        if counted is None:
            return 0
        counted_out.send(counted)
        position = counted.through
        return counted.records or 1
    try:
        while _keep_indexing(help_step, orders) and orders.wait():
            pass
    finally:
        indexer.close()
        counted_out.close()


def _open(path: str, orders: _Orders) -> Indexer | None:
    """The indexer, once the cache lets it open (it may be busy past the timeout); None if told to stop first."""
    while True:
        try:
            return Indexer(path)
        except sqlite3.OperationalError as exc:
            log.warning("cache indexer: %s; retrying", exc)
            if orders.pipe.poll(RETRY_SECONDS) and not orders.keep_going():
                return None
        except sqlite3.DatabaseError as exc:  # the cache itself damaged since it was opened: nothing to index
            log.warning("cache indexer: %s; not indexing this cache", exc)
            return None


def _catch_up(indexer: Indexer, orders: _Orders, counted_in: list[Connection], chunk: int) -> bool:
    """Index until caught up: the counts first, their roll-ups when nothing is left to count, and the
    entries behind them (new records are counted before older ones are rolled up or entered); False when
    told to stop meanwhile."""
    def step() -> int:
        counted = _helpers_chunk(indexer, counted_in, orders, chunk) if orders.helped else None
        went = indexer.step(chunk, counted) or indexer.roll_up() or indexer.step_entries(chunk)
        if went:
            orders.pipe.send((indexer.cursor(), indexer.backlog()))
        return went
    return _keep_indexing(step, orders)


def _helpers_chunk(indexer: Indexer, counted_in: list[Connection], orders: _Orders, chunk: int) -> Counted | None:
    """The count of the next chunk by the helper whose share it is, if it has one (helpers count only
    chunks the cache holds whole: once they are running, one is waited for, ``HELPER_PATIENCE_S`` at
    most, and an hour of roll-ups is done first while it is not there yet). Chunks a helper counted that
    the indexer has since passed are dropped; one that starts past the cursor is kept for when the cursor
    is there."""
    after, next_chunk = indexer.cursor(), indexer.next_chunk(chunk)
    if next_chunk is None:
        return None
    which = next_chunk[0] % len(counted_in)
    early = orders.early.pop(which, None)
    if early is not None and early.after == after:
        return early
    if early is not None and early.after > after:
        orders.early[which] = early
        return None
    patience = HELPER_PATIENCE_S if orders.heard_helper and next_chunk[1] else 0.0
    try:
        if patience and not counted_in[which].poll():  # the wait is the roll-ups' time (else they wait for the end)
            indexer.roll_up()
        while counted_in[which].poll(patience):
            counted = counted_in[which].recv()
            orders.heard_helper = True
            if counted.after == after:
                return counted
            if counted.after > after:
                orders.early[which] = counted
                return None
    except (EOFError, OSError):  # the helper has ended
        pass
    return None


def _keep_indexing(step: Callable[[], int], orders: _Orders) -> bool:
    """Take steps until one finds nothing to do; False when told to stop meanwhile."""
    try:
        while step():
            if orders.pipe.poll() and not orders.keep_going():
                return False
    except sqlite3.OperationalError as exc:  # the cache was busy past the timeout: try again shortly
        log.warning("cache indexer: %s; retrying", exc)
        return not orders.pipe.poll(RETRY_SECONDS) or orders.keep_going()
    except (BrokenPipeError, EOFError):
        return False
    return True
