"""The runtime-script engine (DESIGN §6), with real V8: globals, outcomes, limits, isolation and the pool."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
import asyncio
import json

import pytest

from switchroom.hub.scripts import EngineBusy, Limits, ScriptEngine, ScriptJob, ScriptResult, check_script
from switchroom.hub.scripts.engine import _Run

LIMITS = Limits(wall_time_s=1.0)
SHORT = Limits(wall_time_s=0.5)

# What a context's global object may hold: ECMAScript built-ins, V8's extras, and the documented globals.
STANDARD_GLOBALS = {
    "Object", "Function", "Array", "Number", "parseFloat", "parseInt", "Infinity", "NaN", "undefined",
    "Boolean", "String", "Symbol", "Date", "Promise", "RegExp", "Error", "AggregateError", "EvalError",
    "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError", "globalThis", "JSON", "Math",
    "Map", "BigInt", "Set", "Iterator", "WeakMap", "WeakSet", "Proxy", "Reflect",
    "FinalizationRegistry", "WeakRef", "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent",
    "escape", "unescape", "eval", "isFinite", "isNaN", "SuppressedError", "DisposableStack",
    "AsyncDisposableStack",
}
DOCUMENTED_GLOBALS = {
    "Meta", "Trigger", "Connection", "runAction", "performQuery", "console", "setTimeout", "clearTimeout",
}


class FakeHost:
    """The hub's side of runAction/performQuery: records calls and answers like the Connect API."""

    def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
        self.rows = rows or []
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, kind: str, op_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        self.calls.append((kind, op_id, body))
        if self.gate is not None:
            await self.gate.wait()
        if op_id == "broken.action":
            raise RuntimeError("the service client blew up")
        if kind == "query":
            return 200, {"type": "list", "data": self.rows[: body.get("limit", len(self.rows))]}
        return 204, None


@pytest.fixture
async def engine() -> AsyncIterator[ScriptEngine]:
    engine = ScriptEngine(LIMITS)
    yield engine
    await engine.aclose()


@pytest.fixture
async def short_engine() -> AsyncIterator[ScriptEngine]:
    engine = ScriptEngine(SHORT)
    yield engine
    await engine.aclose()


def job(source: str, **fields: Any) -> ScriptJob:
    return ScriptJob(source=source, trigger_id=fields.pop("trigger_id", "videos.new_liked_video"), **fields)


async def run(engine: ScriptEngine, source: str, host: FakeHost | None = None, **fields: Any) -> ScriptResult:
    return await engine.run(job(source, **fields), host or FakeHost())


def logged(result: ScriptResult) -> Any:
    """The JSON the script logged last."""
    return json.loads(result.console[-1].text)


async def test_the_classic_example(engine: ScriptEngine) -> None:
    host = FakeHost([{"title": "Cats"}, {"title": "Dogs"}, {"title": "Owls"}, {"title": "Eels"}])
    source = """
const liked = Trigger.ingredients;
const found = await performQuery("videos.search", { fields: { q: liked.Title }, limit: 3 });
for (const video of found.responseBody.data) {
  await runAction("messages.send_text", { fields: { text: `Because you liked ${liked.Title}: ${video.title}` } });
}
console.log(`sent ${found.responseBody.data.length}`);
"""
    result = await run(engine, source, host, ingredients={"Title": "Birds", "Url": "https://v/1"})
    assert result.status == "ok", result.error
    assert host.calls == [
        ("query", "videos.search", {"fields": {"q": "Birds"}, "limit": 3}),
        ("action", "messages.send_text", {"fields": {"text": "Because you liked Birds: Cats"}}),
        ("action", "messages.send_text", {"fields": {"text": "Because you liked Birds: Dogs"}}),
        ("action", "messages.send_text", {"fields": {"text": "Because you liked Birds: Owls"}}),
    ]
    assert [(c.kind, c.op_id, c.status_code) for c in result.calls] == [
        ("query", "videos.search", 200), ("action", "messages.send_text", 204),
        ("action", "messages.send_text", 204), ("action", "messages.send_text", 204),
    ]
    assert result.calls[1].body == {"fields": {"text": "Because you liked Birds: Cats"}}
    assert [(line.level, line.text) for line in result.console] == [("log", "sent 3")]
    assert result.error is None and result.duration_ms > 0


async def test_trigger_and_connection_globals(engine: ScriptEngine) -> None:
    result = await run(
        engine, "console.log(JSON.stringify({ Trigger, Connection }))",
        trigger_id="weather.rain_tomorrow", ingredients={"City": "Oslo", "Chance": 80},
        service_user_id="svc-user-7", feature_name="Rain alert", user_feature_id="uf-42",
        configuration={"units": "metric", "quiet_hours": [22, 7]},
    )
    assert result.status == "ok", result.error
    assert logged(result) == {
        "Trigger": {"id": "weather.rain_tomorrow", "ingredients": {"City": "Oslo", "Chance": 80}},
        "Connection": {
            "serviceUserId": "svc-user-7", "currentFeatureName": "Rain alert", "userFeatureId": "uf-42",
            "configuration": {"units": "metric", "quiet_hours": [22, 7]},
        },
    }


MOMENT_PROBE = """
const t = Meta.currentUserTime;
console.log(JSON.stringify({
  format: t.format("YYYY-MM-DD HH:mm:ss dddd ddd MMMM MMM Do A h [at] Z"),
  hour: t.hour(), minute: t.minute(), day: t.day(), date: t.date(), month: t.month(), year: t.year(),
  isoWeekday: t.isoWeekday(), iso: t.toISOString(), value: t.valueOf(), offset: t.utcOffset(),
  byDefault: t.format(), zone: t.tz(), json: JSON.stringify(t),
}));
"""


async def test_current_user_time_in_tokyo(engine: ScriptEngine) -> None:
    now = datetime(2024, 1, 14, 18, 4, 5, 678000, tzinfo=UTC)  # Monday 03:04 in Tokyo
    result = await run(engine, MOMENT_PROBE, timezone="Asia/Tokyo", now=now)
    assert result.status == "ok", result.error
    assert logged(result) == {
        "format": "2024-01-15 03:04:05 Monday Mon January Jan 15th AM 3 at +09:00",
        "hour": 3, "minute": 4, "day": 1, "date": 15, "month": 0, "year": 2024, "isoWeekday": 1,
        "iso": "2024-01-14T18:04:05.678Z", "value": 1705255445678, "offset": 540,
        "byDefault": "2024-01-15T03:04:05+09:00", "zone": "Asia/Tokyo", "json": '"2024-01-14T18:04:05.678Z"',
    }


