"""Scripts and callers that try to take the hub down: memory the V8 cap does not see, and records too big to
stream (DESIGN §6, §7)."""

from collections.abc import AsyncIterator
from typing import Any
import json
import os

import pytest

from switchroom.hub.scripts import Limits, ScriptEngine, ScriptJob, ScriptResult

CAP = 32 << 20
"""The memory cap of the engine under test; no run may cost the process more than this."""


def rss_bytes() -> int:
    """This process's resident memory, which is where V8 allocates, on its heap or off it."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def no_calls(kind: str, op_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return 204, None


@pytest.fixture
async def engine() -> AsyncIterator[ScriptEngine]:
    engine = ScriptEngine(Limits(wall_time_s=10.0, memory_bytes=CAP), max_concurrent=1)
    await engine.run(ScriptJob("1", "t.t"), no_calls)  # V8 started, a context made: not counted below
    yield engine
    await engine.aclose()


# Each keeps memory that V8's heap limit does not count: ICU's copy of the text a segmenter works on, ICU's
# formatters, the data of Temporal objects. Scaled down from the 4 GB attack: each holds 80-120 MB today.
OFF_HEAP_HOARDS = {
    "segmenter": 'const s = "a ".repeat(5e5);\nconst kept = [];\n'
                 "for (let i = 0; i < 60; i++) kept.push(new Intl.Segmenter().segment(s));",
    "number formats": "const kept = [];\n"
                      'for (let i = 0; i < 1e5; i++) kept.push(new Intl.NumberFormat("en", {style: "currency", currency: "EUR"}));',
    "temporal dates": "const kept = [];\nfor (let i = 0; i < 3e5; i++) kept.push(new Temporal.PlainDate(2024, 1, 1));",
}


@pytest.mark.parametrize("source", OFF_HEAP_HOARDS.values(), ids=OFF_HEAP_HOARDS.keys())
async def test_a_script_cannot_hold_memory_outside_the_heap_cap(engine: ScriptEngine, source: str) -> None:
    before = rss_bytes()
    result: ScriptResult = await engine.run(ScriptJob(source, "t.t"), no_calls)
    grown = rss_bytes() - before
    assert result.status in ("oom", "error"), result
    assert grown < CAP, f"the run took {grown >> 20} MiB outside its {CAP >> 20} MiB cap"
    if result.status == "error":
        assert result.error is not None and "is not defined" in result.error.message


# Locale-dependent methods that copy their text into ICU buffers outside the heap (normalizing a 40 MB string
# took 200 MB), and the one way from a Date to Temporal.
OFF_HEAP_METHODS = [
    "String.prototype.localeCompare", "String.prototype.normalize", "String.prototype.toLocaleLowerCase",
    "String.prototype.toLocaleUpperCase", "Number.prototype.toLocaleString", "BigInt.prototype.toLocaleString",
    "Date.prototype.toLocaleString", "Date.prototype.toLocaleDateString", "Date.prototype.toLocaleTimeString",
    "Date.prototype.toTemporalInstant",
]


async def test_methods_that_allocate_outside_the_heap_are_not_there(engine: ScriptEngine) -> None:
    probe = (
        f"const methods = {json.dumps(OFF_HEAP_METHODS)};\n"
        "console.log(typeof Intl, typeof Temporal, ...methods.filter((path) => {\n"
        "  const [home, , name] = path.split('.');\n"
        "  return Object.hasOwn(globalThis[home].prototype, name);\n"
        "}));"
    )
    for _ in range(2):  # a fresh context, then the same one reused after a clean run
        result = await engine.run(ScriptJob(probe, "t.t"), no_calls)
        assert result.status == "ok", result
        assert [line.text for line in result.console] == ["undefined undefined"]
    # what stays works without ICU: Object.prototype.toLocaleString, which is toString
    result = await engine.run(ScriptJob('console.log([1234.5, 2n, "É".toLowerCase()].toLocaleString())', "t.t"), no_calls)
    assert [line.text for line in result.console] == ["1234.5,2,é"]
