"""A hub is untrusted input to the dashboard (DESIGN §8): what it sends is shown literally (no markup,
no invisible characters), a record of the wrong shape is counted and shown as bad, and nothing it sends
ends the dashboard; should anything else end it, the process says so with a non-zero exit status."""

from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
import asyncio
import contextlib
import http.server
import json
import os
import pty
import re
import subprocess
import sys
import threading
import uuid

from textual.widgets import Input, Static
from textual.widgets._toast import Toast
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response
import httpx
import pytest
import websockets

from switchroom.store import iso_timestamp

from tests.support.hubproc import RunningHub, bare_env, free_port
from tests.support.repository import ROOT
from tests.support.dashboard import make_app, run_action, screen_lines, shows_inbound, wait_until
from tests.support.triggers import of, wait_for
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.ops_client import OpsClient
from switchroom.tui.screens.bulk_rerun import BulkRerun
from switchroom.tui.screens.confirm import ConfirmScreen
from switchroom.tui.screens.connection_definition import ConnectionDefinition
from switchroom.tui.screens.record_detail import RecordDetail
from switchroom.tui.screens.rerun_dialog import RerunDialog
from switchroom.tui.widgets.connections_table import ConnectionsTable
from switchroom.tui.widgets.status_line import StatusLine
from switchroom.tui.widgets.trigger_list import TriggerList
from switchroom.tui.widgets.log_view import LogView

SWITCHROOM = str(Path(sys.executable).with_name("switchroom"))

# -- invisible characters ------------------------------------------------------------------------------

DISGUISED_USER = "user-\u202e100\u200b-resu"
"""Reads as ``user-`` followed by ``user-001`` reversed, with a zero-width space inside."""
DISGUISED_SHOWN = "user-<U+202E>100<U+200B>-resu"


async def test_bidi_and_zero_width_characters_show_by_code_point_in_the_log_view(
        hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: app.link.name == "live")
        request_id = uuid.uuid4().hex
        assert (await run_action(hub, DISGUISED_USER, request_id)).status_code == 422  # recorded all the same
        view = app.query_one(LogView)
        await wait_until(pilot, shows_inbound(view, request_id))
        row = next(line for line in screen_lines(view) if "422" in line and "user-<U+" in line)
        assert DISGUISED_SHOWN in row
        assert "\u202e" not in row and "\u200b" not in row


def test_bidi_and_zero_width_characters_show_by_code_point_in_logs_text(hub: RunningHub, tmp_path: Path) -> None:
    request_id = uuid.uuid4().hex
    httpx.post(f"{hub.url}/v2/connections/evening-glow/actions/lights.change_color/run",
               json={"user_id": DISGUISED_USER},
               headers={"IFTTT-Service-Key": hub.service_key, "X-Request-ID": request_id})
    done = subprocess.run([SWITCHROOM, "logs", "--cache-dir", str(tmp_path / "cache"), "--hub", hub.url],
                          capture_output=True, text=True, timeout=120, env=bare_env(SWITCHROOM_TOKEN=hub.token))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "<U+202E>" in line]
    assert lines and all(line.endswith(DISGUISED_SHOWN) and " 422 " in line for line in lines)
    assert "\u202e" not in done.stdout and "\u200b" not in done.stdout


# -- markup in what the hub says -----------------------------------------------------------------------