async def test_current_user_time_across_dst_in_new_york(engine: ScriptEngine) -> None:
    source = """
const t = Meta.currentUserTime;
const start = t.valueOf();
const nextDay = t.clone().add(1, "day");
const later = t.clone().add(24, "hours");
const back = nextDay.clone().subtract(1, "d");
const nextMonth = t.clone().add(1, "M");
console.log(JSON.stringify({
  before: t.format("YYYY-MM-DD HH:mm Z"),
  nextDay: nextDay.format("YYYY-MM-DD HH:mm Z"), nextDayHours: (nextDay.valueOf() - start) / 3600000,
  later: later.format("YYYY-MM-DD HH:mm Z"), back: back.format("YYYY-MM-DD HH:mm Z"),
  nextMonth: nextMonth.format("YYYY-MM-DD HH:mm Z"), mutates: t.add(1, "h") === t && t.hour() === 13,
}));
"""
    spring = await run(engine, source, timezone="America/New_York", now=datetime(2024, 3, 9, 17, 0, tzinfo=UTC))
    assert spring.status == "ok", spring.error
    assert logged(spring) == {
        "before": "2024-03-09 12:00 -05:00",
        "nextDay": "2024-03-10 12:00 -04:00", "nextDayHours": 23,
        "later": "2024-03-10 13:00 -04:00", "back": "2024-03-09 12:00 -05:00",
        "nextMonth": "2024-04-09 12:00 -04:00", "mutates": True,
    }
    autumn = await run(engine, source, timezone="America/New_York", now=datetime(2024, 11, 2, 16, 0, tzinfo=UTC))
    assert logged(autumn)["nextDay"] == "2024-11-03 12:00 -05:00"
    assert logged(autumn)["nextDayHours"] == 25


async def test_a_wall_time_in_a_dst_gap_moves_forward(engine: ScriptEngine) -> None:
    source = 'console.log(JSON.stringify(Meta.currentUserTime.add(1, "day").format("YYYY-MM-DD HH:mm Z")))'
    result = await run(engine, source, timezone="America/New_York", now=datetime(2024, 3, 9, 7, 30, tzinfo=UTC))
    assert logged(result) == "2024-03-10 03:30 -04:00"  # 02:30 does not exist that day


async def test_month_arithmetic_clamps_like_moment(engine: ScriptEngine) -> None:
    source = 'console.log(JSON.stringify(Meta.currentUserTime.add(1, "month").format("YYYY-MM-DD")))'
    result = await run(engine, source, now=datetime(2024, 1, 31, 12, tzinfo=UTC))
    assert logged(result) == "2024-02-29"


async def test_overrides_in_bodies_reach_the_host(engine: ScriptEngine) -> None:
    host = FakeHost()
    source = """
const body = { fields: { color: "blue", light: Trigger.ingredients.Room }, user_feature_id: "uf-9" };
const answer = await runAction("lights.change_color", body);
console.log(JSON.stringify(answer));
"""
    result = await run(engine, source, host, ingredients={"Room": "porch"})
    assert host.calls == [("action", "lights.change_color",
                           {"fields": {"color": "blue", "light": "porch"}, "user_feature_id": "uf-9"})]
    assert logged(result) == {"statusCode": 204, "responseBody": None}


async def test_a_thrown_error_has_the_users_line_and_column(engine: ScriptEngine) -> None:
    source = "const a = 1;\n\nfunction check(x) {\n  if (x) throw new TypeError('bad input ' + x);\n}\ncheck(a);\n"
    result = await run(engine, source)
    assert result.status == "error"
    assert result.error is not None
    assert result.error.message == "TypeError: bad input 1"
    assert (result.error.line, result.error.column) == (4, 16)
    assert result.error.stack is not None
    assert "script.js:4:16" in result.error.stack and "script.js:6:1" in result.error.stack
    assert "<anonymous>:" not in result.error.stack


async def test_a_rejected_promise_has_the_users_line_and_column(engine: ScriptEngine) -> None:
    source = "console.log('start');\nconst p = Promise.reject(new RangeError('nope'));\nawait p;\n"
    result = await run(engine, source)
    assert result.status == "error"
    assert result.error is not None
    assert result.error.message == "RangeError: nope"
    assert (result.error.line, result.error.column) == (2, 26)
    assert [line.text for line in result.console] == ["start"]


async def test_a_thrown_non_error_is_an_error_without_position(engine: ScriptEngine) -> None:
    result = await run(engine, "throw { code: 42 };")
    assert result.status == "error"
    assert result.error is not None and result.error.message == 'Uncaught {"code":42}'
    assert result.error.line is None


async def test_a_failing_host_call_rejects_without_leaking_the_traceback(engine: ScriptEngine) -> None:
    source = "try { await runAction('broken.action') } catch (e) { console.log(e.message) }"
    result = await run(engine, source)
    assert result.status == "ok", result.error
    assert [line.text for line in result.console] == ["action failed in the hub"]
    assert [(c.op_id, c.status_code) for c in result.calls] == [("broken.action", None)]


HANGS = {
    "busy loop": "while (true) {}",
    "never-resolving promise": "await new Promise(() => {});",
    "await loop": "while (true) { await null; }",
    "microtask flood": "const flood = () => { Promise.resolve().then(flood); }; flood(); await new Promise(() => {});",
    "setTimeout chain": "const tick = () => setTimeout(tick, 0); tick();",
}


@pytest.mark.parametrize("source", HANGS.values(), ids=HANGS.keys())
async def test_hangs_end_as_timeout_and_the_next_run_succeeds(short_engine: ScriptEngine, source: str) -> None:
    result = await run(short_engine, f"console.log('before');\n{source}")
    assert result.status == "timeout"
    assert result.error is None
    assert [line.text for line in result.console] == ["before"]
    assert result.duration_ms >= SHORT.wall_time_s * 1000
    after = await run(short_engine, "console.log(typeof globalThis.tick)")
    assert after.status == "ok" and [line.text for line in after.console] == ["undefined"]


async def test_a_timeout_keeps_the_calls_made_so_far(short_engine: ScriptEngine) -> None:
    host = FakeHost()
    source = "await runAction('lights.turn_on', { fields: { light: 'porch' } });\nconsole.log('on');\nwhile (true) {}"
    result = await run(short_engine, source, host)
    assert result.status == "timeout"
    assert [(c.op_id, c.body, c.status_code) for c in result.calls] == [
        ("lights.turn_on", {"fields": {"light": "porch"}}, 204)
    ]
    assert [line.text for line in result.console] == ["on"]


