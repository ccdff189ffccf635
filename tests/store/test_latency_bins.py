"""A latency's bin is the same whoever finds it: the indexer, for every record it counts, and SQLite
(``BIN_SQL``), for the records of a window's first minute; and it is the bin the definition (a
logarithm) gives, to the last bit of the edges."""

import math
import random
import sqlite3

from switchroom.store.analytics.latency import BIN_SQL, BINS, EDGES_MS, bin_by_log, bin_of


def test_the_bins_edges_put_every_latency_where_its_logarithm_does() -> None:
    rng = random.Random(7)
    latencies = [rng.lognormvariate(3, 3) for _ in range(100_000)]
    latencies += [e for edge in EDGES_MS for e in (edge, math.nextafter(edge, 0), math.nextafter(edge, math.inf))]
    latencies += [None, 0, 0.0, -3.5, 0.4999, 1e300, 7]
    assert [bin_of(x) for x in latencies] == [bin_by_log(x) for x in latencies]
    assert len(EDGES_MS) == BINS - 1 and bin_of(1e300) == BINS - 1


def test_sqlite_bins_a_latency_as_the_indexer_does() -> None:
    conn = sqlite3.connect(":memory:")
    around_edges = [e for edge in EDGES_MS for e in (edge, math.nextafter(edge, 0))] + [None, 0.25, 3.0, 950.5, 1e300]
    for latency in around_edges:
        [(sql_bin,)] = conn.execute(f"SELECT {BIN_SQL} FROM (SELECT ? AS latency_ms)", (latency,)).fetchall()
        assert sql_bin == bin_of(latency), latency
