"""Going live without a restart: a hub reloads its catalog file on ``POST /v1/ops/catalog/reload`` and on
SIGHUP. A file with problems is refused, saying where, and the old catalog serves on; a good one takes effect
for new runs, each ``script_run`` naming the version of the script it ran; runs in flight finish on the old
catalog; a removed connection answers 404."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
import hashlib
import signal

import httpx
import pytest

from tests.support.hubproc import RunningHub
from tests.support.sample_services import SampleServices
from tests.support.triggers import USER, Record, key, notify, of, records, start, wait_for
from tests.support.waiting import eventually_sync

RELOAD = "/v1/ops/catalog/reload"
SLOW_HELLO = """
[connections.slow-hello]
name = "Slow hello"
owner_service = "lights"
runtime_script = "scripts/slow_hello.js"

[[connections.slow-hello.features]]
id = "hello"
name = "Hello"

[[connections.slow-hello.features.triggers]]
id = "ft_hello"
ref = "lights.light_on"
fields.light = { visibility = "user", value = "bedroom" }

[[connections.slow-hello.features.actions]]
id = "fa_hello_text"
ref = "messages.send_text"
fields.phone = { visibility = "developer", value = "+15550100001" }
fields.body = { visibility = "developer", value = "BODY" }
"""
TWO_TEXTS = 'await runAction("messages.send_text", {});\nawait runAction("messages.send_text", {});\nconsole.log("v1");\n'


def version(source: str) -> str:
    """A script's version as docs/runtime-scripts.md defines it: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(source.encode()).hexdigest()[:12]


@pytest.fixture
def catalog_hub(services: SampleServices, tmp_path: Path) -> Iterator[RunningHub]:
    """A hub over the demo catalog pointed at ``services`` (its catalog in tmp_path/catalog), whose user
    enabled the connections of tests.support.triggers, among them ``globals`` (a script)."""
    running = start(services, tmp_path)
    yield running
    running.stop()


def catalog_dir(tmp_path: Path) -> Path:
    return tmp_path / "catalog"


def reload(hub: RunningHub) -> httpx.Response:
    return httpx.post(hub.url + RELOAD, headers={"Authorization": f"Bearer {hub.token}"}, timeout=60)


def run_globals(hub: RunningHub, count: int) -> Record:
    """A trigger test of the ``globals`` connection; its script run, the ``count``-th of the hub."""
    response = httpx.post(f"{hub.url}/v2/connections/globals/triggers/lights.light_on/test", json={"user_id": USER},
                          headers=key(hub))
    assert response.status_code == 204, response.text
    return wait_for(hub.db, of("script_run", connection_id="globals"), count=count)[count - 1]


def test_a_script_that_does_not_compile_is_refused_where_it_fails_and_the_old_one_runs_on(
        catalog_hub: RunningHub, tmp_path: Path) -> None:
    hub = catalog_hub
    script = catalog_dir(tmp_path) / "scripts" / "globals.js"
    first = script.read_text()
    assert run_globals(hub, 1)["script_version"] == version(first)

    script.write_text('console.log("fine so far");\nconst = 5;\n')
    refused = reload(hub)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["type"] == "error" and body["code"] == "invalid_parameters"
    [detail] = body["details"]
    assert detail["parameter"] == str(catalog_dir(tmp_path) / "catalog.toml")
    assert detail["message"] == ("connections.globals.runtime_script: scripts/globals.js:2:7: "
                                 "SyntaxError: Unexpected token '='")  # the line and column of the '='
    kept = run_globals(hub, 2)
    assert (kept["status"], kept["script_version"]) == ("ok", version(first))

    script.write_text('console.log("second version");\n')
    done = reload(hub)
    assert done.status_code == 200, done.text
    changes = done.json()
    assert changes["changed"] is True
    assert changes["connections"] == {"added": [], "removed": [], "changed": ["globals"]}
    assert changes["services"] == {"added": [], "removed": [], "changed": []}
    scripts = {s["connection_id"]: (s["old_version"], s["new_version"]) for s in changes["scripts"]}
    assert scripts["globals"] == (version(first), version('console.log("second version");\n'))
    assert scripts["bomb"][0] == scripts["bomb"][1]  # unchanged scripts are listed with one version
    new = run_globals(hub, 3)
    assert new["script_version"] == version('console.log("second version");\n')
    assert new["console"] == [{"level": "log", "text": "second version"}]
    definition = httpx.get(f"{hub.url}/v1/ops/connections/globals", headers={"Authorization": f"Bearer {hub.token}"})
    assert definition.json()["script_version"] == new["script_version"]

    again = reload(hub)  # the same file once more: nothing to change
    assert again.status_code == 200 and again.json()["changed"] is False