def refused_replay_of(hub: RunningHub, user_id: str) -> None:
    """A trigger event of ``user_id`` on light-log that the hub will refuse to replay, naming the user:
    the user enables the connection, the lights service gets an item for them, it becomes a trigger
    event, and the user disables the connection again (so the subscription is gone)."""
    headers = {"IFTTT-Service-Key": hub.service_key}
    enabled = httpx.put(f"{hub.url}/v2/connections/light-log/user_connection", params={"user_id": user_id},
                        json={"user_features": [{"feature_id": "log"}]}, headers=headers)
    assert enabled.status_code == 200, enabled.text
    assert httpx.post(f"{hub.url}/v1/notifications", json={"data": [{"user_id": user_id}]},
                      headers=headers).status_code == 200
    polled = of("api_call", direction="outbound", op="trigger", connection_id="light-log", user_id=user_id)
    wait_for(hub.db, polled)  # the service knows the subscription now
    added = httpx.post(f"{hub.banner_value('sample service lights')}/_events/light_on",
                       json={"user_id": user_id, "ingredients": {"light": "kitchen"}}, headers=headers)
    assert added.status_code == 200 and added.json()["data"], added.text
    httpx.post(f"{hub.url}/v1/notifications", json={"data": [{"user_id": user_id}]}, headers=headers)
    wait_for(hub.db, of("trigger_event", connection_id="light-log", user_id=user_id))
    disabled = httpx.post(f"{hub.url}/v2/connections/light-log/disable", params={"user_id": user_id},
                          headers=headers)
    assert disabled.status_code == 200, disabled.text


@pytest.mark.parametrize("user_id", ["evil[/]user", "[@click=app.quit]x", "[bold]loud[/bold]"])
async def test_a_refusal_quoting_markup_is_shown_literally(hub: RunningHub, tmp_path: Path, user_id: str) -> None:
    refused_replay_of(hub, user_id)
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await pilot.press("4")
        triggers = app.query_one(TriggerList)
        await wait_until(pilot, lambda: (triggers.chosen_record or {}).get("user_id") == user_id)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        said = f"Not replayed: User '{user_id}' no longer has the subscription of #"
        await wait_until(pilot, lambda: any(said in n.message for n in app._notifications))
        await wait_until(pilot, lambda: any(said in toast.render().plain for toast in app.screen.query(Toast)))
        assert app.is_running and app.return_code is None
        await pilot.press("2")  # and it still answers keys
        assert app.current_pane == "logs"


# -- a crash says so -----------------------------------------------------------------------------------

CRASHING_DASHBOARD = """
import sys
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.ops_client import OpsClient
from switchroom.tui.cli import main

def fault(self):
    raise RuntimeError("a fault the test put in the dashboard")

SwitchroomApp.on_mount = fault
main(sys.argv[1:])
"""


def test_a_dashboard_that_crashes_exits_non_zero(tmp_path: Path) -> None:
    """The real ``switchroom`` entry point on a terminal (a pty), with a fault put in its app: Textual
    prints the traceback and returns; the process must not then report success."""
    command = [sys.executable, "-c", CRASHING_DASHBOARD, "--hub", f"http://127.0.0.1:{free_port()}",
               "--token", "t", "--cache-dir", str(tmp_path / "cache")]
    status, output = run_on_a_terminal(command, env=bare_env(HOME=str(tmp_path), TERM="xterm-256color",
                                                             PYTHONPATH=str(ROOT)))
    assert "a fault the test put in the dashboard" in output
    assert status == 1


def run_on_a_terminal(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its stdin, stdout and stderr; its exit status and output."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env,
                               start_new_session=True)
    os.close(follower)
    output = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process has ended and closed its end
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(timeout=60), output.decode(errors="replace")


# -- records of the wrong shape ------------------------------------------------------------------------

HUB_ID = "hub-of-wrong-shapes"
HUGE = "<a number no double holds>"
"""Sent as ``1e400``: JSON that no encoder writes and orjson refuses to read."""
GOOD = "glow"
"""The connection of the well-formed records; the hub answers ``d`` on it with a list."""


