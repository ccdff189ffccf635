"""The Connect API of a real hub process, calling the real lights sample service over HTTP."""

import uuid

import httpx
import pytest

from tests.hubproc import RunningHub
from tests.streams import collect, with_request_id

RUN = "/v2/connections/evening-glow/actions/lights.change_color/run"


def post_run(hub: RunningHub, body: object, *, key: str | None = None, request_id: str | None = None,
             content: bytes | None = None) -> httpx.Response:
    headers = {"IFTTT-Service-Key": hub.service_key if key is None else key,
               "X-Request-ID": request_id or uuid.uuid4().hex}
    if content is not None:
        return httpx.post(hub.url + RUN, content=content, headers=headers)
    return httpx.post(hub.url + RUN, json=body, headers=headers)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error" and body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)
    assert "Traceback" not in response.text
    return body


async def test_run_answers_204_and_records_both_calls(hub: RunningHub) -> None:
    hub.set_lights_faults()
    request_id = uuid.uuid4().hex
    response = post_run(hub, {"user_id": "user-001", "fields": {"color": "blue"}}, request_id=request_id)
    assert response.status_code == 204
    assert response.content == b""

    records = await collect(hub.ws_url, hub.token, with_request_id(request_id))
    mine = {r["direction"]: r for r in records if r.get("request_id") == request_id}
    inbound, outbound = mine["inbound"], mine["outbound"]
    assert inbound["kind"] == "api_call" and inbound["status_code"] == 204
    assert inbound["connection_id"] == "evening-glow" and inbound["feature_id"] == "glow"
    assert inbound["op"] == "action" and inbound["op_id"] == "lights.change_color"
    assert inbound["user_id"] == "user-001" and inbound["user_feature_id"] == "uf-001-glow"
    assert inbound["source"] == "api"
    assert outbound["status_code"] == 200
    assert outbound["request_body"]["actionFields"] == {"light": "living_room", "color": "blue"}
    assert outbound["seq"] < inbound["seq"]


async def test_service_failure_is_502_and_recorded(hub: RunningHub) -> None:
    hub.set_lights_faults(error_rate=1.0, error_status=503)
    request_id = uuid.uuid4().hex
    try:
        response = post_run(hub, {"user_id": "user-002"}, request_id=request_id)
    finally:
        hub.set_lights_faults()
    assert_error(response, 502, "service_error")
    records = await collect(hub.ws_url, hub.token, with_request_id(request_id))
    mine = {r["direction"]: r for r in records if r.get("request_id") == request_id}
    assert mine["outbound"]["status_code"] == 503
    assert mine["inbound"]["status_code"] == 502 and mine["inbound"]["error_code"] == "service_error"


async def test_skip_is_recorded_as_skipped_not_an_error(hub: RunningHub) -> None:
    hub.set_lights_faults(skip_rate=1.0)
    request_id = uuid.uuid4().hex
    try:
        response = post_run(hub, {"user_id": "user-003"}, request_id=request_id)
    finally:
        hub.set_lights_faults()
    assert response.status_code == 204
    records = await collect(hub.ws_url, hub.token, with_request_id(request_id))
    outbound = next(r for r in records if r.get("request_id") == request_id and r["direction"] == "outbound")
    assert outbound["skipped"] is True and outbound["status_code"] == 400


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_wrong_service_key_is_401(hub: RunningHub, key: str) -> None:
    assert_error(post_run(hub, {"user_id": "user-001"}, key=key), 401, "unauthorized")
    response = httpx.get(f"{hub.url}/v2/connections/evening-glow", headers={"IFTTT-Service-Key": key})
    assert_error(response, 401, "unauthorized")


def test_malformed_json_is_400(hub: RunningHub) -> None:
    assert_error(post_run(hub, None, content=b'{"user_id": '), 400, "invalid_request")
    assert_error(post_run(hub, None, content=b'[1, 2]'), 400, "invalid_request")


def test_bad_field_values_are_422_with_a_pointer_each(hub: RunningHub) -> None:
    body = assert_error(post_run(hub, {"user_id": "user-001", "fields": {"color": "ultraviolet", "volume": 3}}),
                        422, "invalid_parameters")
    assert sorted(d["parameter"] for d in body["details"]) == ["/fields/color", "/fields/volume"]


def test_user_who_never_enabled_the_connection_is_422(hub: RunningHub) -> None:
    body = assert_error(post_run(hub, {"user_id": "nobody"}), 422, "invalid_parameters")
    assert body["details"][0]["parameter"] == "/user_id"


def test_missing_user_id_is_422(hub: RunningHub) -> None:
    body = assert_error(post_run(hub, {"fields": {}}), 422, "invalid_parameters")
    assert body["details"][0]["parameter"] == "/user_id"


def test_unknown_connection_and_action_are_404(hub: RunningHub) -> None:
    headers = {"IFTTT-Service-Key": hub.service_key}
    assert_error(httpx.post(f"{hub.url}/v2/connections/nope/actions/lights.change_color/run",
                            json={"user_id": "user-001"}, headers=headers), 404, "not_found")
    assert_error(httpx.post(f"{hub.url}/v2/connections/evening-glow/actions/lights.dim/run",
                            json={"user_id": "user-001"}, headers=headers), 404, "not_found")


def test_show_connection_hides_developer_values(hub: RunningHub) -> None:
    response = httpx.get(f"{hub.url}/v2/connections/evening-glow", params={"user_id": "user-001"},
                         headers={"IFTTT-Service-Key": hub.service_key})
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "connection" and body["id"] == "evening-glow"
    assert body["user_status"] == "enabled" and body["enabled_count"] > 0
    action = body["features"][0]["feature_actions"][0]
    assert action["action_id"] == "lights.change_color"
    assert [f["id"] for f in action["fields"]] == ["color"]  # "light" is a developer field
    assert "living_room" not in str(body["features"])  # its developer-set value stays hidden
    assert body["user_connection"]["user_features"][0]["id"] == "uf-001-glow"


def test_service_key_never_reaches_the_log(hub: RunningHub) -> None:
    post_run(hub, {"user_id": "user-004"})
    for path in hub.db.parent.glob(hub.db.name + "*"):  # the database and its WAL
        assert hub.service_key.encode() not in path.read_bytes()
    assert hub.service_key not in hub.log_path.read_text()
