"""Scripts and callers that try to take the hub down: memory the V8 cap does not see, and records too big to
stream (DESIGN §6, §7)."""

from collections.abc import AsyncIterator
from http import HTTPStatus
from pathlib import Path
from typing import Any
import asyncio
import json
import os

import httpx
import pytest
import websockets
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from switchroom.hub.record_bodies import CUT_MARK, MAX_ID, MAX_RECORD_BYTES, MAX_TEXT
from switchroom.hub.scripts import Limits, ScriptEngine, ScriptJob, ScriptResult
from switchroom.protocol import dumps
from switchroom.store import EventLog
from switchroom.tui.logs_command import Unreachable, catch_up
from switchroom.tui.replication import LinkState, Replicator
from tests.support.dashboard import make_app
from tests.support.hubproc import RunningHub, start_hub
from tests.support.sample_services import SampleServices
from tests.support.triggers import USER, key, script_connection
from tests.support.waiting import eventually, eventually_sync

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


# Parsing takes memory outside the heap while it lasts (a 14 MB pattern took 1.9 GB, 40 MB given to eval
# 650 MB): each way a running script can have text compiled, with text over the 64 KiB limit.
COMPILE_ATTEMPTS = r"""
const pattern = "(?:a|b)".repeat(5e4);
const code = "1+".repeat(5e4) + "1";
const fake = { constructor: undefined, source: pattern, flags: "", [Symbol.match]: true, exec: () => null, lastIndex: 0 };
const attempts = {
  RegExp: () => new RegExp(pattern),
  RegExpCall: () => RegExp(pattern, "g"),
  fakeRegExp: () => new RegExp({ [Symbol.match]: true, source: pattern, flags: "" }),
  match: () => "x".match(pattern),
  matchAll: () => "x".matchAll(pattern),
  search: () => "x".search(pattern),
  compile: () => /a/.compile(pattern),
  speciesSplit: () => RegExp.prototype[Symbol.split].call(fake, "x"),
  speciesMatchAll: () => RegExp.prototype[Symbol.matchAll].call({ ...fake, flags: "g" }, "x"),
  eval: () => (0, eval)(code),
  directEval: () => eval(code),
  Function: () => Function(code),
  functionConstructor: () => (function () {}).constructor("a", code),
  AsyncFunction: () => (async function () {}).constructor(code),
  GeneratorFunction: () => (function* () {}).constructor(code),
  AsyncGeneratorFunction: () => (async function* () {}).constructor(code),
};
const outcome = {};
for (const [name, attempt] of Object.entries(attempts)) {
  try {
    attempt();
    outcome[name] = "compiled";
  } catch (e) {
    outcome[name] = e.name;
  }
}
console.log(JSON.stringify(outcome));
"""


async def test_a_script_cannot_compile_text_past_the_limit(engine: ScriptEngine) -> None:
    result = await engine.run(ScriptJob(COMPILE_ATTEMPTS, "t.t"), no_calls)
    assert result.status == "ok", result
    outcome = json.loads(result.console[0].text)
    refused_as_not_a_regexp = {"compile", "speciesSplit", "speciesMatchAll"}
    assert {name: kind for name, kind in outcome.items() if name not in refused_as_not_a_regexp} == dict.fromkeys(
        set(outcome) - refused_as_not_a_regexp, "RangeError")
    assert {outcome[name] for name in refused_as_not_a_regexp} == {"TypeError"}


async def test_what_compiles_within_the_limit_behaves_as_the_built_ins_do(engine: ScriptEngine) -> None:
    source = r"""
class Word extends RegExp {}
console.log(JSON.stringify([
  /a(b)/.exec("ab")[1], new RegExp("a+", "g").flags, RegExp(/x/i).source, new RegExp(/x/g, "i").flags,
  "abc".match(/b/)[0], "abc".match("c").index, "abc".search("c"), [..."a1b2".matchAll(/\d/g)].length,
  [..."a1b2".matchAll("[0-9]")].length, "a,b".split(/,/), (0, eval)("1 + 2"), Function("a", "return a * 2")(4),
  /x/.constructor === RegExp, new RegExp("x") instanceof RegExp, new Word("q").test("q"),
  new Word("q") instanceof Word, RegExp[Symbol.species] === RegExp, (function () {}).constructor === Function,
  Object.getPrototypeOf(async function () {}).constructor.name, typeof RegExp.prototype.compile,
  (async function () {}).constructor("return 5") instanceof Function,
]));
"""
    result = await engine.run(ScriptJob(source, "t.t"), no_calls)
    assert result.status == "ok", result
    assert json.loads(result.console[0].text) == [
        "b", "g", "x", "i", "b", 2, 2, 2, 2, ["a", "b"], 3, 8, True, True, True, True, True, True,
        "AsyncFunction", "undefined", True,
    ]


# --- records too big to stream ------------------------------------------------------------------------

