"""``switchroom logs``: a hub's event log, filtered, printed for people, scripts and pipes.

The cache first catches up with the hub (to the hub's head when the command started); a hub that cannot
be reached, or refuses the token, is exit code 3 with the reason on stderr: stale records are never
printed as if they were current. ``--offline`` reads the cache as it is, and says so; with no hub named
the cache is the embedded demo hub's, as the dashboard last left it (no hub to ask: the demo's is the
dashboard's own child). ``--follow`` then prints records
as they arrive, like ``tail -f``, until Ctrl-C.
"""

from collections.abc import Callable, Iterable
from pathlib import Path
from dataclasses import replace
import argparse
import asyncio
import csv
import os
import sys
from typing import TextIO

import httpx

from switchroom.protocol.kinds import API_CALL, KINDS
from switchroom.store import EventLog
from switchroom.store.eventlog import record_of
from switchroom.store.filters import FilterError, RecordFilter, parse_filter, parse_since, parse_status
from switchroom.tui.http import hub_client, unreachable
from switchroom.tui.cache import BadHubId, Cache, default_cache_dir, repair
from switchroom.tui.definitions import Definitions, saved_connection_ids
from switchroom.tui.exit_codes import FAILED, HUB, OK, USAGE, Stop
from switchroom.tui.file_text import CSV_COLUMNS, csv_row, json_line
from switchroom.tui.hub_target import HubTarget, require_token
from switchroom.tui.known_hubs import hub_key, known_hub_id, remember_hub
from switchroom.tui.replication import STREAM_CURSORS, LinkState, Replicator
from switchroom.tui.text import printable

CATCH_UP_SECONDS = 120.0
FOLLOW_POLL_SECONDS = 0.2
FOLLOW_PAGE = 2_000
STREAMS = ("logs", "triggers")
"""Both of the hub's streams, so that every kind of record can be selected."""


class Unreachable(Exception):
    pass


class ReaderGone(Exception):
    """Whoever read stdout closed it (``| head``): it has all it wanted."""


def run(args: argparse.Namespace, target: HubTarget) -> int:
    try:
        record_filter = _filter(args)
    except FilterError as exc:
        raise Stop(USAGE, str(exc)) from None
    cache_dir = args.cache_dir or default_cache_dir()
    if args.follow and (target.url is None or args.offline):
        raise Stop(USAGE, "--follow needs a hub to follow: name one with --hub, without --offline")
    if target.url is not None and not args.offline:
        token = require_token(target)
        try:
            if args.follow:
                try:
                    return asyncio.run(follow(target.url, token, cache_dir, record_filter, Printer(args)))
                except KeyboardInterrupt:  # Ctrl-C as asyncio was starting or ending: as anywhere else, done
                    return OK
            asyncio.run(catch_up(target.url, token, cache_dir))
        except Unreachable as exc:
            raise Stop(HUB, f"{exc}; --offline reads the cache as it is") from None
    hub_id = known_hub_id(cache_dir, target.key)
    if hub_id is None or not Cache.exists(cache_dir, hub_id):
        raise Stop(FAILED, f"no cache of {target.shown} in {cache_dir}")
    way_on = "run this again while the hub can be reached" if target.url else "start switchroom"
    path = Cache.path_of(cache_dir, hub_id)
    for note in repair(path, f"nothing is left to read: {way_on} to copy the cache afresh from the hub"):
        print(f"switchroom logs: {note}", file=sys.stderr)
    if not path.exists():  # set aside
        return FAILED
    log = EventLog(path)
    try:
        if target.url is not None and args.offline:
            print(f"switchroom logs: reading the cache of {target.shown} as it is, through seq {log.cursor():,}, "
                  "without asking the hub", file=sys.stderr)
        check_known(log, record_filter, saved_connection_ids(cache_dir, hub_id))
        Printer(args).write(body for _, body in matching(log, record_filter))
    except ReaderGone:
        pass
    finally:
        log.close()
    return OK


def _filter(args: argparse.Namespace) -> RecordFilter:
    """The options' filter and ``--filter``'s words together; a word that says otherwise than an option
    given (``--connection a --filter conn:b``) is a ``FilterError``, never one silently winning."""
    if args.limit is not None and args.limit < 1:
        raise FilterError("--limit must be at least 1")
    statuses = tuple(parse_status(s) for given in args.status for s in given.split(",") if s.strip())
    kinds = KINDS if args.kind == "all" else (args.kind or API_CALL,)
    options = RecordFilter(
        kinds=kinds, since_ts=parse_since(args.since) if args.since else None,
        statuses=statuses, connection_id=args.connection, feature_id=args.feature, user_id=args.user,
        op_id=args.op, direction=args.direction, limit=args.limit,
    )
    if not args.filter:
        return options
    combined = parse_filter(args.filter, options)
    for field, option in (("connection_id", "--connection"), ("feature_id", "--feature"), ("user_id", "--user"),
                          ("op_id", "--op"), ("direction", "--direction"), ("since_ts", "--since")):
        given = getattr(options, field)
        if given is not None and getattr(combined, field) != given:
            raise FilterError(f"--filter says another {field.removesuffix('_id').removesuffix('_ts')} than "
                              f"{option}: give it once")
    if args.kind is not None and combined.kinds != kinds:
        raise FilterError("--filter says another kind than --kind: give it once")
    return combined


