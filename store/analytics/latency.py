"""Latency histograms: percentiles from counts that can be summed, so aggregates can be merged.

Bins are logarithmic, four to an octave, from 0.5 ms: bin 0 holds everything under 0.5 ms, bin ``i``
(1 … 72) holds ``[0.5·2^((i-1)/4), 0.5·2^(i/4))`` ms, and bin 73 everything from 131 s up. A
percentile is read as the geometric middle of the bin the nearest rank falls in, so it is within
2^(1/8) − 1 ≈ 9 % of the exact nearest-rank value for any latency from 0.5 ms to 131 s (under 0.5 ms
it reads 0.35 ms; over 131 s, 131 s).
"""

from collections.abc import Sequence
import math
import sqlite3

BINS = 74
LOWEST_MS = 0.5
PER_OCTAVE = 4
COLUMNS = tuple(f"h{i}" for i in range(BINS))


def bin_of(latency_ms: float | None) -> int:
    if not latency_ms or latency_ms < LOWEST_MS:
        return 0
    return min(BINS - 1, 1 + int(PER_OCTAVE * math.log2(latency_ms / LOWEST_MS)))


BIN_SQL = (f"CASE WHEN latency_ms IS NULL OR latency_ms < {LOWEST_MS} THEN 0 "
           f"ELSE MIN({BINS - 1}, 1 + CAST({PER_OCTAVE} * log2(latency_ms / {LOWEST_MS}) AS INTEGER)) END")
"""``bin_of(latency_ms)`` in SQL (``log2`` is SQLite's, or ``with_log2``'s where SQLite lacks it)."""


def with_log2(conn: sqlite3.Connection) -> None:
    """Give ``conn`` a ``log2`` function if its SQLite was built without its math functions."""
    try:
        conn.execute("SELECT log2(2)")
    except sqlite3.OperationalError:
        conn.create_function("log2", 1, math.log2, deterministic=True)


def bin_middle_ms(index: int) -> float:
    """The geometric middle of a bin, which a percentile falling in it reads as."""
    if index == BINS - 1:
        return LOWEST_MS * 2 ** ((BINS - 2) / PER_OCTAVE)
    return LOWEST_MS * 2 ** ((index - 0.5) / PER_OCTAVE)


def percentile(histogram: Sequence[int], fraction: float) -> float | None:
    """The nearest-rank percentile (``fraction`` 0.5 for p50) of the counts in ``histogram``."""
    total = sum(histogram)
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return bin_middle_ms(index)
    return bin_middle_ms(BINS - 1)  # not reached: the counts add up to ``total``
