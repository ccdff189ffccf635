"""Input meant to break the hub: every answer is a §3 error (never a 500), and the event log keeps going."""

from pathlib import Path
import asyncio
import uuid

import httpx
import pytest
import websockets

from switchroom.hub.recorder import Recorder
from switchroom.protocol import loads
from tests.support.hub_calls import RUN
from tests.support.hubproc import RunningHub
from tests.support.streams import collect, with_request_id


def post(hub: RunningHub, path: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(hub.url + path, content=content,
                      headers={"IFTTT-Service-Key": hub.service_key, "Content-Type": "application/json", **headers})


def head_seq(hub: RunningHub) -> int:
    return int(httpx.get(f"{hub.url}/v1/health").json()["head_seq"])


@pytest.mark.parametrize("depth", [253, 254, 300, 1000])
async def test_deeply_nested_bodies_never_stop_the_event_log(hub: RunningHub, depth: int) -> None:
    hub.set_lights_faults()
    junk = b"[" * depth + b"]" * depth
    response = post(hub, RUN, b'{"user_id": "user-001", "junk": ' + junk + b"}")
    assert response.status_code in (204, 400), response.text

    request_id = uuid.uuid4().hex
    assert post(hub, RUN, b'{"user_id": "user-001"}', **{"X-Request-ID": request_id}).status_code == 204
    records = await collect(hub.ws_url, hub.token, with_request_id(request_id), after=max(0, head_seq(hub) - 50))
    assert any(r.get("request_id") == request_id for r in records)


def test_non_ascii_service_key_is_401(hub: RunningHub) -> None:
    response = httpx.get(f"{hub.url}/v2/me", headers={"IFTTT-Service-Key": "é".encode()})  # raw bytes
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("user_feature", [
    {"feature_id": "glow", "id": []},
    {"feature_id": "glow", "user_feature_actions": [{"feature_action_id": []}]},
    {"feature_id": ["glow"]},
    {"feature_id": "glow", "user_feature_actions": [{"feature_action_id": "fa_glow_color",
                                                    "user_fields": [{"field_id": {"a": 1}, "value": 1}]}]},
])
def test_odd_types_in_a_user_connection_are_422(hub: RunningHub, user_feature: dict[str, object]) -> None:
    response = httpx.put(f"{hub.url}/v2/connections/evening-glow/user_connection", params={"user_id": "odd"},
                         json={"user_features": [user_feature]}, headers={"IFTTT-Service-Key": hub.service_key})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_parameters"


def test_duplicate_user_feature_ids_are_422(hub: RunningHub) -> None:
    headers = {"IFTTT-Service-Key": hub.service_key}
    url = f"{hub.url}/v2/connections/evening-glow/user_connection"
    first = httpx.put(url, params={"user_id": "twice"}, json={"user_features": [{"feature_id": "glow"}]},
                      headers=headers)
    uf_id = first.json()["user_connection"]["user_features"][0]["id"]
    again = httpx.put(url, params={"user_id": "twice"}, headers=headers,
                      json={"user_features": [{"feature_id": "glow", "id": uf_id}, {"feature_id": "glow", "id": uf_id}]})
    assert again.status_code == 422
    assert again.json()["details"][0]["parameter"] == "/user_features/1/id"


def test_unicode_digits_in_the_ops_window_are_422(hub: RunningHub) -> None:
    response = httpx.get(f"{hub.url}/v1/ops/connections", params={"window_minutes": "²"},
                         headers={"Authorization": f"Bearer {hub.token}"})
    assert response.status_code == 422 and response.json()["code"] == "invalid_parameters"


def test_unknown_routes_and_methods_answer_in_the_error_shape(hub: RunningHub) -> None:
    missing = httpx.get(f"{hub.url}/v2/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong = httpx.delete(f"{hub.url}/v2/me")
    assert wrong.status_code == 405 and wrong.json()["type"] == "error" and "GET" in wrong.headers["allow"]


def test_a_body_over_a_mebibyte_is_400(hub: RunningHub) -> None:
    big = b'{"user_id": "user-001", "junk": "' + b"x" * (1 << 20) + b'"}'
    response = post(hub, RUN, big)
    assert response.status_code == 400 and response.json()["code"] == "invalid_request"


async def test_a_cursor_past_any_integer_gets_an_error_frame(hub: RunningHub) -> None:
    headers = {"Authorization": f"Bearer {hub.token}"}
    async with websockets.connect(hub.ws_url + "/v1/streams/logs", additional_headers=headers) as ws:
        await ws.send('{"type": "subscribe", "after": 9223372036854775808}')
        frame = loads(await asyncio.wait_for(ws.recv(), 10))
        assert frame["type"] == "error"


async def test_calls_without_the_key_are_not_counted_against_a_connection(hub: RunningHub) -> None:
    request_id = uuid.uuid4().hex
    httpx.post(f"{hub.url}/v2/connections/evening-glow/actions/lights.change_color/run", json={"user_id": "x"},
               headers={"X-Request-ID": request_id})
    records = await collect(hub.ws_url, hub.token, with_request_id(request_id), after=max(0, head_seq(hub) - 50))
    record = next(r for r in records if r.get("request_id") == request_id)
    assert record["status_code"] == 401 and "connection_id" not in record


async def test_resolved_fields_are_kept_whole_when_bodies_are_cut(hub: RunningHub) -> None:
    hub.set_faults("messages")
    request_id = uuid.uuid4().hex
    text = "x" * 1500
    response = httpx.post(f"{hub.url}/v2/connections/porch-welcome/actions/messages.send_text/run",
                          json={"user_id": "user-001", "fields": {"body": text}, "padding": "p" * 9000},
                          headers={"IFTTT-Service-Key": hub.service_key, "X-Request-ID": request_id})
    assert response.status_code == 204, response.text
    records = await collect(hub.ws_url, hub.token, with_request_id(request_id), after=max(0, head_seq(hub) - 50))
    inbound = next(r for r in records if r.get("request_id") == request_id and r["direction"] == "inbound")
    assert isinstance(inbound["request_body"], str) and inbound["request_body"].endswith("[truncated]")
    assert inbound["resolved_fields"]["body"] == text


def test_oversized_trigger_ingredients_are_cut() -> None:
    from switchroom.hub.triggers import _capped_ingredients

    assert _capped_ingredients({"title": "short"}) == {"title": "short"}
    cut = _capped_ingredients({"title": "x" * 20_000})
    assert set(cut) == {"_truncated"} and cut["_truncated"].endswith("[truncated]")


async def test_a_record_that_cannot_be_stored_never_stops_the_log(tmp_path: Path) -> None:
    """A record without its kind (a bug, or a field cut away) is kept as a stand-in of kind ``unknown``
    saying why, and the records after it are written: the writer never retries one bad record for ever."""
    recorder = Recorder(tmp_path / "hub.sqlite")
    await recorder.start()
    try:
        bad = await recorder.record_with_seq({"ts": "2026-12-06T05:00:00.000Z", "user_id": "u1"})
        good = await recorder.record_with_seq({"ts": "2026-12-06T05:00:01.000Z", "kind": "api_call"})
        stored = await recorder.read(lambda log: log.read_after(0, 10))
    finally:
        await recorder.stop()
    assert [r["seq"] for r in stored] == [bad, good]
    assert stored[0]["kind"] == "unknown" and stored[0]["unrecordable"].startswith("KeyError")
    assert stored[1]["kind"] == "api_call"
