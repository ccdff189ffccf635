"""``switchroom logs``: the cached event log, filtered, printed for people, scripts and pipes.

With a reachable hub the cache first catches up with it (to the hub's head when the command started);
without one, the last cache of that hub is read as it is, and stderr says so. Exit codes: 0 records
printed (perhaps none matched), 1 nothing to read (no cache of that hub), 2 bad options.
"""

from collections.abc import Iterable
from pathlib import Path
import argparse
import asyncio
import csv
import os
import sys

import httpx

from switchroom.protocol.kinds import API_CALL, LOG_STREAM_KINDS
from switchroom.store import EventLog
from switchroom.store.eventlog import record_of
from switchroom.store.filters import FilterError, RecordFilter, matching_records, parse_since, parse_status
from switchroom.tui.http import hub_client, unreachable
from switchroom.tui.cache import BadHubId, Cache, repair
from switchroom.tui.file_text import CSV_COLUMNS, csv_row, json_line
from switchroom.tui.known_hubs import EMBEDDED, hub_key, known_hub_id, remember_hub
from switchroom.tui.replication import LinkState, Replicator
from switchroom.tui.text import printable

CATCH_UP_SECONDS = 120.0


class Unreachable(Exception):
    pass


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="switchroom logs", description=(
        "Print records from the local cache of a hub's event log, after catching up with the hub when it "
        "can be reached. Without --hub: the cache of the embedded demo hub."))
    p.add_argument("--hub", metavar="URL", help="the hub, e.g. http://127.0.0.1:8470")
    p.add_argument("--token", help="operator token (default: $SWITCHROOM_TOKEN)")
    p.add_argument("--cache-dir", type=Path, help="where the local caches live")
    p.add_argument("--offline", action="store_true", help="read the cache as it is, without asking the hub")
    p.add_argument("--since", help="only records this recent: 90s, 15m, 1h, 2d, 1w, or since a time: 13:05, "
                                   "2026-11-26T13:05 (UTC unless it says, e.g. +01:00)")
    p.add_argument("--status", action="append", default=[], metavar="STATUS",
                   help="a status class (5xx), code (503) or 'skipped'; repeat or comma-separate for several")
    p.add_argument("--kind", choices=[*LOG_STREAM_KINDS, "all"], default=API_CALL, help="record kind (default: api_call)")
    p.add_argument("--connection", help="only this connection id")
    p.add_argument("--feature", help="only this feature id")
    p.add_argument("--user", help="only this user id")
    p.add_argument("--op", help="only this operation id, e.g. lights.change_color")
    p.add_argument("--direction", choices=["inbound", "outbound", "webhook"], help="only calls in this direction")
    p.add_argument("--limit", type=int, help="only the newest N matches")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON record a line, as the hub keeps it")
    output.add_argument("--csv", action="store_true", help="CSV with a header line")
    return p


def main(argv: list[str], default_cache_dir: Path) -> int:
    args = parser().parse_args(argv)
    try:
        record_filter = _filter(args)
    except FilterError as exc:
        print(f"switchroom logs: {exc}", file=sys.stderr)
        return 2
    cache_dir = args.cache_dir or default_cache_dir
    key = hub_key(args.hub) if args.hub else EMBEDDED
    if args.hub and not args.offline:
        token = args.token or os.environ.get("SWITCHROOM_TOKEN")
        if not token:
            print("switchroom logs: --hub needs an operator token: pass --token or set SWITCHROOM_TOKEN",
                  file=sys.stderr)
            return 2
        try:
            asyncio.run(catch_up(args.hub, token, cache_dir))
        except Unreachable as exc:
            print(f"switchroom logs: {exc}; showing the cache as it is", file=sys.stderr)
    hub_id = known_hub_id(cache_dir, key)
    if hub_id is None or not Cache.exists(cache_dir, hub_id):
        print(f"switchroom logs: no cache of {args.hub or 'the embedded demo hub'} in {cache_dir}", file=sys.stderr)
        return 1
    way_on = "run this again while the hub can be reached" if args.hub else "start switchroom"
    path = Cache.path_of(cache_dir, hub_id)
    for note in repair(path, f"nothing is left to read: {way_on} to copy the cache afresh from the hub"):
        print(f"switchroom logs: {note}", file=sys.stderr)
    if not path.exists():  # set aside
        return 1
    log = EventLog(path)
    try:
        _print(matching_records(log, record_filter), args)
    finally:
        log.close()
    return 0


def _filter(args: argparse.Namespace) -> RecordFilter:
    if args.limit is not None and args.limit < 1:
        raise FilterError("--limit must be at least 1")
    statuses = tuple(parse_status(s) for given in args.status for s in given.split(",") if s.strip())
    return RecordFilter(
        kinds=LOG_STREAM_KINDS if args.kind == "all" else (args.kind,), since_ts=parse_since(args.since) if args.since else None,
        statuses=statuses, connection_id=args.connection, feature_id=args.feature, user_id=args.user,
        op_id=args.op, direction=args.direction, limit=args.limit,
    )


async def catch_up(hub_url: str, token: str, cache_dir: Path, timeout: float = CATCH_UP_SECONDS) -> None:
    """Replicate until the cache holds everything the hub had when this began; a refused token, or a link
    that fails with an error the user must see (a frame too big), ends it with that error."""
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
    caches: list[Cache] = []
    refused: list[LinkState] = []
    replicator = Replicator(hub_url, token, cache_dir, caches.append, lambda new, through: None,
                            lambda state: refused.append(state) if state.name == "offline" or state.error else None)
    task = asyncio.create_task(replicator.run())
    try:
        async with asyncio.timeout(timeout):
            while not caches or await caches[-1].read(lambda log: log.cursor()) < head_seq:
                if task.done() or refused:
                    raise Unreachable(refused[-1].error or refused[-1].detail if refused else "the stream ended")
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise Unreachable(f"the cache did not catch up within {timeout:.0f} s") from None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for cache in caches:
            cache.close()
            for note in cache.take_notes():
                print(f"switchroom logs: {note}", file=sys.stderr)
    remember_hub(cache_dir, hub_key(hub_url), caches[-1].hub_id)


def _print(bodies: Iterable[str], args: argparse.Namespace) -> None:
    """JSON lines as stored, every control character escaped; CSV cells safe for spreadsheets and
    terminals (``tui.file_text``); text with terminal controls taken out."""
    out = sys.stdout
    try:
        if args.json:
            for body in bodies:
                out.write(json_line(body) + "\n")
            return
        rows = (record_of(body) for body in bodies)
        if args.csv:
            writer = csv.writer(out)
            writer.writerow(CSV_COLUMNS)
            for record in rows:
                writer.writerow(csv_row(record))
            return
        for record in rows:
            code = "skip" if record.get("skipped") else record.get("status_code", record.get("status", "---"))
            line = " ".join(str(x) for x in (
                record.get("ts", ""), record.get("kind", ""), record.get("direction", "-"),
                record.get("connection_id", "-"), record.get("op_id", record.get("op", "-")), code,
                record.get("user_id", "-")))
            out.write(printable(line) + "\n")
    except BrokenPipeError:  # `| head`: the reader has all it wanted; say nothing more to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