async def test_a_memory_bomb_ends_as_oom_and_the_next_run_succeeds() -> None:
    engine = ScriptEngine(Limits(wall_time_s=5.0, memory_bytes=32 * 1024 * 1024))
    try:
        result = await run(engine, "const hoard = [];\nwhile (true) hoard.push(new Array(100000).fill(1.5));")
        assert result.status == "oom"
        assert (await run(engine, "console.log('fine')")).status == "ok"
    finally:
        await engine.aclose()


async def test_a_memory_leak_in_microtasks_ends_as_oom_before_the_time_limit() -> None:
    engine = ScriptEngine(Limits(wall_time_s=30.0, memory_bytes=32 * 1024 * 1024))
    try:
        # each link's promise waits on the next: a chain that grows until the memory cap stops it
        result = await run(engine, "const chain = () => Promise.resolve().then(chain);\nchain();")
        assert result.status == "oom"  # not "timeout": the memory cap ended it before the time limit
    finally:
        await engine.aclose()


async def test_buffers_outside_the_heap_limit_are_not_available(engine: ScriptEngine) -> None:
    names = ["ArrayBuffer", "SharedArrayBuffer", "Uint8Array", "Float64Array", "DataView", "Atomics", "WebAssembly"]
    result = await run(engine, f"console.log(JSON.stringify({names}.map(n => typeof globalThis[n])))")
    assert logged(result) == ["undefined"] * len(names)


ESCAPES = {
    "constructor chain to process": ("this.constructor.constructor('return process')()", "process is not defined"),
    "dynamic import": ("await import('fs')", "Not supported"),
    "require": ("require('fs')", "require is not defined"),
    "fetch": ("await fetch('http://127.0.0.1')", "fetch is not defined"),
    "XMLHttpRequest": ("new XMLHttpRequest()", "XMLHttpRequest is not defined"),
    "Deno/Bun/node globals": ("Deno.readTextFile('/etc/passwd')", "Deno is not defined"),
}


@pytest.mark.parametrize(("source", "message"), ESCAPES.values(), ids=ESCAPES.keys())
async def test_escape_attempts_fail(engine: ScriptEngine, source: str, message: str) -> None:
    result = await run(engine, source)
    assert result.status == "error"
    assert result.error is not None and message in result.error.message
    assert result.error.line == 1


async def test_the_global_reached_through_constructors_holds_no_host_objects(engine: ScriptEngine) -> None:
    source = """
const g = Trigger.constructor.constructor('return this')();
console.log(JSON.stringify({
  same: g === globalThis,
  names: Object.getOwnPropertyNames(g),
  symbols: Object.getOwnPropertySymbols(g).map(String),
  process: typeof g.process, require: typeof g.require, bridge: typeof g.__sr,
  bridgeFromScript: typeof __sr,
}));
"""
    result = await run(engine, source)
    assert result.status == "ok", result.error
    seen = logged(result)
    assert seen["same"] is True
    assert set(seen["names"]) <= STANDARD_GLOBALS | DOCUMENTED_GLOBALS, set(seen["names"]) - STANDARD_GLOBALS
    assert seen["symbols"] == []
    assert seen["process"] == seen["require"] == seen["bridge"] == seen["bridgeFromScript"] == "undefined"


async def test_runs_cannot_see_each_others_globals_or_prototype_changes(engine: ScriptEngine) -> None:
    first = await run(engine, """
Array.prototype.x = 1;
Object.prototype.polluted = true;
globalThis.leak = "secret";
var declared = "also secret";
JSON.parse = () => "hijacked";
Trigger.ingredients.mutated = true;
console.log("polluted");
""")
    assert first.status == "ok", first.error
    second = await run(engine, """
console.log(JSON.stringify([[].x, ({}).polluted, typeof leak, typeof declared, JSON.parse("1"), Trigger.ingredients]));
""", ingredients={"fresh": 1})
    assert logged(second) == [None, None, "undefined", "undefined", 1, {"fresh": 1}]


async def test_timers_fire_in_order_and_can_be_cleared(engine: ScriptEngine) -> None:
    source = """
const order = [];
setTimeout(() => order.push("late"), 20);
setTimeout((a, b) => order.push(a + b), 1, "ear", "ly");
const cleared = setTimeout(() => order.push("cleared"), 5);
clearTimeout(cleared);
await new Promise((resolve) => setTimeout(resolve, 0));
order.push("awaited");
setTimeout(() => console.log(JSON.stringify(order)), 30);
"""
    result = await run(engine, source)
    assert result.status == "ok", result.error
    assert logged(result) == ["early", "awaited", "late"]


async def test_a_run_waits_for_calls_and_timers_it_left_running(engine: ScriptEngine) -> None:
    host = FakeHost()
    source = "runAction('a.b').then(r => console.log('answered ' + r.statusCode));\nsetTimeout(() => console.log('timer'), 10);"
    result = await run(engine, source, host)
    assert result.status == "ok", result.error
    assert sorted(line.text for line in result.console) == ["answered 204", "timer"]


async def test_an_error_in_a_timer_callback_fails_the_run(engine: ScriptEngine) -> None:
    result = await run(engine, "setTimeout(() => {\n  null.boom;\n}, 1);")
    assert result.status == "error"
    assert result.error is not None and result.error.line == 2


async def test_console_levels_and_formatting(engine: ScriptEngine) -> None:
    source = """
console.log("plain", 1, true, null, undefined, { a: [1, 2] });
console.info("info"); console.warn("warn"); console.error(new Error("shown with its stack"));
console.log("unicode: żółw 🐢");
"""
    result = await run(engine, source)
    assert [(line.level, line.text.split("\n")[0]) for line in result.console] == [
        ("log", 'plain 1 true null undefined {"a":[1,2]}'), ("info", "info"), ("warn", "warn"),
        ("error", "Error: shown with its stack"), ("log", "unicode: żółw 🐢"),
    ]
    assert "script.js:3:" in result.console[3].text  # the script's own line numbers


async def test_console_output_is_bounded_in_lines_and_bytes() -> None:
    engine = ScriptEngine(Limits(wall_time_s=1.0, console_lines=5, console_bytes=100))
    try:
        by_lines = await run(engine, "for (let i = 0; i < 1000; i++) console.log('line ' + i);")
        assert [line.text for line in by_lines.console] == [f"line {i}" for i in range(5)]
        assert by_lines.console_dropped == 995
        by_bytes = await run(engine, "console.log('x'.repeat(60)); console.log('y'.repeat(60)); console.log('z');")
        assert by_bytes.status == "ok"
        assert by_bytes.console[0].text == "x" * 60
        assert sum(len(line.text.encode()) + 5 for line in by_bytes.console) <= 100
        assert by_bytes.console_dropped >= 1
    finally:
        await engine.aclose()


