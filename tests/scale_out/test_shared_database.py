"""Several hub processes on one PostgreSQL database (DESIGN §12): one hub id, one log that any of them
streams, and user connections that one hub writes and the next request on another reads."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import asyncio
import json
import secrets
import time
import uuid

import httpx
import pytest
import websockets

from switchroom.store.hub_log import open_hub_log
from switchroom.hub.peers import BEAT_S
from tests.support.hub_calls import RUN, assert_error, inbound, post_run, rerun
from tests.support.hubproc import RunningHub, free_port, start_hub
from tests.support.postgres import PostgresCluster
from tests.support.sample_services import SampleServices
from tests.support.triggers import ENABLE, USER, Record, key, records, start


TOKEN = "shared-operator-token"
"""Every hub on one database takes the same operator token (a hub with another refuses to join)."""


@pytest.fixture
def two_hubs(services: SampleServices, postgres_url: str, tmp_path: Path) -> Iterator[tuple[RunningHub, RunningHub]]:
    first = start(services, tmp_path / "a", db=postgres_url, enable=False, token=TOKEN)
    second = start(services, tmp_path / "b", db=postgres_url, enable=False, token=TOKEN)
    yield first, second
    first.stop()
    second.stop()


def test_a_user_connection_written_through_one_hub_is_read_by_the_next_request_on_another(
        two_hubs: tuple[RunningHub, RunningHub]) -> None:
    first, second = two_hubs
    for n in range(20):  # each time a new user, so nothing the second hub loaded at start can answer
        user = f"shared-{n}"
        put = httpx.put(f"{first.url}/v2/connections/rain-alert/user_connection", params={"user_id": user},
                        json=ENABLE["rain-alert"], headers=key(first))
        assert put.status_code == 200, put.text
        shown = httpx.get(f"{second.url}/v2/connections/rain-alert", params={"user_id": user}, headers=key(second))
        assert shown.json()["user_status"] == "enabled"
        disabled = httpx.post(f"{second.url}/v2/connections/rain-alert/disable", params={"user_id": user},
                              headers=key(second))
        assert disabled.status_code == 200
        shown = httpx.get(f"{first.url}/v2/connections/rain-alert", params={"user_id": user}, headers=key(first))
        assert shown.json()["user_status"] == "disabled"


def test_every_hub_names_one_hub_id_and_streams_what_any_hub_wrote(two_hubs: tuple[RunningHub, RunningHub]) -> None:
    first, second = two_hubs
    health = [httpx.get(f"{hub.url}/v1/health").json() for hub in two_hubs]
    assert health[0]["hub_id"] == health[1]["hub_id"]
    put = httpx.put(f"{first.url}/v2/connections/evening-glow/user_connection", params={"user_id": USER},
                    json={"user_features": [{"feature_id": "glow"}]}, headers=key(first))
    assert put.status_code == 200, put.text

    async def run_through_first_and_read_from_second() -> None:
        async with websockets.connect(f"{second.ws_url}/v1/streams/logs",
                                      additional_headers={"Authorization": f"Bearer {second.token}"}) as stream:
            await stream.send(json.dumps({"type": "subscribe", "after": 0}))
            hello = json.loads(await stream.recv())
            assert hello["hub_id"] == health[0]["hub_id"]
            request_id = uuid.uuid4().hex
            answer = await asyncio.to_thread(
                httpx.post, first.url + RUN, json={"user_id": USER},
                headers={**key(first), "X-Request-ID": request_id})
            assert answer.status_code in (204, 502, 504)
            while True:  # the second hub, which ran nothing, streams the run the first hub answered
                frame = json.loads(await asyncio.wait_for(stream.recv(), 10))
                if any(r.get("request_id") == request_id and r.get("direction") == "inbound"
                       for r in frame.get("records", [])):
                    return

    asyncio.run(run_through_first_and_read_from_second())


SUBSCRIBERS = 50
WINDOW_S = 10.0


def test_three_hubs_poll_each_subscription_once_an_interval_and_make_one_event_per_new_item(
        postgres_url: str, tmp_path: Path) -> None:
    services = SampleServices(secrets.token_urlsafe(16))  # its own: it counts every poll it receives
    hubs = [start(services, tmp_path / name, "--poll-interval", "1", db=postgres_url, enable=False, token=TOKEN)
            for name in "abc"]
    try:
        for n in range(SUBSCRIBERS):  # enabled through one hub or another: the others follow
            hub = hubs[n % 3]
            answer = httpx.put(f"{hub.url}/v2/connections/light-log/user_connection",
                               params={"user_id": f"poller-{n:02d}"}, json=ENABLE["light-log"], headers=key(hub))
            assert answer.status_code == 200, answer.text
        identities = wait_until_polled(services, SUBSCRIBERS)  # each one's baseline taken
        before = trigger_calls(services)
        added: dict[str, list[str]] = {identity: [] for identity in identities}
        started = time.monotonic()
        for moment in (1.0, 4.0, 7.0):  # new items while the hubs poll
            time.sleep(max(0.0, started + moment - time.monotonic()))
            for identity in identities:
                [item] = services.post("lights", "/_events/light_on", {"trigger_identity": identity}).json()["data"]
                added[identity].append(item["item"]["meta"]["id"])
        time.sleep(max(0.0, started + WINDOW_S - time.monotonic()))
        polls = trigger_calls(services) - before
        elapsed = time.monotonic() - started
        expected = SUBSCRIBERS * elapsed  # one a second each, across all three hubs together
        assert 0.6 * expected <= polls <= 1.3 * expected, f"{polls} polls in {elapsed:.1f} s"

        def events() -> list[Record]:
            return [r for r in records(hubs[0].db) if r["kind"] == "trigger_event" and r["trigger_identity"] in added]

        deadline = time.monotonic() + 10
        while len(events()) < 3 * SUBSCRIBERS and time.monotonic() < deadline:
            time.sleep(0.2)
        found = sorted((r["trigger_identity"], r["meta_id"]) for r in events())
        assert found == sorted((identity, meta_id) for identity, ids in added.items() for meta_id in ids)
    finally:
        for hub in hubs:
            hub.stop()
        services.stop()


def trigger_calls(services: SampleServices) -> int:
    return services.get("lights", "/_calls").json()["data"].get("trigger/light_on", 0)


def wait_until_polled(services: SampleServices, count: int, timeout: float = 30.0) -> list[str]:
    """The trigger identities the lights service has been polled for, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        calls = services.get("lights", "/_calls").json()["data"]
        identities = [key.rsplit("/", 1)[1] for key in calls if key.startswith("trigger/light_on/")]
        if len(identities) >= count:
            return identities
        assert time.monotonic() < deadline, f"only {len(identities)} subscriptions polled"
        time.sleep(0.2)


