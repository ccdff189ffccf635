"""The trigger pipeline of a real hub process (DESIGN §5–6): realtime notifications and polling, dedupe
that survives a restart, delivery to runtime scripts (real V8) and to a developer's webhook.

The sample services run in the test process, so they keep their trigger items while hubs come and go;
users enable connections through the Connect API, as a developer's backend would.
"""

from pathlib import Path
import json

import httpx

from tests.support.sample_services import SampleServices
from tests.support.streams import collect
from tests.support.triggers import (
    PHONE, USER, add_item, failed_rain_alert_run, key, notify, of, polls, records, start, wait_for,
)


def test_liked_video_search_and_texts_end_to_end(services: SampleServices, tmp_path: Path) -> None:
    """The classic: a newly liked video → search videos like it (limit 3) → text each title and URL."""
    hub = start(services, tmp_path)
    try:
        assert notify(hub, {"user_id": USER}).json()["subscriptions"] == 6  # one per enabled trigger
        wait_for(hub.db, polls("liked-video-texts"))  # the first poll: a baseline, nothing delivered
        title = "Sourdough for beginners"
        [added] = add_item(services, "videos.new_liked_video", title=title)
        response = notify(hub, {"trigger_identity": added["trigger_identity"]})
        assert response.status_code == 200 and response.json() == {"type": "notification", "subscriptions": 1}

        [run] = wait_for(hub.db, of("script_run", connection_id="liked-video-texts"))
        assert run["status"] == "ok", run.get("error")
        assert run["user_id"] == USER and run["op_id"] == "videos.new_liked_video"
        assert run["source"] == "notification"
        assert [line["text"] for line in run["console"]] == [f'texted 3 videos like "{title}"']

        everything = records(hub.db)
        [event] = of("trigger_event", connection_id="liked-video-texts")(everything)
        assert event["seq"] == run["trigger_event_id"]
        assert event["meta_id"] == added["item"]["meta"]["id"]
        assert event["ingredients"]["title"] == title and event["delivered_to"] == "script"

        expected = services.post("videos", "/ifttt/v1/queries/search_videos",
                                 {"queryFields": {"q": title}, "limit": 3}).json()["data"]
        assert [(c["kind"], c["op_id"], c["status_code"]) for c in run["calls"]] == [
            ("query", "videos.search_videos", 200), *[("action", "messages.send_text", 204)] * 3]
        by_seq = {r["seq"]: r for r in everything}
        inbound = [by_seq[c["api_call_id"]] for c in run["calls"]]
        for call in inbound:  # each went the Connect API's way, tagged with the run
            assert call["direction"] == "inbound" and call["source"] == "script"
            assert call["script_run_id"] == run["script_run_id"] and call["user_id"] == USER
        assert inbound[0]["resolved_fields"] == {"q": title}
        assert [c["resolved_fields"] for c in inbound[1:]] == [
            {"phone": PHONE, "body": f"{video['title']} {video['url']}"} for video in expected]
        texts = of("api_call", direction="outbound", op="action", script_run_id=run["script_run_id"])(everything)
        assert [t["request_body"]["actionFields"]["body"] for t in texts] == [
            f"{video['title']} {video['url']}" for video in expected]
        assert all(t["status_code"] == 200 and t["source"] == "script" for t in texts)
    finally:
        hub.stop()


