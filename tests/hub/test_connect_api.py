"""The Connect API of a real hub process, calling the real lights sample service over HTTP."""

from pathlib import Path
import uuid

import httpx
import pytest

from switchroom.hub.settings import DEMO_CATALOG
from switchroom.store.hub_log import open_hub_log
from tests.support.hub_calls import assert_error, post_run
from tests.support.hubproc import RunningHub, start_hub, write_catalog
from tests.support.streams import collect, with_request_id

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


@pytest.mark.parametrize("service_status", [500, 503, 404])
async def test_service_failure_is_502_and_recorded(hub: RunningHub, service_status: int) -> None:
    hub.set_lights_faults(error_rate=1.0, error_status=service_status)
    request_id = uuid.uuid4().hex
    try:
        response = post_run(hub, {"user_id": "user-002"}, request_id=request_id)
    finally:
        hub.set_lights_faults()
    assert_error(response, 502, "service_error")
    records = await collect(hub.ws_url, hub.token, with_request_id(request_id))
    mine = {r["direction"]: r for r in records if r.get("request_id") == request_id}
    assert mine["outbound"]["status_code"] == service_status
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
    request_id = uuid.uuid4().hex
    post_run(hub, {"user_id": "user-004"}, request_id=request_id)
    stored = stored_bytes(hub.db)
    assert request_id.encode() in stored  # answered, so recorded: the storage holds the call (DESIGN §7)
    assert hub.service_key.encode() not in stored
    assert hub.service_key not in hub.log_path.read_text()


