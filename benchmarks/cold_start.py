"""Cold start: an empty cache against a hub holding N records (default 1,000,000), the API logs pane
open, as on a new laptop at the start of an incident.

Builds the hub's log (``replication.build_hub_db``: api calls of three connections, now), serves it from a
real hub, and runs the real dashboard headless on an empty cache. Samples four times a second: how many
records the cache holds, how far the indexer has counted (and entered, behind the counts), and whether
the pane's per-feature breakdown equals the hub's own count (SQL over the hub's file, every inbound call
by connection, feature and status). Prints when the cache held every record, when the breakdown was
complete and right, the rate the derived counts were built at, when the entries and search text caught
up, and whether a partial breakdown was ever shown without a sign that it was (the pane's ``counting``,
the status line's ``catching up``).

    .venv/bin/python benchmarks/cold_start.py [--records 1000000] [--busy]

``--busy`` keeps one core busy in another process meanwhile (on-call laptops are never idle).
Bars (DESIGN §11): a complete, correct breakdown in ≤ 15 s; derived counts at ≥ 150,000 records/s.
"""

from pathlib import Path
import argparse
import asyncio
import multiprocessing
import shutil
import sqlite3
import tempfile
import time

from replication import TOKEN, build_hub_db, served_hub

from switchroom.store.analytics.derived import CURSOR, ENTRIES_CURSOR, derived_path
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.widgets.breakdown_view import BreakdownView

SAMPLE_S = 0.25


def truth(hub_db: Path) -> dict[tuple[str, str], dict[int, int]]:
    """Every inbound call's status, counted by connection and feature, read from the hub's own file."""
    conn = sqlite3.connect(hub_db)
    counts: dict[tuple[str, str], dict[int, int]] = {}
    for conn_id, feature, status, count in conn.execute(
            "SELECT connection_id, feature_id, status_code, COUNT(*) FROM records WHERE kind = 'api_call' "
            "AND direction = 'inbound' GROUP BY connection_id, feature_id, status_code"):
        counts.setdefault((conn_id or "", feature or ""), {})[status] = count
    conn.close()
    return counts


def shown(app: SwitchroomApp) -> dict[tuple[str, str], dict[int, int]]:
    return {(b.connection_id, b.feature_id): {int(c.key): c.count for c in b.codes if c.key.isdigit()}
            for b in app.query_one(BreakdownView)._shown}


def signed(app: SwitchroomApp) -> bool:
    """Whether the screen says its figures are not whole yet: the pane's ``counting n / m`` (the summaries
    cover fewer records than the cache holds) or the status line's ``catching up`` (the cache holds fewer
    than the hub; within ``CATCHING_UP_SLACK`` seqs of its head it says ``live``)."""
    replicator = app.replicator
    return app.query_one(BreakdownView).counting or (replicator is not None and replicator.catching_up() is not None)


def progress(cache_dir: Path) -> tuple[int, int, int]:
    """(records the cache holds, records the indexer has counted, records it has entered), read beside the app."""
    found = list(cache_dir.glob("hubs/*.sqlite"))
    if not found:
        return 0, 0, 0
    held = counted = entered = 0
    try:
        with sqlite3.connect(f"file:{found[0]}?mode=ro", uri=True) as cache:
            held = cache.execute("SELECT IFNULL(MAX(seq), 0) FROM records").fetchone()[0]
        if derived_path(found[0]).exists():
            with sqlite3.connect(f"file:{derived_path(found[0])}?mode=ro", uri=True) as derived:
                cursors = dict(derived.execute("SELECT name, seq FROM derived_cursors"))
                counted, entered = cursors.get(CURSOR, 0), cursors.get(ENTRIES_CURSOR, 0)
    except sqlite3.Error:  # a table not made yet
        pass
    return held, counted, entered


async def watch(hub_url: str, cache_dir: Path, expected: dict[tuple[str, str], dict[int, int]], count: int
                ) -> dict[str, float]:
    app = SwitchroomApp(hub_url, TOKEN, cache_dir)
    marks: dict[str, float] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        started = time.perf_counter()
        while "entered" not in marks and time.perf_counter() - started < 600:
            await asyncio.sleep(SAMPLE_S)
            now = time.perf_counter() - started
            held, counted, entered = await asyncio.to_thread(progress, cache_dir)
            if held >= count:
                marks.setdefault("copied", now)
            if counted >= count:
                marks.setdefault("counted", now)
            if entered >= count:
                marks.setdefault("entered", now)
            if "complete" in marks:
                continue
            if shown(app) == expected:
                marks["complete"] = now
            elif not signed(app):
                marks["unsigned partial"] = marks.get("unsigned partial", 0) + SAMPLE_S
    return marks


def spin() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--busy", "--busy-core", action="store_true", help="keep one core busy in another process")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="switchroom-cold-"))
    busy = multiprocessing.Process(target=spin, daemon=True) if args.busy else None
    try:
        hub_db = workdir / "hub.sqlite"
        built = time.perf_counter()
        build_hub_db(hub_db, args.records)
        print(f"hub database:       {args.records:,} records built in {time.perf_counter() - built:.1f} s")
        expected = truth(hub_db)
        if busy:
            busy.start()
        with served_hub(hub_db, workdir) as (_, hub_url):
            marks = asyncio.run(watch(hub_url, workdir / "cache", expected, args.records))
    finally:
        if busy:
            busy.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    mode = " (one core kept busy)" if args.busy else ""
    print(f"cache holds all:    {marks.get('copied', float('nan')):.1f} s{mode}")
    print(f"indexer counted all: {marks.get('counted', float('nan')):.1f} s → derived counts at "
          f"{args.records / marks['counted'] if 'counted' in marks else float('nan'):,.0f} records/s "
          "(bar: >= 150,000/s)")
    print(f"breakdown complete: {marks.get('complete', float('nan')):.1f} s, equal to the hub's own count "
          "(bar: <= 15 s)")
    print(f"entries and search text, behind the counts: every record's at {marks.get('entered', float('nan')):.1f} s")
    print(f"partial, unsigned:  {marks.get('unsigned partial', 0):.1f} s of samples showed a partial breakdown "
          "without a sign (counting, catching up) that it was")


if __name__ == "__main__":
    main()
