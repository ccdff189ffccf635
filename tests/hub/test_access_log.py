"""The access log of a real hub process, read from its stderr: one line a request with its method, path,
status, duration and request id; never a token or service key, wherever the client put them."""

from collections.abc import Iterator
from pathlib import Path
import json
import re
import socket
import time
import uuid

import httpx
import pytest
import websockets

from tests.support.hub_calls import RUN, assert_error, inbound
from tests.support.hubproc import RunningHub, start_hub
from tests.support.waiting import eventually, eventually_sync

TOKEN = "operator-token-" + uuid.uuid4().hex
SERVICE_KEY = "service-key-" + uuid.uuid4().hex
TEXT_LINE = re.compile(r"^\S+ \S+ switchroom\.access INFO (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) "
                       r"(?P<ms>\d+\.\d\d)ms(?: close=(?P<close>\d+))? client=(?P<client>\S+) "
                       r"request_id=(?P<request_id>.+)$")


def demo_hub(workdir: Path, *args: str) -> RunningHub:
    return start_hub(workdir, token=TOKEN, service_key=SERVICE_KEY, stderr_apart=True, extra_args=args)


@pytest.fixture(scope="module")
def text_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    hub = demo_hub(tmp_path_factory.mktemp("text"))
    yield hub
    hub.stop()


@pytest.fixture(scope="module")
def json_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    hub = demo_hub(tmp_path_factory.mktemp("json"), "--log-format", "json")
    yield hub
    hub.stop()


def stderr_of(hub: RunningHub) -> str:
    assert hub.err_path is not None
    return hub.err_path.read_text()


def text_lines(hub: RunningHub, request_id: str) -> list[dict[str, str]]:
    return [match.groupdict() for line in stderr_of(hub).splitlines()
            if (match := TEXT_LINE.match(line)) and match["request_id"] == request_id]


def the_line(hub: RunningHub, request_id: str) -> dict[str, str]:
    """The one access line of a request (no second one from uvicorn's own access log)."""
    eventually_sync(lambda: text_lines(hub, request_id))
    [line] = text_lines(hub, request_id)
    return line


def secret_headers(request_id: str) -> dict[str, str]:
    return {"IFTTT-Service-Key": SERVICE_KEY, "Authorization": f"Bearer {TOKEN}", "X-Request-ID": request_id}


def test_a_run_has_one_line_with_its_method_path_status_duration_and_request_id(text_hub: RunningHub) -> None:
    request_id = uuid.uuid4().hex
    answer = httpx.post(text_hub.url + RUN, json={"user_id": "user-001"}, headers=secret_headers(request_id))
    assert answer.status_code in (204, 502, 504)  # the demo's lights fail now and then
    assert answer.headers["X-Request-ID"] == request_id
    line = the_line(text_hub, request_id)
    assert line["method"] == "POST" and line["path"] == RUN and line["status"] == str(answer.status_code)
    assert line["client"] == "127.0.0.1"
    recorded = inbound(text_hub, request_id)
    assert float(line["ms"]) >= recorded["latency_ms"]  # the line's time holds the handler's and the commit's


def test_the_hubs_own_request_id_is_the_one_answered_logged_and_recorded(text_hub: RunningHub) -> None:
    answer = httpx.post(text_hub.url + RUN, json={"user_id": "user-001"}, headers={"IFTTT-Service-Key": SERVICE_KEY})
    request_id = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert the_line(text_hub, request_id)["path"] == RUN
    assert inbound(text_hub, request_id)["status_code"] == answer.status_code


def test_every_route_is_logged_and_answers_its_request_id(text_hub: RunningHub) -> None:
    for method, path, headers, status in (
            ("GET", "/v1/health", {}, 200),
            ("GET", "/v1/ops/connections", {"Authorization": f"Bearer {TOKEN}"}, 200),
            ("GET", "/v1/ops/connections", {}, 401),
            ("GET", "/no/such/route", {}, 404),
            ("DELETE", "/v1/health", {}, 405)):
        request_id = uuid.uuid4().hex
        answer = httpx.request(method, text_hub.url + path, headers={**headers, "X-Request-ID": request_id})
        assert answer.status_code == status and answer.headers["X-Request-ID"] == request_id
        line = the_line(text_hub, request_id)
        assert (line["method"], line["path"], line["status"]) == (method, path, str(status))