class ShapelessHub:
    """A hub that speaks the protocol (DESIGN §7) and sends whatever records it is given, of any shape:
    the two streams (hello, batches, heartbeats) over real websockets, and over plain HTTP the calls the
    dashboard makes besides (health, the connections and one connection's definition)."""

    def __init__(self, hub_id: str = HUB_ID) -> None:
        self.hub_id = hub_id
        self.records: dict[str, list[dict[str, object]]] = {"logs": [], "triggers": []}
        self.head = 0
        self.definition: bytes = b'["a list, not a connection"]'

    def add(self, stream: str, *records: dict[str, object]) -> list[int]:
        """Append ``records`` to ``stream`` with the next seqs (shared by both streams, as a hub's are)."""
        seqs = []
        for record in records:
            self.head += 1
            self.records[stream].append({"seq": self.head, **record})
            seqs.append(self.head)
        return seqs

    def respond(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path.startswith("/v1/streams/"):
            return None  # the websocket handshake goes on
        answers = {
            "/v1/health": json.dumps({"status": "ok", "hub_id": self.hub_id, "head_seq": self.head}).encode(),
            "/v1/ops/connections": json.dumps({"type": "list", "data": [
                {"id": GOOD, "features": [{"id": "f"}], "enabled_users": 3}]}).encode(),
            f"/v1/ops/connections/{GOOD}": self.definition,
        }
        if request.path not in answers:
            return connection.respond(HTTPStatus.NOT_FOUND, "{}")
        return connection.respond(HTTPStatus.OK, answers[request.path].decode())

    async def stream(self, websocket: ServerConnection) -> None:
        """One of the streams: hello, the backlog past the subscriber's cursor, then the live tail."""
        name = (websocket.request.path if websocket.request else "").rsplit("/", 1)[-1]
        with contextlib.suppress(websockets.ConnectionClosed):  # the dashboard went
            sent = json.loads(await websocket.recv())["after"]
            await websocket.send(json.dumps({"type": "hello", "hub_id": self.hub_id, "protocol": 1,
                                             "head_seq": self.head}))
            await self._tail(websocket, name, sent)

    async def _tail(self, websocket: ServerConnection, name: str, sent: int) -> None:
        """Every record past ``sent`` as it is added, with heartbeats when there is none."""
        quiet = 0
        while True:
            head = self.head
            if head > sent:
                batch = [r for r in self.records[name] if sent < int(r["seq"]) <= head]  # type: ignore[call-overload]
                # laid out as a hub writes them (compact): the cache splits such a frame into its records
                frame = json.dumps({"type": "batch", "records": batch, "through_seq": head}, separators=(",", ":"))
                await websocket.send(frame.replace(json.dumps(HUGE), "1e400"))
                sent, quiet = head, 0
            elif (quiet := quiet + 1) % 20 == 0:
                await websocket.send(json.dumps({"type": "heartbeat", "head_seq": head}))
            await asyncio.sleep(0.05)  # the pace of a hub's live tail, not a wait of the test's


def shows_bad(line: str) -> bool:
    """Whether a list's row says one of its cells is bad."""
    return re.search(r"(^| )bad( |$)", line) is not None


def now() -> str:
    return iso_timestamp(datetime.now(UTC))


def call(status: int, n: int, **fields: object) -> dict[str, object]:
    return {"ts": now(), "kind": "api_call", "direction": "inbound", "method": "POST", "op": "action",
            "op_id": "lights.change_color", "connection_id": GOOD, "feature_id": "f", "user_id": f"user-{n}",
            "status_code": status, "latency_ms": 12.5, "source": "api", "request_id": f"good-{n}", **fields}


BAD_CALLS = [  # each an api_call of another connection with fields of the wrong type
    {"ts": 12345, "request_id": "ts-an-integer"},
    {"status_code": "abc", "request_id": "status-text"},
    {"latency_ms": [1, 2], "request_id": "latency-a-list"},
    {"connection_id": {"an": "object"}, "request_id": "connection-an-object"},
    {"direction": 7, "op_id": ["x"], "user_id": 5, "feature_id": True, "skipped": "yes", "op": 3,
     "error_code": 4, "request_id": "everything-wrong"},
    {"ts": None, "request_id": "no-ts"},
    {"ts": "2026-13-45T99:99:99Z", "request_id": "ts-no-moment"},
    {"resolved_fields": "not an object", "request_id": "fields-text"},
    {"latency_ms": HUGE, "request_id": "latency-past-a-double"},
]
BAD_OTHERS = [
    {"ts": "2026-11-26T10:00:00.000Z", "kind": "telepathy", "connection_id": "elsewhere"},
    {"kind": "script_run", "connection_id": "elsewhere", "feature_id": "f", "status": 5, "duration_ms": "slow",
     "error": "a string", "console": "text", "calls": {"x": 1}, "trigger_event_id": "7"},
    {"kind": "script_run", "connection_id": "elsewhere", "feature_id": "f", "status": "error", "duration_ms": 3,
     "error": {"line": "x", "message": 3}, "console": [1, 2], "calls": [{"api_call_id": "x"}]},
    {"kind": "script_run", "connection_id": "elsewhere", "feature_id": 7, "status": None},
    {"kind": "rerun", "phase": 3, "original": "x", "api_call_id": [], "outcome": {}, "status_code": "abc",
     "replay": "yes"},
    {"kind": "rerun", "phase": "bulk", "done": "x", "total": "y", "state": 5},
]
BAD_EVENTS = [
    {"kind": "trigger_event", "ingredients": "not an object", "user_id": 5, "delivered_to": 3, "trigger_id": [],
     "connection_id": "elsewhere"},
]


def bad_calls() -> list[dict[str, object]]:
    return [{**call(500, n, connection_id="elsewhere"), **fields} for n, fields in enumerate(BAD_CALLS)]


def others(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{"ts": now(), **record} for record in records]


async def test_records_of_the_wrong_shape_are_counted_and_shown_as_bad_never_fatal(tmp_path: Path) -> None:
    fake = ShapelessHub()
    fake.add("logs", call(204, 1))
    fake.add("logs", *bad_calls(), *others(BAD_OTHERS))
    fake.add("triggers", *others(BAD_EVENTS))
    fake.add("logs", {"ts": now(), "kind": "script_run", "connection_id": "elsewhere", "status": "ok"})  # sparse
    fake.add("logs", call(204, 2), call(500, 3))
    bad = len(BAD_CALLS) + len(BAD_OTHERS) + len(BAD_EVENTS)
    async with websockets.serve(fake.stream, "127.0.0.1", 0, process_request=fake.respond) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        app = make_app(url, tmp_path)
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.query_one(ConnectionsTable)

            def good_calls(count: int) -> Callable[[], bool]:
                return lambda: (row := table.row_of(GOOD)) is not None and row.cells[1].text == str(count)
            await wait_until(pilot, good_calls(3))  # the calls after the bad ones are in the summaries
            status = app.query_one(StatusLine)
            # every record checked: the count is whole (``so far`` while the indexer is still entering them)
            await wait_until(pilot, lambda: f"{bad} bad records · " in str(status.render()))

            fake.add("logs", call(204, 4), call(204, 5))  # and the indexer goes on with live ones
            await wait_until(pilot, good_calls(5))

            await pilot.press("2")
            view = app.query_one(LogView)
            await wait_until(pilot, lambda: view.total == 3 + len(BAD_CALLS) + 2)
            await wait_until(pilot, lambda: any(r.get("request_id") == "status-text" for r in view.visible_rows()))
            lines = screen_lines(view)
            print("\n".join(lines))
            assert sum(shows_bad(line) for line in lines) == len(BAD_CALLS)
            assert any("user-2" in line and " 204 " in line for line in lines)  # good rows read as ever

            view.jump_to(next(n for n, r in enumerate(view.visible_rows()) if r.get("request_id") == "status-text"))
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail))
            shown = "\n".join(str(s.render()) for s in app.screen.query(Static))
            assert "Bad fields" in shown and '"status_code": "abc"' in shown
            await pilot.press("escape")

            for pane in ("3", "4", "5"):  # every list draws its bad rows, and each one's detail opens
                await pilot.press(pane)
                records = app.lists[app.current_pane]
                await wait_until(pilot, lambda: records.total > 0 and records.window_in_view and records.visible_rows())
                assert any(shows_bad(line) for line in screen_lines(records))
                for position in range(records.total):
                    records.jump_to(position)
                    await pilot.press("enter")
                    await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail))
                    await pilot.pause()
                    await pilot.press("escape")
            assert app.is_running and app._exception is None
            assert app.indexer is not None and app.indexer._process.is_alive()


