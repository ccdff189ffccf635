"""``GET /metrics`` of a real hub process, parsed as Prometheus parses it: each figure moves by what the
traffic the test drives did, counted a second way from the hub's own event log where the log has it."""

from collections.abc import Iterator
from pathlib import Path
import asyncio
import json

import httpx
from prometheus_client.parser import text_string_to_metric_families
import pytest
import websockets

from switchroom.hub import __version__
from switchroom.store.hub_log import open_hub_log
from tests.support.hub_calls import RUN, assert_error
from tests.support.hubproc import RunningHub, free_port
from tests.support.sample_services import SampleServices
from tests.support.triggers import USER, failed_rain_alert_run, key, notify, of, records, start, wait_for
from tests.support.waiting import eventually, eventually_sync

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
RUN_ROUTE = "/v2/connections/{connection_id}/actions/{type_id}/run"


@pytest.fixture(scope="module")
def watched(services: SampleServices, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A hub over the sample services, its metrics also on a port of their own; USER enabled evening-glow
    besides the connections the trigger tests use."""
    hub = start(services, tmp_path_factory.mktemp("metrics"), "--metrics-port", str(free_port()))
    put = httpx.put(f"{hub.url}/v2/connections/evening-glow/user_connection", params={"user_id": USER},
                    json={"user_features": [{"feature_id": "glow"}]}, headers=key(hub))
    assert put.status_code == 200, put.text
    yield hub
    hub.stop()


@pytest.fixture(autouse=True)
def no_faults(services: SampleServices) -> None:
    for name in ("lights", "messages", "videos", "weather"):
        services.post(name, "/_faults", {"error_rate": 0.0, "skip_rate": 0.0, "latency_ms": 0.0, "outage": False})


def metrics_port_url(hub: RunningHub) -> str:
    return hub.banner_value("metrics")


def scrape(hub: RunningHub) -> Samples:
    response = httpx.get(f"{hub.url}/metrics", headers={"Authorization": f"Bearer {hub.token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parsed(response.text)


def parsed(text: str) -> Samples:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def run(hub: RunningHub) -> httpx.Response:
    return httpx.post(hub.url + RUN, json={"user_id": USER}, headers=key(hub))


def test_action_runs_move_the_request_counter_the_latency_histogram_and_the_service_calls(
        watched: RunningHub) -> None:
    before = scrape(watched)
    answers = [run(watched) for _ in range(7)]
    after = scrape(watched)
    assert [a.status_code for a in answers] == [204] * 7
    assert moved(before, after, "switchroom_http_requests_total", route=RUN_ROUTE, method="POST", status="204") == 7
    histogram = {"connection": "evening-glow", "source": "api"}
    assert moved(before, after, "switchroom_action_run_duration_seconds_count", **histogram) == 7
    assert moved(before, after, "switchroom_action_run_duration_seconds_bucket", le="+Inf", **histogram) == 7
    ids = {a.headers["X-Request-ID"] for a in answers}
    latencies = [r["latency_ms"] / 1000 for r in records(watched.db)
                 if r.get("request_id") in ids and r["direction"] == "inbound"]
    assert len(latencies) == 7
    assert moved(before, after, "switchroom_action_run_duration_seconds_sum", **histogram) == pytest.approx(
        sum(latencies), abs=1e-6)
    assert moved(before, after, "switchroom_service_calls_total", service="lights", operation="lights.change_color",
                 outcome="ok") == 7


def test_failed_and_skipped_service_calls_are_counted_by_outcome(
        watched: RunningHub, services: SampleServices) -> None:
    before = scrape(watched)
    services.post("lights", "/_faults", {"error_rate": 1.0, "error_status": 500})
    failed = [run(watched) for _ in range(3)]
    services.post("lights", "/_faults", {"error_rate": 0.0, "skip_rate": 1.0})
    skipped = run(watched)
    after = scrape(watched)
    for answer in failed:
        assert_error(answer, 502, "service_error")
    assert skipped.status_code == 204
    calls = {"service": "lights", "operation": "lights.change_color"}
    assert moved(before, after, "switchroom_service_calls_total", outcome="service_error", **calls) == 3
    assert moved(before, after, "switchroom_service_calls_total", outcome="skipped", **calls) == 1
    assert moved(before, after, "switchroom_service_calls_total", outcome="ok", **calls) == 0
    assert moved(before, after, "switchroom_http_requests_total", route=RUN_ROUTE, method="POST", status="502") == 3
    assert moved(before, after, "switchroom_http_requests_total", route=RUN_ROUTE, method="POST", status="204") == 1
    assert moved(before, after, "switchroom_action_run_duration_seconds_count", connection="evening-glow",
                 source="api") == 4


def test_requests_are_counted_by_route_template_not_by_path(watched: RunningHub) -> None:
    before = scrape(watched)
    for name in ("nope-1", "nope-2", "nope-3"):
        assert_error(httpx.get(f"{watched.url}/v2/connections/{name}", headers=key(watched)), 404, "not_found")
    for n in range(4):
        assert_error(httpx.get(f"{watched.url}/no/such/route/{n}"), 404, "not_found")
    after = scrape(watched)
    assert moved(before, after, "switchroom_http_requests_total", route="/v2/connections/{connection_id}",
                 method="GET", status="404") == 3
    assert moved(before, after, "switchroom_http_requests_total", route="unmatched", method="GET", status="404") == 4
    assert not [labels for name, labels in after if name == "switchroom_http_requests_total"
                and any("nope" in v or "/no/such" in v for _, v in labels)]


def test_script_runs_count_their_outcome_duration_and_the_actions_they_ran(
        watched: RunningHub, services: SampleServices) -> None:
    before = scrape(watched)
    test = httpx.post(f"{watched.url}/v2/connections/liked-video-texts/triggers/videos.new_liked_video/test",
                      json={"user_id": USER}, headers=key(watched))
    assert test.status_code == 204
    [ok] = wait_for(watched.db, of("script_run", connection_id="liked-video-texts"))
    failed = failed_rain_alert_run(watched, services)
    after = scrape(watched)

    assert ok["status"] == "ok" and failed["status"] == "error"
    for script_run in (ok, failed):
        connection = script_run["connection_id"]
        assert moved(before, after, "switchroom_script_runs_total", connection=connection,
                     status=script_run["status"]) == 1
        assert moved(before, after, "switchroom_script_run_duration_seconds_count", connection=connection) == 1
        assert moved(before, after, "switchroom_script_run_duration_seconds_sum", connection=connection) == \
            pytest.approx(script_run["duration_ms"] / 1000, abs=1e-6)
    actions = [c for c in ok["calls"] if c["kind"] == "action"]
    assert actions  # the script texts what it found
    assert moved(before, after, "switchroom_action_run_duration_seconds_count", connection="liked-video-texts",
                 source="script") == len(actions)


OUTCOMES = ("ok", "skipped", "service_error", "service_timeout")


def test_trigger_polls_are_counted_by_outcome(watched: RunningHub) -> None:
    def polls_in_log() -> dict[str, int]:
        """The log's trigger polls by outcome, as DESIGN §4 names them from each call's record."""
        counted = dict.fromkeys(OUTCOMES, 0)
        for r in records(watched.db):
            if r["kind"] == "api_call" and r["direction"] == "outbound" and r["op"] == "trigger" \
                    and r["source"] == "poll":
                counted["skipped" if r.get("skipped") else r.get("error_code") or "ok"] += 1
        return counted

    def polls_in_metrics() -> dict[str, int]:
        samples = scrape(watched)
        return {o: int(value(samples, "switchroom_trigger_polls_total", outcome=o)) for o in OUTCOMES}

    eventually_sync(lambda: polls_in_metrics() == polls_in_log())  # what earlier tests' notifications polled
    before = polls_in_metrics()
    subscriptions = notify(watched, {"user_id": USER}).json()["subscriptions"]
    assert subscriptions > 0
    eventually_sync(lambda: sum(polls_in_log().values()) == sum(before.values()) + subscriptions)
    after = polls_in_metrics()
    assert after == polls_in_log()
    assert after["ok"] == before["ok"] + subscriptions  # no service failed


async def test_stream_subscribers_are_counted_while_connected(watched: RunningHub) -> None:
    def subscribers() -> float:
        return value(scrape(watched), "switchroom_stream_subscribers", stream="logs")

    assert subscribers() == 0
    async with websockets.connect(f"{watched.ws_url}/v1/streams/logs",
                                  additional_headers={"Authorization": f"Bearer {watched.token}"}) as stream:
        await stream.send(json.dumps({"type": "subscribe", "after": 0}))
        assert json.loads(await stream.recv())["type"] == "hello"
        assert await asyncio.to_thread(subscribers) == 1
        async with websockets.connect(f"{watched.ws_url}/v1/streams/logs") as refused:  # no token
            assert json.loads(await refused.recv())["code"] == "unauthorized"
            assert await asyncio.to_thread(subscribers) == 1
    await eventually(lambda: asyncio.to_thread(lambda: subscribers() == 0))
    assert value(scrape(watched), "switchroom_stream_subscribers", stream="triggers") == 0


def test_log_head_is_the_logs_head(watched: RunningHub) -> None:
    assert run(watched).status_code == 204
    log = open_hub_log(watched.db)
    try:
        eventually_sync(lambda: value(scrape(watched), "switchroom_log_head_seq") == log.head_seq())
    finally:
        log.close()


def test_metrics_need_the_operator_token_on_the_hubs_port(watched: RunningHub) -> None:
    assert_error(httpx.get(f"{watched.url}/metrics"), 401, "unauthorized")
    assert_error(httpx.get(f"{watched.url}/metrics", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    assert_error(httpx.get(f"{watched.url}/metrics", headers={"Authorization": watched.token}), 401, "unauthorized")


async def test_the_metrics_port_serves_metrics_alone_without_a_token(watched: RunningHub) -> None:
    url = metrics_port_url(watched)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/metrics")
    response = httpx.get(url)
    assert response.status_code == 200
    hub_id = httpx.get(f"{watched.url}/v1/health").json()["hub_id"]
    assert value(parsed(response.text), "switchroom_hub_info", hub_id=hub_id, version=__version__) == 1
    base = url.removesuffix("/metrics")
    for path in ("/v1/health", "/v1/ops/connections", "/openapi.json"):
        assert_error(httpx.get(base + path, headers={"Authorization": f"Bearer {watched.token}"}), 404, "not_found")
    assert_error(httpx.post(base + RUN, json={"user_id": USER}, headers=key(watched)), 404, "not_found")
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(base.replace("http://", "ws://") + "/v1/streams/logs",
                                      additional_headers={"Authorization": f"Bearer {watched.token}"}):
            pass


def test_every_hub_on_a_shared_database_reports_the_databases_head(
        services: SampleServices, postgres_url: str, tmp_path: Path) -> None:
    token = "shared-operator-token"
    first = start(services, tmp_path / "a", db=postgres_url, token=token)
    second = start(services, tmp_path / "b", db=postgres_url, enable=False, token=token)
    try:
        put = httpx.put(f"{first.url}/v2/connections/evening-glow/user_connection", params={"user_id": USER},
                        json={"user_features": [{"feature_id": "glow"}]}, headers=key(first))
        assert put.status_code == 200
        before = scrape(second)
        for _ in range(5):
            assert run(first).status_code == 204
        log = open_hub_log(postgres_url)
        try:
            head = log.head_seq()
        finally:
            log.close()
        after = scrape(second)  # at once: the second hub reads the head from the database at the scrape
        assert value(after, "switchroom_log_head_seq") == head
        assert value(scrape(first), "switchroom_log_head_seq") == head
        # each hub counts what it served itself: the second ran none of the runs
        assert moved(before, after, "switchroom_http_requests_total", route=RUN_ROUTE, method="POST",
                     status="204") == 0
    finally:
        first.stop()
        second.stop()
