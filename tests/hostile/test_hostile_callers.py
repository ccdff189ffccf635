"""Hostile Connect API and ops API callers: what they send never becomes a 500, a secret in the log, or
noise the hub writes without bound."""

from collections.abc import Iterator
from pathlib import Path
import json
import socket
import time
import uuid

import httpx
import pytest
from textual import events
from textual.widgets import Input, Static

from switchroom.hub.inbound import MAX_UNAUTHENTICATED_PATH
from switchroom.hub.redaction import REDACTED, secret_name
from switchroom.hub.slow_requests import MAX_REQUEST_HEAD
from switchroom.store import EventLog
from switchroom.store.filters import MAX_FILTER_TERMS, FilterError, parse_filter
from tests.support.hub_calls import RUN
from tests.support.hubproc import RunningHub, start_hub
from tests.support.streams import collect
from tests.support.dashboard import make_app, wait_until
from tests.support.waiting import eventually_sync
from switchroom.tui.widgets.log_view import LogView

THOUSAND_WORDS = " ".join(f"w{n}" for n in range(1_000))
LONG_WORD = "x" * 50_000


# -- the filter language is bounded where it is parsed -------------------------------------------------

def test_a_filter_past_the_term_bound_points_at_the_first_term_too_many() -> None:
    fifty = " ".join(f"w{n}" for n in range(MAX_FILTER_TERMS))
    assert len(parse_filter(fifty).text) == MAX_FILTER_TERMS
    with pytest.raises(FilterError) as raised:
        parse_filter(fifty + " over")
    assert raised.value.column == len(fifty) + 2
    codes = ",".join(str(500 + n) for n in range(MAX_FILTER_TERMS))  # comma-separated values count too
    with pytest.raises(FilterError):
        parse_filter(f"code:{codes} x")

@pytest.mark.parametrize("text", [THOUSAND_WORDS, LONG_WORD], ids=["1000-words", "50000-char-word"])
def test_an_oversized_rerun_filter_is_422_and_the_connection_goes_on(hub: RunningHub, text: str) -> None:
    headers = {"Authorization": f"Bearer {hub.token}"}
    with httpx.Client(base_url=hub.url, headers=headers) as client:
        for body in ({"filter": text, "dry_run": True}, {"filter": text}):
            answer = client.post("/v1/ops/reruns", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            assert answer.status_code == 422, answer.text
            error = answer.json()
            assert error["type"] == "error" and error["code"] == "invalid_parameters"
            assert error["details"][0]["parameter"] == "/filter" and "column" in error["message"]
        # the same keep-alive connection answers the next request
        assert client.post("/v1/ops/reruns", json={"filter": "status:5xx", "dry_run": True}).status_code == 200


@pytest.mark.parametrize("text", [THOUSAND_WORDS, LONG_WORD], ids=["1000-words", "50000-char-word"])
async def test_an_oversized_filter_pasted_in_the_dashboard_is_an_inline_message(
        hub: RunningHub, tmp_path: Path, text: str) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "slash")
        field = app.query_one("#filter-input", Input)
        field.post_message(events.Paste(text))
        await wait_until(pilot, lambda: field.value == text)
        await pilot.press("enter")
        error = app.query_one("#filter-error", Static)
        await wait_until(pilot, lambda: "at most" in str(error.render()),
                         what=lambda: f"the bound in the filter line, not {str(error.render())[:200]!r}")
        assert str(error.render()).startswith("column 1001: a filter is at most 1,000 characters")
        assert app.query_one(LogView).record_filter is None  # not applied
        await pilot.press("escape", "1")  # the app goes on
        assert app.is_running and app.return_code is None


# -- secrets never reach records ----------------------------------------------------------------------

def secret_body(hub: RunningHub, password: str, other_token: str) -> dict[str, object]:
    """A run's body carrying the hub's own key and token, and secret-named fields, in several shapes."""
    return {
        "user_id": "user-001",
        "password": password,
        "authorization": f"Bearer {hub.token}",
        "nested": {"Api-Key": other_token, "list": [{"X-Auth-Token": other_token}, f"pre{hub.service_key}post"],
                   "PASSWORD": {"deeper": password}},
        "client_secret": [password],
        "note": f"my key is {hub.service_key} and my token {hub.token}",
        "fields": {"color": "blue"},
    }