async def test_a_definition_that_is_not_an_object_is_a_message(tmp_path: Path) -> None:
    fake = ShapelessHub()
    fake.add("logs", call(204, 1))
    async with websockets.serve(fake.stream, "127.0.0.1", 0, process_request=fake.respond) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        app = make_app(url, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(ConnectionsTable)
            for answer, said in ((b'["a list"]', "a JSON array"), (b"42", "a number"), (b"<html>", "not JSON")):
                fake.definition = answer
                await wait_until(pilot, lambda: table.row_of(GOOD) is not None)
                table.select(GOOD)
                table.focus()
                await pilot.press("d")
                await wait_until(pilot, lambda: isinstance(app.screen, ConnectionDefinition))
                await wait_until(pilot, lambda: any("Not a definition" in str(s.render())
                                                    for s in app.screen.query(Static)))
                assert any(said in str(s.render()) for s in app.screen.query(Static))
                await pilot.press("escape")
            # an object whose parts have the wrong types: what can be read is shown, the rest passed over
            fake.definition = json.dumps({"name": {"a": 1}, "features": "text", "configuration": 5,
                                          "runtime_script": ["x"], "delivery": 7}).encode()
            await pilot.press("d")
            await wait_until(pilot, lambda: isinstance(app.screen, ConnectionDefinition))
            await wait_until(pilot, lambda: any('{"a":1}' in str(s.render()) for s in app.screen.query(Static)))
            await pilot.press("escape")
            assert app.is_running


async def test_a_rerun_dialog_shows_field_names_with_markup_literally(tmp_path: Path) -> None:
    """A call's resolved fields name themselves (the hub's catalog, or a hub, says what they are called):
    each is the title of its box in the rerun dialog, drawn as it is."""
    names = ["[@click=app.quit]x", "evil[/]field", "[bold]loud[/bold]"]
    fake = ShapelessHub()
    fake.add("logs", call(502, 1, resolved_fields={name: "blue" for name in names}))
    async with websockets.serve(fake.stream, "127.0.0.1", 0, process_request=fake.respond) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        app = make_app(url, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("2")
            view = app.query_one(LogView)
            await wait_until(pilot, lambda: view.chosen_record is not None)
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(app.screen, RerunDialog)
                             and len(app.screen.query("#rerun-fields Input")) == len(names))
            boxes = app.screen.query("#rerun-fields Input").results(Input)
            assert [box._border_title.plain for box in boxes if box._border_title] == names  # as drawn
            assert app.is_running


class MalformedOps(http.server.BaseHTTPRequestHandler):
    """The hub's ops API answering every request with a success whose fields have the wrong types."""

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"type": "rerun_plan", "count": "many", "refused": ["all"], "through_seq": 3}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_an_ops_answer_of_the_wrong_shape_is_shown_as_an_error(tmp_path: Path) -> None:
    fake = ShapelessHub()
    fake.add("logs", call(502, 1))
    ops = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MalformedOps)
    threading.Thread(target=ops.serve_forever, daemon=True).start()
    try:
        async with websockets.serve(fake.stream, "127.0.0.1", 0, process_request=fake.respond) as server:
            url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            app = make_app(url, tmp_path)
            app.ops = OpsClient(f"http://127.0.0.1:{ops.server_address[1]}", "token")  # its reruns, from there
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("2", "slash", *"status:5xx", "enter", "R")
                await wait_until(pilot, lambda: isinstance(app.screen, BulkRerun)
                                 and "wrong type" in str(app.screen.query_one("#bulk-title").render()))
                said = str(app.screen.query_one("#bulk-title").render())
                assert "the hub's answer has count, refused of the wrong type" in said
                assert app.is_running
    finally:
        ops.shutdown()