# The attack that wrote a 71.5 MiB script_run (scaled down: still ten times the bound), and an error whose
# message is twice the bound.
REPEAT_ID_SCRIPT = """const id = "x".repeat(4e5);
const refused = [];
for (let i = 0; i < 25; i++) {
  try { await runAction(id); } catch (e) { refused.push(e.name); }
}
console.log(refused.length, refused[0]);
throw new Error("y".repeat(2e6));
"""


def stored(db: Path) -> list[str]:
    log = EventLog(db)
    try:
        return [body for body, in log.execute("SELECT body FROM records ORDER BY seq")]
    finally:
        log.close()


def assert_bounded(bodies: list[str]) -> None:
    for body in bodies:
        assert len(body.encode()) <= MAX_RECORD_BYTES, f"a record of {len(body.encode()):,} bytes: {body[:200]}"


async def test_a_script_with_huge_ids_and_messages_makes_bounded_records_that_stream(
        services: SampleServices, tmp_path: Path) -> None:
    catalog = services.demo_catalog(tmp_path / "catalog", drop_scripts=("porch_welcome.js",),
                                    extra=script_connection("repeat-id", "repeat_id.js"))
    (catalog.parent / "scripts" / "repeat_id.js").write_text(REPEAT_ID_SCRIPT)
    hub = start_hub(tmp_path / "hub", demo=False, service_key=services.service_key,
                    extra_args=("--catalog", str(catalog)))
    try:
        enable = httpx.put(f"{hub.url}/v2/connections/repeat-id/user_connection", params={"user_id": USER},
                           json={"user_features": [{"feature_id": "repeat-id-feature"}]}, headers=key(hub))
        assert enable.status_code == 200, enable.text
        fired = httpx.post(f"{hub.url}/v2/connections/repeat-id/triggers/lights.light_on/test",
                           json={"user_id": USER}, headers=key(hub))
        assert fired.status_code == 204, fired.text

        def script_runs() -> list[dict[str, Any]]:
            return [r for r in map(json.loads, stored(hub.db)) if r["kind"] == "script_run"]

        eventually_sync(script_runs)
        [run] = script_runs()
        assert run["status"] == "error" and run["calls"] == []
        assert [line["text"] for line in run["console"]] == ["25 RangeError"]  # refused at the call site
        message = run["error"]["message"]
        assert message.startswith("Error: yyy") and message.endswith(CUT_MARK) and len(message) <= MAX_TEXT + len(CUT_MARK)
        assert run["error"]["stack"].endswith(CUT_MARK)
        assert_bounded(stored(hub.db))

        # a dashboard's replication (here `switchroom logs`, which hung) takes everything, this run included
        await catch_up(hub.url, hub.token, tmp_path / "cache", timeout=60)
        [cache_file] = (tmp_path / "cache" / "hubs").glob("*.sqlite")
        cached = EventLog(cache_file)
        try:
            assert any(r["kind"] == "script_run" and r["error"]["message"] == message
                       for r in cached.read_after(0, 10_000))
        finally:
            cached.close()
    finally:
        hub.stop()


def test_a_caller_with_huge_ids_gets_a_bounded_record(hub: RunningHub) -> None:
    before = int(httpx.get(f"{hub.url}/v1/health").json()["head_seq"])
    op_id = "lights." + "q" * 6000
    response = httpx.post(f"{hub.url}/v2/connections/evening-glow/actions/{op_id}/run",
                          json={"user_id": "u" * 2_000_000}, headers=key(hub))
    assert response.status_code in (400, 404, 413, 422), response.text

    def records() -> list[dict[str, Any]]:
        return [r for r in map(json.loads, stored(hub.db)[before:]) if r.get("direction") == "inbound"]

    eventually_sync(records)
    bodies = [dumps(r).decode() for r in records()]
    assert_bounded(bodies)
    for record in records():
        for name in ("op_id", "user_id", "connection_id", "user_feature_id"):
            assert len(record.get(name) or "") <= MAX_ID + len(CUT_MARK), name
        assert len(record.get("path", "")) <= MAX_TEXT + len(CUT_MARK)
        assert len(record.get("error_message") or "") <= MAX_TEXT + len(CUT_MARK)


async def test_a_record_stored_too_big_is_streamed_cut_and_the_stream_goes_on(tmp_path: Path) -> None:
    """A log written before records were bounded holds one larger than a client's frame: the hub sends it
    cut, marked, and what follows it too, instead of closing every stream at it for ever."""
    db = tmp_path / "hub.sqlite"
    log = EventLog(db)
    try:
        log.ensure_hub_id()
        small = {"kind": "api_call", "direction": "inbound", "method": "POST", "path": "/x", "request_id": "r"}
        huge = {**small, "request_id": "huge", "error_message": "z" * (3 << 20)}
        log.append([small, huge, small])
    finally:
        log.close()
    hub = start_hub(tmp_path / "hub", db=db)
    try:
        ingested: list[int] = []
        replicator = Replicator(hub.url, hub.token, tmp_path / "cache", lambda cache: None,
                                lambda added, through: ingested.append(through), lambda link: None,
                                max_frame_bytes=2 << 20)
        task = asyncio.create_task(replicator.run())
        try:
            await eventually(lambda: ingested and ingested[-1] >= 3, lambda: f"ingested {ingested}")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert replicator.cache is not None and replicator.bad_frames == 0
        cached = EventLog(replicator.cache.path)
        try:
            records = cached.read_after(0, 10)
        finally:
            cached.close()
        assert [r["request_id"] for r in records] == ["r", "huge", "r"]
        assert records[1]["error_message"].endswith(CUT_MARK) and "truncated" in records[1]
    finally:
        hub.stop()