async def test_trigger_events_have_their_own_stream(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    try:
        response = httpx.post(f"{hub.url}/v2/connections/liked-video-texts/triggers/videos.new_liked_video/test",
                              json={"user_id": USER}, headers=key(hub))
        assert response.status_code == 204
        events = await collect(hub.ws_url, hub.token, lambda rs: bool(rs), path="/v1/streams/triggers")
        assert {r["kind"] for r in events} == {"trigger_event"}
        assert events[0]["source"] == "test" and events[0]["connection_id"] == "liked-video-texts"
        [run] = wait_for(hub.db, of("script_run", connection_id="liked-video-texts"))
        assert run["source"] == "test" and run["trigger_event_id"] == events[0]["seq"]
        logs = await collect(hub.ws_url, hub.token, lambda rs: any(r["kind"] == "script_run" for r in rs))
        assert "trigger_event" not in {r["kind"] for r in logs}
    finally:
        hub.stop()


def test_polling_delivers_once_also_after_a_restart_and_webhooks_are_recorded(
        services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path / "first", "--poll-interval=0.5")
    db = hub.db
    try:
        wait_for(db, polls("light-log"))
        added = {a["item"]["meta"]["id"] for a in add_item(services, "lights.light_on", light="kitchen")}
        [event] = wait_for(db, of("trigger_event", connection_id="light-log"))
        assert event["source"] == "poll" and event["meta_id"] in added and event["delivered_to"] == "webhook"
        [webhook] = wait_for(db, of("api_call", direction="webhook", trigger_event_id=event["seq"]))
        assert webhook["status_code"] == 200 and webhook["op"] == "webhook"
        assert webhook["request_body"]["event_data"]["ingredients"]["light"] == "kitchen"
        assert webhook["request_body"]["data"] == {
            "connection_id": "light-log", "user_id": USER, "trigger_id": "lights.light_on", "feature_id": "log",
            "user_feature_id": event["user_feature_id"]}
        received = services.get("developer", "/_received").json()["data"]
        assert any(r["data"]["user_feature_id"] == event["user_feature_id"] for r in received)
        assert notify(hub, {"user_id": USER}).status_code == 200
        seen_polls = len(polls("light-log")(records(db)))
        wait_for(db, polls("light-log"), count=seen_polls + 3)  # polled again, and again: nothing new
        assert len(of("trigger_event", connection_id="light-log")(records(db))) == 1
    finally:
        hub.stop()

    # While the hub is down, the light comes on again: the restarted hub delivers that item, and only it.
    later = {a["item"]["meta"]["id"] for a in add_item(services, "lights.light_on", light="porch")}
    hub = start(services, tmp_path / "second", "--poll-interval=0.5", db=db, enable=False)  # users were kept
    try:
        before = len(polls("light-log")(records(db)))
        wait_for(db, polls("light-log"), count=before + 3)
        events = of("trigger_event", connection_id="light-log")(records(db))
        assert [e["meta_id"] in added for e in events] == [True, False]
        assert events[1]["meta_id"] in later and events[1]["ingredients"]["light"] == "porch"

        services.post("developer", "/_faults", {"error_rate": 1.0, "error_status": 500})
        try:
            add_item(services, "lights.light_on", light="kitchen")
            failed = wait_for(db, of("api_call", direction="webhook", connection_id="light-log"), count=3)[-1]
        finally:
            services.post("developer", "/_faults", {"error_rate": 0.0})
        assert failed["status_code"] == 500 and failed["error_code"] == "service_error"
        assert len(of("trigger_event", connection_id="light-log")(records(db))) == 3
    finally:
        hub.stop()


def test_a_script_that_throws_fails_with_its_line(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    try:
        run = failed_rain_alert_run(hub, services)
        assert run["status"] == "error"
        assert run["error"]["message"] == "TypeError: Cannot read properties of undefined (reading 'high_c')"
        assert run["error"]["line"] == 7
        assert [(c["op_id"], c["status_code"]) for c in run["calls"]] == [("weather.forecast", 200)]
    finally:
        hub.stop()


def test_a_hanging_script_times_out_keeps_what_it_did_and_the_hub_goes_on(
        services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path, "--script-time-limit", "1")
    test_hang = f"{hub.url}/v2/connections/hang-on/triggers/lights.light_on/test"
    try:
        for _ in range(2):
            assert httpx.post(test_hang, json={"user_id": USER}, headers=key(hub)).status_code == 204
        runs = wait_for(hub.db, of("script_run", connection_id="hang-on"), count=2)
        for run in runs:
            assert run["status"] == "timeout" and run["time_limit_ms"] == 1000
            assert run["duration_ms"] >= 1000  # stopped at the limit, not before
            assert run["console"] == [{"level": "log", "text": "about to hang"}]
            [call] = run["calls"]
            assert (call["op_id"], call["status_code"]) == ("lights.change_color", 204) and call["api_call_id"]
        health = httpx.get(f"{hub.url}/v1/health").json()
        assert health["status"] == "ok" and health["scripts"]["time_limit_s"] == 1.0
        httpx.post(f"{hub.url}/v2/connections/liked-video-texts/triggers/videos.new_liked_video/test",
                   json={"user_id": USER}, headers=key(hub))
        [run] = wait_for(hub.db, of("script_run", connection_id="liked-video-texts"))
        assert run["status"] == "ok", run.get("error")
    finally:
        hub.stop()


def test_a_script_sees_its_globals_and_a_memory_bomb_ends_as_oom(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    try:
        for connection_id in ("globals", "bomb", "globals"):
            response = httpx.post(f"{hub.url}/v2/connections/{connection_id}/triggers/lights.light_on/test",
                                  json={"user_id": USER}, headers=key(hub))
            assert response.status_code == 204
            wait_for(hub.db, of("script_run", connection_id=connection_id))
        [bomb] = of("script_run", connection_id="bomb")(records(hub.db))
        assert bomb["status"] == "oom"  # the memory cap stopped it, not the time limit
        runs = wait_for(hub.db, of("script_run", connection_id="globals"), count=2)
        [event] = of("trigger_event", connection_id="globals")(records(hub.db))[:1]
        for run in runs:  # before and after the bomb
            assert run["status"] == "ok", run.get("error")
            assert json.loads(run["console"][0]["text"]) == {
                "zone": "+09:00", "trigger": "lights.light_on", "light": event["ingredients"]["light"],
                "user": USER, "feature": "The globals feature", "userFeature": event["user_feature_id"],
                "configuration": {"greeting": "hello"}}
        assert httpx.get(f"{hub.url}/v1/health").json()["status"] == "ok"
    finally:
        hub.stop()


def test_notifications_are_checked(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    url = f"{hub.url}/v1/notifications"
    try:
        assert httpx.post(url, json={"data": [{"user_id": USER}]}).status_code == 401
        for body, pointer in (({}, "/data"), ({"data": []}, "/data"), ({"data": [1]}, "/data/0"),
                              ({"data": [{"user_id": USER}, {"trigger_identity": 5}]}, "/data/1"),
                              ({"data": [{"user_id": "a", "trigger_identity": "b"}]}, "/data/0")):
            response = httpx.post(url, json=body, headers=key(hub))
            assert response.status_code == 422, body
            assert response.json()["code"] == "invalid_parameters"
            assert [d["parameter"] for d in response.json()["details"]] == [pointer]
        assert httpx.post(url, content=b"{", headers=key(hub)).status_code == 400
        assert notify(hub, {"trigger_identity": "nobody"}).json()["subscriptions"] == 0
        assert notify(hub, {"user_id": "user-nobody"}).json()["subscriptions"] == 0
        recorded = of("api_call", direction="inbound", op="notification")(records(hub.db))
        assert {r["status_code"] for r in recorded} == {200, 400, 401, 422}
    finally:
        hub.stop()