def test_no_token_or_service_key_reaches_the_log(text_hub: RunningHub) -> None:
    """Sent in headers, in secret-named query parameters, under an innocent name, and in the path."""
    sent: list[tuple[str, str]] = []
    for path, query in ((RUN, {"token": TOKEN, "api_key": SERVICE_KEY, "user_id": "user-001"}),
                        ("/v1/ops/connections", {"access_token": TOKEN, "window_minutes": "5"}),
                        ("/v2/me", {"q": SERVICE_KEY, "also": TOKEN}),
                        (f"/v2/connections/{TOKEN}", {}),
                        (f"/v2/connections/{SERVICE_KEY.replace('-', '%2D')}", {})):
        request_id = uuid.uuid4().hex
        httpx.request("POST" if path == RUN else "GET", text_hub.url + path, params=query,
                      headers=secret_headers(request_id), json={"user_id": "user-001"} if path == RUN else None)
        sent.append((path, request_id))
    for path, request_id in sent:
        line = the_line(text_hub, request_id)
        assert TOKEN not in line["path"] and SERVICE_KEY not in line["path"]
    assert the_line(text_hub, sent[0][1])["path"] == f"{RUN}?token=[redacted]&api_key=[redacted]&user_id=user-001"
    assert the_line(text_hub, sent[2][1])["path"] == "/v2/me?q=[redacted]&also=[redacted]"
    assert the_line(text_hub, sent[3][1])["path"] == "/v2/connections/[redacted]"
    assert the_line(text_hub, sent[4][1])["path"] == "/v2/connections/[redacted]"
    everything = stderr_of(text_hub) + text_hub.log_path.read_text()
    assert TOKEN not in everything and SERVICE_KEY not in everything
    assert SERVICE_KEY.replace("-", "%2D") not in everything


def test_a_hostile_path_stays_one_bounded_line(text_hub: RunningHub) -> None:
    request_id = uuid.uuid4().hex
    httpx.get(f"{text_hub.url}/v2/connections/{'a' * 5000}%0Aforged%20INFO%20line",
              headers={"X-Request-ID": request_id})
    line = the_line(text_hub, request_id)
    assert line["status"] == "401" and len(line["path"]) <= 1001 and line["path"].endswith("…")
    assert not [n for n in stderr_of(text_hub).splitlines() if n.startswith("forged")]


async def test_a_stream_is_one_line_when_it_closes_with_its_close_code(text_hub: RunningHub) -> None:
    opened, refused = uuid.uuid4().hex, uuid.uuid4().hex
    async with websockets.connect(f"{text_hub.ws_url}/v1/streams/logs?token={TOKEN}",
                                  additional_headers={"Authorization": f"Bearer {TOKEN}", "X-Request-ID": opened}):
        pass
    async with websockets.connect(f"{text_hub.ws_url}/v1/streams/logs", additional_headers={"X-Request-ID": refused}) \
            as stream:
        assert json.loads(await stream.recv())["code"] == "unauthorized"
    await eventually(lambda: text_lines(text_hub, opened) and text_lines(text_hub, refused))
    [ok], [no] = text_lines(text_hub, opened), text_lines(text_hub, refused)
    assert (ok["method"], ok["path"], ok["status"], ok["close"]) == (
        "WEBSOCKET", "/v1/streams/logs?token=[redacted]", "101", "1000")
    assert (no["method"], no["status"], no["close"]) == ("WEBSOCKET", "101", "1008")