async def test_the_call_limit_is_enforced() -> None:
    engine = ScriptEngine(Limits(wall_time_s=1.0, max_calls=3))
    host = FakeHost()
    try:
        result = await run(engine, "for (let i = 0; i < 10; i++) {\n  await runAction('a.b', { fields: { i } });\n}", host)
        assert result.status == "error"
        assert result.error is not None and "at most 3 calls" in result.error.message and result.error.line == 2
        assert [body for _, _, body in host.calls] == [{"fields": {"i": i}} for i in range(3)]
        assert len(result.calls) == 3
    finally:
        await engine.aclose()


@pytest.mark.parametrize(("source", "message"), [
    ("runAction()", "first argument must be the action id"),
    ("performQuery('q.r', [1])", "the body must be an object"),
    ("setTimeout('alert(1)', 1)", "the callback must be a function"),
])
async def test_bad_arguments_are_thrown_at_the_call_site(engine: ScriptEngine, source: str, message: str) -> None:
    result = await run(engine, f"\n{source}")
    assert result.status == "error"
    assert result.error is not None and message in result.error.message and result.error.line == 2


async def test_check_script_refuses_what_does_not_compile() -> None:
    assert await check_script("const x = await performQuery('a.b');\nif (!x) return;\nconsole.log(x);") is None
    assert await check_script("const a = 1;\nconst b = a +* 2;") == ("SyntaxError: Unexpected token '*'", 2, 14)
    # an error found at the end of the input is placed just after the script's last character
    assert await check_script("let ok = 1;\n\nfunction f( {") == ("SyntaxError: Unexpected end of input", 3, 14)
    # the same compile as a run: a script that breaks out of its function is refused, not run
    assert await check_script("}); globalThis.ran = true; (function () {") is not None


async def test_a_script_that_does_not_compile_fails_its_run_with_position(engine: ScriptEngine) -> None:
    result = await run(engine, "console.log('never');\nlet = = 2;")
    assert result.status == "error"
    assert result.error is not None and result.error.message.startswith("SyntaxError")
    assert result.error.line == 2
    assert result.console == []


async def test_the_pool_queues_a_storm_and_runs_everything() -> None:
    engine = ScriptEngine(LIMITS, max_concurrent=2)
    host = FakeHost()
    host.gate = asyncio.Event()
    try:
        runs = [asyncio.create_task(run(engine, f"await runAction('a.b', {{ fields: {{ n: {n} }} }});", host))
                for n in range(6)]
        while len(host.calls) < 2:
            await asyncio.sleep(0.01)
        assert engine.running == 2
        assert engine.queue_depth == 4
        host.gate.set()
        results = await asyncio.gather(*runs)
        assert [r.status for r in results] == ["ok"] * 6
        assert sorted(body["fields"]["n"] for _, _, body in host.calls) == list(range(6))
        assert engine.queue_depth == 0 and engine.running == 0
        assert max(r.queued_ms for r in results) > 0
    finally:
        await engine.aclose()


async def test_tampering_with_the_prelude_built_ins_cannot_forge_requests(engine: ScriptEngine) -> None:
    host = FakeHost()
    source = """
const push = Array.prototype.push;
Array.prototype.push = function (...items) {
  push.call(this, ["call", 999, "action", "forged.op", "not json"], "garbage", ["timer", "soon"], ["clear"]);
  return push.apply(this, items);
};
const answer = await runAction("real.op", { fields: {} });
console.log(answer.statusCode);
"""
    result = await run(engine, source, host)
    assert result.status == "ok", result.error
    assert host.calls == [("action", "real.op", {"fields": {}})]
    assert [line.text for line in result.console] == ["204"]


async def test_a_full_queue_refuses_more_runs() -> None:
    engine = ScriptEngine(LIMITS, max_concurrent=1, max_queue=1)
    host = FakeHost()
    host.gate = asyncio.Event()
    try:
        running = asyncio.create_task(run(engine, "await runAction('a.b')", host))
        queued = asyncio.create_task(run(engine, "console.log('queued')", host))
        while not host.calls or engine.queue_depth < 1:
            await asyncio.sleep(0.01)
        with pytest.raises(EngineBusy):
            await run(engine, "console.log('refused')", host)
        host.gate.set()
        assert [r.status for r in await asyncio.gather(running, queued)] == ["ok", "ok"]
    finally:
        await engine.aclose()


async def test_tampering_with_the_built_ins_the_prelude_relies_on_changes_nothing(engine: ScriptEngine) -> None:
    host = FakeHost()
    source = """
Object.prototype.toJSON = () => "hijacked";
JSON.stringify = () => "hijacked";
globalThis.JSON = { stringify: () => "hijacked", parse: () => "hijacked" };
Array.prototype.push = () => 0;
await runAction("a.b", { fields: { n: 1 } });
console.log(JSON.stringify({ ok: true }));
"""
    result = await run(engine, source, host)
    assert result.status == "ok", result.error
    assert host.calls == [("action", "a.b", {"fields": {"n": 1}})]
    assert [line.text for line in result.console] == ['{"ok":true}']


# Contexts reused after clean runs (DESIGN §6). Each test runs a script that tries to leave something
# behind, then, in the same context (``context_run`` proves it), one that looks for it.

SECRET = "s3cr3t-7f1e"


@pytest.fixture
async def one_context() -> AsyncIterator[ScriptEngine]:
    """One run slot and one context kept ready: consecutive runs share it while they end cleanly."""
    engine = ScriptEngine(LIMITS, max_concurrent=1)
    yield engine
    await engine.aclose()


async def in_turn(engine: ScriptEngine, first: str, second: str, host: FakeHost | None = None) -> tuple[Any, Any]:
    """Run ``first``, then ``second`` in the context the first left; what each logged last."""
    a = await run(engine, first, host, ingredients={"token": SECRET})
    assert a.status == "ok", a.error
    b = await run(engine, second, host, ingredients={"token": "other"})
    assert b.status == "ok", b.error
    assert b.context_run == a.context_run + 1 > 1, "the second run did not reuse the first one's context"
    assert all(SECRET not in line.text for line in b.console), b.console
    return (logged(a) if a.console else None), (logged(b) if b.console else None)


GLOBAL_NAMES = "console.log(JSON.stringify(Reflect.ownKeys(globalThis).map(String)))"