def test_the_rerun_command_says_an_ops_answer_is_of_the_wrong_shape(tmp_path: Path) -> None:
    ops = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MalformedOps)
    threading.Thread(target=ops.serve_forever, daemon=True).start()
    try:
        done = subprocess.run([SWITCHROOM, "rerun", "--hub", f"http://127.0.0.1:{ops.server_address[1]}",
                               "--filter", "status:5xx", "--dry-run"], capture_output=True, text=True, timeout=120,
                              env=bare_env(SWITCHROOM_TOKEN="token"))
    finally:
        ops.shutdown()
    assert done.returncode == 3, done.stderr
    assert "the hub's answer has count, refused of the wrong type" in done.stderr
    assert "Traceback" not in done.stderr


async def test_the_title_names_a_connection_in_focus_with_its_invisible_characters_shown(tmp_path: Path) -> None:
    disguised = "glow\u202ewolg"
    fake = ShapelessHub()
    fake.add("logs", call(204, 1, connection_id=disguised))
    async with websockets.serve(fake.stream, "127.0.0.1", 0, process_request=fake.respond) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        app = make_app(url, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(ConnectionsTable)
            await wait_until(pilot, lambda: table.row_of(disguised) is not None)
            assert table.row_of(disguised).cells[0].text == "glow<U+202E>wolg"  # type: ignore[union-attr]
            table.select(disguised)
            table.focus()
            await pilot.press("enter")  # every pane on this connection: the title names it
            await wait_until(pilot, lambda: app.view.connection_id == disguised)
            title = str(app.title_line.render())
            assert "glow<U+202E>wolg" in title and "\u202e" not in title


@pytest.mark.parametrize("hub_id", ["../../escaped", "", "a/b", ".."])
async def test_a_hub_id_that_would_name_a_file_elsewhere_is_refused(tmp_path: Path, hub_id: str) -> None:
    """A cache is a file named after its hub's id: a hub must not be able to have the dashboard write
    one outside the cache directory."""
    fake = ShapelessHub(hub_id)
    fake.add("logs", call(204, 1))
    async with websockets.serve(fake.stream, "127.0.0.1", 0, process_request=fake.respond) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        app = SwitchroomApp(url, "token", tmp_path / "cache" / "dir")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.link.name == "reconnecting" and app.link.attempt >= 2)
            assert app.link.detail == "BadHubId" and app.cache is None
            assert app.is_running
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.startswith("cache/dir/") for p in written), written
    assert not any(p.name.endswith((".sqlite", ".sqlite-derived")) for p in tmp_path.rglob("*")), written