async def test_secrets_in_bodies_never_reach_the_log_or_the_stream(hub: RunningHub) -> None:
    password, other_token = f"pw-{uuid.uuid4().hex}", f"tok-{uuid.uuid4().hex}"
    secrets = (hub.service_key, hub.token, password, other_token)
    headers = {"IFTTT-Service-Key": hub.service_key}
    ran_id, refused_id = uuid.uuid4().hex, uuid.uuid4().hex
    ran = httpx.post(hub.url + RUN, json=secret_body(hub, password, other_token),
                     headers={**headers, "X-Request-ID": ran_id})
    assert ran.status_code == 204, ran.text
    # an error message that quotes what the caller sent: a user named with the key, who has not enabled it
    refused = httpx.post(hub.url + RUN, json={**secret_body(hub, password, other_token),
                                              "user_id": f"user-{hub.service_key}"},
                         headers={**headers, "X-Request-ID": refused_id})
    assert refused.status_code == 422 and hub.service_key in refused.text  # the caller is told; the log is not
    # resolved fields and the outbound call's body: a text field carrying the key and the token
    texted_id = uuid.uuid4().hex
    texted = httpx.post(f"{hub.url}/v2/connections/porch-welcome/actions/messages.send_text/run",
                        json={"user_id": "user-001", "fields": {"phone": "+15550100",
                                                                "body": f"k={hub.service_key} t={hub.token}"}},
                        headers={**headers, "X-Request-ID": texted_id})
    assert texted.status_code in (204, 502), texted.text

    records = await collect(hub.ws_url, hub.token, lambda got: {ran_id, refused_id, texted_id} <= {
        r.get("request_id") for r in got if r.get("direction") == "inbound"})
    stored = EventLog(hub.db).read_after(0, 1_000_000)
    for where, text in (("stream", json.dumps(records)), ("event log", json.dumps(stored))):
        leaked = [s for s in secrets if s in text]
        assert len(leaked) == 0, f"secrets in the {where}"

    inbound = next(r for r in stored if r.get("request_id") == ran_id and r["direction"] == "inbound")
    body = inbound["request_body"]
    assert body["password"] == body["authorization"] == body["client_secret"] == REDACTED
    assert body["nested"]["Api-Key"] == body["nested"]["list"][0]["X-Auth-Token"] == REDACTED
    assert body["nested"]["list"][1] == f"pre{REDACTED}post" and body["nested"]["PASSWORD"] == REDACTED
    assert body["note"] == f"my key is {REDACTED} and my token {REDACTED}"
    assert body["user_id"] == "user-001" and body["fields"] == {"color": "blue"}  # the rest is kept as sent
    outbound = next(r for r in stored if r.get("request_id") == ran_id and r["direction"] == "outbound")
    assert outbound["request_body"]["actionFields"]["color"] == "blue"
    refusal = next(r for r in stored if r.get("request_id") == refused_id)
    assert refusal["error_message"].count(REDACTED) == 1 and refusal["user_id"] == f"user-{REDACTED}"
    text_run = next(r for r in stored if r.get("request_id") == texted_id and r["direction"] == "inbound")
    text_call = next(r for r in stored if r.get("request_id") == texted_id and r["direction"] == "outbound")
    assert text_run["resolved_fields"]["body"] == text_call["request_body"]["actionFields"]["body"] == \
        f"k={REDACTED} t={REDACTED}"


def test_secret_field_names_are_recognised_in_any_spelling() -> None:
    for name in ("password", "Api-Key", "api_key", "X-Auth-Token", "AUTHORIZATION", "client_secret",
                 "IFTTT-Service-Key", "auth", "Set-Cookie"):
        assert secret_name(name), name
    for name in ("user_id", "color", "idempotency_key", "trigger_identity", "author", "keyboard"):
        assert not secret_name(name), name


def test_a_one_letter_service_key_leaves_records_whole(tmp_path: Path) -> None:
    """A demo's key may be ``k``: redacting it inside text would cut every ``kind`` and ``ok``. Such a key
    is redacted where it stands alone; the record keeps its fields, and the log goes on being written."""
    short = start_hub(tmp_path / "hub", service_key="k")
    try:
        answer = httpx.post(f"{short.url}/v2/connections/evening-glow/actions/lights.change_color/run",
                            json={"user_id": "user-001", "fields": {"color": "k"}}, headers={"IFTTT-Service-Key": "k"})
        assert answer.status_code in (204, 422)
        log = EventLog(short.db)
        try:
            def actions() -> list[dict[str, object]]:
                return [r for r in log.read_after(0, 1000) if r.get("op") == "action"]
            eventually_sync(actions, "the run's records in the log")
            records = actions()
        finally:
            log.close()
        assert all(r["kind"] == "api_call" and "direction" in r for r in records)
        assert all(r["path"].endswith("lights.change_color/run") for r in records if r["direction"] == "inbound")
    finally:
        short.stop()


# -- noise anyone can make: disconnects, calls without a key, slow requests --------------------------------

REQUEST_TIMEOUT_S = 1