async def test_globals_a_run_creates_are_gone_in_the_next(one_context: ScriptEngine) -> None:
    fresh = await run(one_context, GLOBAL_NAMES)
    assert fresh.context_run == 1
    leave = """
const secret = Trigger.ingredients.token;
globalThis.leakA = secret;
leakB = secret;
var leakC = secret;
Function("leakD = arguments[0]")(secret);
Function("return this")().leakE = secret;
(0, eval)("var leakF = 'x'; function leakG() { return 'x'; }");
Object.defineProperty(globalThis, "leakH", { value: secret, enumerable: false, configurable: true });
Object.defineProperty(globalThis, "leakI", { get: () => secret, configurable: true });
globalThis[Symbol.for("leakJ")] = secret;
globalThis[Symbol.iterator] = function* () { yield secret; };
globalThis[0] = secret;
Error.captureStackTrace(globalThis);
globalThis.toString = () => secret;
console = { log() {} };
Meta.leak = Trigger.ingredients.leak = Connection.configuration.leak = secret;
console.log(JSON.stringify([typeof leakA, typeof leakB, typeof leakD, typeof leakE, typeof leakF, typeof leakG,
  typeof leakH, typeof leakI, typeof globalThis[0], typeof globalThis.stack]));
"""
    look = """
const names = ["leakA", "leakB", "leakC", "leakD", "leakE", "leakF", "leakG", "leakH", "leakI", "0", "stack"];
console.log(JSON.stringify({
  values: names.map((name) => typeof globalThis[name]),
  symbols: [typeof globalThis[Symbol.for("leakJ")], typeof globalThis[Symbol.iterator]],
  asText: String(globalThis),
  names: Reflect.ownKeys(globalThis).map(String),
  mine: [Meta.leak, Trigger.ingredients, Connection.configuration],
}));
"""
    before, after = await in_turn(one_context, leave, look)
    assert before == ["string"] * 5 + ["function"] + ["string"] * 4  # each took effect within its own run
    assert after["values"] == ["undefined"] * 11
    assert after["symbols"] == ["undefined"] * 2
    assert after["asText"] == "[object Object]"
    assert after["names"] == logged(fresh)
    assert after["mine"] == [None, {"token": "other"}, {}]


IRREVERSIBLE = {
    "a global made non-configurable": "Object.defineProperty(globalThis, 'stuck', { value: Trigger.ingredients.token });",
    "the global object made non-extensible": "Object.preventExtensions(globalThis);",
    "the global object sealed": "Object.seal(globalThis);",
    "the global object frozen": "Object.freeze(globalThis);",
    "another prototype for the global object": "Object.setPrototypeOf(globalThis, { stuck: Trigger.ingredients.token });",
    "__proto__ of the global object": "globalThis.__proto__ = { stuck: Trigger.ingredients.token };",
    "a FinalizationRegistry": (
        "const registry = new FinalizationRegistry(() => { globalThis.stuck = 'late'; });\n"
        "registry.register({}, 'held');"
    ),
}


@pytest.mark.parametrize("source", IRREVERSIBLE.values(), ids=IRREVERSIBLE.keys())
async def test_a_context_a_run_changed_beyond_repair_is_not_reused(one_context: ScriptEngine, source: str) -> None:
    first = await run(one_context, source, ingredients={"token": SECRET})
    assert first.status == "ok", first.error
    after = await run(one_context, """
console.log(JSON.stringify([typeof stuck, Object.isExtensible(globalThis), Object.getPrototypeOf(globalThis) === null]));
""")
    assert after.context_run == 1
    assert logged(after) == ["undefined", True, False]


TAMPER = r"""
"use strict";
const refused = {};
const attempts = {
  arrayPrototype: () => { Array.prototype.leak = Trigger.ingredients.token; },
  objectPrototype: () => { Object.prototype.leak = Trigger.ingredients.token; },
  defineOnPrototype: () => Object.defineProperty(Array.prototype, "leak", { value: 1 }),
  replaceMethod: () => { Array.prototype.map = () => "hijacked"; },
  json: () => { JSON.parse = () => "hijacked"; },
  jsonGlobal: () => { globalThis.JSON = {}; },
  math: () => { Math.max = () => "hijacked"; },
  promiseThen: () => { Promise.prototype.then = function () { return "hijacked"; }; },
  functionCall: () => { Function.prototype.call = () => "hijacked"; },
  stringPrototype: () => { String.prototype.trim = () => "hijacked"; },
  prototypeChain: () => Object.setPrototypeOf(Array.prototype, { leak: 1 }),
  symbolKey: () => { Object.prototype[Symbol.for("leak")] = 1; },
  objectToString: () => { Object.prototype.toString = () => "hijacked"; },
  errorName: () => { Error.prototype.name = "hijacked"; },
  deleteMethod: () => { delete Array.prototype.includes; },
  asyncFunctionPrototype: () => { Object.getPrototypeOf(async function () {}).leak = 1; },
  generatorPrototype: () => { Object.getPrototypeOf(function* () {}).prototype.leak = 1; },
  arrayIterator: () => { Object.getPrototypeOf([][Symbol.iterator]()).next = () => ({ done: true }); },
  iteratorHelper: () => { Object.getPrototypeOf([].values().map((x) => x)).leak = 1; },
  errorStackGetter: () => { Object.getOwnPropertyDescriptor(new Error(), "stack").get.leak = 1; },
  throwTypeError: () => { Object.getOwnPropertyDescriptor(Function.prototype, "caller").get.leak = 1; },
  momentPrototype: () => { Object.getPrototypeOf(Meta.currentUserTime).format = () => "hijacked"; },
  hostFunction: () => { runAction.prototype.leak = 1; },
  consoleMethod: () => { console.log = () => {}; },
  consoleObject: () => { console.leak = 1; },
  globalConsole: () => { globalThis.console = {}; },
  globalsPrototype: () => { Object.getPrototypeOf(globalThis).leak = 1; },
  dateFormat: () => { Date.prototype.toISOString = () => "hijacked"; },
  regexpExec: () => { RegExp.prototype.exec = () => null; },
  symbolRegistry: () => { Symbol.for = () => Symbol("hijacked"); },
};
for (const [name, attempt] of Object.entries(attempts)) {
  try {
    attempt();
  } catch (e) {
    refused[name] = e instanceof TypeError;
  }
}
console.log(JSON.stringify(refused));
"""


