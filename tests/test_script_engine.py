"""The runtime-script engine (DESIGN §6), with real V8: globals, outcomes, limits, isolation and the pool."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
import asyncio
import json

import pytest

from hub.scripts import EngineBusy, Limits, ScriptEngine, ScriptJob, ScriptResult, check_script

LIMITS = Limits(wall_time_s=1.0)
SHORT = Limits(wall_time_s=0.5)

# What a context's global object may hold: ECMAScript built-ins, V8's extras, and the documented globals.
STANDARD_GLOBALS = {
    "Object", "Function", "Array", "Number", "parseFloat", "parseInt", "Infinity", "NaN", "undefined",
    "Boolean", "String", "Symbol", "Date", "Promise", "RegExp", "Error", "AggregateError", "EvalError",
    "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError", "globalThis", "JSON", "Math",
    "Intl", "Map", "BigInt", "Set", "Iterator", "WeakMap", "WeakSet", "Proxy", "Reflect",
    "FinalizationRegistry", "WeakRef", "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent",
    "escape", "unescape", "eval", "isFinite", "isNaN", "Temporal", "SuppressedError", "DisposableStack",
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
        assert result.status == "oom"
        assert result.duration_ms < 30_000
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


async def test_a_script_that_breaks_the_runtime_only_fails_itself(engine: ScriptEngine) -> None:
    result = await run(engine, "Object.prototype.toJSON = () => 'hijacked';\nawait runAction('a.b');")
    assert result.status == "error"
    assert result.error is not None and result.error.message.startswith("The script broke its runtime")
    assert (await run(engine, "console.log('fine')")).status == "ok"