def test_sighup_reloads_and_says_so_in_the_log(catalog_hub: RunningHub, tmp_path: Path) -> None:
    hub = catalog_hub
    script = catalog_dir(tmp_path) / "scripts" / "globals.js"
    first = script.read_text()
    script.write_text('console.log("fine so far");\nconst = 5;\n')
    hub.process.send_signal(signal.SIGHUP)
    refused = "catalog reload (SIGHUP) refused, the catalog stays as it was: "
    eventually_sync(lambda: refused in hub.log_path.read_text(), "the refused reload in the hub's log")
    [refusal] = [line for line in hub.log_path.read_text().splitlines() if refused in line]
    assert refusal.endswith(f"{refused}{catalog_dir(tmp_path) / 'catalog.toml'}: connections.globals.runtime_script: "
                            "scripts/globals.js:2:7: SyntaxError: Unexpected token '='")
    assert run_globals(hub, 1)["script_version"] == version(first)

    by_signal = 'console.log("by signal");\n'
    script.write_text(by_signal)
    hub.process.send_signal(signal.SIGHUP)
    eventually_sync(lambda: "catalog reloaded" in hub.log_path.read_text(), "the reload in the hub's log")
    [line] = [line for line in hub.log_path.read_text().splitlines() if "catalog reloaded" in line]
    assert (f"catalog reloaded from {catalog_dir(tmp_path) / 'catalog.toml'} (SIGHUP): connections ~globals; "
            f"script globals {version(first)} → {version(by_signal)}") in line
    run = run_globals(hub, 2)
    assert (run["script_version"], run["console"]) == (version(by_signal), [{"level": "log", "text": "by signal"}])
    assert hub.process.poll() is None


def test_an_item_a_poll_finds_after_a_reload_runs_the_new_script(catalog_hub: RunningHub,
                                                                  services: SampleServices, tmp_path: Path) -> None:
    hub = catalog_hub
    run_globals(hub, 1)  # the service now knows the subscription (its trigger_identity)
    [event] = of("trigger_event", connection_id="globals")(records(hub.db))
    identity = event["trigger_identity"]
    notify(hub, {"trigger_identity": identity})  # the hub's first poll of it: its baseline
    wait_for(hub.db, of("api_call", direction="outbound", op="trigger", connection_id="globals", source="poll"))

    newer = 'console.log("after the reload");\n'
    (catalog_dir(tmp_path) / "scripts" / "globals.js").write_text(newer)
    assert reload(hub).status_code == 200
    services.post("lights", "/_events/light_on", {"trigger_identity": identity})
    notify(hub, {"trigger_identity": identity})
    run = wait_for(hub.db, of("script_run", connection_id="globals"), count=2)[1]
    assert (run["source"], run["script_version"]) == ("notification", version(newer))