async def test_built_in_objects_cannot_be_changed_for_the_next_run(one_context: ScriptEngine) -> None:
    look = r"""
console.log(JSON.stringify([
  [].leak, ({}).leak, [1, 2].map((x) => x * 2), JSON.parse("[1]"), Math.max(1, 2), " a ".trim(),
  Object.getPrototypeOf(Array.prototype) === Object.prototype, ({})[Symbol.for("leak")],
  Object.prototype.toString.call([]), new Error("x").name, typeof Array.prototype.includes,
  Object.getPrototypeOf(async function () {}).leak, [...[1, 2]], Meta.currentUserTime.format("YYYY"),
  runAction.prototype.leak, new Date(0).toISOString(), /a/.exec("a")[0],
  Object.getPrototypeOf(globalThis).leak, typeof Symbol.for("x"), typeof console.leak,
  await Promise.resolve("awaited"),
]));
"""
    refused, after = await in_turn(one_context, TAMPER, look)
    assert len(refused) == TAMPER.count(": () =>") and all(refused.values()), refused
    assert after == [
        None, None, [2, 4], [1], 2, "a", True, None, "[object Array]", "Error", "function", None, [1, 2],
        str(datetime.now(UTC).year), None, "1970-01-01T00:00:00.000Z", "a", None, "symbol", "undefined", "awaited",
    ]


# Everything a script can reach that is shared by the runs in a context, found by walking from the
# global object and from the built-ins only syntax reaches.
FROZEN_PROBE = r"""
const hidden = {
  globalPrototype: Object.getPrototypeOf(globalThis),
  asyncFunction: Object.getPrototypeOf(async function () {}),
  generatorFunction: Object.getPrototypeOf(function* () {}),
  asyncGeneratorFunction: Object.getPrototypeOf(async function* () {}),
  arrayIterator: Object.getPrototypeOf([][Symbol.iterator]()),
  mapIterator: Object.getPrototypeOf(new Map().entries()),
  setIterator: Object.getPrototypeOf(new Set().values()),
  stringIterator: Object.getPrototypeOf(""[Symbol.iterator]()),
  regexpStringIterator: Object.getPrototypeOf("a".matchAll(/a/g)),
  iteratorHelper: Object.getPrototypeOf([].values().filter(Boolean)),
  wrapForValidIterator: Object.getPrototypeOf(Iterator.from({ next() { return { done: true }; } })),
  errorStack: [Object.getOwnPropertyDescriptor(new Error(), "stack")],
  capturedStack: (() => { const o = {}; Error.captureStackTrace(o); return [Object.getOwnPropertyDescriptor(o, "stack")]; })(),
  strictArguments: (function () { "use strict"; return [Object.getOwnPropertyDescriptor(arguments, "callee")]; })(),
  moment: Object.getPrototypeOf(Meta.currentUserTime),
};
const perRun = new Set(["Meta", "Trigger", "Connection"]);
const todo = [];
const parts = (path, desc) => ["value", "get", "set"].map((part) => [`${path}/${part}`, desc[part]]);
for (const [name, value] of Object.entries(hidden)) {
  todo.push(...(Array.isArray(value) ? parts(name, value[0]) : [[name, value]]));
}
for (const key of Reflect.ownKeys(globalThis)) {
  if (!perRun.has(key)) todo.push(...parts(`globalThis.${String(key)}`, Object.getOwnPropertyDescriptor(globalThis, key)));
}
const seen = new Set([globalThis]);
const open = [];
let count = 0;
while (todo.length > 0) {
  const [path, value] = todo.pop();
  if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) continue;
  seen.add(value);
  count += 1;
  if (!Object.isFrozen(value)) open.push(path);
  todo.push([`${path}.__proto__`, Object.getPrototypeOf(value)]);
  for (const key of Reflect.ownKeys(value)) todo.push(...parts(`${path}.${String(key)}`, Object.getOwnPropertyDescriptor(value, key)));
}
const globals = Reflect.ownKeys(globalThis).filter((key) => !perRun.has(key))
  .map((key) => [String(key), Object.getOwnPropertyDescriptor(globalThis, key)])
  .filter(([, desc]) => desc.configurable || desc.writable);
console.log(JSON.stringify({ count, open: open.slice(0, 20), globals, extensible: Object.isExtensible(globalThis) }));
"""


async def test_every_shared_built_in_is_frozen(one_context: ScriptEngine) -> None:
    result = await run(one_context, FROZEN_PROBE)
    assert result.status == "ok", result.error
    found = logged(result)
    assert found["count"] > 500  # the walk did reach the built-ins
    assert found["open"] == []
    assert found["globals"] == []  # the global object's own properties are frozen too...
    assert found["extensible"] is True  # ...but a script may still add its own, as in a fresh context


async def test_regexp_legacy_statics_do_not_show_the_previous_match(one_context: ScriptEngine) -> None:
    leave = r"""
const match = /token=([\w-]+)/.exec(`https://example.com/?token=${Trigger.ingredients.token}&a=1`);
"x".replace(/x/, Trigger.ingredients.token);
console.log(JSON.stringify([match[1], typeof RegExp.$1, typeof RegExp.lastMatch, typeof RegExp.input]));
"""
    look = r"""
const statics = ["$1", "$2", "$9", "input", "$_", "lastMatch", "$&", "lastParen", "$+", "leftContext", "$`",
  "rightContext", "$'"];
const own = Object.getOwnPropertyNames(RegExp);
console.log(JSON.stringify({
  statics: statics.map((name) => RegExp[name] === undefined && !own.includes(name)),
  everything: own.map((name) => String(RegExp[name])).join(" "),
}));
"""
    before, after = await in_turn(one_context, leave, look)
    assert before == [SECRET, "undefined", "undefined", "undefined"]
    assert after["statics"] == [True] * 13
    assert SECRET not in after["everything"]


async def test_stack_trace_hooks_cannot_be_set_for_the_next_run(one_context: ScriptEngine) -> None:
    leave = r"""
"use strict";
const refused = [
  () => { Error.prepareStackTrace = (error, frames) => Trigger.ingredients.token; },
  () => { Error.stackTraceLimit = 0; },
  () => { Error.captureStackTrace = () => {}; },
  () => Object.defineProperty(Error, "prepareStackTrace", { get: () => () => Trigger.ingredients.token }),
  () => { Error.prototype.stack = Trigger.ingredients.token; },
].map((attempt) => { try { attempt(); return false; } catch (e) { return e instanceof TypeError; } });
console.log(JSON.stringify(refused));
"""
    look = """
const error = new Error("x");
console.log(JSON.stringify([typeof Error.prepareStackTrace, Error.stackTraceLimit, error.stack.includes("at eval (script.js:")]));
"""
    before, after = await in_turn(one_context, leave, look)
    assert before == [True] * 5
    assert after == ["undefined", 10, True]


