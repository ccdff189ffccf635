"""``POST /v1/ops/script-trials`` on a real hub with real V8 and the sample services over real HTTP: a
candidate script tried on recorded trigger events, event by event beside the original runs, with nothing
reaching a service (the services' own counters say so) and no figure moved."""

from pathlib import Path
from typing import Any

import httpx

from tests.support.script_trials import (LIKED_VIDEO_TEXTS_BROKEN, RAIN_ALERT_FIXED, calls_received,
                                         liked_video_run, rain_alert_runs, try_script)
from tests.support.sample_services import SampleServices
from tests.support.triggers import of, records, start, wait_for

Record = dict[str, Any]


def items(lines: list[Record]) -> list[Record]:
    return [line for line in lines if line["type"] == "trial_item"]


def test_a_candidate_that_fixes_rain_alert_turns_its_failed_event_into_ok(services: SampleServices,
                                                                          tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    try:
        failed, good = rain_alert_runs(hub, services)
        asked_before = calls_received(services)
        status, lines = try_script(hub, {"connection_id": "rain-alert", "source": RAIN_ALERT_FIXED, "last": 10,
                                         "reason": "guard tomorrow"})
        assert status == 200, lines
        started, *tried, summary = lines
        assert started["type"] == "trial_started" and started["events"] == 2 and started["capped"] is False
        assert started["live_version"] == failed["script_version"] != started["script_version"]
        by_event = {item["trigger_event_id"]: item for item in tried}
        fixed = by_event[failed["trigger_event_id"]]
        assert fixed["verdict"] == "fixed"
        assert fixed["original"]["status"] == "error" and "high_c" in fixed["original"]["error"]["message"]
        assert fixed["original"]["error"]["line"] == 7 and fixed["original"]["seq"] == failed["seq"]
        assert fixed["candidate"]["status"] == "ok"
        assert [line["text"] for line in fixed["candidate"]["console"]] == ["no forecast for 2001-01-01"]
        # the forecast it asked for again was answered with what the original run got
        [query] = fixed["candidate"]["calls"]
        assert (query["op_id"], query["answered_by"], query["status_code"]) == ("weather.forecast", "original", 200)
        same = by_event[good["trigger_event_id"]]
        assert same["verdict"] == "unchanged"
        assert [c["answered_by"] for c in same["candidate"]["calls"]] == ["original", "original"]  # same calls, same answers
        assert same["candidate"]["calls"][1]["fields"] == same["original"]["calls"][1]["fields"]
        assert summary["type"] == "trial_summary"
        assert (summary["events"], summary["fixed"], summary["broken"], summary["unchanged"]) == (2, 1, 0, 1)

        assert calls_received(services) == asked_before  # no service heard of the trial
        [record] = wait_for(hub.db, of("script_trial", connection_id="rain-alert"))
        assert record["seq"] == summary["seq"] and record["outcome"] == "clean" and record["fixed"] == 1
        assert record["items"] == [{"trigger_event_id": failed["trigger_event_id"], "verdict": "fixed"}]
        assert record["actor"] == "default" and record["reason"] == "guard tomorrow"
        assert of("script_run", connection_id="rain-alert")(records(hub.db)) == [failed, good]  # no new runs
    finally:
        hub.stop()


def test_a_candidate_that_breaks_liked_video_texts_is_reported_with_its_changed_calls(
        services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    try:
        run = liked_video_run(hub, services)
        asked_before = calls_received(services)
        status, lines = try_script(hub, {"connection_id": "liked-video-texts", "source": LIKED_VIDEO_TEXTS_BROKEN})
        assert status == 200
        [broken] = [item for item in items(lines) if item["trigger_event_id"] == run["trigger_event_id"]]
        assert broken["verdict"] == "broken"
        assert broken["original"]["status"] == "ok" and broken["candidate"]["status"] == "error"
        assert "fuond is not defined" in broken["candidate"]["error"]["message"]
        assert broken["candidate"]["error"]["line"] == 5
        assert [c["op_id"] for c in broken["original"]["calls"]] == ["videos.search_videos"] + ["messages.send_text"] * 3
        assert [c["op_id"] for c in broken["candidate"]["calls"]] == ["videos.search_videos", "messages.send_text"]
        summary = lines[-1]
        assert summary["broken"] == 1
        assert calls_received(services) == asked_before
        [record] = wait_for(hub.db, of("script_trial", connection_id="liked-video-texts"))
        assert record["outcome"] == "broken" and record["items"][0]["verdict"] == "broken"
    finally:
        hub.stop()


def test_live_queries_reach_their_service_and_actions_never_do(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    try:
        liked_video_run(hub, services)
        other_search = LIKED_VIDEO_TEXTS_BROKEN.replace("q: liked.title", 'q: "cats"').replace("fuond", "found")
        before = calls_received(services)
        status, lines = try_script(hub, {"connection_id": "liked-video-texts", "source": other_search,
                                         "live_queries": True})
        assert status == 200
        [item] = items(lines)
        assert item["verdict"] == "changed"
        query, action = item["candidate"]["calls"]
        assert query["answered_by"] == "live" and query["fields"] == {"q": "cats"} and query["status_code"] == 200
        assert action["answered_by"] == "stand_in" and action["status_code"] == 204
        after = calls_received(services)
        assert after["videos"].get("query/search_videos", 0) == before["videos"].get("query/search_videos", 0) + 1
        assert after["messages"] == before["messages"]  # the action never ran
    finally:
        hub.stop()


def test_a_trial_moves_no_figure(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    try:
        rain_alert_runs(hub, services)
        headers = {"Authorization": f"Bearer {hub.token}"}
        figures = httpx.get(f"{hub.url}/v1/ops/connections", headers=headers).json()["data"]
        for _ in range(3):
            assert try_script(hub, {"connection_id": "rain-alert", "source": RAIN_ALERT_FIXED})[0] == 200
        wait_for(hub.db, of("script_trial"), count=3)
        assert httpx.get(f"{hub.url}/v1/ops/connections", headers=headers).json()["data"] == figures
    finally:
        hub.stop()


def test_a_trial_that_cannot_start_says_why(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    try:
        cases = [
            ({"connection_id": "no-such", "source": "1;"}, 404, "not_found", None),
            ({"connection_id": "rain-alert", "source": "const = ;\n"}, 422, "invalid_parameters", "line 1"),
            ({"connection_id": "rain-alert", "source": "1;", "filter": "stauts:5xx"}, 422, "invalid_parameters",
             "'stauts:' is not a filter"),
            ({"connection_id": "rain-alert", "source": "1;", "filter": "since:1h", "last": 5}, 422,
             "invalid_parameters", "not both"),
            ({"connection_id": "rain-alert", "source": "1;", "last": 0}, 422, "invalid_parameters", "/last"),
            ({"connection_id": "rain-alert"}, 422, "invalid_parameters", "/source"),
        ]
        for body, status, code, said in cases:
            got, [answer] = try_script(hub, body)
            assert (got, answer["type"], answer["code"]) == (status, "error", code), answer
            assert said is None or said in answer["message"], answer
        got, [answer] = try_script(hub, {"connection_id": "rain-alert", "source": "1;"}, token="wrong")
        assert (got, answer["code"]) == (401, "unauthorized")
        status, lines = try_script(hub, {"connection_id": "rain-alert", "source": "1;", "filter": "user:nobody"})
        assert status == 200 and [line["type"] for line in lines] == ["trial_started", "trial_summary"]
    finally:
        hub.stop()