# --- a hub whose frames are too big for the dashboard --------------------------------------------------

HUB_ID = "oversized-frames-hub"


def health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/v1/health":
        return connection.respond(HTTPStatus.OK, json.dumps({"status": "ok", "hub_id": HUB_ID, "head_seq": 1}))
    return None


async def serve_oversized(websocket: ServerConnection) -> None:
    """Greets, then starts a text frame that claims 1 GiB: the header is all a client needs to refuse it."""
    await websocket.recv()
    await websocket.send(json.dumps({"type": "hello", "hub_id": HUB_ID, "protocol": 1, "head_seq": 1}))
    websocket.transport.write(b"\x81\x7f" + (1 << 30).to_bytes(8, "big"))
    await websocket.wait_closed()


async def test_frames_over_the_limit_are_an_error_shown_and_retried_ever_more_slowly(tmp_path: Path) -> None:
    links: list[LinkState] = []
    async with websockets.serve(serve_oversized, "127.0.0.1", 0, process_request=health) as server:
        port = server.sockets[0].getsockname()[1]
        replicator = Replicator(f"http://127.0.0.1:{port}", "token", tmp_path, lambda cache: None,
                                lambda added, through: None, links.append)
        task = asyncio.create_task(replicator.run())
        try:
            await eventually(lambda: any(link.attempt >= 4 for link in links), lambda: f"attempts {[l.attempt for l in links][-12:]}")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    retries = [link for link in links if link.name == "reconnecting"]
    # every hello is followed by the same failure: the backoff is never reset by it, so it keeps growing
    assert [link.attempt for link in retries] == list(range(1, len(retries) + 1))
    assert all("frame over the 64 MiB limit" in link.describe() for link in retries), retries
    first = links.index(retries[0])
    assert links[first:] == retries  # never "live" again after a hello: the error stays on screen
    assert replicator.bad_frames == len(retries)


async def test_the_dashboard_and_switchroom_logs_say_the_frame_was_too_big(tmp_path: Path) -> None:
    from switchroom.tui.widgets.status_line import StatusLine

    async with websockets.serve(serve_oversized, "127.0.0.1", 0, process_request=health) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        with pytest.raises(Unreachable, match="frame over the 64 MiB limit"):
            await catch_up(url, "token", tmp_path / "logs-cache", timeout=60)
        app = make_app(url, tmp_path)
        async with app.run_test(size=(120, 24)) as pilot:
            status = app.query_one(StatusLine)
            await eventually(lambda: "frame over the 64 MiB limit" in str(status.render()), pause=pilot.pause)
            assert str(status.render()).startswith("reconnecting ")


# Whatever a future field holds, the recorder's last guard keeps every record within the bound.
OVERSIZED = {
    "one long text": {"kind": "api_call", "request_id": "r", "error_message": "e" * (3 << 20)},
    "many fields": {"kind": "api_call", "request_id": "r", **{f"field_{i}": "f" * 5000 for i in range(1000)}},
    "a long list": {"kind": "script_run", "script_run_id": "s", "console": [{"level": "log", "text": "c" * 900}] * 5000},
    "long keys": {"kind": "trigger_event", "ingredients": {"k" * 2_000_000: 1, "j" * 2_000_000: 2}},
}


@pytest.mark.parametrize("body", OVERSIZED.values(), ids=OVERSIZED.keys())
async def test_the_recorder_never_writes_a_record_over_the_bound(tmp_path: Path, body: dict[str, Any]) -> None:
    from switchroom.hub.recorder import Recorder

    recorder = Recorder(tmp_path / "hub.sqlite")
    await recorder.start()
    try:
        small = {"kind": "api_call", "request_id": "small", "direction": "inbound"}
        seqs = [await recorder.record_with_seq(body), await recorder.record_with_seq(small)]
    finally:
        await recorder.stop()
    bodies = stored(tmp_path / "hub.sqlite")
    assert_bounded(bodies)
    cut_record, kept = map(json.loads, bodies)
    assert cut_record["seq"] == seqs[0] and cut_record["kind"] == body["kind"]
    assert cut_record["truncated"].startswith("the record took")
    assert kept == {**small, "seq": seqs[1], "ts": kept["ts"]}  # a record within the bound is kept as it is