async def test_timers_pending_promises_and_counters_start_afresh(one_context: ScriptEngine) -> None:
    host = FakeHost()
    leave = """
const ids = [setTimeout(() => {}, 1), setTimeout(() => {}, 2), setTimeout(() => {}, 3)];
clearTimeout(ids[1]);
await runAction("a.b"); await runAction("a.b"); await performQuery("c.d");
globalThis.release = null;
const later = new Promise((resolve) => { globalThis.release = resolve; });
later.then(() => { globalThis.fromA = Trigger.ingredients.token; console.log(Trigger.ingredients.token); });
new Promise(() => {});
Promise.resolve().then(() => Promise.resolve()).then(() => { globalThis.chained = Trigger.ingredients.token; });
console.log(JSON.stringify(ids));
"""
    look = """
const first = setTimeout(() => {}, 1);
await runAction("e.f");
console.log(JSON.stringify([first, typeof release, typeof fromA, typeof chained]));
"""
    before, after = await in_turn(one_context, leave, look, host)
    assert before == [1, 2, 3]
    assert after == [1, "undefined", "undefined", "undefined"]
    assert [op for _, op, _ in host.calls] == ["a.b", "a.b", "c.d", "e.f"]


async def test_the_call_limit_and_console_start_afresh_in_a_reused_context() -> None:
    engine = ScriptEngine(Limits(wall_time_s=1.0, max_calls=3, console_lines=3), max_concurrent=1)
    host = FakeHost()
    try:
        source = "for (let i = 0; i < 3; i++) await runAction('a.b');\nfor (let i = 0; i < 5; i++) console.log(Trigger.ingredients.token + i);"
        first = await run(engine, source, host, ingredients={"token": SECRET})
        second = await run(engine, source, host, ingredients={"token": "b"})
        assert first.status == second.status == "ok"
        assert second.context_run == first.context_run + 1
        assert [line.text for line in first.console] == [f"{SECRET}{i}" for i in range(3)]
        assert first.console_dropped == 2
        assert [line.text for line in second.console] == ["b0", "b1", "b2"]
        assert second.console_dropped == 2
        assert len(second.calls) == 3 and len(host.calls) == 6
        quiet = await run(engine, "")
        assert quiet.console == [] and quiet.console_dropped == 0 and quiet.context_run == 3
    finally:
        await engine.aclose()


async def test_symbol_registry_and_weak_maps_carry_nothing(one_context: ScriptEngine) -> None:
    leave = """
const secret = Trigger.ingredients.token;
const key = Symbol.for("leak");
const map = new WeakMap([[Object.prototype, secret], [Array, secret], [Symbol, secret]]);
const tries = [
  () => { globalThis[key] = secret; }, () => { globalThis.map = map; },
  () => { Object.prototype[key] = secret; }, () => { Symbol[key] = secret; }, () => { Object.prototype.map = map; },
  () => { Array.map = map; }, () => { WeakMap.prototype.map = map; }, () => { JSON.map = map; },
  () => { Symbol.prototype[key] = secret; }, () => Symbol.for(`leak-${secret}`),
];
for (const attempt of tries) { try { attempt(); } catch (e) {} }
console.log(JSON.stringify(map.get(Array)));
"""
    look = """
const key = Symbol.for("leak");
console.log(JSON.stringify([
  globalThis[key], typeof map, ({})[key], Symbol[key], ({}).map, Array.map, WeakMap.prototype.map, JSON.map,
  Symbol.prototype[key], Object.getOwnPropertySymbols(globalThis).length, Symbol.keyFor(key),
]));
"""
    before, after = await in_turn(one_context, leave, look)
    assert before == SECRET
    assert after == [None, "undefined", None, None, None, None, None, None, None, 0, "leak"]