@pytest.fixture(scope="module")
def strict_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A hub with a short request timeout and one unauthenticated record a second (bursts of two)."""
    running = start_hub(tmp_path_factory.mktemp("strict-hub"), extra_args=(
        "--request-timeout", str(REQUEST_TIMEOUT_S), "--unauthenticated-rate", "1"))
    yield running
    running.stop()


def connect(hub: RunningHub) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(hub.url.rsplit(":", 1)[1])))
    sock.settimeout(60)  # a bound against a hang only: every wait below ends when the hub acts
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the hub sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def stored(hub: RunningHub) -> list[dict[str, object]]:
    return EventLog(hub.db).read_after(0, 1_000_000)


def run_marker(hub: RunningHub) -> str:
    """A call that is surely recorded, to know that what came before it has been."""
    request_id = uuid.uuid4().hex
    httpx.post(hub.url + RUN, json={"user_id": "user-001"},
               headers={"IFTTT-Service-Key": hub.service_key, "X-Request-ID": request_id})
    eventually_sync(lambda: any(r.get("request_id") == request_id for r in stored(hub)))
    return request_id


def test_a_client_that_hangs_up_mid_body_is_not_a_500(strict_hub: RunningHub) -> None:
    gone = [uuid.uuid4().hex for _ in range(20)]
    for request_id in gone:
        with connect(strict_hub) as sock:
            sock.sendall(f"POST {RUN} HTTP/1.1\r\nHost: hub\r\nIFTTT-Service-Key: {strict_hub.service_key}\r\n"
                         f"X-Request-ID: {request_id}\r\nContent-Type: application/json\r\n"
                         "Content-Length: 1000\r\n\r\n{\"user_id\": \"user-0".encode())
        with connect(strict_hub) as sock:  # and the ops API's rerun route, which reads a body too
            sock.sendall(f"POST /v1/ops/reruns HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {strict_hub.token}\r\n"
                         "Content-Length: 1000\r\n\r\n{\"filter\": \"sta".encode())
    run_marker(strict_hub)
    records = stored(strict_hub)
    assert not [r for r in records if r.get("request_id") in gone]
    assert not [r for r in records if r.get("status_code") == 500 or r.get("error_code") == "internal_error"]
    assert "Traceback" not in strict_hub.log_path.read_text()


def test_a_call_without_a_key_is_recorded_with_its_path_cut(strict_hub: RunningHub) -> None:
    request_id = uuid.uuid4().hex
    long_path = "/v2/connections/" + "a" * 60_000
    answers: list[int] = []

    def answered_401() -> bool:
        answers.append(httpx.get(strict_hub.url + long_path, headers={"X-Request-ID": request_id}).status_code)
        return answers[-1] == 401

    eventually_sync(answered_401)  # an earlier test may have spent this second's allowance (then: 429)
    eventually_sync(lambda: any(r.get("request_id") == request_id for r in stored(strict_hub)))
    for record in (r for r in stored(strict_hub) if r.get("request_id") == request_id):
        assert record["status_code"] == 401 and len(str(record["path"])) <= MAX_UNAUTHENTICATED_PATH + 20
        assert str(record["path"]).startswith("/v2/connections/aaaa")


def test_calls_without_a_key_are_recorded_a_few_a_second(strict_hub: RunningHub) -> None:
    request_id = uuid.uuid4().hex
    started = time.monotonic()
    answers: list[int] = []
    while 429 not in answers and len(answers) < 10_000:  # until the hub says enough
        answers.append(httpx.get(f"{strict_hub.url}/v2/me", headers={"X-Request-ID": request_id}).status_code)
    elapsed = time.monotonic() - started
    assert set(answers) <= {401, 429} and 429 in answers
    run_marker(strict_hub)
    recorded = [r for r in stored(strict_hub) if r.get("request_id") == request_id]
    assert len(recorded) == answers.count(401) <= 2 + elapsed * 1 + 1  # a burst of 2, then 1 a second


def test_half_sent_headers_are_answered_408_and_closed(strict_hub: RunningHub) -> None:
    with connect(strict_hub) as sock:
        sock.sendall(b"POST /v2/me HTTP/1.1\r\nHost: hub\r\nX-Half: ")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408") and b'"code":"request_timeout"' in answer
    # the same holds for the next request on a kept-alive connection, and for one that never starts
    with connect(strict_hub) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: hub\r\n\r\n")
        first = sock.recv(65536)
        sock.sendall(b"GET /v1/hea")
        both = first + read_until_closed(sock)
        assert both.startswith(b"HTTP/1.1 200") and both.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 408" in both
    with connect(strict_hub) as sock:
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408")


def test_a_half_sent_body_is_answered_408_and_closed(strict_hub: RunningHub) -> None:
    with connect(strict_hub) as sock:
        sock.sendall(f"POST {RUN} HTTP/1.1\r\nHost: hub\r\nIFTTT-Service-Key: {strict_hub.service_key}\r\n"
                     "Content-Length: 100\r\n\r\n{\"user_id\":".encode())
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408") and b'"code":"request_timeout"' in answer


def test_a_request_head_over_the_bound_is_400_in_the_error_shape(strict_hub: RunningHub) -> None:
    with connect(strict_hub) as sock:
        sock.sendall(b"GET /v2/me HTTP/1.1\r\nHost: hub\r\nX-Big: " + b"b" * (MAX_REQUEST_HEAD + 10) + b"\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 400") and b'"code":"invalid_request"' in answer