def stored_bytes(db: Path | str) -> bytes:
    """Everything a hub's storage holds: a SQLite log's files (database and WAL), or every row of every table
    of a PostgreSQL database, as text."""
    if isinstance(db, Path):
        return b"".join(path.read_bytes() for path in db.parent.glob(db.name + "*"))
    log = open_hub_log(db)
    try:
        tables = [name for (name,) in log.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return b"".join(str(row).encode() for table in tables for row in log.execute(f"SELECT * FROM {table}"))
    finally:
        log.close()


# -- the rest of the Connect API ---------------------------------------------------------------------

def call(hub: RunningHub, method: str, path: str, *, headers: dict[str, str] | None = None,
         **kwargs: object) -> httpx.Response:
    headers = {"IFTTT-Service-Key": hub.service_key, **(headers or {})}
    return httpx.request(method, hub.url + path, headers=headers, **kwargs)  # type: ignore[arg-type]


def test_me_names_the_service(hub: RunningHub) -> None:
    body = call(hub, "GET", "/v2/me").json()
    assert body["type"] == "me" and body["service_id"] in {"lights", "messages", "videos", "weather"}
    assert_error(httpx.get(hub.url + "/v2/me"), 401, "unauthorized")


def test_show_connection_without_a_user(hub: RunningHub) -> None:
    body = call(hub, "GET", "/v2/connections/porch-welcome").json()
    assert body["user_status"] is None and "user_connection" not in body
    assert {s["service_id"] for s in body["services"]} == {"lights", "messages"}
    feature = body["features"][0]
    assert [t["trigger_id"] for t in feature["feature_triggers"]] == ["lights.light_on"]
    assert [a["action_id"] for a in feature["feature_actions"]] == ["lights.change_color", "messages.send_text"]


def test_never_enabled_user_status(hub: RunningHub) -> None:
    body = call(hub, "GET", "/v2/connections/evening-glow", params={"user_id": "stranger"}).json()
    assert body["user_status"] == "never_enabled" and "user_connection" not in body


def enable(hub: RunningHub, user_id: str, user_features: list[dict[str, object]]) -> httpx.Response:
    return call(hub, "PUT", "/v2/connections/porch-welcome/user_connection", params={"user_id": user_id},
                json={"user_features": user_features, "unknown_key": "ignored"})


def welcome(color: str | None = None, phone: str = "+15550001", **extra: object) -> dict[str, object]:
    actions: list[dict[str, object]] = [{"feature_action_id": "fa_porch_text",
                                         "user_fields": [{"field_id": "phone", "value": phone}]}]
    if color:
        actions.append({"feature_action_id": "fa_porch_color", "user_fields": [{"field_id": "color", "value": color}]})
    return {"feature_id": "welcome", "user_feature_actions": actions, **extra}


def sent_fields(records: list[dict[str, object]], request_id: str) -> dict[str, object]:
    outbound = next(r for r in records if r.get("request_id") == request_id and r["direction"] == "outbound")
    return outbound["request_body"]["actionFields"]  # type: ignore[index,return-value]


async def test_enable_then_run_uses_the_users_values_and_reconfigure_replaces_them(hub: RunningHub) -> None:
    hub.set_lights_faults()
    user = f"new-{uuid.uuid4().hex[:8]}"
    response = enable(hub, user, [welcome(color="purple")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_status"] == "enabled"
    (user_feature,) = body["user_connection"]["user_features"]
    uf_id = user_feature["id"]
    actions = {a["feature_action_id"]: a for a in user_feature["user_feature_actions"]}
    assert actions["fa_porch_color"]["user_fields"] == [{"field_id": "color", "field_type": "select", "value": "purple"}]

    first = uuid.uuid4().hex
    run = call(hub, "POST", "/v2/connections/porch-welcome/actions/lights.change_color/run",
               json={"user_id": user}, headers={"X-Request-ID": first})
    assert run.status_code == 204
    # Reconfigure without a colour: the whole configuration is replaced, so the default applies again.
    assert enable(hub, user, [welcome(id=uf_id)]).status_code == 200
    second = uuid.uuid4().hex
    call(hub, "POST", "/v2/connections/porch-welcome/actions/lights.change_color/run",
         json={"user_id": user}, headers={"X-Request-ID": second})
    # An override beats both.
    third = uuid.uuid4().hex
    call(hub, "POST", "/v2/connections/porch-welcome/actions/lights.change_color/run",
         json={"user_id": user, "user_feature_id": uf_id, "fields": {"color": "red"}}, headers={"X-Request-ID": third})

    records = await collect(hub.ws_url, hub.token, with_request_id(third))
    assert sent_fields(records, first) == {"light": "porch", "color": "purple"}  # user value
    assert sent_fields(records, second) == {"light": "porch", "color": "green"}  # configured default
    assert sent_fields(records, third) == {"light": "porch", "color": "red"}  # override


def test_bad_user_connection_bodies_are_422_with_pointers(hub: RunningHub) -> None:
    body = assert_error(enable(hub, "someone", [
        {"feature_id": "nope"},
        welcome(color="ultraviolet"),
        {"feature_id": "welcome", "user_feature_actions": [
            {"feature_action_id": "fa_porch_text", "user_fields": [{"field_id": "body", "value": "hi"}]}]},
        {"feature_id": "welcome", "id": "uf-not-mine"},
    ]), 422, "invalid_parameters")
    assert sorted(d["parameter"] for d in body["details"]) == [
        "/user_features/0/feature_id",
        "/user_features/1/user_feature_actions/1/user_fields/0/value",
        "/user_features/2/user_feature_actions/0/user_fields/0/field_id",
        "/user_features/3/id",
    ]
    assert_error(call(hub, "PUT", "/v2/connections/porch-welcome/user_connection", params={"user_id": "x"},
                      json={"user_features": "all"}), 422, "invalid_parameters")
    assert_error(call(hub, "PUT", "/v2/connections/porch-welcome/user_connection", json={"user_features": []}),
                 422, "invalid_parameters")  # no user_id


def test_disable_then_runs_are_refused(hub: RunningHub) -> None:
    user = f"leaver-{uuid.uuid4().hex[:8]}"
    assert enable(hub, user, [welcome()]).status_code == 200
    response = call(hub, "POST", "/v2/connections/porch-welcome/disable", params={"user_id": user})
    assert response.status_code == 200 and response.json()["user_status"] == "disabled"
    run = call(hub, "POST", "/v2/connections/porch-welcome/actions/messages.send_text/run", json={"user_id": user})
    assert_error(run, 422, "invalid_parameters")
    assert_error(call(hub, "POST", "/v2/connections/porch-welcome/disable", params={"user_id": "ghost"}),
                 422, "invalid_parameters")


def test_field_options(hub: RunningHub) -> None:
    body = call(hub, "GET", "/v2/connections/evening-glow/actions/lights.change_color/field_options").json()
    assert body["type"] == "field_options"
    assert {o["value"] for o in body["options"]["color"]} >= {"red", "warm_white"}
    assert "light" not in body["options"]  # set by the developer: not the user's choice
    trigger = call(hub, "GET", "/v2/connections/porch-welcome/triggers/lights.light_on/field_options").json()
    assert "porch" in {o["value"] for o in trigger["options"]["light"]}
    for path in ("/v2/connections/evening-glow/queries/lights.change_color/field_options",
                 "/v2/connections/evening-glow/widgets/lights.change_color/field_options"):
        assert_error(call(hub, "GET", path), 404, "not_found")


def test_query_perform_pages_through_every_result(hub: RunningHub) -> None:
    hub.set_faults("videos")
    path = "/v2/connections/video-search/queries/videos.search_videos/perform"
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        body: dict[str, object] = {"user_id": "user-001", "limit": 7, "fields": {"q": "jazz"}}
        if cursor:
            body["cursor"] = cursor
        response = call(hub, "POST", path, json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["type"] == "list" and len(page["data"]) <= 7
        seen += [item["video_id"] for item in page["data"]]
        if "next" not in page:
            break
        cursor = page["next"]["cursor"]
    assert len(seen) > 7 and len(seen) == len(set(seen))


def test_query_limit_and_cursor_are_checked(hub: RunningHub) -> None:
    path = "/v2/connections/video-search/queries/videos.search_videos/perform"
    for bad in ({"limit": 0}, {"limit": 5000}, {"limit": "ten"}, {"cursor": 7}):
        body = assert_error(call(hub, "POST", path, json={"user_id": "user-001", **bad}), 422, "invalid_parameters")
        assert body["details"][0]["parameter"] in {"/limit", "/cursor"}


async def test_trigger_test_records_a_trigger_event(hub: RunningHub) -> None:
    hub.set_lights_faults()
    request_id = uuid.uuid4().hex
    response = call(hub, "POST", "/v2/connections/porch-welcome/triggers/lights.light_on/test",
                    json={"user_id": "user-001"}, headers={"X-Request-ID": request_id})
    assert response.status_code == 204
    events = await collect(hub.ws_url, hub.token, lambda rs: any(r.get("request_id") == request_id for r in rs),
                           path="/v1/streams/triggers")
    event = next(r for r in events if r.get("request_id") == request_id)
    assert event["kind"] == "trigger_event" and event["trigger_id"] == "lights.light_on"
    assert event["source"] == "test" and event["connection_id"] == "porch-welcome" and event["meta_id"]
    assert "light" in event["ingredients"]


def test_wrong_owner_is_403(hub: RunningHub, tmp_path_factory: pytest.TempPathFactory) -> None:
    # All demo services share one key, so a 403 needs a catalog where they do not.
    text = DEMO_CATALOG.read_text().replace(
        '[services.weather]\nname = "Weather"\nbase_url = "sample:weather"\nservice_key = { env = "SWITCHROOM_SERVICE_KEY" }',
        '[services.weather]\nname = "Weather"\nbase_url = "sample:weather"\nservice_key = { value = "weather-key" }',
    )
    workdir = tmp_path_factory.mktemp("owners")
    other = start_hub(workdir, extra_args=("--catalog", str(write_catalog(workdir, text))))
    try:
        response = httpx.get(f"{other.url}/v2/connections/rain-alert", headers={"IFTTT-Service-Key": other.service_key})
        assert_error(response, 403, "forbidden")
        response = httpx.get(f"{other.url}/v2/connections/rain-alert", headers={"IFTTT-Service-Key": "weather-key"})
        assert response.status_code == 200
    finally:
        other.stop()


GHOST = """
[services.ghost]
name = "Ghost"
base_url = "http://127.0.0.1:1"
service_key = { env = "SWITCHROOM_SERVICE_KEY" }
actions = [{ id = "boo", label = "Boo" }]

[connections.haunt]
name = "Haunt"
owner_service = "ghost"
features = [{ id = "h", name = "H", actions = [{ id = "fa_boo", ref = "ghost.boo" }] }]
"""


def test_slow_or_unreachable_service_is_504_and_rate_limit_is_429(tmp_path_factory: pytest.TempPathFactory) -> None:
    text = DEMO_CATALOG.read_text().replace('base_url = "sample:lights"', 'base_url = "sample:lights"\nread_timeout = 0.3')
    text = text.replace("# == connections", GHOST + "\n# == connections")
    workdir = tmp_path_factory.mktemp("limits")
    # One run per user and connection every 1,000 s (a burst of one): a second run is refused at any speed.
    other = start_hub(workdir, extra_args=("--catalog", str(write_catalog(workdir, text)),
                                           "--user-rate-limit", "0.001"))
    try:
        other.set_lights_faults(latency_ms=1500)
        assert_error(post_run(other, {"user_id": "user-001"}), 504, "service_timeout")
        refused = httpx.post(f"{other.url}/v2/connections/haunt/actions/ghost.boo/run", json={"user_id": "user-001"},
                             headers={"IFTTT-Service-Key": other.service_key})
        assert_error(refused, 504, "service_timeout")
        other.set_lights_faults()
        assert post_run(other, {"user_id": "user-002"}).status_code == 204
        limited = post_run(other, {"user_id": "user-002"})
        assert_error(limited, 429, "rate_limited")
        assert 900 <= int(limited.headers["Retry-After"]) <= 1000
        assert post_run(other, {"user_id": "user-003"}).status_code == 204  # per user
    finally:
        other.stop()


def test_openapi_is_served_and_names_every_call(hub: RunningHub) -> None:
    document = httpx.get(f"{hub.url}/openapi.json").json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in ("/v2/me", "/v2/connections/{connection_id}", "/v2/connections/{connection_id}/user_connection",
                 "/v2/connections/{connection_id}/disable",
                 "/v2/connections/{connection_id}/{kind}/{type_id}/field_options",
                 "/v2/connections/{connection_id}/actions/{type_id}/run",
                 "/v2/connections/{connection_id}/queries/{type_id}/perform",
                 "/v2/connections/{connection_id}/triggers/{type_id}/test", "/v1/ops/connections",
                 "/v1/ops/connections/{connection_id}"):
        assert path in paths
    assert "ErrorBody" in document["components"]["schemas"]


def test_ops_connections_lists_live_stats(tmp_path: Path) -> None:
    """On a hub of its own, so that every call it counts is one this test made."""
    quiet = start_hub(tmp_path / "hub")
    try:
        for _ in range(3):
            assert post_run(quiet, {"user_id": "user-001"}).status_code == 204
        quiet.set_lights_faults(outage=True)
        for _ in range(2):
            assert_error(post_run(quiet, {"user_id": "user-001"}), 502, "service_error")
        assert_error(httpx.get(f"{quiet.url}/v1/ops/connections"), 401, "unauthorized")
        auth = {"Authorization": f"Bearer {quiet.token}"}
        body = httpx.get(f"{quiet.url}/v1/ops/connections", headers=auth).json()
        rows = {row["id"]: row for row in body["data"]}
        assert set(rows) >= {"evening-glow", "porch-welcome", "video-search"}
        glow = rows["evening-glow"]
        assert (glow["calls"], glow["errors"], glow["error_pct"]) == (5, 2, 40.0)  # the five runs above
        assert glow["enabled_users"] > 0 and glow["p95_latency_ms"] > 0
        assert glow["out_calls"] >= 5 and glow["out_errors"] >= 2  # each run's call to the lights, polls besides
        assert (rows["video-search"]["calls"], rows["video-search"]["error_pct"]) == (0, 0.0)
        bad = httpx.get(f"{quiet.url}/v1/ops/connections", params={"window_minutes": "soon"}, headers=auth)
        assert_error(bad, 422, "invalid_parameters")
    finally:
        quiet.stop()


def test_ops_connection_definition_shows_fields_and_script(hub: RunningHub) -> None:
    url = f"{hub.url}/v1/ops/connections/rain-alert"
    assert_error(httpx.get(url), 401, "unauthorized")
    auth = {"Authorization": f"Bearer {hub.token}"}
    assert_error(httpx.get(f"{hub.url}/v1/ops/connections/nope", headers=auth), 404, "not_found")
    body = httpx.get(url, headers=auth).json()
    assert body["delivery"] == "script" and "runAction" in body["runtime_script"]
    assert len(body["script_version"]) == 12
    [feature] = body["features"]
    operations = {op["id"]: op for op in feature["operations"]}
    assert [op["kind"] for op in feature["operations"]] == ["trigger", "query", "action"]
    fields = {f["id"]: f for f in operations["fa_rain_text"]["fields"]}
    assert fields["body"] == {**fields["body"], "visibility": "developer", "value": "Rain tomorrow: take an umbrella."}
    assert fields["phone"]["visibility"] == "user" and fields["phone"]["value"] is None
    assert hub.service_key not in httpx.get(url, headers=auth).text
    light_log = httpx.get(f"{hub.url}/v1/ops/connections/light-log", headers=auth).json()
    assert light_log["delivery"] == "webhook" and light_log["runtime_script"] is None