async def test_math_random_is_reseeded_for_every_run(one_context: ScriptEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    draw = """
"use strict";
let replaced;
try { Math.random = () => 0.5; replaced = true; } catch (e) { replaced = false; }
const values = Array.from({ length: Trigger.ingredients.n }, () => Math.random());
console.log(JSON.stringify({ replaced, first: values.slice(0, 4) }));
"""
    one = await run(one_context, draw, ingredients={"n": 4})
    two = await run(one_context, draw, ingredients={"n": 4})
    assert logged(one)["replaced"] is logged(two)["replaced"] is False
    assert logged(one)["first"] != logged(two)["first"]
    assert all(0 <= v < 1 for v in logged(one)["first"] + logged(two)["first"])
    # With the seed pinned, a run's numbers depend on nothing a previous run in the context did.
    monkeypatch.setattr("switchroom.hub.scripts.engine.os.urandom", lambda n: bytes(range(n)))
    pinned = [await run(one_context, draw, ingredients={"n": n}) for n in (4, 1000, 4)]
    assert [r.context_run for r in pinned] == [3, 4, 5]
    assert logged(pinned[0])["first"] == logged(pinned[1])["first"] == logged(pinned[2])["first"]


async def test_the_bridge_cannot_be_reached_by_name_or_through_callers(one_context: ScriptEngine) -> None:
    result = await run(one_context, r"""
const names = [
  Function("return typeof __sr")(), (0, eval)("typeof __sr"), (0, eval)("typeof __srMoment"), typeof globalThis.__sr,
  Function("try { return typeof __sr_0; } catch (e) { return 'error'; }")(),
];
// A sloppy function's caller, wherever the prelude calls back into the script.
const callers = [];
function look(resolve) {
  try { callers.push(look.caller === null ? null : String(look.caller)); } catch (e) { callers.push(e.name); }
  if (typeof resolve === "function") resolve();
  return 1;
}
setTimeout(look, 1);
console.log({ toJSON: look });
const body = {};
Object.defineProperty(body, "fields", { get: look, enumerable: true });
await runAction("a.b", body);
setTimeout(() => {}, { valueOf: look });
await { then: look };
await new Promise((resolve) => setTimeout(resolve, 5));
console.log(JSON.stringify({ names, callers }));
""")
    assert result.status == "ok", result.error
    assert logged(result) == {"names": ["undefined"] * 5, "callers": [None] * 5}


async def test_ordinary_assignments_that_shadow_built_ins_still_work(one_context: ScriptEngine) -> None:
    source = r"""
%s
class ValidationError extends Error {
  constructor(message) { super(message); this.name = "ValidationError"; }
}
const error = new ValidationError("bad input");
const later = new Error();
later.message = "set later";
const typed = new TypeError("x");
typed.name = "Custom";
const plain = {};
plain.toString = () => "custom";
plain.constructor = "mine";
plain.hasOwnProperty = 1;
function Shape() {}
Shape.prototype.toString = function () { return "a shape"; };
Shape.prototype.constructor = Shape;
const fn = function () {};
fn.toString = () => "a function";
fn.bind = "rebound";
const list = [1, 2];
list.toString = () => "a list";
console.log(JSON.stringify([
  error.name, String(error), error instanceof ValidationError, later.message, typed.name, `${plain}`,
  plain.constructor, plain.hasOwnProperty, String(new Shape()), String(fn), fn.bind, `${list}`,
  Object.keys(plain), ({}).toString(), Error.prototype.name,
]));
"""
    expected = [
        "ValidationError", "ValidationError: bad input", True, "set later", "Custom", "custom", "mine", 1,
        "a shape", "a function", "rebound", "a list", ["toString", "constructor", "hasOwnProperty"],
        "[object Object]", "Error",
    ]
    for prologue in ("", '"use strict";'):
        result = await run(one_context, source % prologue)
        assert result.status == "ok", result.error
        assert logged(result) == expected


FAILURES = {
    "busy loop": ("while (true) {}", "timeout"),
    "await loop": ("while (true) { await null; }", "timeout"),
    "pending promise": ("await new Promise(() => {});", "timeout"),
    "thrown error": ("throw new Error('no');", "error"),
    "rejection with work pending": ("setTimeout(() => { globalThis.late = 1; }, 5);\nawait Promise.reject(new Error('no'));", "error"),
    "error in a timer": ("setTimeout(() => { null.boom; }, 1);", "error"),
    "syntax error": ("let = ;", "error"),
}


@pytest.mark.parametrize(("source", "status"), FAILURES.values(), ids=FAILURES.keys())
async def test_after_a_run_that_did_not_end_cleanly_the_next_gets_a_fresh_context(source: str, status: str) -> None:
    engine = ScriptEngine(SHORT, max_concurrent=1)
    try:
        clean = await run(engine, "globalThis.x = 1;")
        assert clean.status == "ok" and clean.context_run == 1
        failed = await run(engine, source)
        assert failed.status == status
        assert failed.context_run == 2  # it ran in the context the clean run left
        after = await run(engine, "console.log(JSON.stringify(typeof late))")
        assert after.status == "ok" and after.context_run == 1
        assert logged(after) == "undefined"
    finally:
        await engine.aclose()


@pytest.mark.parametrize("source", ["throw new Error('no');", "while (true) {}", "setTimeout(() => {}, 10_000);"])
async def test_a_context_refuses_a_run_unless_it_was_scrubbed_after_a_clean_one(
    monkeypatch: pytest.MonkeyPatch, source: str,
) -> None:
    """Were the engine to offer a context again after a run that did not end cleanly, the prelude would
    refuse to start another run in it, and the run would go to a fresh context."""
    execute = _Run.execute

    async def always_reusable(self: _Run) -> Any:
        outcome = await execute(self)
        self.reusable = True
        return outcome

    monkeypatch.setattr(_Run, "execute", always_reusable)
    engine = ScriptEngine(SHORT, max_concurrent=1)
    try:
        assert (await run(engine, "globalThis.x = 1;")).context_run == 1
        failed = await run(engine, source)
        assert failed.status != "ok" and failed.context_run == 2
        after = await run(engine, "console.log(JSON.stringify(typeof x));")
        assert after.status == "ok" and after.context_run == 1
    finally:
        await engine.aclose()


async def test_a_run_after_the_engine_is_closed_still_runs() -> None:
    engine = ScriptEngine(LIMITS, max_concurrent=1)
    assert (await run(engine, "")).status == "ok"
    await engine.aclose()
    late = await run(engine, "console.log('late')")
    assert late.status == "ok" and late.context_run == 1
    await engine.aclose()


async def test_after_running_out_of_memory_the_next_run_gets_a_fresh_context() -> None:
    engine = ScriptEngine(Limits(wall_time_s=5.0, memory_bytes=32 * 1024 * 1024), max_concurrent=1)
    try:
        assert (await run(engine, "")).context_run == 1
        result = await run(engine, "const hoard = [];\nwhile (true) hoard.push(new Array(100000).fill(1.5));")
        assert result.status == "oom" and result.context_run == 2
        assert (await run(engine, "")).context_run == 1
    finally:
        await engine.aclose()


async def test_a_run_that_filled_much_of_the_heap_leaves_its_context_unused() -> None:
    engine = ScriptEngine(Limits(wall_time_s=5.0, memory_bytes=32 * 1024 * 1024), max_concurrent=1)
    try:
        assert (await run(engine, "")).context_run == 1
        big = await run(engine, "const keep = [];\nfor (let i = 0; i < 2000; i++) keep.push(new Array(1000).fill(i + 0.5));")
        assert big.status == "ok" and big.context_run == 2
        assert (await run(engine, "")).context_run == 1
    finally:
        await engine.aclose()


async def test_a_cancelled_run_leaves_its_context_unused(one_context: ScriptEngine) -> None:
    host = FakeHost()
    host.gate = asyncio.Event()
    assert (await run(one_context, "")).context_run == 1
    task = asyncio.create_task(run(one_context, "await runAction('a.b');", host))
    while not host.calls:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await run(one_context, "")).context_run == 1


async def test_a_context_serves_a_bounded_number_of_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("switchroom.hub.scripts.engine.MAX_RUNS_PER_CONTEXT", 3)
    engine = ScriptEngine(LIMITS, max_concurrent=1)
    try:
        assert [(await run(engine, "")).context_run for _ in range(7)] == [1, 2, 3, 1, 2, 3, 1]
    finally:
        await engine.aclose()


async def test_contexts_clean_runs_leave_are_kept_for_every_slot_even_beyond_warm() -> None:
    engine = ScriptEngine(LIMITS, max_concurrent=3, warm=1)
    host = FakeHost()
    try:
        for round_ in (1, 2):
            host.gate = asyncio.Event()
            runs = [asyncio.create_task(run(engine, "await runAction('a.b');", host)) for _ in range(3)]
            while len(host.calls) < 3 * round_:
                await asyncio.sleep(0.01)
            host.gate.set()
            results = await asyncio.gather(*runs)
            assert [r.status for r in results] == ["ok"] * 3
        assert sorted(r.context_run for r in results) == [2, 2, 2]
    finally:
        await engine.aclose()


async def test_contexts_are_reused_under_concurrency_and_results_stay_apart() -> None:
    engine = ScriptEngine(LIMITS, max_concurrent=3)
    host = FakeHost()
    try:
        source = """
globalThis.mine = Trigger.ingredients.n;
await runAction("a.b", { fields: { n: Trigger.ingredients.n } });
await new Promise((resolve) => setTimeout(resolve, Trigger.ingredients.n % 3));
console.log(JSON.stringify([mine, Trigger.ingredients.n]));
"""
        results = await asyncio.gather(*(run(engine, source, host, ingredients={"n": n}) for n in range(30)))
        assert [logged(r) for r in results] == [[n, n] for n in range(30)]
        assert max(r.context_run for r in results) > 1
    finally:
        await engine.aclose()
