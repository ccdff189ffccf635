"""Reruns through a real hub process and its sample services (DESIGN §9): a 502 rerun after the service
recovers, as resolved, refusals, idempotency (also across a restart), bulk reruns with dry runs,
cancelling and per-item results."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.hub_calls import inbound, records, rerun, run_action, wait_bulk
from tests.support.hubproc import RunningHub, start_hub

@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    running = start_hub(tmp_path / "hub")
    yield running
    running.stop()


def test_a_502_rerun_after_the_service_recovers_gives_204_with_rerun_of_and_an_audit(hub: RunningHub) -> None:
    hub.set_lights_faults(outage=True)
    original = inbound(hub, run_action(hub, fields={"color": "red"}))
    assert original["status_code"] == 502
    hub.set_lights_faults()

    answer = rerun(hub, {"api_call_id": original["seq"], "reason": "lights back up"})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["outcome"] == "ok" and result["status_code"] == 204 and result["original"] == original["seq"]

    [new_call] = records(hub, seq=result["api_call_id"])
    assert new_call["source"] == "rerun" and new_call["rerun_of"] == original["seq"]
    assert new_call["status_code"] == 204 and new_call["resolved_fields"] == original["resolved_fields"]
    outbound = records(hub, request_id=new_call["request_id"], direction="outbound")
    assert outbound and outbound[0]["status_code"] == 200 and outbound[0]["source"] == "rerun"
    [audit] = records(hub, kind="rerun", phase="item")
    assert audit["actor"] == "default" and audit["reason"] == "lights back up"
    assert audit["original"] == original["seq"] and audit["api_call_id"] == new_call["seq"]
    assert audit["outcome"] == "ok" and hub.token not in str(audit)


def test_a_rerun_sends_the_original_fields_unless_overridden(hub: RunningHub) -> None:
    hub.set_lights_faults(outage=True)
    original = inbound(hub, run_action(hub, fields={"color": "red"}))
    second = inbound(hub, run_action(hub, fields={"color": "red"}))
    hub.set_lights_faults()
    # Today's configuration changes: the user's default colour is no longer what the run resolved to.
    as_resolved = rerun(hub, {"api_call_id": original["seq"]}).json()
    [call] = records(hub, seq=as_resolved["api_call_id"])
    assert call["resolved_fields"]["color"] == "red"
    overridden = rerun(hub, {"api_call_id": second["seq"], "fields": {"color": "blue"}}).json()
    [call] = records(hub, seq=overridden["api_call_id"])
    assert call["resolved_fields"] == {**original["resolved_fields"], "color": "blue"}
    bad = rerun(hub, {"api_call_id": second["seq"], "fields": {"shade": "x"}, "force": True})
    assert bad.status_code == 200 and bad.json()["status_code"] == 422  # recorded as a failed rerun


def test_refusals(hub: RunningHub) -> None:
    hub.set_lights_faults()
    ok = inbound(hub, run_action(hub))
    assert ok["status_code"] == 204
    refused = rerun(hub, {"api_call_id": ok["seq"]})
    assert refused.status_code == 409 and refused.json()["code"] == "not_rerunnable"
    assert rerun(hub, {"api_call_id": ok["seq"], "force": True}).json()["outcome"] == "ok"

    assert rerun(hub, {"api_call_id": 10**9}).json()["code"] == "not_found"
    hub.set_lights_faults(outage=True)
    failed = inbound(hub, run_action(hub))
    hub.set_lights_faults()
    assert rerun(hub, {"api_call_id": failed["seq"]}).status_code == 200
    again = rerun(hub, {"api_call_id": failed["seq"]})
    assert again.status_code == 409 and again.json()["code"] == "already_rerun"

    no_key = rerun(hub, {"api_call_id": failed["seq"]}, key=None)
    assert no_key.status_code == 400 and no_key.json()["details"][0]["parameter"] == "/headers/Idempotency-Key"
    both = rerun(hub, {"api_call_id": 1, "filter": "status:5xx"})
    assert both.status_code == 422 and both.json()["details"][0]["parameter"] == "/api_call_id"
    bad_filter = rerun(hub, {"filter": "status:9xx"})
    assert bad_filter.status_code == 422 and bad_filter.json()["details"][0]["parameter"] == "/filter"
    unauthorized = httpx.post(f"{hub.url}/v1/ops/reruns", json={"api_call_id": 1}, headers={"Idempotency-Key": "k"})
    assert unauthorized.status_code == 401


def test_the_same_key_runs_once_also_after_a_restart(tmp_path: Path) -> None:
    workdir, db = tmp_path / "hub", tmp_path / "hub.sqlite"
    hub = start_hub(workdir, db=db)
    try:
        hub.set_lights_faults(outage=True)
        failed = inbound(hub, run_action(hub))
        hub.set_lights_faults()
        body = {"api_call_id": failed["seq"], "force": True}
        with ThreadPoolExecutor(2) as pool:  # two presses in quick succession, the same key
            answers = list(pool.map(lambda _: rerun(hub, body, key="press-1"), range(2)))
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].json() == answers[1].json()
        assert len(records(hub, kind="rerun", phase="item")) == 1
        token, service_key, port = hub.token, hub.service_key, int(hub.url.rsplit(":", 1)[1])
    finally:
        hub.stop()
    hub = start_hub(workdir, db=db, token=token, service_key=service_key, port=port)
    try:
        replay = rerun(hub, body, key="press-1")
        assert replay.status_code == 200 and replay.json() == answers[0].json()
        assert len(records(hub, kind="rerun", phase="item")) == 1
        assert len(records(hub, source="rerun", direction="inbound")) == 1
    finally:
        hub.stop()


def test_bulk_dry_run_counts_what_the_bulk_then_does(hub: RunningHub) -> None:
    hub.set_lights_faults(outage=True)
    calls = [inbound(hub, run_action(hub, user_id=f"user-{n:03d}")) for n in range(1, 31)]
    failed = [call for call in calls if call["status_code"] == 502]  # the rest: users without the connection
    assert len(failed) >= 10
    hub.set_lights_faults()
    first = rerun(hub, {"api_call_id": failed[0]["seq"]})  # one rerun already: refused in the bulk
    assert first.json()["outcome"] == "ok"
    hub.set_lights_faults(error_rate=0.3, error_status=503)
    since = failed[0]["ts"]
    filter_text = f"feature:glow status:5xx dir:inbound since:{since[:19]}"
    plan = rerun(hub, {"filter": filter_text, "dry_run": True}, key=None)
    assert plan.status_code == 200, plan.text
    counted = plan.json()
    assert counted["count"] == len(failed) - 1 and counted["refused"] == {"already_rerun": 1}
    assert counted["through_seq"] >= failed[-1]["seq"] and counted["as_of"]

    # Between the count and the confirmation, more calls fail that the filter shows too.
    hub.set_lights_faults(outage=True)
    later = [inbound(hub, run_action(hub, user_id=f"user-{n:03d}")) for n in range(31, 61)]
    assert [call for call in later if call["status_code"] == 502]
    hub.set_lights_faults(error_rate=0.3, error_status=503)
    unbound = rerun(hub, {"filter": filter_text, "dry_run": True}, key=None).json()
    assert unbound["count"] > counted["count"]  # counted now, they would be swept in

    bound = {"through_seq": counted["through_seq"], "as_of": counted["as_of"]}
    started = rerun(hub, {"filter": filter_text, "rate": 5000, **bound})
    assert started.status_code == 202, started.text
    done = wait_bulk(hub, started.json()["id"])
    assert done["state"] == "finished" and done["total"] == counted["count"]
    assert done["ok"] + done["failed"] == counted["count"]
    items = done["items"]
    assert len(items) == len({item["original"] for item in items}) == counted["count"]  # each once
    assert {item["original"] for item in items} == set(counted["api_call_ids"])  # exactly what was counted
    assert all(item["outcome"] in ("ok", "failed") for item in items)
    assert all(item["status_code"] == 502 for item in items if item["outcome"] == "failed")
    # Counted a second way: the service's 503s to rerun calls (its faults are seeded, so some fail and some not).
    refused_by_service = records(hub, direction="outbound", source="rerun", status_code=503)
    assert done["failed"] == len(refused_by_service) > 0 and done["ok"] > 0
    assert len(records(hub, kind="rerun", phase="item", bulk_id=done["id"])) == counted["count"]


def test_a_bulk_can_be_cancelled_and_reports_what_it_did(hub: RunningHub) -> None:
    hub.set_lights_faults(outage=True)
    for n in range(1, 41):
        run_action(hub, user_id=f"user-{n:03d}")
    hub.set_lights_faults()
    started = rerun(hub, {"filter": "feature:glow status:502 dir:inbound", "rate": 1}).json()
    assert started["total"] >= 10
    wait_bulk(hub, started["id"], until=lambda status: status["done"] >= 1)  # one a second: far from done
    cancelled = httpx.post(f"{hub.url}/v1/ops/reruns/{started['id']}/cancel",
                           headers={"Authorization": f"Bearer {hub.token}"}).json()
    assert cancelled["state"] == "cancelled" and 0 < cancelled["done"] < cancelled["total"]
    status = wait_bulk(hub, started["id"])
    assert len(status["items"]) == status["done"] == cancelled["done"]


def test_an_outbound_call_stands_for_its_inbound_half(hub: RunningHub) -> None:
    """The service's 503 is what an operator sees first; naming it, or filtering on it, reruns the run that
    made it (the inbound call, recorded after it)."""
    hub.set_lights_faults(outage=True)
    original = inbound(hub, run_action(hub))
    [outbound] = records(hub, request_id=original["request_id"], direction="outbound")
    assert outbound["seq"] < original["seq"] and outbound["status_code"] == 503
    plan = rerun(hub, {"filter": "status:503 dir:outbound", "dry_run": True}, key=None).json()
    assert (plan["count"], plan["api_call_ids"], plan["refused"]) == (1, [original["seq"]], {})
    hub.set_lights_faults()
    result = rerun(hub, {"api_call_id": outbound["seq"]}).json()
    assert (result["original"], result["outcome"], result["status_code"]) == (original["seq"], "ok", 204)