def check_known(log: EventLog, record_filter: RecordFilter, listed: set[str]) -> None:
    """An unknown connection is an error rather than an empty answer: it must be one the hub lists (as
    last saved beside the cache) or one a cached record names."""
    wanted = record_filter.connection_id
    if wanted is None or wanted in listed:
        return
    if log.execute("SELECT 1 FROM records WHERE connection_id = ? LIMIT 1", [wanted]):
        return
    known = sorted(listed | {row[0] for row in log.execute(
        "SELECT DISTINCT connection_id FROM records WHERE connection_id IS NOT NULL LIMIT 200")})
    raise Stop(USAGE, printable(f"no connection {wanted!r} on this hub; the connections are: "
                                f"{', '.join(known) or 'none in the cache yet'}"))


def matching(log: EventLog, record_filter: RecordFilter, after: int = 0, page: int | None = None) -> list[tuple[int, str]]:
    """(seq, JSON) of the records the filter matches with ``seq > after``, oldest first: the newest
    ``limit`` of them when the filter has a limit, else the first ``page`` (all when None)."""
    where, params = record_filter.where()
    if record_filter.limit is not None:
        rows = log.execute(f"SELECT seq, body FROM records WHERE seq > ? AND {where} ORDER BY seq DESC LIMIT ?",
                           [after, *params, record_filter.limit])
        return [(seq, body) for seq, body in reversed(rows)]
    query = f"SELECT seq, body FROM records WHERE seq > ? AND {where} ORDER BY seq"
    if page is not None:
        return [(seq, body) for seq, body in log.execute(query + " LIMIT ?", [after, *params, page])]
    return [(seq, body) for seq, body in log.execute(query, [after, *params])]


async def catch_up(hub_url: str, token: str, cache_dir: Path, timeout: float = CATCH_UP_SECONDS) -> None:
    """Replicate until the cache holds everything the hub had when this began; a refused token, or a link
    that fails with an error the user must see (a frame too big), ends it with that error."""
    link = await HubLink.open(hub_url, token, cache_dir)
    try:
        await link.caught_up(timeout)
        await link.save_connections()
    finally:
        await link.close()


async def follow(hub_url: str, token: str, cache_dir: Path, record_filter: RecordFilter, output: "Printer") -> int:
    """Catch up, print the matches so far, then every new match as it lands in the cache, until Ctrl-C
    (exit 0) or the hub refuses the token (exit 3). While the hub cannot be reached, the replicator tries
    again and stderr says so, once each time the link changes."""
    link = await HubLink.open(hub_url, token, cache_dir, on_link=_say_link)
    try:
        cache = await link.caught_up(CATCH_UP_SECONDS)
        await link.save_connections()
        listed = saved_connection_ids(cache_dir, cache.hub_id)
        await cache.read(lambda log: check_known(log, record_filter, listed))
        last = await _print_new(cache, record_filter, 0, output)
        every_new = replace(record_filter, limit=None)
        while True:
            await asyncio.sleep(FOLLOW_POLL_SECONDS)
            link.check()
            if link.cache is not cache:  # a new hub id: its log starts over
                cache, last = link.cache, 0
            last = await _print_new(cache, every_new, last, output)
    except (ReaderGone, KeyboardInterrupt, asyncio.CancelledError):
        return OK
    finally:
        await link.close()


async def _print_new(cache: Cache, record_filter: RecordFilter, after: int, output: "Printer") -> int:
    """Print the matches after ``after`` that the cache holds completely (below both streams' cursors), a
    page at a time; the seq printed through, matching or not."""
    while True:
        rows, through = await cache.read(lambda log: _page(log, record_filter, after))
        output.write(body for _, body in rows)
        if len(rows) < FOLLOW_PAGE:
            return max(after, through)
        after = rows[-1][0]


def _page(log: EventLog, record_filter: RecordFilter, after: int) -> tuple[list[tuple[int, str]], int]:
    through = min(log.cursor(STREAM_CURSORS[name]) for name in STREAMS)
    return [(seq, body) for seq, body in matching(log, record_filter, after, FOLLOW_PAGE) if seq <= through], through


def _say_link(state: LinkState) -> None:
    if state.name != "live":
        print(printable(f"switchroom logs: {state.detail or state.name}"), file=sys.stderr, flush=True)


