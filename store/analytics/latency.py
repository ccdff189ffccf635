"""Latency histograms: percentiles from counts that can be summed, so aggregates can be merged.

Bins are logarithmic, four to an octave, from 0.5 ms: bin 0 holds everything under 0.5 ms, bin ``i``
(1 … 72) holds ``[0.5·2^((i-1)/4), 0.5·2^(i/4))`` ms, and bin 73 everything from 131 s up. A
percentile is read as the geometric middle of the bin the nearest rank falls in, so it is within
2^(1/8) − 1 ≈ 9 % of the exact nearest-rank value for any latency from 0.5 ms to 131 s (under 0.5 ms
it reads 0.35 ms; over 131 s, 131 s).
"""

from bisect import bisect_right
from collections.abc import Sequence
import math
import struct

BINS = 74
LOWEST_MS = 0.5
PER_OCTAVE = 4
COLUMNS = tuple(f"h{i}" for i in range(BINS))


def bin_by_log(latency_ms: float | None) -> int:
    """The bin a latency falls in, by the definition above."""
    if not latency_ms or latency_ms < LOWEST_MS:
        return 0
    return min(BINS - 1, 1 + int(PER_OCTAVE * math.log2(latency_ms / LOWEST_MS)))


def _lowest_of(index: int) -> float:
    """The smallest float ``bin_by_log`` puts in bin ``index`` or above (searched bit by bit: the bins'
    edges as the logarithm draws them, to the last bit)."""
    low, high = _bits(LOWEST_MS), _bits(1e300)
    while low < high:
        middle = (low + high) // 2
        if bin_by_log(_float(middle)) >= index:
            high = middle
        else:
            low = middle + 1
    return _float(low)


def _bits(value: float) -> int:
    return struct.unpack("<q", struct.pack("<d", value))[0]


def _float(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<q", bits))[0]


EDGES_MS = tuple(_lowest_of(index) for index in range(1, BINS))
"""The lowest latency of each bin from bin 1 on. Every reader bins by them (Python and SQLite alike), so
that a latency on an edge falls in one bin whoever reads it: SQLite's ``log2`` and Python's differ in
the last bit there."""


def bin_of(latency_ms: float | None) -> int:
    """``bin_by_log``, by a binary search of the edges (a third of the time: the indexer asks for every
    record it counts)."""
    return bisect_right(EDGES_MS, latency_ms) if latency_ms else 0


def _bin_sql(low: int, high: int) -> str:
    """SQL for the bin of ``latency_ms``, known to be one of ``low`` … ``high``: a binary search of the
    edges, seven comparisons (a NULL compares false all the way down to bin 0)."""
    if low == high:
        return str(low)
    middle = (low + high + 1) // 2
    return (f"CASE WHEN latency_ms >= {EDGES_MS[middle - 1]!r} THEN {_bin_sql(middle, high)} "
            f"ELSE {_bin_sql(low, middle - 1)} END")


BIN_SQL = _bin_sql(0, BINS - 1)
"""``bin_of(latency_ms)`` in SQL."""


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