def test_one_idempotency_key_sent_to_three_hubs_at_once_runs_once_and_the_rerun_holds_on_every_hub(
        services: SampleServices, postgres_url: str, tmp_path: Path) -> None:
    hubs = [start(services, tmp_path / name, db=postgres_url, enable=False, token=TOKEN) for name in "xyz"]
    try:
        user = f"idem-{uuid.uuid4().hex[:8]}"
        enabled = httpx.put(f"{hubs[0].url}/v2/connections/evening-glow/user_connection", params={"user_id": user},
                            json={"user_features": [{"feature_id": "glow"}]}, headers=key(hubs[0]))
        assert enabled.status_code == 200, enabled.text
        services.post("lights", "/_faults", {"error_rate": 1.0, "error_status": 503})
        try:
            failed = post_run(hubs[1], {"user_id": user})
        finally:
            services.post("lights", "/_faults", {"error_rate": 0.0})
        assert failed.status_code == 502
        original = inbound(hubs[1], failed.request.headers["X-Request-ID"])["seq"]
        idempotency_key = uuid.uuid4().hex
        actions_before = action_calls(services)
        with ThreadPoolExecutor(3) as pool:  # the same request, to every hub at the same moment
            answers = list(pool.map(lambda hub: rerun(hub, {"api_call_id": original}, key=idempotency_key), hubs))
        assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
        assert len({a.json()["api_call_id"] for a in answers}) == 1  # one rerun, answered three times
        assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 2
        assert action_calls(services) == actions_before + 1  # the service saw it once
        assert len([r for r in records(hubs[0].db) if r.get("rerun_of") == original]) == 1
        for hub in hubs:  # and no hub runs it again without force, whichever ran it
            assert_error(rerun(hub, {"api_call_id": original}), 409, "already_rerun")
    finally:
        for hub in hubs:
            hub.stop()


def action_calls(services: SampleServices) -> int:
    return services.get("lights", "/_calls").json()["data"].get("action/change_color", 0)


def test_the_hubs_on_a_database_list_each_other_and_refuse_one_with_another_catalog(
        two_hubs: tuple[RunningHub, RunningHub], services: SampleServices, postgres_url: str, tmp_path: Path) -> None:
    first, second = two_hubs
    listed = httpx.get(f"{first.url}/v1/ops/hubs", headers={"Authorization": f"Bearer {first.token}"}).json()["data"]
    assert sorted(hub["url"] for hub in listed) == sorted([first.url, second.url])
    assert [hub["this"] for hub in listed if hub["url"] == first.url] == [True]
    assert len(httpx.get(f"{second.url}/v1/health").json()["hubs"]) == 2
    other = SampleServices(services.service_key)  # the same catalog pointed at other services: another catalog
    try:
        with pytest.raises(RuntimeError, match="serve another catalog or take another operator token"):
            start(other, tmp_path / "other", db=postgres_url, enable=False, token=TOKEN)
        with pytest.raises(RuntimeError, match="another operator token"):  # the catalog alike, the token not
            start(services, tmp_path / "token", db=postgres_url, enable=False, token="another-token")
        first.stop()
        second.stop()  # once no hub of the old catalog runs, a new catalog takes over
        start(other, tmp_path / "new", db=postgres_url, enable=False, token=TOKEN).stop()
    finally:
        other.stop()