def test_a_removed_connection_answers_404_and_the_others_serve_on(catalog_hub: RunningHub, tmp_path: Path) -> None:
    hub = catalog_hub
    catalog = catalog_dir(tmp_path) / "catalog.toml"
    text = catalog.read_text()
    start_of_globals = text.index("\n[connections.globals]")
    catalog.write_text(text[:start_of_globals] + "\n")  # it was the last connection of the file
    done = reload(hub)
    assert done.status_code == 200, done.text
    assert done.json()["connections"] == {"added": [], "removed": ["globals"], "changed": []}
    assert [s for s in done.json()["scripts"] if s["connection_id"] == "globals"] == [
        {"connection_id": "globals", "old_version": version((catalog.parent / "scripts" / "globals.js").read_text()),
         "new_version": None}]

    test = httpx.post(f"{hub.url}/v2/connections/globals/triggers/lights.light_on/test", json={"user_id": USER},
                      headers=key(hub))
    assert test.status_code == 404 and test.json()["code"] == "not_found"
    assert httpx.get(f"{hub.url}/v2/connections/globals", headers=key(hub)).status_code == 404
    listed = httpx.get(f"{hub.url}/v1/ops/connections", headers={"Authorization": f"Bearer {hub.token}"}).json()
    assert "globals" not in {c["id"] for c in listed["data"]} and "bomb" in {c["id"] for c in listed["data"]}
    bomb = httpx.post(f"{hub.url}/v2/connections/bomb/triggers/lights.light_on/test", json={"user_id": USER},
                      headers=key(hub))
    assert bomb.status_code == 204


def test_a_reload_needs_the_operator_token(catalog_hub: RunningHub) -> None:
    hub = catalog_hub
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"IFTTT-Service-Key": hub.service_key}):
        response = httpx.post(hub.url + RELOAD, headers=headers)
        assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    assert "catalog reloaded" not in hub.log_path.read_text()


def test_a_run_in_flight_finishes_on_the_catalog_it_began_with(services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path)
    scripts = catalog_dir(tmp_path) / "scripts"
    catalog = catalog_dir(tmp_path) / "catalog.toml"
    try:
        (scripts / "slow_hello.js").write_text(TWO_TEXTS)
        catalog.write_text(catalog.read_text() + SLOW_HELLO.replace("BODY", "old body"))
        assert reload(hub).json()["connections"]["added"] == ["slow-hello"]
        enabled = httpx.put(f"{hub.url}/v2/connections/slow-hello/user_connection", params={"user_id": USER},
                            json={"user_features": [{"feature_id": "hello"}]}, headers=key(hub))
        assert enabled.status_code == 200, enabled.text

        services.post("messages", "/_faults", {"latency_ms": 3000})  # the run waits on its first text
        try:
            texts = texts_received(services)
            test = httpx.post(f"{hub.url}/v2/connections/slow-hello/triggers/lights.light_on/test",
                              json={"user_id": USER}, headers=key(hub))
            assert test.status_code == 204
            eventually_sync(lambda: texts_received(services) > texts, "the run's first text to reach the service")
            (scripts / "slow_hello.js").write_text('await runAction("messages.send_text", {});\nconsole.log("v2");\n')
            catalog.write_text(catalog.read_text().replace('"old body"', '"new body"'))
            assert reload(hub).json()["connections"]["changed"] == ["slow-hello"]
        finally:
            services.post("messages", "/_faults", {"latency_ms": 0})
        [old] = wait_for(hub.db, of("script_run", connection_id="slow-hello"))
        assert (old["status"], old["script_version"], old["console"]) == (
            "ok", version(TWO_TEXTS), [{"level": "log", "text": "v1"}])
        assert sent_bodies(hub, old) == ["old body", "old body"]  # the second text was sent after the reload

        httpx.post(f"{hub.url}/v2/connections/slow-hello/triggers/lights.light_on/test", json={"user_id": USER},
                   headers=key(hub))
        new = wait_for(hub.db, of("script_run", connection_id="slow-hello"), count=2)[1]
        assert new["console"] == [{"level": "log", "text": "v2"}]
        assert sent_bodies(hub, new) == ["new body"]
    finally:
        hub.stop()


def texts_received(services: SampleServices) -> int:
    return services.get("messages", "/_calls").json()["data"].get("action/send_text", 0)


def sent_bodies(hub: RunningHub, run: Record) -> list[Any]:
    """The message bodies the run's texts were sent with, as the hub resolved them."""
    calls = of("api_call", direction="inbound", script_run_id=run["script_run_id"])(records(hub.db))
    return [call["resolved_fields"]["body"] for call in calls]
