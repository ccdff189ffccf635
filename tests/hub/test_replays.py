"""``POST /v1/ops/replays`` on a real hub (DESIGN §9): a trigger event delivered again through its
connection's runtime script (real V8) or webhook, audited, refused by the reruns' rules, never twice
for one idempotency key (also across a restart)."""

from pathlib import Path
from typing import Any
import uuid

import httpx

from tests.support.hub_calls import rerun
from tests.support.hubproc import RunningHub
from tests.support.sample_services import SampleServices
from tests.support.triggers import (
    USER, add_item, failed_rain_alert_run, key, notify, of, polls, records, start, wait_for,
)

Record = dict[str, Any]


def replay(hub: RunningHub, body: dict[str, Any], idempotency_key: str | None = "fresh") -> httpx.Response:
    headers = {"Authorization": f"Bearer {hub.token}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = uuid.uuid4().hex if idempotency_key == "fresh" else idempotency_key
    return httpx.post(f"{hub.url}/v1/ops/replays", json=body, headers=headers, timeout=60)


def test_a_failed_script_run_is_replayed_through_the_script(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    try:
        first = failed_rain_alert_run(hub, services)
        assert first["status"] == "error"
        seq = first["trigger_event_id"]

        plan = replay(hub, {"trigger_event_id": seq, "dry_run": True}, idempotency_key=None)
        assert plan.json() == {"type": "replay_plan", "count": 1, "trigger_event_id": seq, "delivered_to": "script"}
        answer = replay(hub, {"trigger_event_id": seq, "reason": "script fixed"}, idempotency_key="press-1")
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["type"] == "replay" and result["original"] == seq and result["delivered_to"] == "script"
        assert result["outcome"] == "failed" and result["error_code"] == "error" and "high_c" in result["message"]
        [again] = wait_for(hub.db, of("script_run", connection_id="rain-alert", source="rerun"))
        assert again["trigger_event_id"] == seq and again["script_run_id"] == result["script_run_id"]
        assert [c["op_id"] for c in again["calls"]] == ["weather.forecast"]  # it ran, its calls made anew
        [audit] = wait_for(hub.db, of("rerun", phase="item"))
        assert audit["replay"] is True and audit["original"] == seq and audit["actor"] == "default"
        assert audit["reason"] == "script fixed" and audit["script_run_id"] == result["script_run_id"]

        repeated = replay(hub, {"trigger_event_id": seq}, idempotency_key="press-1")
        assert repeated.json() == result and repeated.headers["Idempotent-Replayed"] == "true"
        other_route = rerun(hub, {"api_call_id": first["calls"][0]["api_call_id"]}, key="press-1")
        assert other_route.status_code == 422, other_route.text  # never the replay's answer as a rerun's
        assert other_route.json()["details"][0]["parameter"] == "/headers/Idempotency-Key"
        refused = replay(hub, {"trigger_event_id": seq})
        assert refused.status_code == 409 and refused.json()["code"] == "already_rerun"
        assert replay(hub, {"trigger_event_id": seq, "force": True}).json()["outcome"] == "failed"
        wait_for(hub.db, of("script_run", connection_id="rain-alert"), count=3)

        assert replay(hub, {"trigger_event_id": 10**9}).json()["code"] == "not_found"
        not_event = replay(hub, {"trigger_event_id": first["calls"][0]["api_call_id"]})
        assert not_event.status_code == 409 and not_event.json()["code"] == "not_rerunnable"
        for body, status, pointer in (({"trigger_event_id": "7"}, 422, "/trigger_event_id"),
                                      ({"trigger_event_id": seq, "force": "yes"}, 422, "/force")):
            bad = replay(hub, body)
            assert bad.status_code == status and bad.json()["details"][0]["parameter"] == pointer
        no_key = replay(hub, {"trigger_event_id": seq}, idempotency_key=None)
        assert no_key.status_code == 400 and no_key.json()["details"][0]["parameter"] == "/headers/Idempotency-Key"
        assert httpx.post(f"{hub.url}/v1/ops/replays", json={"trigger_event_id": seq}).status_code == 401

        disabled = httpx.post(f"{hub.url}/v2/connections/rain-alert/disable", params={"user_id": USER},
                              headers=key(hub))
        assert disabled.status_code == 200, disabled.text
        gone = replay(hub, {"trigger_event_id": seq, "force": True})
        assert gone.status_code == 409 and "no longer has the subscription" in gone.json()["message"]
    finally:
        hub.stop()


def test_a_failed_webhook_is_replayed_once_also_after_a_restart(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path / "first")
    db = hub.db
    test_light_log = f"{hub.url}/v2/connections/light-log/triggers/lights.light_on/test"
    try:
        notify(hub, {"user_id": USER})
        wait_for(db, polls("light-log"))
        add_item(services, "lights.light_on", light="kitchen")
        services.post("developer", "/_faults", {"error_rate": 1.0, "error_status": 500})
        try:
            assert httpx.post(test_light_log, json={"user_id": USER}, headers=key(hub)).status_code == 204
            [failed] = wait_for(db, of("api_call", direction="webhook", connection_id="light-log"))
        finally:
            services.post("developer", "/_faults", {"error_rate": 0.0})
        assert failed["status_code"] == 500
        seq = failed["trigger_event_id"]

        result = replay(hub, {"trigger_event_id": seq}, idempotency_key="webhook-1").json()
        assert result == {"type": "replay", "original": seq, "outcome": "ok", "status_code": 200,
                          "delivered_to": "webhook"}
        [again] = wait_for(db, of("api_call", direction="webhook", source="rerun"))
        assert again["trigger_event_id"] == seq and again["status_code"] == 200
        assert again["request_body"]["event_data"] == failed["request_body"]["event_data"]

        assert httpx.post(test_light_log, json={"user_id": USER}, headers=key(hub)).status_code == 204
        delivered = wait_for(db, of("api_call", direction="webhook", connection_id="light-log", source="test"), 2)[-1]
        assert delivered["status_code"] == 200
        succeeded = replay(hub, {"trigger_event_id": delivered["trigger_event_id"]})
        assert succeeded.status_code == 409 and "delivered successfully" in succeeded.json()["message"]
    finally:
        hub.stop()
    hub = start(services, tmp_path / "second", db=db, enable=False)
    try:
        repeated = replay(hub, {"trigger_event_id": seq}, idempotency_key="webhook-1")
        assert repeated.status_code == 200 and repeated.json() == result
        assert len(of("api_call", direction="webhook", source="rerun")(records(db))) == 1
    finally:
        hub.stop()