def test_a_hub_reloads_another_catalog_only_while_no_other_hub_runs_on_its_database(
        two_hubs: tuple[RunningHub, RunningHub], services: SampleServices, postgres_url: str, tmp_path: Path) -> None:
    first, second = two_hubs
    reload, token = f"{first.url}/v1/ops/catalog/reload", {"Authorization": f"Bearer {first.token}"}
    same = httpx.post(reload, headers=token, timeout=60)
    assert same.status_code == 200 and same.json()["changed"] is False  # the catalog they share: nothing to refuse
    (tmp_path / "a" / "catalog" / "scripts" / "globals.js").write_text('console.log("edited");\n')
    refused = httpx.post(reload, headers=token, timeout=60)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "conflict" and second.url in refused.json()["message"]
    shown = httpx.get(f"{first.url}/v1/ops/connections/globals", headers=token).json()
    assert "edited" not in shown["runtime_script"]

    second.stop()  # it takes itself off the database's list of hubs
    done = httpx.post(reload, headers=token, timeout=60)
    assert done.status_code == 200 and done.json()["connections"]["changed"] == ["globals"]
    with pytest.raises(RuntimeError, match="serve another catalog"):  # the database holds the new catalog now
        start(services, tmp_path / "old", db=postgres_url, enable=False, token=TOKEN)


def test_a_bulk_rerun_started_on_one_hub_is_followed_and_cancelled_on_another(
        two_hubs: tuple[RunningHub, RunningHub], services: SampleServices) -> None:
    first, second = two_hubs
    user = f"bulk-{uuid.uuid4().hex[:8]}"
    enabled = httpx.put(f"{first.url}/v2/connections/evening-glow/user_connection", params={"user_id": user},
                        json={"user_features": [{"feature_id": "glow"}]}, headers=key(first))
    assert enabled.status_code == 200, enabled.text
    services.post("lights", "/_faults", {"error_rate": 1.0, "error_status": 503})
    try:
        for _ in range(30):
            assert post_run(first, {"user_id": user}).status_code == 502
    finally:
        services.post("lights", "/_faults", {"error_rate": 0.0})
    started = rerun(first, {"filter": f"user:{user} status:5xx dir:inbound", "rate": 5})
    assert started.status_code == 202, started.text
    bulk_id = started.json()["id"]
    ops = {"Authorization": f"Bearer {second.token}"}
    deadline = time.monotonic() + 10
    while (seen := httpx.get(f"{second.url}/v1/ops/reruns/{bulk_id}", headers=ops).json())["done"] < 3:
        assert time.monotonic() < deadline, seen
        time.sleep(0.1)
    assert seen["state"] == "running" and seen["total"] == 30 and len(seen["items"]) >= 3
    cancelled = httpx.post(f"{second.url}/v1/ops/reruns/{bulk_id}/cancel", headers=ops, timeout=40).json()
    assert cancelled["state"] == "cancelled" and cancelled["done"] < 30
    on_first = httpx.get(f"{first.url}/v1/ops/reruns/{bulk_id}",
                         headers={"Authorization": f"Bearer {first.token}"}).json()
    assert on_first["state"] == "cancelled" and on_first["done"] == cancelled["done"]
    on_second = httpx.get(f"{second.url}/v1/ops/reruns/{bulk_id}", headers=ops).json()
    assert on_second == on_first  # the same state, counts and item results on either hub


def test_a_users_rate_limit_is_shared_by_the_hubs_not_multiplied(
        services: SampleServices, postgres_url: str, tmp_path: Path) -> None:
    rate, burst = 5, 10  # the hubs' --user-rate-limit, and its burst of twice that
    hubs = [start(services, tmp_path / name, "--user-rate-limit", str(rate), db=postgres_url, enable=False,
                  token=TOKEN) for name in "pq"]
    try:
        user = f"limited-{uuid.uuid4().hex[:8]}"
        enabled = httpx.put(f"{hubs[0].url}/v2/connections/evening-glow/user_connection", params={"user_id": user},
                            json={"user_features": [{"feature_id": "glow"}]}, headers=key(hubs[0]))
        assert enabled.status_code == 200, enabled.text
        started = time.monotonic()
        answers = [post_run(hubs[n % 2], {"user_id": user}) for n in range(40)]  # as a balancer spreads them
        elapsed = time.monotonic() - started
        allowed = [a for a in answers if a.status_code != 429]
        assert len(allowed) <= burst + rate * elapsed + 1, (len(allowed), elapsed)
        limited = [a for a in answers if a.status_code == 429]
        assert limited and all(int(a.headers["Retry-After"]) >= 1 for a in limited)
        assert {n % 2 for n, a in enumerate(answers) if a.status_code == 429} == {0, 1}  # on both hubs
    finally:
        for hub in hubs:
            hub.stop()