class RefusingHub(ShapelessHub):
    """A hub that refuses the token with a message of its own making."""

    async def stream(self, websocket: ServerConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await websocket.recv()
            await websocket.send(json.dumps({"type": "error", "code": "unauthorized",
                                             "message": "no\x1b]0;retitled\x07 \x1b[2Jway\u202eyaw"}))
            await websocket.wait_closed()


async def test_a_refusal_in_the_status_line_is_printable(tmp_path: Path) -> None:
    fake = RefusingHub()
    async with websockets.serve(fake.stream, "127.0.0.1", 0, process_request=fake.respond) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        app = make_app(url, tmp_path)
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_until(pilot, lambda: app.link.name == "offline")
            await wait_until(pilot, lambda: "offline" in str(app.query_one(StatusLine).render()))
            status = str(app.query_one(StatusLine).render())
            assert "no way<U+202E>yaw" in status
            assert "\x1b" not in status and "\x07" not in status and "\u202e" not in status


@pytest.mark.parametrize("connection_id", ["glow\nbad", "glow\x00bad", "g" * 70_000, "../../v1/health"])
async def test_d_on_a_connection_whose_id_makes_no_url_says_it_is_not_known(tmp_path: Path,
                                                                           connection_id: str) -> None:
    fake = ShapelessHub()
    fake.add("logs", call(204, 1, connection_id=connection_id))
    async with websockets.serve(fake.stream, "127.0.0.1", 0, process_request=fake.respond) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        app = make_app(url, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.query_one(ConnectionsTable)
            await wait_until(pilot, lambda: table.row_of(connection_id) is not None)
            table.select(connection_id)
            table.focus()
            await pilot.press("d")
            await wait_until(pilot, lambda: isinstance(app.screen, ConnectionDefinition))
            await wait_until(pilot, lambda: any("Not known" in str(s.render()) for s in app.screen.query(Static)))
            assert app.is_running
