"""The sample services, each run for real over HTTP: Service API shapes, trigger feeds, paging, faults."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any
import time

import httpx
import pytest

from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.server import BackgroundServer
from switchroom.hub.sample.services import SAMPLE_APPS

KEY = "test-service-key"
USER = {"id": "user-001", "timezone": "UTC"}

# One operation per app that the fault and input tests can call: (path, a valid body).
VALID_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "lights": ("/ifttt/v1/actions/change_color",
               {"actionFields": {"light": "kitchen", "color": "red"}, "user": USER, "ifttt_source": {}}),
    "messages": ("/ifttt/v1/actions/send_text",
                 {"actionFields": {"phone": "+15550100", "body": "hi"}, "user": USER, "ifttt_source": {}}),
    "videos": ("/ifttt/v1/queries/search_videos", {"queryFields": {"q": "bikes"}, "limit": 5}),
    "weather": ("/ifttt/v1/triggers/rain_tomorrow",
                {"trigger_identity": "t-1", "triggerFields": {"location": "Oslo"}, "limit": 5, "user": USER}),
}


@asynccontextmanager
async def served(name: str, faults: Faults | None = None, **headers: str) -> AsyncIterator[httpx.AsyncClient]:
    """The sample app ``name`` on a real port, and a client that sends the service key."""
    server = BackgroundServer(SAMPLE_APPS[name](KEY, faults or Faults()))
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers={"IFTTT-Service-Key": KEY, **headers}) as client:
            yield client
    finally:
        await server.stop()


async def poll(client: httpx.AsyncClient, slug: str, identity: str, fields: dict[str, Any],
               user: dict[str, str] = USER, **extra: Any) -> list[dict[str, Any]]:
    response = await client.post(f"/ifttt/v1/triggers/{slug}", json={
        "trigger_identity": identity, "triggerFields": fields, "user": user, **extra})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def query(client: httpx.AsyncClient, slug: str, fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await client.post(f"/ifttt/v1/queries/{slug}", json={"queryFields": fields, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status_code: int, skip: bool = False) -> str:
    assert response.status_code == status_code, response.text
    [error] = response.json()["errors"]
    assert isinstance(error["message"], str) and error["message"]
    assert error.get("status") == ("SKIP" if skip else None)
    return error["message"]


def assert_trigger_items(items: list[dict[str, Any]], ingredients: set[str]) -> None:
    """Each item carries exactly its ingredients and meta; newest first; meta ids unique."""
    for item in items:
        assert set(item) == ingredients | {"meta"}
        assert set(item["meta"]) == {"id", "timestamp"}
        assert isinstance(item["meta"]["id"], str) and type(item["meta"]["timestamp"]) is int
    timestamps = [item["meta"]["timestamp"] for item in items]
    assert timestamps == sorted(timestamps, reverse=True)
    assert len({item["meta"]["id"] for item in items}) == len(items)


# -- the key, the status endpoint, the request id ---------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_APPS)
@pytest.mark.parametrize("key", [None, "wrong-key"])
async def test_every_endpoint_refuses_a_wrong_or_missing_key(name: str, key: str | None) -> None:
    path, body = VALID_CALLS[name]
    async with served(name) as client:
        headers = {"IFTTT-Service-Key": key} if key else {}
        client.headers.pop("IFTTT-Service-Key")
        assert_error(await client.get("/ifttt/v1/status", headers=headers), 401)
        assert_error(await client.post(path, json=body, headers=headers), 401)
        assert_error(await client.get("/_faults", headers=headers), 401)
        assert_error(await client.post("/_faults", json={"outage": True}, headers=headers), 401)
        assert_error(await client.post("/_events/anything", json={}, headers=headers), 401)


@pytest.mark.parametrize("name", SAMPLE_APPS)
async def test_status_answers_with_the_right_key(name: str) -> None:
    async with served(name) as client:
        response = await client.get("/ifttt/v1/status")
    assert response.status_code == 200
    assert response.json() == {"data": {"status": "ok"}}


async def test_request_id_is_optional_and_echoed() -> None:
    async with served("messages") as client:
        path, body = VALID_CALLS["messages"]
        echoed = await client.post(path, json=body, headers={"X-Request-ID": "req-123"})
        missing = await client.post(path, json=body)
        on_error = await client.post(path, json={}, headers={"X-Request-ID": "req-456"})
    assert echoed.status_code == 200 and echoed.headers["X-Request-ID"] == "req-123"
    assert missing.status_code == 200 and "X-Request-ID" not in missing.headers
    assert on_error.status_code == 400 and on_error.headers["X-Request-ID"] == "req-456"


# -- lights -----------------------------------------------------------------------------------------------------


async def test_lights_change_color_then_list_lights_shows_it() -> None:
    async with served("lights") as client:
        path, body = VALID_CALLS["lights"]
        changed = await client.post(path, json=body)
        listed = await query(client, "list_lights", {})
    assert changed.status_code == 200
    assert changed.json() == {"data": [{"id": "kitchen"}]}
    assert [row["id"] for row in listed["data"]] == ["living_room", "kitchen", "bedroom", "porch"]
    assert "cursor" not in listed
    for row in listed["data"]:
        assert set(row) == {"id", "name", "color", "on"} and isinstance(row["on"], bool)
    assert listed["data"][1] == {**listed["data"][1], "name": "Kitchen", "color": "red"}


@pytest.mark.parametrize("fields", [{"light": "kitchen"}, {"light": "attic", "color": "red"},
                                    {"light": "kitchen", "color": "plaid"}, {"light": 3, "color": "red"}])
async def test_lights_change_color_rejects_missing_or_unknown_values(fields: dict[str, Any]) -> None:
    async with served("lights") as client:
        response = await client.post("/ifttt/v1/actions/change_color", json={"actionFields": fields, "user": USER})
    assert_error(response, 400)


async def test_light_on_polls_newest_first_with_a_seeded_history() -> None:
    async with served("lights") as client:
        items = await poll(client, "light_on", "id-a", {"light": "porch"})
        again = await poll(client, "light_on", "id-a", {"light": "porch"})
        two = await poll(client, "light_on", "id-a", {"light": "porch"}, limit=2)
        other = await poll(client, "light_on", "id-b", {"light": "porch"})
        missing_field = await client.post("/ifttt/v1/triggers/light_on",
                                          json={"trigger_identity": "id-c", "triggerFields": {}, "user": USER})
    assert len(items) == 3 and again == items and two == items[:2]
    assert_trigger_items(items, {"light", "color", "turned_on_at"})
    assert all(item["light"] == "porch" for item in items)
    for item in items:
        turned_on_at = datetime.fromisoformat(item["turned_on_at"])
        assert turned_on_at.timestamp() == item["meta"]["timestamp"]
    assert not {item["meta"]["id"] for item in items} & {item["meta"]["id"] for item in other}
    assert_error(missing_field, 400)


async def test_seeded_history_depends_only_on_seed_and_identity() -> None:
    def ingredients(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k not in ("meta", "turned_on_at")} for item in items]

    async with served("lights") as first, served("lights") as second:
        a = await poll(first, "light_on", "same", {"light": "kitchen"})
        b = await poll(second, "light_on", "same", {"light": "kitchen"})
    assert ingredients(a) == ingredients(b)


# -- trigger events ---------------------------------------------------------------------------------------------


async def test_an_event_is_the_next_polls_newest_item() -> None:
    async with served("lights") as client:
        history = await poll(client, "light_on", "id-a", {"light": "bedroom"})
        response = await client.post("/_events/light_on",
                                     json={"trigger_identity": "id-a", "ingredients": {"color": "purple"}})
        items = await poll(client, "light_on", "id-a", {"light": "bedroom"})
        newest = await poll(client, "light_on", "id-a", {"light": "bedroom"}, limit=1)
    assert response.status_code == 200
    [added] = response.json()["data"]
    assert added["trigger_identity"] == "id-a"
    assert added["item"]["light"] == "bedroom" and added["item"]["color"] == "purple"
    assert items == [added["item"], *history] and newest == [added["item"]]
    assert_trigger_items(items, {"light", "color", "turned_on_at"})


async def test_an_event_reaches_the_identity_else_the_users_identities_else_all() -> None:
    async with served("videos") as client:
        await poll(client, "new_liked_video", "a1", {}, user={"id": "ann"})
        await poll(client, "new_liked_video", "a2", {}, user={"id": "ann"})
        await poll(client, "new_liked_video", "b1", {}, user={"id": "bob"})
        by_user = await client.post("/_events/new_liked_video", json={"user_id": "ann"})
        to_all = await client.post("/_events/new_liked_video")
        to_one = await client.post("/_events/new_liked_video", json={"trigger_identity": "b1"})
        nobody = await client.post("/_events/new_liked_video", json={"user_id": "cid"})
        b1 = await poll(client, "new_liked_video", "b1", {}, user={"id": "bob"})

    def reached(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return sorted(entry["trigger_identity"] for entry in response.json()["data"])

    assert reached(by_user) == ["a1", "a2"]
    assert reached(to_all) == ["a1", "a2", "b1"]
    assert reached(to_one) == ["b1"]
    assert reached(nobody) == []
    assert b1[0] == to_one.json()["data"][0]["item"]
    assert b1[1] == next(e["item"] for e in to_all.json()["data"] if e["trigger_identity"] == "b1")
    assert_trigger_items(b1, {"video_id", "title", "url", "channel", "liked_at"})


@pytest.mark.parametrize(("path", "body", "status_code"), [
    ("/_events/light_on", {"trigger_identity": "never-polled"}, 404),
    ("/_events/light_on", {"ingredients": {"brightness": 3}}, 400),
    ("/_events/light_on", {"ingredients": "purple"}, 400),
    ("/_events/light_on", {"user_id": 7}, 400),
    ("/_events/no_such_trigger", {}, 404),
])
async def test_bad_events_are_refused(path: str, body: dict[str, Any], status_code: int) -> None:
    async with served("lights") as client:
        await poll(client, "light_on", "id-a", {"light": "bedroom"})
        response = await client.post(path, json=body)
        assert_error(response, status_code)
        assert len(await poll(client, "light_on", "id-a", {"light": "bedroom"})) == 3


# -- messages ---------------------------------------------------------------------------------------------------


async def test_send_text_answers_a_message_id() -> None:
    async with served("messages") as client:
        path, body = VALID_CALLS["messages"]
        first = await client.post(path, json=body)
        longest = await client.post(path, json={**body, "actionFields": {"phone": "+1555", "body": "x" * 1600}})
    assert first.status_code == 200 and longest.status_code == 200
    [sent] = first.json()["data"]
    assert set(sent) == {"id"} and isinstance(sent["id"], str)
    assert longest.json()["data"][0]["id"] != sent["id"]


@pytest.mark.parametrize("fields", [{"phone": "+1555", "body": "x" * 1601}, {"body": "hi"}, {"phone": "+1555"},
                                    {"phone": "+1555", "body": ""}, {"phone": ["+1555"], "body": "hi"}])
async def test_send_text_rejects_bad_fields_with_400_not_skip(fields: dict[str, Any]) -> None:
    async with served("messages", Faults(skip_rate=1.0)) as client:
        response = await client.post("/ifttt/v1/actions/send_text", json={"actionFields": fields, "user": USER})
    assert_error(response, 400, skip=False)


# -- videos -----------------------------------------------------------------------------------------------------


async def test_search_videos_pages_through_the_whole_result() -> None:
    async with served("videos") as client:
        everything = await query(client, "search_videos", {"q": "sourdough"}, limit=1000)
        pages, cursor = [], None
        while True:
            page = await query(client, "search_videos", {"q": "sourdough"}, limit=7,
                               **({"cursor": cursor} if cursor else {}))
            pages.append(page)
            cursor = page.get("cursor")
            if cursor is None:
                break
            assert isinstance(cursor, str) and len(page["data"]) == 7
    walked = [row for page in pages for row in page["data"]]
    assert "cursor" not in everything and 24 <= len(everything["data"]) <= 48
    assert len(pages) > 3
    assert walked == everything["data"]
    assert len({row["video_id"] for row in walked}) == len(walked)
    for row in walked:
        assert set(row) == {"video_id", "title", "url", "channel"}
        assert row["video_id"] in row["url"] and "sourdough" in row["title"].lower()


async def test_search_videos_is_deterministic_and_default_limit_is_50() -> None:
    async with served("videos") as client, served("videos") as other:
        a = await query(client, "search_videos", {"q": "chess"})
        b = await query(other, "search_videos", {"q": "chess"})
        c = await query(client, "search_videos", {"q": "espresso"})
    assert a == b and "cursor" not in a
    assert a["data"] != c["data"]


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "", "bm90OmEtY3Vyc29y", "from-other-q", 12])
async def test_search_videos_refuses_cursors_it_did_not_give_out(cursor: Any) -> None:
    async with served("videos") as client:
        if cursor == "from-other-q":
            cursor = (await query(client, "search_videos", {"q": "chess"}, limit=2))["cursor"]
        response = await client.post("/ifttt/v1/queries/search_videos",
                                     json={"queryFields": {"q": "bikes"}, "limit": 2, "cursor": cursor})
    if cursor == "":  # an empty cursor is the same as none
        assert response.status_code == 200
    else:
        assert_error(response, 400)


async def test_search_videos_needs_q() -> None:
    async with served("videos") as client:
        missing = await client.post("/ifttt/v1/queries/search_videos", json={"queryFields": {}, "limit": 5})
        blank = await client.post("/ifttt/v1/queries/search_videos", json={"queryFields": {"q": "  "}})
    assert "q" in assert_error(missing, 400)
    assert_error(blank, 400)


async def test_new_liked_video_items() -> None:
    async with served("videos") as client:
        items = await poll(client, "new_liked_video", "v-1", {})
    assert len(items) == 3
    assert_trigger_items(items, {"video_id", "title", "url", "channel", "liked_at"})


# -- weather ----------------------------------------------------------------------------------------------------


async def test_forecast_is_a_week_from_today_and_stable() -> None:
    async with served("weather") as client:
        week = await query(client, "forecast", {"location": "Bergen"})
        again = await query(client, "forecast", {"location": "Bergen"})
        first_three = await query(client, "forecast", {"location": "Bergen"}, limit=3)
    today = datetime.now(timezone.utc).date()
    assert week == again and "cursor" not in week
    assert [row["date"] for row in week["data"]] == [(today + timedelta(days=n)).isoformat() for n in range(7)]
    for row in week["data"]:
        assert set(row) == {"date", "summary", "high_c", "low_c", "rain_chance"}
        assert row["low_c"] < row["high_c"] and 0 <= row["rain_chance"] <= 100
    assert first_three["data"] == week["data"][:3] and "cursor" in first_three


async def test_rain_tomorrow_items_name_the_day_after() -> None:
    async with served("weather") as client:
        items = await poll(client, "rain_tomorrow", "w-1", {"location": "Bergen"})
        missing = await client.post("/ifttt/v1/triggers/rain_tomorrow",
                                    json={"trigger_identity": "w-2", "triggerFields": {}})
    assert len(items) == 3
    assert_trigger_items(items, {"location", "rain_chance", "date"})
    for item in items:
        fired = datetime.fromtimestamp(item["meta"]["timestamp"], timezone.utc).date()
        assert item["location"] == "Bergen" and date.fromisoformat(item["date"]) == fired + timedelta(days=1)
    assert_error(missing, 400)


# -- faults -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_APPS)
async def test_error_rate_one_answers_the_error_status(name: str) -> None:
    path, body = VALID_CALLS[name]
    async with served(name, Faults(error_rate=1.0, error_status=502)) as client:
        response = await client.post(path, json=body)
        status = await client.get("/ifttt/v1/status")
    assert_error(response, 502)
    assert status.status_code == 200


@pytest.mark.parametrize("name", SAMPLE_APPS)
async def test_outage_fails_every_call_but_status(name: str) -> None:
    path, body = VALID_CALLS[name]
    async with served(name, Faults(outage=True)) as client:
        responses = [await client.post(path, json=body) for _ in range(3)]
        status = await client.get("/ifttt/v1/status")
    for response in responses:
        assert "outage" in assert_error(response, 503)
    assert status.status_code == 200


@pytest.mark.parametrize("name", ["lights", "messages"])
async def test_skip_rate_one_skips_actions(name: str) -> None:
    path, body = VALID_CALLS[name]
    async with served(name, Faults(skip_rate=1.0)) as client:
        response = await client.post(path, json=body)
    assert_error(response, 400, skip=True)


async def test_skip_rate_one_leaves_queries_and_triggers_alone() -> None:
    async with served("lights", Faults(skip_rate=1.0)) as client:
        listed = await query(client, "list_lights", {})
        items = await poll(client, "light_on", "id-a", {"light": "kitchen"})
    assert len(listed["data"]) == 4 and len(items) == 3


async def test_latency_is_injected() -> None:
    path, body = VALID_CALLS["videos"]
    async with served("videos", Faults(latency_ms=150)) as client:
        started = time.perf_counter()
        response = await client.post(path, json=body)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200 and elapsed >= 0.15


async def test_faults_change_over_http_while_running() -> None:
    path, body = VALID_CALLS["lights"]
    async with served("lights") as client:
        assert (await client.post(path, json=body)).status_code == 200
        changed = await client.post("/_faults", json={"error_rate": 1.0, "error_status": 500, "unknown": 1})
        assert changed.json() == {"error_rate": 1.0, "error_status": 500, "skip_rate": 0.0, "latency_ms": 0.0,
                                  "outage": False, "outage_every_s": 0.0, "outage_for_s": 0.0}
        assert_error(await client.post(path, json=body), 500)
        await client.post("/_faults", json={"error_rate": 0.0})
        assert (await client.post(path, json=body)).status_code == 200
        assert (await client.get("/_faults")).json()["error_rate"] == 0.0


@pytest.mark.parametrize("changes", [{"outage": "false"}, {"error_rate": 2}, {"error_rate": "0.5"},
                                     {"error_status": 200}, {"latency_ms": -1}, {"skip_rate": True},
                                     {"error_rate": 1.0, "outage": "yes"}])
async def test_bad_fault_settings_are_400_and_change_nothing(changes: dict[str, Any]) -> None:
    async with served("lights") as client:
        before = (await client.get("/_faults")).json()
        assert_error(await client.post("/_faults", json=changes), 400)
        assert_error(await client.post("/_faults", content=b"{nope"), 400)
        assert (await client.get("/_faults")).json() == before


# -- untrusted input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_APPS)
@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe", b"[" * 100_000,
                                     b'{"a": 1' + b"0" * 5000 + b"}"])
async def test_malformed_bodies_are_400(name: str, content: bytes) -> None:
    path, _ = VALID_CALLS[name]
    async with served(name) as client:
        response = await client.post(path, content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 400)


@pytest.mark.parametrize(("path", "body"), [
    ("/ifttt/v1/actions/change_color", {"actionFields": ["kitchen", "red"]}),
    ("/ifttt/v1/queries/list_lights", {"queryFields": {}, "limit": "5"}),
    ("/ifttt/v1/queries/list_lights", {"queryFields": {}, "limit": -1}),
    ("/ifttt/v1/queries/list_lights", {"queryFields": {}, "limit": True}),
    ("/ifttt/v1/queries/list_lights", {"queryFields": "all"}),
    ("/ifttt/v1/triggers/light_on", {"triggerFields": {"light": "kitchen"}}),
    ("/ifttt/v1/triggers/light_on", {"trigger_identity": 5, "triggerFields": {"light": "kitchen"}}),
    ("/ifttt/v1/triggers/light_on", {"trigger_identity": "x" * 201, "triggerFields": {"light": "kitchen"}}),
    ("/ifttt/v1/triggers/light_on", {"trigger_identity": "t", "triggerFields": {"light": "kitchen"}, "user": "u"}),
    ("/ifttt/v1/triggers/light_on", {"trigger_identity": "t", "triggerFields": {"light": "kitchen"},
                                     "user": {"id": 1}}),
])
async def test_wrong_types_are_400(path: str, body: dict[str, Any]) -> None:
    async with served("lights") as client:
        assert_error(await client.post(path, json=body), 400)


async def test_unknown_operations_and_methods_answer_in_the_errors_body() -> None:
    async with served("lights") as client:
        unknown = await client.post("/ifttt/v1/actions/self_destruct", json={})
        wrong_method = await client.get("/ifttt/v1/actions/change_color")
        nowhere = await client.get("/nowhere")
    assert_error(unknown, 404)
    assert_error(wrong_method, 405)
    assert_error(nowhere, 404)


async def test_the_developer_backend_takes_webhooks_checks_them_and_fails_on_demand() -> None:
    from switchroom.hub.sample.developer import developer_app

    server = BackgroundServer(developer_app(KEY, Faults()))
    await server.start()
    path = "/ifttt/v1/webhooks/trigger_subscription/fired"
    body = {"sent_at": "2026-11-26T10:00:00.000Z",
            "data": {"connection_id": "c", "user_id": "u", "trigger_id": "lights.light_on", "feature_id": "f",
                     "user_feature_id": "uf-1"},
            "event_data": {"ingredients": {"light": "porch"}}}
    try:
        async with httpx.AsyncClient(base_url=server.url, headers={"IFTTT-Service-Key": KEY}) as client:
            assert (await client.post(path, json=body, headers={"IFTTT-Service-Key": "wrong"})).status_code == 401
            assert_error(await client.post(path, json={**body, "event_data": {}}), 400)
            assert_error(await client.post(path, content=b"{"), 400)
            assert (await client.post(path, json=body)).json() == {"data": {"received": "uf-1"}}
            assert (await client.get("/_received")).json()["data"] == [body]
            assert (await client.post("/_faults", json={"error_rate": 1.0, "error_status": 500})).status_code == 200
            assert_error(await client.post(path, json=body), 500)
            assert (await client.post("/_faults", json=["not", "an", "object"])).status_code == 400
    finally:
        await server.stop()