def test_json_lines_parse_with_the_access_fields_as_keys(json_hub: RunningHub) -> None:
    request_id = uuid.uuid4().hex
    answer = httpx.post(f"{json_hub.url}{RUN}?token={TOKEN}", json={"user_id": "user-001"},
                        headers=secret_headers(request_id))

    def mine() -> list[dict[str, object]]:
        return [line for line in map(json.loads, stderr_of(json_hub).splitlines())
                if line.get("request_id") == request_id]

    eventually_sync(mine)
    [line] = mine()
    assert line["logger"] == "switchroom.access" and line["level"] == "info"
    assert line["method"] == "POST" and line["path"] == f"{RUN}?token=[redacted]"
    assert line["status"] == answer.status_code and isinstance(line["duration_ms"], float)
    assert line["client"] == "127.0.0.1" and request_id in str(line["message"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", str(line["ts"]))
    for every in map(json.loads, stderr_of(json_hub).splitlines()):  # each line of stderr is JSON
        assert {"ts", "level", "logger", "message"} <= set(every)
    assert TOKEN not in stderr_of(json_hub) and SERVICE_KEY not in stderr_of(json_hub)


def test_warning_level_leaves_the_access_log_out(tmp_path: Path) -> None:
    hub = demo_hub(tmp_path, "--log-level", "warning")
    try:
        request_id = uuid.uuid4().hex
        assert_error(httpx.get(f"{hub.url}/no/such/route", headers={"X-Request-ID": request_id}), 404, "not_found")
        metrics = httpx.get(f"{hub.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
        assert 'route="unmatched",status="404"' in metrics.replace('method="GET",', "")  # counted all the same
    finally:
        hub.stop()
    assert request_id not in stderr_of(hub) and "switchroom.access" not in stderr_of(hub)


def test_short_secrets_and_a_secret_request_id_stay_out_of_the_log(tmp_path: Path) -> None:
    """A token or key shorter than the redactor looks for inside text is still taken out where it stands
    alone: a path segment, a query value (also percent-encoded), and a caller's X-Request-ID."""
    hub = start_hub(tmp_path, token="t0k", service_key="k3y", stderr_apart=True)
    try:
        for path, query in (("/t0k/k3y", {}), ("/v1/ops/connections", {"foo": "t0k"}),
                            ("/v1/health", {"q": "k3y"}), ("/v1/health/%6B%33%79", {})):
            httpx.get(hub.url + path, params=query, headers={"X-Request-ID": "t0k"})
        httpx.get(hub.url + "/v1/health?x=%74%30%6B", headers={"X-Request-ID": "fine-id-1"})
        lines = [line for line in stderr_of(hub).splitlines() if "client=" in line]
        logged = "\n".join(lines)
        assert "/[redacted]/[redacted] 404" in logged
        assert "/v1/ops/connections?foo=[redacted]" in logged and "/v1/health?q=[redacted]" in logged
        assert "/v1/health?x=[redacted]" in logged and "/v1/health/[redacted]" in logged
        assert "request_id=[redacted]" in logged and "request_id=fine-id-1" in logged
        for line in lines:
            assert not re.search(r"(?<![\w-])(t0k|k3y)(?![\w-])", line), line
    finally:
        hub.stop()


def test_every_line_is_json_with_json_lines_also_uvicorns_own(json_hub: RunningHub) -> None:
    """A request that is no HTTP makes uvicorn itself warn: that line too is one of the hub's JSON lines
    (the sample services' servers in a demo hub leave uvicorn's loggers to the hub)."""
    with socket.create_connection(("127.0.0.1", int(json_hub.url.rsplit(":", 1)[1])), timeout=5) as raw:
        raw.sendall(b"GARBAGE\r\n\r\n")
        raw.recv(1024)

    def warned() -> list[dict[str, object]]:
        lines = [json.loads(line) for line in stderr_of(json_hub).splitlines() if line.strip()]  # each is JSON
        return [line for line in lines if line.get("message") == "Invalid HTTP request received."]

    deadline = time.monotonic() + 30
    while not warned():
        assert time.monotonic() < deadline, stderr_of(json_hub)[-2000:]
        time.sleep(0.1)
    assert warned()[0]["level"] == "warning" and warned()[0]["logger"] == "uvicorn.error"