class HubLink:
    """A replicator copying the hub's streams into its cache, as a command needs it: caught up to the
    head the hub had when asked, and failing loudly once the hub refuses the token."""

    def __init__(self, hub_url: str, token: str, cache_dir: Path, head_seq: int,
                 on_link: Callable[[LinkState], None] | None = None) -> None:
        self.hub_url, self.token, self.cache_dir, self.head_seq = hub_url, token, cache_dir, head_seq
        self.caches: list[Cache] = []
        self.refused: list[LinkState] = []
        self._on_link = on_link
        self._last_link = ""
        self.replicator = Replicator(hub_url, token, cache_dir, self.caches.append, lambda new, through: None,
                                     self._link, streams=STREAMS)
        self.task = asyncio.create_task(self.replicator.run())

    @classmethod
    async def open(cls, hub_url: str, token: str, cache_dir: Path,
                   on_link: Callable[[LinkState], None] | None = None) -> "HubLink":
        return cls(hub_url, token, cache_dir, await _head_seq(hub_url, cache_dir), on_link)

    @property
    def cache(self) -> Cache:
        return self.caches[-1]

    def _link(self, state: LinkState) -> None:
        if state.name == "offline" or state.error:
            self.refused.append(state)
        if self._on_link is not None and state.name != self._last_link:
            self._last_link = state.name
            self._on_link(state)

    def check(self) -> None:
        """Raise ``Unreachable`` once the replicator has stopped or the hub refused the token."""
        if self.task.done() or any(state.error for state in self.refused if state.name == "offline"):
            raise Unreachable(self._why())

    def _why(self) -> str:
        state = self.refused[-1] if self.refused else None
        return (state.error or state.detail) if state else "the stream ended"

    async def caught_up(self, timeout: float) -> Cache:
        try:
            async with asyncio.timeout(timeout):
                while not self.caches or not await self._at_head(self.cache):
                    if self.task.done() or self.refused:
                        raise Unreachable(self._why())
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise Unreachable(f"the cache did not catch up within {timeout:.0f} s") from None
        remember_hub(self.cache_dir, hub_key(self.hub_url), self.cache.hub_id)
        return self.cache

    async def _at_head(self, cache: Cache) -> bool:
        cursors = await cache.read(lambda log: [log.cursor(STREAM_CURSORS[name]) for name in STREAMS])
        return min(cursors) >= self.head_seq

    async def save_connections(self) -> None:
        """Ask the hub which connections it has, saved beside the cache (``check_known`` reads them)."""
        await Definitions(self.hub_url, self.token, self.cache_dir).facts(self.cache.hub_id)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        for cache in self.caches:
            cache.close()
            for note in cache.take_notes():
                print(f"switchroom logs: {note}", file=sys.stderr)


async def _head_seq(hub_url: str, cache_dir: Path) -> int:
    """The hub's head seq now, from its health check; a hub that does not answer as a hub is ``Unreachable``."""
    try:
        async with hub_client(hub_url, 5.0) as http:
            health = (await http.get(f"{hub_url.rstrip('/')}/v1/health")).raise_for_status().json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unreachable(unreachable(hub_url, exc)) from None
    hub_id, head_seq = (health.get("hub_id"), health.get("head_seq")) if isinstance(health, dict) else (None, None)
    if type(head_seq) is not int:
        raise Unreachable(f"the hub at {hub_url} answered its health check without a head seq")
    try:
        Cache.path_of(cache_dir, str(hub_id))
    except BadHubId as exc:
        raise Unreachable(f"the hub at {hub_url} is refused: {exc}") from None
    return head_seq


class Printer:
    """Records as JSON lines as stored (every control character escaped), CSV cells safe for spreadsheets
    and terminals (``tui.file_text``; the header once), or text with terminal controls taken out."""

    def __init__(self, args: argparse.Namespace, out: TextIO = sys.stdout) -> None:
        self.as_json, self.as_csv, self.out = args.json, args.csv, out
        self._csv = csv.writer(out) if args.csv else None
        if self._csv is not None:
            self._guarded(lambda: self._csv.writerow(CSV_COLUMNS))  # type: ignore[union-attr]

    def write(self, bodies: Iterable[str]) -> None:
        self._guarded(lambda: self._write(bodies))

    def _write(self, bodies: Iterable[str]) -> None:
        out = self.out
        if self.as_json:
            for body in bodies:
                out.write(json_line(body) + "\n")
        elif self._csv is not None:
            for body in bodies:
                self._csv.writerow(csv_row(record_of(body)))
        else:
            for record in map(record_of, bodies):
                out.write(printable(text_line(record)) + "\n")
        out.flush()

    def _guarded(self, write: Callable[[], None]) -> None:
        try:
            write()
        except BrokenPipeError:  # `| head`: the reader has all it wanted; say nothing more to it
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.out.fileno())
            raise ReaderGone from None


def text_line(record: dict[str, object]) -> str:
    """One record a line: its seq (what ``rerun`` and the console's ``:`` take), time, kind, direction,
    connection, operation, how it ended and the user."""
    code = "skip" if record.get("skipped") else record.get(
        "status_code", record.get("status", record.get("delivered_to", record.get("outcome", "---"))))
    return " ".join(str(x) for x in (
        f"#{record.get('seq', '?')}", record.get("ts", ""), record.get("kind", ""), record.get("direction", "-"),
        record.get("connection_id", "-"), record.get("op_id", record.get("op", record.get("trigger_id", "-"))),
        code, record.get("user_id", "-")))