def test_demo_hubs_on_one_database_share_one_sample_side_and_its_traffic_can_go_elsewhere(
        postgres_url: str, tmp_path: Path) -> None:
    token, service_key = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    elsewhere = free_port()  # where the first hub is told to send its demo traffic: nothing listens there
    first = start_hub(tmp_path / "first", db=postgres_url, token=token, service_key=service_key, traffic_rate=50,
                      extra_args=("--demo-traffic-url", f"http://127.0.0.1:{elsewhere}"))
    try:
        second = start_hub(tmp_path / "second", db=postgres_url, token=token, service_key=service_key)
        try:
            for name in ("lights", "messages", "videos", "weather", "developer"):
                assert second.banner_value(f"sample service {name}") == first.banner_value(f"sample service {name}")
            assert "sample side:    run by another hub on this database" in second.log_path.read_text()
            time.sleep(1.0)
            inbound = [r for r in records(postgres_url) if r["kind"] == "api_call" and r.get("direction") == "inbound"]
            assert inbound == []  # the demo traffic went to the address it was given, not to either hub
        finally:
            second.stop()
    finally:
        first.stop()


def test_a_hub_goes_on_when_its_database_restarts(
        services: SampleServices, postgres: PostgresCluster, postgres_url: str, tmp_path: Path) -> None:
    hub = start(services, tmp_path / "hub", db=postgres_url, enable=False, token=TOKEN)
    try:
        user = f"restart-{uuid.uuid4().hex[:8]}"
        enabled = httpx.put(f"{hub.url}/v2/connections/evening-glow/user_connection", params={"user_id": user},
                            json={"user_features": [{"feature_id": "glow"}]}, headers=key(hub))
        assert enabled.status_code == 200
        assert post_run(hub, {"user_id": user}).status_code == 204
        postgres.restart()  # every connection the hub holds is dropped
        deadline = time.monotonic() + 30
        while (answer := post_run(hub, {"user_id": user})).status_code != 204:
            assert_error(answer, 500, "internal_error")  # while it reconnects: the error shape, never a hang
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.2)
        answered = answer.request.headers["X-Request-ID"]
        assert inbound(hub, answered)["status_code"] == 204  # the log is written again
        [(count, head)] = open_hub_log(postgres_url).execute("SELECT COUNT(*), MAX(seq) FROM records")
        assert count == head
        time.sleep(2 * BEAT_S + 1)  # and it says it is alive again: listed, lately seen
        [listed] = httpx.get(f"{hub.url}/v1/ops/hubs", headers={"Authorization": f"Bearer {TOKEN}"}).json()["data"]
        assert listed["url"] == hub.url and listed["seen_s_ago"] <= 2 * BEAT_S
    finally:
        hub.stop()


def test_a_cursor_is_judged_against_the_databases_head_not_what_a_hub_has_heard(
        two_hubs: tuple[RunningHub, RunningHub], postgres_url: str) -> None:
    """A dashboard that read a record from one hub and reconnects to another a moment later, before that
    hub heard of the record, goes on: its cursor is not ahead of the log."""
    first, second = two_hubs
    database = open_hub_log(postgres_url)
    head = database.head_seq()
    unheard = head + 1  # written as another hub would, but without the notification that wakes the others
    database.execute("UPDATE log_head SET seq = ? RETURNING seq", (unheard,))
    database.execute("INSERT INTO records (seq, ts, kind, body) VALUES (?, '2026-12-06T00:00:00.000Z', "
                     "'api_call', ?) RETURNING seq", (unheard, json.dumps({"seq": unheard, "kind": "api_call"})))

    async def subscribe() -> dict[str, object]:
        async with websockets.connect(f"{second.ws_url}/v1/streams/logs",
                                      additional_headers={"Authorization": f"Bearer {second.token}"}) as stream:
            await stream.send(json.dumps({"type": "subscribe", "after": unheard}))
            return json.loads(await stream.recv())

    hello = asyncio.run(subscribe())
    assert hello["type"] == "hello" and hello["head_seq"] == unheard
